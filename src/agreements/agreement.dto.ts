import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsBoolean, IsIn, IsInt, IsOptional, IsUUID, Max, Min, ValidateNested } from 'class-validator';
import { IsIsoDuration, IsOmittable } from '../common/validators';
import { NOTIFY_TARGETS, PRIORITIES, type NotifyTarget, type Priority } from './agreement-terms';

export class EscalationLevelDto {
  @ApiProperty({ example: 100, description: 'percent of the resolution target elapsed; above 100 is past the breach' })
  @IsInt({ message: 'must be a whole number from 1 to 1000' })
  @Min(1, { message: 'must be a whole number from 1 to 1000' })
  @Max(1000, { message: 'must be a whole number from 1 to 1000' })
  atPercent: number;

  @ApiProperty({ enum: NOTIFY_TARGETS })
  @IsIn(NOTIFY_TARGETS, { message: `must be one of ${NOTIFY_TARGETS.join(', ')}` })
  notify: NotifyTarget;
}

class AgreementTermsDto {
  @ApiPropertyOptional({ type: String, format: 'uuid', nullable: true, description: "the calendar that counts; default the provider department's" })
  @IsOptional()
  @IsUUID('all', { message: 'must be a calendar id (UUID)' })
  calendarId?: string | null;

  @ApiPropertyOptional({ default: 75, minimum: 1, maximum: 99 })
  @IsOmittable()
  @IsInt({ message: 'must be a whole number from 1 to 99' })
  @Min(1, { message: 'must be a whole number from 1 to 99' })
  @Max(99, { message: 'must be a whole number from 1 to 99' })
  warnAtPercent?: number;

  @ApiPropertyOptional({ default: true, description: 'pause the resolution clock while a dependency is unresolved' })
  @IsOmittable()
  @IsBoolean({ message: 'must be true or false' })
  pauseWhileBlocked?: boolean;

  @ApiPropertyOptional({ type: [EscalationLevelDto], default: [] })
  @IsOmittable()
  @IsArray({ message: 'must be a list of {atPercent, notify}' })
  @ArrayMaxSize(20)
  @ValidateNested({ each: true })
  @Type(() => EscalationLevelDto)
  escalations?: EscalationLevelDto[];
}

export class CreateAgreementDto extends AgreementTermsDto {
  @ApiProperty({ format: 'uuid' })
  @IsUUID('all', { message: 'must be a service id (UUID)' })
  serviceId: string;

  @ApiPropertyOptional({ type: String, format: 'uuid', nullable: true, description: 'only for requests from this department' })
  @IsOptional()
  @IsUUID('all', { message: 'must be a department id (UUID)' })
  customerDepartmentId?: string | null;

  @ApiPropertyOptional({ enum: PRIORITIES, description: 'only for requests of this priority' })
  @IsOptional()
  @IsIn(PRIORITIES, { message: `must be one of ${PRIORITIES.join(', ')}` })
  priority?: Priority | null;

  @ApiProperty({ example: 'PT30M', description: 'ISO-8601 duration of business time' })
  @IsIsoDuration()
  responseTarget: string;

  @ApiProperty({ example: 'PT4H', description: 'ISO-8601 duration of business time' })
  @IsIsoDuration()
  resolutionTarget: string;
}

export class UpdateAgreementDto extends AgreementTermsDto {
  @ApiPropertyOptional({ example: 'PT30M' })
  @IsOmittable()
  @IsIsoDuration()
  responseTarget?: string;

  @ApiPropertyOptional({ example: 'PT4H' })
  @IsOmittable()
  @IsIsoDuration()
  resolutionTarget?: string;

  @ApiPropertyOptional({ description: 'false retires the agreement; open requests keep their terms' })
  @IsOmittable()
  @IsBoolean({ message: 'must be true or false' })
  active?: boolean;
}

export class AgreementView {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) serviceId: string;
  @ApiProperty({ format: 'uuid', nullable: true, type: String }) customerDepartmentId: string | null;
  @ApiProperty({ enum: PRIORITIES, nullable: true }) priority: Priority | null;
  @ApiProperty() version: number;
  @ApiProperty() responseTarget: string;
  @ApiProperty() resolutionTarget: string;
  @ApiProperty({ format: 'uuid', nullable: true, type: String }) calendarId: string | null;
  @ApiProperty() warnAtPercent: number;
  @ApiProperty() pauseWhileBlocked: boolean;
  @ApiProperty({ type: [EscalationLevelDto] }) escalations: EscalationLevelDto[];
  @ApiProperty() active: boolean;
}
