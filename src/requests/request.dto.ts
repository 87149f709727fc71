import { IsOmittable } from '../common/validators';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayUnique,
  IsArray,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
} from 'class-validator';
import { DateTime } from 'luxon';
import { PRIORITIES, type Priority } from '../agreements/agreement-terms';
import { PageQuery } from '../common/cursor';
import { REQUEST_STATUSES, type RequestStatus } from './request-lifecycle';

/** Something besides white space and the invisible format characters (zero-width spaces and joiners, BOM). */
const NOT_BLANK = /[^\s\u200B-\u200D\u2060\uFEFF]/;

// An instant with an explicit offset, so nobody's local time is guessed.
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;
const INSTANT_MESSAGE = 'must be an ISO-8601 instant with a zone between the years 2000 and 2200, e.g. 2026-12-24T16:00:00Z';
const isRealInstant = (value: unknown) => {
  if (typeof value !== 'string' || !INSTANT.test(value)) return false;
  const parsed = DateTime.fromISO(value, { setZone: true });
  return parsed.isValid && parsed.year >= 2000 && parsed.year <= 2200;
};
const instant = ({ value }: { value: unknown }) => (isRealInstant(value) ? value : value === null ? null : `!${String(value)}`);

export class CreateRequestDto {
  @ApiProperty({ format: 'uuid' })
  @IsUUID('all', { message: 'must be a service id (UUID)' })
  serviceId: string;

  @ApiProperty({ example: 'Bouquet for order 1042', maxLength: 200 })
  @IsString({ message: 'must be a string' })
  @MinLength(1, { message: 'must not be empty' })
  @Matches(NOT_BLANK, { message: 'must not be blank' })
  @MaxLength(200, { message: 'must be at most 200 characters' })
  title: string;

  @ApiPropertyOptional({ maxLength: 10000 })
  @IsOptional()
  @IsString({ message: 'must be a string' })
  @MaxLength(10000, { message: 'must be at most 10000 characters' })
  description?: string;

  @ApiPropertyOptional({ enum: PRIORITIES, default: 'normal' })
  @IsOptional()
  @IsIn(PRIORITIES, { message: `must be one of ${PRIORITIES.join(', ')}` })
  priority?: Priority;

  @ApiPropertyOptional({ format: 'date-time', example: '2026-12-24T12:00:00Z', description: 'when the requester needs it' })
  @IsOptional()
  @Transform(instant)
  @Matches(INSTANT, { message: INSTANT_MESSAGE })
  neededBy?: string;

  @ApiPropertyOptional({ maxLength: 200, example: 'ORDER-1042', description: "the external customer's reference" })
  @IsOptional()
  @IsString({ message: 'must be a string' })
  @MaxLength(200, { message: 'must be at most 200 characters' })
  externalRef?: string;

  @ApiPropertyOptional({ format: 'date-time', example: '2026-12-24T15:00:00Z', description: 'what was promised to the external customer' })
  @IsOptional()
  @Transform(instant)
  @Matches(INSTANT, { message: INSTANT_MESSAGE })
  externalDueAt?: string;

  @ApiPropertyOptional({ type: [String], format: 'uuid', description: 'requests that must finish before this one' })
  @IsOptional()
  @IsArray({ message: 'must be a list of request ids' })
  @ArrayMaxSize(50)
  @ArrayUnique({ message: 'must not list a request twice' })
  @IsUUID('all', { each: true, message: 'must be a list of request ids (UUID)' })
  dependsOn?: string[];
}

export class TransitionDto {
  @ApiProperty({ enum: REQUEST_STATUSES })
  @IsIn(REQUEST_STATUSES, { message: `must be one of ${REQUEST_STATUSES.join(', ')}` })
  to: RequestStatus;

  @ApiPropertyOptional({ maxLength: 10000 })
  @IsOptional()
  @IsString({ message: 'must be a string' })
  @MinLength(1, { message: 'must not be empty' })
  @Matches(NOT_BLANK, { message: 'must not be blank' })
  @MaxLength(10000, { message: 'must be at most 10000 characters' })
  comment?: string;

  @ApiProperty({ description: 'the version you last read; a stale one answers 409' })
  @IsInt({ message: 'must be the whole-number version you last read' })
  @Min(1, { message: 'must be the whole-number version you last read' })
  @Max(2147483647, { message: 'must be the whole-number version you last read' })
  version: number;
}

export class CommentDto {
  @ApiProperty({ maxLength: 10000 })
  @IsString({ message: 'must be a string' })
  @MinLength(1, { message: 'must not be empty' })
  @Matches(NOT_BLANK, { message: 'must not be blank' })
  @MaxLength(10000, { message: 'must be at most 10000 characters' })
  body: string;
}

export class UpdateRequestDto {
  @ApiPropertyOptional({ format: 'uuid', nullable: true, type: String, description: 'a user of the provider department; null unassigns' })
  @IsOptional()
  @IsUUID('all', { message: 'must be a user id (UUID) or null' })
  assigneeId?: string | null;

  @ApiPropertyOptional({ enum: PRIORITIES, description: 're-applies the agreement for this priority from the original start' })
  @IsOmittable()
  @IsIn(PRIORITIES, { message: `must be one of ${PRIORITIES.join(', ')}` })
  priority?: Priority;

  @ApiProperty({ description: 'the version you last read; a stale one answers 409' })
  @IsInt({ message: 'must be the whole-number version you last read' })
  @Min(1, { message: 'must be the whole-number version you last read' })
  @Max(2147483647, { message: 'must be the whole-number version you last read' })
  version: number;
}

export class DependencyDto {
  @ApiProperty({ format: 'uuid', description: 'the request that must finish first' })
  @IsUUID('all', { message: 'must be a request id (UUID)' })
  dependsOnId: string;
}

const BOOLEAN_TEXT = ['true', 'false'];

export class RequestListQuery extends PageQuery {
  @ApiPropertyOptional({ description: 'one status, or several separated by commas (or the parameter repeated)', example: 'open,in_progress' })
  @IsOptional()
  // `?status=open&status=in_progress` arrives as a list: the same as `open,in_progress`.
  @Transform(({ value }: { value: unknown }) => (Array.isArray(value) && value.length <= 10 && value.every((v) => typeof v === 'string') ? value.join(',') : value))
  @IsString({ message: 'must be a status or a comma-separated list of statuses' })
  @Matches(new RegExp(`^(${REQUEST_STATUSES.join('|')})(,(${REQUEST_STATUSES.join('|')}))*$`), {
    message: `must be one or more of ${REQUEST_STATUSES.join(', ')}, separated by commas`,
  })
  status?: string;

  @ApiPropertyOptional({ format: 'uuid' })
  @IsOptional()
  @IsUUID('all', { message: 'must be a department id (UUID)' })
  providerDepartmentId?: string;

  @ApiPropertyOptional({ format: 'uuid' })
  @IsOptional()
  @IsUUID('all', { message: 'must be a department id (UUID)' })
  customerDepartmentId?: string;

  @ApiPropertyOptional({ enum: BOOLEAN_TEXT })
  @IsOptional()
  @IsIn(BOOLEAN_TEXT, { message: 'must be true or false' })
  breached?: string;

  @ApiPropertyOptional({ enum: BOOLEAN_TEXT })
  @IsOptional()
  @IsIn(BOOLEAN_TEXT, { message: 'must be true or false' })
  atRisk?: string;
}

export class BreachFlags {
  @ApiProperty() response: boolean;
  @ApiProperty() resolution: boolean;
}

export class ChainClock {
  @ApiProperty({ nullable: true, type: String }) projectedFinishAt: string | null;
  @ApiProperty({ nullable: true, type: String }) latestFinishAt: string | null;
  @ApiProperty({ nullable: true, type: Number }) slackSeconds: number | null;
  @ApiProperty() atRisk: boolean;
  @ApiProperty({ nullable: true, type: String }) bottleneckRequestId: string | null;
}

export class AgreementTermsView {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() version: number;
  @ApiProperty() responseTarget: string;
  @ApiProperty() resolutionTarget: string;
  @ApiProperty({ nullable: true, type: String, description: 'The calendar the clocks count in (its own zone); null: around the clock in `timezone`' })
  calendarId: string | null;
  @ApiProperty({ description: "The provider department's zone when the request was opened: where a request with no calendar counts, and the zone of its mail" })
  timezone: string;
  @ApiProperty() warnAtPercent: number;
}

export class RequestView {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) serviceId: string;
  @ApiProperty() title: string;
  @ApiProperty({ nullable: true, type: String }) description: string | null;
  @ApiProperty({ enum: PRIORITIES }) priority: Priority;
  @ApiProperty({ enum: REQUEST_STATUSES }) status: RequestStatus;
  @ApiProperty() version: number;
  @ApiProperty({ format: 'uuid' }) providerDepartmentId: string;
  @ApiProperty({ format: 'uuid' }) customerDepartmentId: string;
  @ApiProperty({ format: 'uuid' }) requesterId: string;
  @ApiProperty({ format: 'uuid', nullable: true, type: String }) assigneeId: string | null;
  @ApiProperty() createdAt: string;
  @ApiProperty() respondBy: string;
  @ApiProperty() resolveBy: string;
  @ApiProperty({ nullable: true, type: String }) respondedAt: string | null;
  @ApiProperty({ nullable: true, type: String }) resolvedAt: string | null;
  @ApiProperty({ nullable: true, type: String }) closedAt: string | null;
  @ApiProperty({ nullable: true, type: String }) cancelledAt: string | null;
  @ApiProperty({ description: 'business seconds the resolution clock has been paused' }) pausedSeconds: number;
  @ApiProperty({ description: 'the resolution clock is paused now' }) paused: boolean;
  @ApiProperty({ type: BreachFlags }) breached: BreachFlags;
  @ApiProperty() escalationLevel: number;
  @ApiProperty({ nullable: true, type: String }) neededBy: string | null;
  @ApiProperty({ nullable: true, type: String }) externalRef: string | null;
  @ApiProperty({ nullable: true, type: String }) externalDueAt: string | null;
  @ApiProperty({ type: [String] }) dependsOn: string[];
  @ApiProperty({ type: AgreementTermsView }) agreement: AgreementTermsView;
  @ApiProperty({ type: ChainClock }) chain: ChainClock;
}

export class RequestEventView {
  @ApiProperty() id: string;
  @ApiProperty() type: string;
  @ApiProperty() at: string;
  @ApiProperty({ nullable: true, type: String }) actorId: string | null;
  @ApiProperty({ nullable: true, type: Object }) before: Record<string, unknown> | null;
  @ApiProperty({ nullable: true, type: Object }) after: Record<string, unknown> | null;
}

export class CommentView {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) requestId: string;
  @ApiProperty({ format: 'uuid' }) authorId: string;
  @ApiProperty({ enum: ['provider', 'customer', 'admin'], description: "'admin': an admin of neither department (does not count as a response)" }) side: 'provider' | 'customer' | 'admin';
  @ApiProperty() body: string;
  @ApiProperty() createdAt: string;
}

export class CreatedCommentView extends CommentView {
  @ApiProperty({ description: "the request's version after the comment: it moves when the comment was the first response or resumed the request" })
  requestVersion: number;
}
