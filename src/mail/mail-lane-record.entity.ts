import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * One per mail lane's PostgreSQL connection (migration 1764800000000): the mail it marked sent
 * last and whether the server's answer to it was read. Narrow and without secondary indexes, so the
 * write each mark adds is a small in-place (HOT) update.
 */
@Entity('mail_lanes')
export class MailLaneRecord {
  @PrimaryColumn({ type: 'uuid' }) id: string;
  @Column({ type: 'integer' }) backendPid: number;
  @Column({ type: 'timestamptz' }) backendStart: Date;
  @Column({ type: 'uuid', nullable: true }) marked: string | null;
  /** The mark's transaction time, equal to the mail's `sent_at` while that state is this lane's doing. */
  @Column({ type: 'timestamptz', nullable: true }) markedAt: Date | null;
  @Column({ type: 'boolean', default: true }) answered: boolean;
}
