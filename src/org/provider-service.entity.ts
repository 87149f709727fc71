import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

/** Something a provider department offers to the others, e.g. Design's "bouquet for an order". */
@Entity('services')
@Index('services_department_code_key', ['departmentId', 'code'], { unique: true })
export class ProviderService {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column({ type: 'uuid' }) departmentId: string;
  @Column({ type: 'text' }) code: string;
  @Column({ type: 'text' }) name: string;
  @Column({ type: 'text', nullable: true }) description: string | null;
  /** ISO-8601 duration as given, and its seconds: the expected business time to deliver. */
  @Column({ type: 'text', nullable: true }) leadTime: string | null;
  @Column({ type: 'integer', nullable: true }) leadTimeSeconds: number | null;
  @Column({ type: 'boolean', default: true }) active: boolean;
  @CreateDateColumn({ type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ type: 'timestamptz' }) updatedAt: Date;
}
