import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

export type OutboxStatus = 'pending' | 'sending' | 'sent' | 'failed';

/** A mail written in the same transaction as its escalation, sent afterwards by the mail job. */
@Entity('mail_outbox')
@Index('mail_outbox_unsent_idx', ['nextAttemptAt', 'id'], { where: `status IN ('pending', 'sending')` })
@Index('mail_outbox_refused_after_data_idx', ['refusedAfterDataAt'], { where: `refused_after_data_at IS NOT NULL` })
export class OutboxMail {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column({ type: 'uuid', unique: true }) escalationId: string;
  @Column({ type: 'uuid' }) requestId: string;
  @Column({ type: 'text' }) kind: string;
  @Column({ type: 'jsonb' }) recipients: string[];
  @Column({ type: 'text' }) subject: string;
  @Column({ type: 'text' }) textBody: string;
  @Column({ type: 'text' }) htmlBody: string;
  @Column({ type: 'jsonb' }) headers: Record<string, string>;
  /** The deadline that caused it, so lateness can be measured to the SMTP acceptance. */
  @Column({ type: 'timestamptz' }) dueAt: Date;
  @Column({ type: 'text', default: 'pending' }) status: OutboxStatus;
  @Column({ type: 'integer', default: 0 }) attempts: number;
  @Column({ type: 'text', nullable: true }) lastError: string | null;
  @Column({ type: 'timestamptz', nullable: true }) claimedAt: Date | null;
  /** The backend (`pg_backend_pid()`) of the lane connection that claimed it; its claim dies with that connection. */
  @Column({ type: 'integer', nullable: true }) claimedBy: number | null;
  /** Marked when its end of data was written (the server's answer still to come: mail_lanes). */
  @Column({ type: 'timestamptz', nullable: true }) sentAt: Date | null;
  /** The last refusal of this mail after its end of data: evidence for in-doubt mails of that moment. */
  @Column({ type: 'timestamptz', nullable: true }) refusedAfterDataAt: Date | null;
  /** Not before this: retries back off exponentially, capped (MAIL_RETRY_BASE_MS, MAIL_RETRY_MAX_MS). */
  @Column({ type: 'timestamptz', default: () => 'now()' }) nextAttemptAt: Date;
  @Column({ type: 'timestamptz', default: () => 'now()' }) createdAt: Date;
}
