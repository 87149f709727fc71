import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { TtlCache } from '../common/ttl-cache';
import type { Actor } from './actor';
import { User } from './user.entity';

const ACTOR_CACHE_MS = 5000;

@Injectable()
export class UsersRepository {
  // Every API call resolves its token's user; a few seconds of caching spares a query per call.
  private readonly actors = new TtlCache<Actor | null>(ACTOR_CACHE_MS);

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  private repo(manager?: EntityManager) {
    return (manager ?? this.dataSource.manager).getRepository(User);
  }

  async findActiveActor(id: string): Promise<Actor | null> {
    if (!/^[0-9a-f-]{36}$/i.test(id)) return null;
    return this.actors.get(id, async () => {
      const user = await this.repo().findOne({ where: { id, active: true } });
      return user ? toActor(user) : null;
    });
  }

  forget(id: string): void {
    this.actors.delete(id);
  }

  findByEmailWithHash(email: string): Promise<User | null> {
    return this.repo()
      .createQueryBuilder('u')
      .addSelect('u.passwordHash')
      .where('u.email = :email', { email: email.toLowerCase() })
      .getOne();
  }

  findById(id: string, manager?: EntityManager): Promise<User | null> {
    return this.repo(manager).findOne({ where: { id } });
  }

  findByIds(ids: string[]): Promise<User[]> {
    return ids.length ? this.repo().createQueryBuilder('u').where('u.id IN (:...ids)', { ids }).getMany() : Promise.resolve([]);
  }

  list(after: string | undefined, limit: number): Promise<User[]> {
    const q = this.repo().createQueryBuilder('u').orderBy('u.email', 'ASC').limit(limit);
    if (after) q.where('u.email > :after', { after });
    return q.getMany();
  }

  save(user: Partial<User>, manager?: EntityManager): Promise<User> {
    return this.repo(manager).save(user as User);
  }
}

export function toActor(user: User): Actor {
  return { id: user.id, email: user.email, name: user.name, role: user.role, departmentId: user.departmentId };
}
