import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { Agreement, AgreementVersion } from './agreement.entity';
import type { Priority } from './agreement-terms';
import { TtlCache } from '../common/ttl-cache';

@Injectable()
export class AgreementsRepository {
  // Which agreement applies is asked on every request created; any agreement change clears it all.
  private readonly applicable = new TtlCache<Agreement | null>(5000);

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  findById(id: string, manager?: EntityManager): Promise<Agreement | null> {
    return (manager ?? this.dataSource.manager).getRepository(Agreement).findOne({ where: { id } });
  }

  list(serviceId: string | undefined, after: string | undefined, limit: number): Promise<Agreement[]> {
    const q = this.dataSource.getRepository(Agreement).createQueryBuilder('a').orderBy('a.id', 'ASC').limit(limit);
    if (serviceId) q.andWhere('a.service_id = :serviceId', { serviceId });
    if (after) q.andWhere('a.id > :after', { after });
    return q.getMany();
  }

  /** The most specific active agreement: customer + priority, then customer, then priority, then the default. */
  findApplicable(serviceId: string, customerDepartmentId: string, priority: Priority): Promise<Agreement | null> {
    return this.applicable.get(`${serviceId}|${customerDepartmentId}|${priority}`, () => this.queryApplicable(serviceId, customerDepartmentId, priority));
  }

  private queryApplicable(serviceId: string, customerDepartmentId: string, priority: Priority): Promise<Agreement | null> {
    return this.dataSource
      .getRepository(Agreement)
      .createQueryBuilder('a')
      .where('a.service_id = :serviceId AND a.active', { serviceId })
      .andWhere('(a.customer_department_id IS NULL OR a.customer_department_id = :customerDepartmentId)', { customerDepartmentId })
      .andWhere('(a.priority IS NULL OR a.priority = :priority)', { priority })
      .orderBy('a.customer_department_id IS NOT NULL', 'DESC')
      .addOrderBy('a.priority IS NOT NULL', 'DESC')
      .limit(1)
      .getOne();
  }

  version(agreementId: string, version: number): Promise<AgreementVersion | null> {
    return this.dataSource.getRepository(AgreementVersion).findOne({ where: { agreementId, version } });
  }

  versions(agreementId: string): Promise<AgreementVersion[]> {
    return this.dataSource.getRepository(AgreementVersion).find({ where: { agreementId }, order: { version: 'ASC' } });
  }

  /** Saves the agreement and the record of this version in one transaction. */
  async saveVersion(agreement: Partial<Agreement>, changedBy: string): Promise<Agreement> {
    const saved = await this.dataSource.transaction(async (manager) => {
      const saved = await manager.getRepository(Agreement).save(agreement as Agreement);
      const { id, version, createdAt: _c, updatedAt: _u, ...terms } = saved;
      await manager.getRepository(AgreementVersion).insert({ agreementId: id, version, terms, changedBy });
      return saved;
    });
    this.applicable.clear();
    return saved;
  }
}
