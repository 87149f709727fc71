import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { TtlCache } from '../common/ttl-cache';
import { ProviderService } from './provider-service.entity';

@Injectable()
export class ProviderServicesRepository {
  // Read on every request created; see TtlCache for how changes show.
  private readonly byId = new TtlCache<ProviderService | null>(5000);

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  private get repo() {
    return this.dataSource.getRepository(ProviderService);
  }

  findById(id: string): Promise<ProviderService | null> {
    return this.byId.get(id, () => this.repo.findOne({ where: { id } }));
  }

  /** Codes are unique within a department whatever their case. */
  findByCode(departmentId: string, code: string): Promise<ProviderService | null> {
    return this.repo.createQueryBuilder('s').where('s.departmentId = :departmentId AND lower(s.code) = lower(:code)', { departmentId, code }).getOne();
  }

  list(filter: { departmentId?: string }, after: string | undefined, limit: number): Promise<ProviderService[]> {
    const q = this.repo.createQueryBuilder('s').orderBy('s.id', 'ASC').limit(limit);
    if (filter.departmentId) q.andWhere('s.department_id = :departmentId', { departmentId: filter.departmentId });
    if (after) q.andWhere('s.id > :after', { after });
    return q.getMany();
  }

  async save(service: Partial<ProviderService>): Promise<ProviderService> {
    const saved = await this.repo.save(service as ProviderService);
    this.byId.delete(saved.id);
    return saved;
  }
}
