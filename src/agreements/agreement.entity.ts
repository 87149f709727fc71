import { Column, CreateDateColumn, Entity, Index, PrimaryColumn, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import type { EscalationLevel, Priority } from './agreement-terms';

@Entity('agreements')
@Index('agreements_scope_key', { synchronize: false })
export class Agreement {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column({ type: 'uuid' }) serviceId: string;
  @Column({ type: 'uuid', nullable: true }) customerDepartmentId: string | null;
  @Column({ type: 'text', nullable: true }) priority: Priority | null;
  /** Increases on every change; requests remember the version they were opened under. */
  @Column({ type: 'integer', default: 1 }) version: number;
  @Column({ type: 'text' }) responseTarget: string;
  @Column({ type: 'integer' }) responseTargetSeconds: number;
  @Column({ type: 'text' }) resolutionTarget: string;
  @Column({ type: 'integer' }) resolutionTargetSeconds: number;
  @Column({ type: 'uuid', nullable: true }) calendarId: string | null;
  @Column({ type: 'integer', default: 75 }) warnAtPercent: number;
  @Column({ type: 'boolean', default: true }) pauseWhileBlocked: boolean;
  @Column({ type: 'jsonb', default: () => "'[]'" }) escalations: EscalationLevel[];
  @Column({ type: 'boolean', default: true }) active: boolean;
  @CreateDateColumn({ type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ type: 'timestamptz' }) updatedAt: Date;
}

/** Every version of every agreement, as it was; a request points at one of these. */
@Entity('agreement_versions')
export class AgreementVersion {
  @PrimaryColumn({ type: 'uuid' }) agreementId: string;
  @PrimaryColumn({ type: 'integer' }) version: number;
  @Column({ type: 'jsonb' }) terms: AgreementSnapshot;
  @Column({ type: 'uuid', nullable: true }) changedBy: string | null;
  @CreateDateColumn({ type: 'timestamptz' }) createdAt: Date;
}

export type AgreementSnapshot = Omit<Agreement, 'id' | 'version' | 'createdAt' | 'updatedAt'>;
