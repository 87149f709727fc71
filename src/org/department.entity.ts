import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

@Entity('departments')
export class Department {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column({ type: 'text' }) name: string;
  @Column({ type: 'text', unique: true }) code: string;
  @Column({ type: 'text' }) timezone: string;
  /** The department's business hours; without one it counts around the clock in its time zone. */
  @Column({ type: 'uuid', nullable: true }) calendarId: string | null;
  @Column({ type: 'uuid', nullable: true }) headUserId: string | null;
  /** The rung above the head on the escalation ladder (the head's own manager). */
  @Column({ type: 'text', nullable: true }) escalationEmail: string | null;
  @CreateDateColumn({ type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ type: 'timestamptz' }) updatedAt: Date;
}
