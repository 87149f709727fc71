import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

export type RequestEventType =
  | 'created'
  | 'transitioned'
  | 'commented'
  | 'assigned'
  | 'priority_changed'
  | 'deadlines_moved'
  | 'dependency_added'
  | 'dependency_removed'
  | 'breached'
  | 'escalated';

/** Append-only timeline entry: who did what, when, and the values before and after. */
@Entity('request_events')
@Index('request_events_request_idx', ['requestId', 'id'])
export class RequestEvent {
  @PrimaryGeneratedColumn('identity', { type: 'bigint', generatedIdentity: 'ALWAYS' }) id: string;
  @Column({ type: 'uuid' }) requestId: string;
  /** null when the system acted (a timer, the reconciler). */
  @Column({ type: 'uuid', nullable: true }) actorId: string | null;
  @Column({ type: 'text' }) type: RequestEventType;
  @Column({ type: 'timestamptz' }) at: Date;
  @Column({ type: 'jsonb', nullable: true }) before: Record<string, unknown> | null;
  @Column({ type: 'jsonb', nullable: true }) after: Record<string, unknown> | null;
}
