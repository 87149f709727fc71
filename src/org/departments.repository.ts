import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { TtlCache } from '../common/ttl-cache';
import { Department } from './department.entity';

@Injectable()
export class DepartmentsRepository {
  // Read on every request created; see TtlCache for how changes show.
  private readonly byId = new TtlCache<Department | null>(5000);

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  private repo(manager?: EntityManager) {
    return (manager ?? this.dataSource.manager).getRepository(Department);
  }

  findById(id: string, manager?: EntityManager): Promise<Department | null> {
    if (manager) return this.repo(manager).findOne({ where: { id } });
    return this.byId.get(id, () => this.repo().findOne({ where: { id } }));
  }

  /** Codes are unique whatever their case: `sales` next to `SALES` would only confuse. */
  findByCode(code: string): Promise<Department | null> {
    return this.repo().createQueryBuilder('d').where('lower(d.code) = lower(:code)', { code }).getOne();
  }

  list(after: string | undefined, limit: number): Promise<Department[]> {
    const q = this.repo().createQueryBuilder('d').orderBy('d.code', 'ASC').limit(limit);
    if (after) q.where('d.code > :after', { after });
    return q.getMany();
  }

  async save(department: Partial<Department>): Promise<Department> {
    const saved = await this.repo().save(department as Department);
    this.byId.delete(saved.id);
    return saved;
  }
}
