import { Controller, Get, Injectable, Param } from '@nestjs/common';
import { ApiOkResponse, ApiProperty, ApiTags } from '@nestjs/swagger';
import { ApiMissing, ApiSignedIn } from '../common/api-docs';
import { notFound } from '../common/domain-error';
import { ParseIdPipe } from '../common/validation';
import type { Actor } from '../identity/actor';
import { isOpsOrAdmin } from '../identity/actor';
import { CurrentActor } from '../identity/auth.decorators';
import { RequestClockService } from '../requests/request-clock.service';
import { canSee } from '../requests/request-access';
import { checkBudget, type BudgetCheck, type BudgetHop } from './chain-budget';
import { ChainsRepository } from './chains.repository';

class DepartmentRefView {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() code: string;
  @ApiProperty() name: string;
}

class ChainLinkView {
  @ApiProperty({ format: 'uuid', description: 'the request that waits' }) requestId: string;
  @ApiProperty({ format: 'uuid', description: 'the request it waits on' }) dependsOnId: string;
}

class BudgetCheckView implements BudgetCheck {
  @ApiProperty({ format: 'uuid', description: 'the request carrying the external promise' }) promiseRequestId: string;
  @ApiProperty({ format: 'date-time' }) externalDueAt: string;
  @ApiProperty({ format: 'date-time', description: 'the latest the first hop of the critical path could have started and still met the promise' })
  requiredStartAt: string;
  @ApiProperty({ format: 'date-time', description: "when the chain's first request was raised" }) chainStartedAt: string;
  @ApiProperty() fits: boolean;
  @ApiProperty({ description: 'requiredStartAt minus chainStartedAt, in seconds (negative: the promise was short from the start)' }) marginSeconds: number;
  @ApiProperty({ type: [String], description: 'request ids, first hop first' }) criticalPath: string[];
  @ApiProperty({ description: "business seconds of the hops' lead times along the critical path" }) totalLeadSeconds: number;
}

class ChainNodeView {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() title: string;
  @ApiProperty() status: string;
  @ApiProperty({ type: DepartmentRefView }) provider: DepartmentRefView;
  @ApiProperty({ type: DepartmentRefView }) customer: DepartmentRefView;
  @ApiProperty({ description: 'business seconds of work expected' }) leadTimeSeconds: number;
  @ApiProperty() respondBy: string;
  @ApiProperty() resolveBy: string;
  @ApiProperty({ nullable: true, type: String }) neededBy: string | null;
  @ApiProperty({ nullable: true, type: String }) externalDueAt: string | null;
  @ApiProperty({ nullable: true, type: String }) projectedFinishAt: string | null;
  @ApiProperty({ nullable: true, type: String }) latestFinishAt: string | null;
  @ApiProperty({ nullable: true, type: Number }) slackSeconds: number | null;
  @ApiProperty() atRisk: boolean;
  @ApiProperty({ nullable: true, type: String }) bottleneckRequestId: string | null;
  @ApiProperty() blocked: boolean;
}

class ChainView {
  @ApiProperty({ format: 'uuid', description: 'the request asked about' }) id: string;
  @ApiProperty({ type: [ChainNodeView] }) nodes: ChainNodeView[];
  @ApiProperty({ type: [ChainLinkView], description: 'requestId waits on dependsOnId' }) links: ChainLinkView[];
  @ApiProperty() atRisk: boolean;
  @ApiProperty({ nullable: true, type: Number }) slackSeconds: number | null;
  @ApiProperty({ nullable: true, type: String }) bottleneckRequestId: string | null;
  @ApiProperty({ type: [BudgetCheckView], description: 'whether the hops fit inside each external promise' }) budget: BudgetCheck[];
}

@Injectable()
export class ChainQueries {
  constructor(
    private readonly chains: ChainsRepository,
    private readonly clocks: RequestClockService,
  ) {}

  async chain(actor: Actor, id: string): Promise<ChainView> {
    const ids = await this.chains.component([id]);
    const rows = await this.chains.readRequests(ids);
    if (!rows.some((r) => r.id === id) || !(isOpsOrAdmin(actor) || rows.some((r) => canSee(actor, r)))) throw notFound('Chain');
    const links = await this.chains.links(undefined, ids);
    const departments = await this.chains.departments([...new Set(rows.flatMap((r) => [r.providerDepartmentId, r.customerDepartmentId]))]);
    const blocked = await this.chains.openBlockedRequests(ids);
    const hops = new Map<string, BudgetHop>();
    const nodes: ChainNodeView[] = [];
    for (const r of rows) {
      const lead = (await this.chains.leadTime(r.serviceId)) ?? r.terms.resolutionTargetSeconds;
      hops.set(r.id, { id: r.id, leadSeconds: lead, calendar: await this.clocks.calendarFor(r.terms), createdAt: r.createdAt.getTime() });
      const dept = (d: string) => {
        const found = departments.get(d);
        return { id: d, code: found?.code ?? '?', name: found?.name ?? '?' };
      };
      nodes.push({
        id: r.id,
        title: r.title,
        status: r.status,
        provider: dept(r.providerDepartmentId),
        customer: dept(r.customerDepartmentId),
        leadTimeSeconds: lead,
        respondBy: r.respondBy.toISOString(),
        resolveBy: r.resolveBy.toISOString(),
        neededBy: r.neededBy?.toISOString() ?? null,
        externalDueAt: r.externalDueAt?.toISOString() ?? null,
        projectedFinishAt: r.projectedFinishAt?.toISOString() ?? null,
        latestFinishAt: r.latestFinishAt?.toISOString() ?? null,
        slackSeconds: r.slackSeconds,
        atRisk: r.atRisk,
        bottleneckRequestId: r.bottleneckRequestId,
        blocked: blocked.has(r.id),
      });
    }
    const open = nodes.filter((n) => n.slackSeconds !== null);
    const tightest = open.sort((a, b) => a.slackSeconds! - b.slackSeconds!)[0] ?? null;
    const budget = rows
      .filter((r) => r.externalDueAt)
      .map((r) => checkBudget(r.id, r.externalDueAt!.getTime(), hops, links));
    return {
      id,
      nodes: nodes.sort((a, b) => (a.projectedFinishAt ?? '').localeCompare(b.projectedFinishAt ?? '') || a.id.localeCompare(b.id)),
      links,
      atRisk: nodes.some((n) => n.atRisk),
      slackSeconds: tightest?.slackSeconds ?? null,
      bottleneckRequestId: tightest?.bottleneckRequestId ?? null,
      budget,
    };
  }
}

@ApiTags('chains')
@ApiSignedIn()
@Controller('chains')
export class ChainsController {
  constructor(private readonly queries: ChainQueries) {}

  @Get(':id')
  @ApiOkResponse({ type: ChainView, description: 'the whole chain the request belongs to: nodes, links, per-node clocks and slack, the budget check' })
  @ApiMissing('Chain')
  chain(@CurrentActor() actor: Actor, @Param('id', ParseIdPipe) id: string): Promise<ChainView> {
    return this.queries.chain(actor, id);
  }
}
