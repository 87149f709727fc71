import { Injectable } from '@nestjs/common';
import { parseIsoDuration } from '../business-time';
import { ChainService } from '../chains/chain.service';
import { ChainsRepository } from '../chains/chains.repository';
import { decodeCursor, Page, pageOf } from '../common/cursor';
import { conflict, forbidden, invalid, notFound } from '../common/domain-error';
import type { Actor } from '../identity/actor';
import { DepartmentsRepository } from './departments.repository';
import { ProviderService } from './provider-service.entity';
import { CreateServiceDto, ServiceView, UpdateServiceDto } from './provider-service.dto';
import { ProviderServicesRepository } from './provider-services.repository';

/** Admin, or the head of the providing department, may write a department's services. */
export function mayManageProvider(actor: Actor, providerDepartmentId: string): boolean {
  return actor.role === 'admin' || (actor.role === 'head' && actor.departmentId === providerDepartmentId);
}

@Injectable()
export class ProviderServicesService {
  constructor(
    private readonly services: ProviderServicesRepository,
    private readonly departments: DepartmentsRepository,
    private readonly chainsRepository: ChainsRepository,
    private readonly chains: ChainService,
  ) {}

  async create(actor: Actor, dto: CreateServiceDto): Promise<ServiceView> {
    if (!(await this.departments.findById(dto.departmentId))) {
      throw invalid([{ field: 'departmentId', message: 'no department has this id' }]);
    }
    if (!mayManageProvider(actor, dto.departmentId)) throw forbidden("Only an admin or the provider department's head may add its services");
    if (await this.services.findByCode(dto.departmentId, dto.code)) {
      throw conflict(`The department already has a service with code ${dto.code}`);
    }
    const saved = await this.services.save({
      departmentId: dto.departmentId,
      code: dto.code,
      name: dto.name,
      description: dto.description ?? null,
      leadTime: dto.leadTime ?? null,
      leadTimeSeconds: dto.leadTime ? parseIsoDuration(dto.leadTime) : null,
      active: true,
    });
    return viewOfService(saved);
  }

  async get(id: string): Promise<ServiceView> {
    return viewOfService(await this.load(id));
  }

  async load(id: string): Promise<ProviderService> {
    const service = await this.services.findById(id);
    if (!service) throw notFound('Service');
    return service;
  }

  async list(departmentId: string | undefined, cursor: string | undefined, limit = 50): Promise<Page<ServiceView>> {
    const after = cursor ? decodeCursor(cursor, ['uuid'])[0] : undefined;
    const rows = await this.services.list({ departmentId }, after, limit + 1);
    return pageOf(rows.map(viewOfService), limit, (s) => [s.id]);
  }

  async update(actor: Actor, id: string, dto: UpdateServiceDto): Promise<ServiceView> {
    const service = await this.load(id);
    if (!mayManageProvider(actor, service.departmentId)) throw forbidden("Only an admin or the provider department's head may change its services");
    const clash = dto.code && dto.code !== service.code ? await this.services.findByCode(service.departmentId, dto.code) : null;
    if (clash && clash.id !== id) throw conflict(`The department already has a service with code ${clash.code}`);
    const changes: Partial<ProviderService> = { id };
    if (dto.code !== undefined) changes.code = dto.code;
    if (dto.name !== undefined) changes.name = dto.name;
    if (dto.description !== undefined) changes.description = dto.description;
    if (dto.active !== undefined) changes.active = dto.active;
    if (dto.leadTime !== undefined) {
      changes.leadTime = dto.leadTime;
      changes.leadTimeSeconds = dto.leadTime ? parseIsoDuration(dto.leadTime) : null;
    }
    await this.services.save(changes);
    if (changes.leadTime !== undefined && changes.leadTime !== service.leadTime) {
      // Open chains through this service count with the new lead time now, not at their next change.
      this.chainsRepository.forgetLeadTime(id);
      const chained = await this.chainsRepository.openChainedOfService(id);
      if (chained.length) await this.chains.recompute(chained);
    }
    return this.get(id);
  }
}

export function viewOfService(s: ProviderService): ServiceView {
  return {
    id: s.id,
    departmentId: s.departmentId,
    code: s.code,
    name: s.name,
    description: s.description,
    leadTime: s.leadTime,
    active: s.active,
  };
}
