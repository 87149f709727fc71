import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn, VersionColumn } from 'typeorm';
import type { Holiday, WeeklyInterval } from '../business-time';

@Entity('calendars')
export class Calendar {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column({ type: 'text' }) name: string;
  @Column({ type: 'text' }) timezone: string;
  @Column({ type: 'boolean', default: false }) alwaysOpen: boolean;
  @Column({ type: 'jsonb', default: () => "'[]'" }) weeklyHours: WeeklyInterval[];
  @Column({ type: 'jsonb', default: () => "'[]'" }) holidays: Holiday[];
  /** Bumped on every change, so compiled calendars can be cached by (id, revision). */
  @VersionColumn({ default: 1 }) revision: number;
  @CreateDateColumn({ type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ type: 'timestamptz' }) updatedAt: Date;
}
