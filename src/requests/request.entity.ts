import { Column, Entity, Index, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import type { AgreementTerms, Priority } from '../agreements/agreement-terms';
import type { RequestStatus } from './request-lifecycle';

@Entity('requests')
@Index('requests_created_idx', ['createdAt', 'id'])
@Index('requests_provider_created_idx', ['providerDepartmentId', 'createdAt', 'id'])
@Index('requests_customer_created_idx', ['customerDepartmentId', 'createdAt', 'id'])
@Index('requests_next_deadline_idx', ['nextDeadlineAt', 'id'], { where: 'next_deadline_at IS NOT NULL' })
// The 90-day median a service without a lead time is planned with (chains), read from the index alone.
@Index('requests_service_resolved_idx', ['serviceId', 'resolvedAt', 'resolveBusinessSeconds'], { where: 'resolve_business_seconds IS NOT NULL' })
@Index('requests_open_slack_idx', ['slackSeconds', 'id'], { where: `slack_seconds IS NOT NULL AND status NOT IN ('resolved', 'closed', 'cancelled')` })
export class ServiceRequest {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column({ type: 'uuid' }) serviceId: string;
  @Column({ type: 'uuid' }) providerDepartmentId: string;
  @Column({ type: 'uuid' }) customerDepartmentId: string;
  @Column({ type: 'uuid' }) requesterId: string;
  @Column({ type: 'uuid', nullable: true }) assigneeId: string | null;
  @Column({ type: 'text' }) title: string;
  @Column({ type: 'text', nullable: true }) description: string | null;
  @Column({ type: 'text' }) priority: Priority;
  @Column({ type: 'text' }) status: RequestStatus;
  /** Optimistic lock; every write is `WHERE id = $1 AND version = $2`. */
  @Column({ type: 'integer', default: 1 }) version: number;
  @Column({ type: 'uuid' }) agreementId: string;
  @Column({ type: 'integer' }) agreementVersion: number;
  @Column({ type: 'jsonb' }) terms: AgreementTerms;
  /** The clocks start here. */
  @Column({ type: 'timestamptz', default: () => 'now()' }) createdAt: Date;
  @Column({ type: 'timestamptz' }) respondBy: Date;
  @Column({ type: 'timestamptz' }) resolveBy: Date;
  @Column({ type: 'timestamptz', nullable: true }) respondedAt: Date | null;
  @Column({ type: 'timestamptz', nullable: true }) resolvedAt: Date | null;
  @Column({ type: 'timestamptz', nullable: true }) closedAt: Date | null;
  @Column({ type: 'timestamptz', nullable: true }) cancelledAt: Date | null;
  /** Set while the resolution clock is paused; the pause itself is a row of request_pauses. */
  @Column({ type: 'timestamptz', nullable: true }) pausedSince: Date | null;
  /** Business seconds of the finished pauses (the amount resolveBy has moved out). */
  @Column({ type: 'integer', default: 0 }) pausedSeconds: number;
  /** Business seconds from start to first response / to resolution, less pauses; set when each clock stops. */
  @Column({ type: 'integer', nullable: true }) respondBusinessSeconds: number | null;
  @Column({ type: 'integer', nullable: true }) resolveBusinessSeconds: number | null;
  @Column({ type: 'boolean', default: false }) breachedResponse: boolean;
  @Column({ type: 'boolean', default: false }) breachedResolution: boolean;
  @Column({ type: 'integer', default: 0 }) escalationLevel: number;
  @Column({ type: 'timestamptz', nullable: true }) neededBy: Date | null;
  @Column({ type: 'text', nullable: true }) externalRef: string | null;
  @Column({ type: 'timestamptz', nullable: true }) externalDueAt: Date | null;
  @Column({ type: 'timestamptz', nullable: true }) projectedFinishAt: Date | null;
  @Column({ type: 'timestamptz', nullable: true }) latestFinishAt: Date | null;
  @Column({ type: 'integer', nullable: true }) slackSeconds: number | null;
  @Column({ type: 'boolean', default: false }) atRisk: boolean;
  @Column({ type: 'uuid', nullable: true }) bottleneckRequestId: string | null;
  /** Counts at-risk episodes: chain_at_risk fires once per episode, again after a recovery and a new slip. */
  @Column({ type: 'integer', default: 0 }) atRiskEpisode: number;
  @Column({ type: 'timestamptz', nullable: true }) atRiskSince: Date | null;
  /** On the last request of a chain: when its slack will cross zero if nothing changes (a timer, not a scan). */
  @Column({ type: 'timestamptz', nullable: true }) chainCheckAt: Date | null;
  /** Bumped whenever the clocks move; timer jobs carry it, and a job for an older version does nothing. */
  @Column({ type: 'integer', default: 1 }) clockVersion: number;
  /** The next escalation deadline and its kind; null when no clock is running. Indexed for the reconciler. */
  @Column({ type: 'timestamptz', nullable: true }) nextDeadlineAt: Date | null;
  @Column({ type: 'text', nullable: true }) nextDeadlineKind: string | null;
  @UpdateDateColumn({ type: 'timestamptz' }) updatedAt: Date;
}

type RequiredOnCreate = Pick<
  ServiceRequest,
  | 'id' | 'serviceId' | 'providerDepartmentId' | 'customerDepartmentId' | 'requesterId' | 'title' | 'description' | 'priority'
  | 'agreementId' | 'agreementVersion' | 'terms' | 'createdAt' | 'respondBy' | 'resolveBy' | 'nextDeadlineAt' | 'nextDeadlineKind'
  | 'neededBy' | 'externalRef' | 'externalDueAt'
>;

/** A whole new request row in memory, every column set, so it can be inserted and shown without reading it back. */
export function newRequest(fields: RequiredOnCreate): ServiceRequest {
  return Object.assign(new ServiceRequest(), {
    assigneeId: null,
    status: 'open' as const,
    version: 1,
    respondedAt: null,
    resolvedAt: null,
    closedAt: null,
    cancelledAt: null,
    pausedSince: null,
    pausedSeconds: 0,
    respondBusinessSeconds: null,
    resolveBusinessSeconds: null,
    breachedResponse: false,
    breachedResolution: false,
    escalationLevel: 0,
    projectedFinishAt: null,
    latestFinishAt: null,
    slackSeconds: null,
    atRisk: false,
    bottleneckRequestId: null,
    atRiskEpisode: 0,
    atRiskSince: null,
    chainCheckAt: null,
    clockVersion: 1,
    updatedAt: fields.createdAt,
    ...fields,
  });
}
