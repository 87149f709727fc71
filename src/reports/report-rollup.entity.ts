import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

export const REPORT_DIMENSIONS = ['provider', 'customer', 'service', 'pair'] as const;
export type ReportDimension = (typeof REPORT_DIMENSIONS)[number];
export type RollupSpan = 'day' | 'week';
/** Groupings that also have a row per ISO week (report_spans() in the migration says the same). */
export const WEEKLY_DIMENSIONS: ReadonlySet<ReportDimension> = new Set<ReportDimension>(['pair']);

/**
 * One UTC day (or, for pairs, one ISO week) of requests of one group, kept by triggers on
 * `requests` (migrations/1764300000000-reports.ts); a request counts in its day and its week.
 * Counts the outcomes of clocks that have stopped; the business seconds of each stopped clock are
 * packed as 4-byte big-endian integers, so percentiles stay exact.
 */
@Entity('report_daily')
export class ReportDailyRollup {
  @PrimaryColumn({ type: 'text' }) dimension: ReportDimension;
  @PrimaryColumn({ type: 'text' }) span: RollupSpan;
  /** The UTC day the requests were created, or the Monday of their week. */
  @PrimaryColumn({ type: 'date' }) day: string;
  /** The provider, customer or service; for a pair, the provider. */
  @PrimaryColumn({ type: 'uuid' }) groupId: string;
  /** For a pair, the customer; otherwise the nil UUID. */
  @PrimaryColumn({ type: 'uuid' }) partnerId: string;
  @Column({ type: 'integer' }) total: number;
  @Column({ type: 'integer' }) cancelled: number;
  @Column({ type: 'integer' }) responseMet: number;
  @Column({ type: 'integer' }) responseBreached: number;
  @Column({ type: 'integer' }) resolutionMet: number;
  @Column({ type: 'integer' }) resolutionBreached: number;
  @Column({ type: 'integer' }) breachedEither: number;
  @Column({ type: 'bytea' }) respondSeconds: Buffer;
  @Column({ type: 'bytea' }) resolveSeconds: Buffer;
}

/** An open request's clocks that are still undecided; counted as breached once now passes their due instant. */
@Entity('report_open_requests')
@Index('report_open_requests_created_idx', ['createdAt'])
export class ReportOpenRequest {
  @PrimaryColumn({ type: 'uuid' }) requestId: string;
  @Column({ type: 'timestamptz' }) createdAt: Date;
  @Column({ type: 'uuid' }) providerDepartmentId: string;
  @Column({ type: 'uuid' }) customerDepartmentId: string;
  @Column({ type: 'uuid' }) serviceId: string;
  @Column({ type: 'timestamptz', nullable: true }) respondDue: Date | null;
  @Column({ type: 'timestamptz', nullable: true }) resolveDue: Date | null;
  /** Already counted as breached in report_daily (a flag, or a late stop). */
  @Column({ type: 'boolean' }) breachedStatic: boolean;
  @Column({ type: 'boolean' }) atRisk: boolean;
}
