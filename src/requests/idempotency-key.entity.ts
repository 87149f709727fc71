import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/** One row per (user, Idempotency-Key): the first POST's body hash and its answer. */
@Entity('idempotency_keys')
export class IdempotencyKey {
  @PrimaryColumn({ type: 'uuid' }) userId: string;
  @PrimaryColumn({ type: 'text' }) key: string;
  @Column({ type: 'text' }) requestHash: string;
  @Column({ type: 'uuid', nullable: true }) requestId: string | null;
  @Column({ type: 'integer', nullable: true }) responseStatus: number | null;
  @Column({ type: 'jsonb', nullable: true }) responseBody: Record<string, unknown> | null;
  @CreateDateColumn({ type: 'timestamptz' }) createdAt: Date;
}
