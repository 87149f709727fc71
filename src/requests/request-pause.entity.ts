import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

export type PauseReason = 'waiting_on_customer' | 'resolved' | 'blocked';

/** A stretch during which the resolution clock stood still; intervals keep pausedSeconds exact. */
@Entity('request_pauses')
@Index('request_pauses_request_idx', ['requestId', 'startedAt'])
@Index('request_pauses_blocking_idx', ['blockingRequestId'], { where: 'blocking_request_id IS NOT NULL' })
export class RequestPause {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column({ type: 'uuid' }) requestId: string;
  @Column({ type: 'text' }) reason: PauseReason;
  @Column({ type: 'timestamptz' }) startedAt: Date;
  @Column({ type: 'timestamptz', nullable: true }) endedAt: Date | null;
  /** For a `blocked` pause: the unresolved request this one waited on; its department is charged the wait. */
  @Column({ type: 'uuid', nullable: true }) blockingRequestId: string | null;
}
