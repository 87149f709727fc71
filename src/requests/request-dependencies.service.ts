import { Injectable } from '@nestjs/common';
import { ChainService } from '../chains/chain.service';
import { Clock } from '../common/clock';
import { DomainError, forbidden, notFound } from '../common/domain-error';
import type { Actor } from '../identity/actor';
import { sidesOf } from './request-access';
import { toClockInstant } from './request-clocks';
import { RequestsRepository } from './requests.repository';
import { RequestsService } from './requests.service';

export interface DependencyLink {
  requestId: string;
  dependsOnId: string;
  createdAt: string;
}

/** Links between requests: a directed acyclic graph, a link that would close a cycle refused. */
@Injectable()
export class RequestDependenciesService {
  constructor(
    private readonly requests: RequestsRepository,
    private readonly requestsService: RequestsService,
    private readonly clock: Clock,
    private readonly chains: ChainService,
  ) {}

  async add(actor: Actor, requestId: string, dependsOnId: string): Promise<{ link: DependencyLink; created: boolean }> {
    const request = await this.requestsService.mustSee(actor, requestId);
    if (sidesOf(actor, request).size === 0) throw forbidden('Only the two departments party to a request may link it');
    // Both ends must be visible to the caller: a chain is built by those who see each hand-off.
    const upstream = await this.requests.findById(dependsOnId);
    if (!upstream || sidesOf(actor, upstream).size === 0) throw notFound('The request to depend on');
    if (requestId === dependsOnId) throw new DomainError('cycle', 'A request cannot depend on itself', { requestId, dependsOnId });
    const now = new Date(toClockInstant(this.clock.now()));
    const created = await this.requests.transaction(async (manager) => {
      await this.requests.lockDependencyGraph(manager);
      if (await this.requests.reaches(manager, dependsOnId, requestId)) {
        throw new DomainError('cycle', 'That link would close a cycle: the other request already depends on this one, directly or through others', {
          requestId,
          dependsOnId,
        });
      }
      const added = await this.requests.addDependency(manager, { requestId, dependsOnId, createdBy: actor.id, createdAt: now });
      if (added) {
        await this.requests.appendEvents(manager, [{ requestId, actorId: actor.id, type: 'dependency_added', at: now, after: { dependsOnId } }]);
      }
      return added;
    });
    if (created) await this.chains.recompute([requestId]);
    return { link: { requestId, dependsOnId, createdAt: now.toISOString() }, created };
  }

  async remove(actor: Actor, requestId: string, dependsOnId: string): Promise<void> {
    const request = await this.requestsService.mustSee(actor, requestId);
    if (sidesOf(actor, request).size === 0) throw forbidden('Only the two departments party to a request may unlink it');
    const now = new Date(toClockInstant(this.clock.now()));
    const removed = await this.requests.transaction(async (manager) => {
      await this.requests.lockDependencyGraph(manager);
      const gone = await this.requests.removeDependency(manager, requestId, dependsOnId);
      if (gone) {
        await this.requests.appendEvents(manager, [{ requestId, actorId: actor.id, type: 'dependency_removed', at: now, before: { dependsOnId } }]);
      }
      return gone;
    });
    if (!removed) throw notFound('Dependency');
    // The chain may have split in two: each side is its own chain now.
    await this.chains.recompute([requestId]);
    await this.chains.recompute([dependsOnId]);
  }
}
