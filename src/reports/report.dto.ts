import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import { CursorQuery, PageQuery } from '../common/cursor';
import { IsIanaTimeZone } from '../common/validators';
import { REPORT_DIMENSIONS, type ReportDimension } from './report-rollup.entity';
import { TREND_INTERVALS, type TrendInterval } from './report-window';

// An instant with an explicit offset, or a plain date (its midnight in `timezone`).
const INSTANT_OR_DATE = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/;
const INSTANT_OR_DATE_MESSAGE = 'must be a date (2026-10-01) or an ISO-8601 instant with a zone (2026-10-01T00:00:00Z)';
export const REPORT_FORMATS = ['json', 'csv'] as const;

export class SlaReportQuery {
  @ApiPropertyOptional({ example: '2026-10-01', description: 'first instant counted (inclusive); default: 30 days before `to`' })
  @IsOptional()
  @IsString({ message: INSTANT_OR_DATE_MESSAGE })
  @Matches(INSTANT_OR_DATE, { message: INSTANT_OR_DATE_MESSAGE })
  from?: string;

  @ApiPropertyOptional({ example: '2026-11-01', description: 'end of the window (exclusive); default: now' })
  @IsOptional()
  @IsString({ message: INSTANT_OR_DATE_MESSAGE })
  @Matches(INSTANT_OR_DATE, { message: INSTANT_OR_DATE_MESSAGE })
  to?: string;

  @ApiPropertyOptional({ enum: REPORT_DIMENSIONS, default: 'provider' })
  @IsOptional()
  @IsIn(REPORT_DIMENSIONS, { message: `must be one of ${REPORT_DIMENSIONS.join(', ')}` })
  groupBy?: ReportDimension;

  @ApiPropertyOptional({ enum: REPORT_FORMATS, description: 'csv answers text/csv; so does `Accept: text/csv`' })
  @IsOptional()
  @IsIn(REPORT_FORMATS, { message: `must be one of ${REPORT_FORMATS.join(', ')}` })
  format?: (typeof REPORT_FORMATS)[number];

  @ApiPropertyOptional({ example: 'Europe/Amsterdam', default: 'UTC', description: 'the zone in which plain dates (and trend buckets) are read' })
  @IsOptional()
  @IsIanaTimeZone()
  timezone?: string;
}

export class SlaTrendQuery extends SlaReportQuery {
  @ApiPropertyOptional({ enum: TREND_INTERVALS, default: 'day', description: 'buckets of a day, or of an ISO week (from Monday), in `timezone`' })
  @IsOptional()
  @IsIn(TREND_INTERVALS, { message: `must be one of ${TREND_INTERVALS.join(', ')}` })
  interval?: TrendInterval;
}

export class RootCauseQuery {
  @ApiPropertyOptional({ example: '2026-10-01' })
  @IsOptional()
  @IsString({ message: INSTANT_OR_DATE_MESSAGE })
  @Matches(INSTANT_OR_DATE, { message: INSTANT_OR_DATE_MESSAGE })
  from?: string;

  @ApiPropertyOptional({ example: '2026-11-01' })
  @IsOptional()
  @IsString({ message: INSTANT_OR_DATE_MESSAGE })
  @Matches(INSTANT_OR_DATE, { message: INSTANT_OR_DATE_MESSAGE })
  to?: string;

  @ApiPropertyOptional({ example: 'Europe/Amsterdam', default: 'UTC' })
  @IsOptional()
  @IsIanaTimeZone()
  timezone?: string;

  @ApiPropertyOptional({ enum: REPORT_FORMATS, description: 'csv answers text/csv; so does `Accept: text/csv`' })
  @IsOptional()
  @IsIn(REPORT_FORMATS, { message: `must be one of ${REPORT_FORMATS.join(', ')}` })
  format?: (typeof REPORT_FORMATS)[number];
}

export class AtRiskQuery extends PageQuery {
  @ApiPropertyOptional({ enum: ['true', 'false'], default: 'false', description: 'true: only the requests at risk now, and the chains with an open at-risk episode' })
  @IsOptional()
  @IsIn(['true', 'false'], { message: 'must be true or false' })
  onlyAtRisk?: string;
}

/** Its own limit (up to 200); the cursor pages back through escalations fired at one instant too. */
export class EscalationLogQuery extends CursorQuery {
  @ApiPropertyOptional({ minimum: 1, maximum: 200, default: 50 })
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'must be a whole number from 1 to 200' })
  @Min(1, { message: 'must be a whole number from 1 to 200' })
  @Max(200, { message: 'must be a whole number from 1 to 200' })
  limit?: number;

  @ApiPropertyOptional({ description: 'only escalations fired before this instant' })
  @IsOptional()
  @IsString({ message: INSTANT_OR_DATE_MESSAGE })
  @MaxLength(40)
  @Matches(INSTANT_OR_DATE, { message: INSTANT_OR_DATE_MESSAGE })
  before?: string;
}

export class ReportGroupView {
  @ApiProperty({ description: 'department or service id; for a pair, "<provider id>:<customer id>"' }) id: string;
  @ApiProperty({ example: 'DESIGN', description: 'for a pair, "PROVIDER->CUSTOMER"' }) code: string;
  @ApiProperty({ example: 'Design' }) name: string;
}

export class DepartmentRef {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() code: string;
  @ApiProperty() name: string;
}

export class SlaRowView {
  @ApiProperty({ type: ReportGroupView }) group: ReportGroupView;
  @ApiPropertyOptional({ type: DepartmentRef, description: 'pair and service rows: the provider' }) provider?: DepartmentRef;
  @ApiPropertyOptional({ type: DepartmentRef, description: 'pair rows: the customer' }) customer?: DepartmentRef;
  @ApiProperty({ description: 'requests created in the window' }) total: number;
  @ApiProperty({ description: 'of those, cancelled' }) cancelled: number;
  @ApiProperty({ description: 'responses on time' }) responseMet: number;
  @ApiProperty({ description: 'responses late, or still missing past their deadline' }) responseBreaches: number;
  @ApiProperty({ nullable: true, type: Number, description: 'responseMet / (responseMet + responseBreaches), 0 to 1' }) responseCompliance: number | null;
  @ApiProperty({ description: 'resolutions on time' }) resolutionMet: number;
  @ApiProperty({ description: 'resolutions late, or still missing past their deadline' }) resolutionBreaches: number;
  @ApiProperty({ nullable: true, type: Number, description: 'resolutionMet / (resolutionMet + resolutionBreaches), 0 to 1' })
  resolutionCompliance: number | null;
  @ApiProperty({ description: 'requests that missed at least one target' }) breaches: number;
  @ApiProperty({ nullable: true, type: Number, description: 'median business seconds to the first response' }) respondP50Seconds: number | null;
  @ApiProperty({ nullable: true, type: Number }) respondP90Seconds: number | null;
  @ApiProperty({ nullable: true, type: Number, description: 'median business seconds to resolution, pauses left out' }) resolveP50Seconds: number | null;
  @ApiProperty({ nullable: true, type: Number }) resolveP90Seconds: number | null;
  @ApiProperty({ description: 'of those, not yet resolved, closed or cancelled' }) open: number;
  @ApiProperty({ description: 'of the open ones, in a chain at risk now' }) atRisk: number;
}

export class SlaReportView {
  @ApiProperty() from: string;
  @ApiProperty() to: string;
  @ApiProperty({ enum: REPORT_DIMENSIONS }) groupBy: ReportDimension;
  @ApiProperty({ description: 'the instant open requests were judged at' }) asOf: string;
  @ApiProperty({ type: [SlaRowView] }) rows: SlaRowView[];
}

export class TrendBucketView {
  @ApiProperty() start: string;
  @ApiProperty() end: string;
  @ApiProperty({ type: [SlaRowView] }) rows: SlaRowView[];
}

export class SlaTrendView {
  @ApiProperty() from: string;
  @ApiProperty() to: string;
  @ApiProperty({ enum: REPORT_DIMENSIONS }) groupBy: ReportDimension;
  @ApiProperty({ enum: TREND_INTERVALS }) interval: TrendInterval;
  @ApiProperty() timezone: string;
  @ApiProperty() asOf: string;
  @ApiProperty({ type: [TrendBucketView] }) buckets: TrendBucketView[];
}

export class RootCauseRowView {
  @ApiProperty({ type: DepartmentRef, description: 'the department whose request held the others up (or the late department itself)' })
  causedBy: DepartmentRef;
  @ApiProperty({ type: DepartmentRef, description: 'the provider of the late request' }) delayed: DepartmentRef;
  @ApiProperty({ description: 'causedBy is delayed: late with nothing upstream to blame' }) ownDelay: boolean;
  @ApiProperty({ description: 'late requests whose main cause is causedBy' }) incidents: number;
  @ApiProperty({ description: 'of those, late on their resolution target' }) lateRequests: number;
  @ApiProperty({ description: 'of those, past the promise made to the external customer' }) lateExternalPromises: number;
  @ApiProperty({
    description: 'elapsed seconds of the late requests of `delayed` charged to causedBy: time blocked by its requests, or (ownDelay) time not blocked',
  })
  chargedSeconds: number;
  @ApiProperty({ type: [String], description: 'up to 5 of the late requests' }) exampleRequestIds: string[];
}

export class RootCauseView {
  @ApiProperty() from: string;
  @ApiProperty() to: string;
  @ApiProperty() asOf: string;
  @ApiProperty({ description: 'late requests in the window' }) incidents: number;
  @ApiProperty({ type: [RootCauseRowView] }) rows: RootCauseRowView[];
}

export class AtRiskItemView {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() title: string;
  @ApiProperty() status: string;
  @ApiProperty() priority: string;
  @ApiProperty({ type: DepartmentRef }) provider: DepartmentRef;
  @ApiProperty({ type: DepartmentRef }) customer: DepartmentRef;
  @ApiProperty({ type: DepartmentRef }) service: DepartmentRef;
  @ApiProperty({ description: 'business seconds of slack; negative when the chain will be late' }) slackSeconds: number;
  @ApiProperty() atRisk: boolean;
  @ApiProperty({ nullable: true, type: String }) atRiskSince: string | null;
  @ApiProperty({ nullable: true, type: String }) projectedFinishAt: string | null;
  @ApiProperty({ nullable: true, type: String }) latestFinishAt: string | null;
  @ApiProperty() resolveBy: string;
  @ApiProperty({ nullable: true, type: String }) externalRef: string | null;
  @ApiProperty({ nullable: true, type: String }) externalDueAt: string | null;
  @ApiProperty({ nullable: true, type: String }) bottleneckRequestId: string | null;
}

export class AtRiskChainView {
  @ApiProperty({ format: 'uuid', description: 'the end of the chain (an open request nothing open waits on); GET /chains/:id shows the whole chain' }) id: string;
  @ApiProperty() title: string;
  @ApiProperty() status: string;
  @ApiProperty() priority: string;
  @ApiProperty({ type: DepartmentRef, description: 'provider of the end request' }) provider: DepartmentRef;
  @ApiProperty({ type: DepartmentRef, description: 'customer of the end request: who holds the promise' }) customer: DepartmentRef;
  @ApiProperty({ type: DepartmentRef }) service: DepartmentRef;
  @ApiProperty({ description: 'open requests in the chain up to and including its end' }) openRequests: number;
  @ApiProperty({ description: 'the least slack of those requests, business seconds; negative: the end will be late' }) slackSeconds: number;
  @ApiProperty({ description: 'an at-risk episode is open for this end (its chain_at_risk mail went out)' }) atRisk: boolean;
  @ApiProperty({ nullable: true, type: String }) atRiskSince: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'when the end is projected to finish' }) projectedFinishAt: string | null;
  @ApiProperty({ nullable: true, type: String }) latestFinishAt: string | null;
  @ApiProperty() resolveBy: string;
  @ApiProperty({ nullable: true, type: String }) neededBy: string | null;
  @ApiProperty({ nullable: true, type: String }) externalRef: string | null;
  @ApiProperty({ nullable: true, type: String }) externalDueAt: string | null;
  @ApiProperty({ format: 'uuid', description: 'the open request with the least slack' }) tightestRequestId: string;
  @ApiProperty({ nullable: true, type: String, description: "the tightest request's bottleneck, as GET /requests/:id gives it: null while nothing upstream of it is late" })
  bottleneckRequestId: string | null;
}

export class AtRiskPageView {
  @ApiProperty({ description: 'the instant this answer was made; chain figures are as last computed (docs/chains.md)' }) asOf: string;
  @ApiProperty({ type: [AtRiskItemView], description: 'open requests in chains, least slack first' }) items: AtRiskItemView[];
  @ApiProperty({ type: [AtRiskChainView], description: 'chains, one per end, least slack first; up to `limit` per page, like items' }) chains: AtRiskChainView[];
  @ApiProperty({ nullable: true, type: String, description: 'pages both lists on; null when neither has more' }) nextCursor: string | null;
}

export class EscalationLogItemView {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) requestId: string;
  @ApiProperty() requestTitle: string;
  @ApiProperty() kind: string;
  @ApiProperty() dueAt: string;
  @ApiProperty() firedAt: string;
  @ApiProperty({ type: DepartmentRef }) provider: DepartmentRef;
  @ApiProperty({ type: DepartmentRef }) customer: DepartmentRef;
  @ApiProperty({ type: [String] }) recipients: string[];
}

export class EscalationLogView {
  @ApiProperty({ description: 'the instant this answer was made' }) asOf: string;
  @ApiProperty({ type: [EscalationLogItemView] }) items: EscalationLogItemView[];
  @ApiProperty({ nullable: true, type: String }) nextCursor: string | null;
}
