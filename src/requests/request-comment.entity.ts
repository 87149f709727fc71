import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import type { CommentSide } from './request-lifecycle';

@Entity('request_comments')
@Index('request_comments_request_idx', ['requestId', 'createdAt'])
export class RequestComment {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column({ type: 'uuid' }) requestId: string;
  @Column({ type: 'uuid' }) authorId: string;
  /** Which side wrote it: the first provider comment is the first response; 'admin': an admin of neither department. */
  @Column({ type: 'text' }) side: CommentSide;
  @Column({ type: 'text' }) body: string;
  @Column({ type: 'timestamptz' }) createdAt: Date;
}
