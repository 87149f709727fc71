import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** requestId depends on dependsOnId: dependsOnId must finish first. */
@Entity('request_dependencies')
@Index('request_dependencies_depends_on_idx', ['dependsOnId'])
export class RequestDependency {
  @PrimaryColumn({ type: 'uuid' }) requestId: string;
  @PrimaryColumn({ type: 'uuid' }) dependsOnId: string;
  @Column({ type: 'uuid', nullable: true }) createdBy: string | null;
  @Column({ type: 'timestamptz' }) createdAt: Date;
}
