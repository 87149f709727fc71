import { Column, Entity, Index, PrimaryGeneratedColumn, Unique } from 'typeorm';
import type { EscalationKind } from './deadline-plan';

/** One escalation fired: at most once per request, kind and clock version. */
@Entity('escalations')
@Unique('escalations_once_key', ['requestId', 'kind', 'clockVersion'])
@Index('escalations_fired_idx', ['firedAt'])
export class Escalation {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column({ type: 'uuid' }) requestId: string;
  @Column({ type: 'text' }) kind: EscalationKind;
  @Column({ type: 'integer' }) clockVersion: number;
  @Column({ type: 'timestamptz' }) dueAt: Date;
  @Column({ type: 'timestamptz' }) firedAt: Date;
  @Column({ type: 'jsonb', default: () => "'[]'" }) recipients: string[];
}
