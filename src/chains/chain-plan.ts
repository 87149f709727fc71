import type { BusinessCalendar } from '../business-time';

/** One request of a chain, as the arithmetic needs it; instants are epoch milliseconds. */
export interface ChainNode {
  id: string;
  finished: boolean;
  /** When it finished (resolved, closed or cancelled), for finished nodes. */
  finishedAt: number | null;
  resolveBy: number;
  /**
   * For a request whose resolution clock is paused (blocked, waiting on the customer): its SLA
   * deadline if the pause ended at the given instant. The planner asks with the instant the
   * request can start (its blockers' projected finish, or now).
   */
  resolveByIfResumedAt?: (resumeAt: number) => number;
  neededBy: number | null;
  externalDueAt: number | null;
  /** Expected business seconds of work: the service's lead time, else its 90-day median, else the target. */
  leadSeconds: number;
  /** Business seconds the resolution clock has run so far (pauses left out). */
  workedSeconds: number;
  /** Paused (waiting on the customer): its work does not advance. */
  paused: boolean;
  /** The provider's calendar: lead times are counted and subtracted in it. */
  calendar: BusinessCalendar;
}

export interface ChainLink {
  requestId: string;
  dependsOnId: string;
}

export interface NodePlan {
  projectedFinishAt: number;
  latestFinishAt: number | null;
  /** latest − projected finish of this request alone. */
  ownSlackSeconds: number | null;
  /** The least slack of this request and everything that depends on it: how far it may slip before any deadline of the chain is missed. */
  slackSeconds: number | null;
  atRisk: boolean;
  /** The most upstream unfinished request on the least-slack path into this one: what holds it up. */
  bottleneckRequestId: string | null;
  /** When this node's slack will cross zero if nothing changes; null if never by time alone. */
  crossesZeroAt: number | null;
}

export class ChainCycleError extends Error {}

/**
 * The chain arithmetic (docs/chains.md):
 * - latest finish, backwards: the earliest of the node's own resolveBy, neededBy and
 *   externalDueAt, and, for each unfinished request that depends on it, that request's latest
 *   finish minus its remaining work (as below), subtracted in the downstream provider's calendar;
 * - projected finish, forwards: no earlier than now and the projected finishes of its
 *   unfinished dependencies, plus its remaining work (lead time minus work done), in its
 *   provider's calendar;
 * - own slack = latest finish − projected finish (wall-clock seconds); a request's slack is the
 *   least own slack of itself and everything downstream of it; negative is at risk.
 */
export function planChain(nodes: readonly ChainNode[], links: readonly ChainLink[], now: number): Map<string, NodePlan> {
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const upstream = new Map<string, string[]>(nodes.map((n) => [n.id, []]));
  const downstream = new Map<string, string[]>(nodes.map((n) => [n.id, []]));
  for (const link of links) {
    if (!byId.has(link.requestId) || !byId.has(link.dependsOnId)) continue;
    upstream.get(link.requestId)!.push(link.dependsOnId);
    downstream.get(link.dependsOnId)!.push(link.requestId);
  }
  const order = topologicalOrder(nodes, upstream, downstream);

  const projected = new Map<string, number>();
  const remaining = new Map<string, number>();
  const starts = new Map<string, number>();
  for (const id of order) {
    const node = byId.get(id)!;
    if (node.finished) {
      projected.set(id, node.finishedAt ?? now);
      continue;
    }
    const left = Math.max(0, node.leadSeconds - node.workedSeconds);
    remaining.set(id, left);
    const start = Math.max(now, ...upstream.get(id)!.filter((u) => !byId.get(u)!.finished).map((u) => projected.get(u)!));
    starts.set(id, start);
    projected.set(id, node.calendar.addBusinessSeconds(start, Math.ceil(left)));
  }

  const latest = new Map<string, number | null>();
  for (const id of [...order].reverse()) {
    const node = byId.get(id)!;
    if (node.finished) {
      latest.set(id, null);
      continue;
    }
    const resolveBy = node.resolveByIfResumedAt ? node.resolveByIfResumedAt(starts.get(id)!) : node.resolveBy;
    let bound = Math.min(resolveBy, node.neededBy ?? Infinity, node.externalDueAt ?? Infinity);
    for (const d of downstream.get(id)!) {
      const dependent = byId.get(d)!;
      const dependentLatest = latest.get(d);
      if (dependent.finished || dependentLatest === null || dependentLatest === undefined) continue;
      // Its remaining work, as the forward pass adds it: work it has done already need not fit after this one.
      bound = Math.min(bound, dependent.calendar.subtractBusinessSeconds(dependentLatest, Math.ceil(remaining.get(d)!)));
    }
    latest.set(id, bound);
  }

  const plans = new Map<string, NodePlan>();
  for (const id of order) {
    const projectedFinishAt = projected.get(id)!;
    const latestFinishAt = latest.get(id) ?? null;
    const ownSlackSeconds = latestFinishAt === null ? null : Math.floor((latestFinishAt - projectedFinishAt) / 1000);
    plans.set(id, { projectedFinishAt, latestFinishAt, ownSlackSeconds, slackSeconds: ownSlackSeconds, atRisk: false, bottleneckRequestId: null, crossesZeroAt: null });
  }
  for (const id of [...order].reverse()) {
    const plan = plans.get(id)!;
    if (byId.get(id)!.finished) continue;
    for (const d of downstream.get(id)!) {
      const downstreamSlack = plans.get(d)!.slackSeconds;
      if (byId.get(d)!.finished || downstreamSlack === null) continue;
      plan.slackSeconds = plan.slackSeconds === null ? downstreamSlack : Math.min(plan.slackSeconds, downstreamSlack);
    }
    plan.atRisk = plan.slackSeconds !== null && plan.slackSeconds < 0;
  }
  for (const id of order) {
    const node = byId.get(id)!;
    const plan = plans.get(id)!;
    if (node.finished) continue;
    plan.bottleneckRequestId = bottleneckOf(id, upstream, byId, plans);
    plan.crossesZeroAt = crossingTime(node, plan, upstream.get(id)!.some((u) => !byId.get(u)!.finished), remaining.get(id)!, now);
  }
  return plans;
}

const isLate = (plan: NodePlan) => plan.ownSlackSeconds !== null && plan.ownSlackSeconds < 0;

/**
 * What holds a request up: from it, walk upstream along the late dependency with the least own
 * slack while there is one; the last request reached. Null when neither it nor anything
 * upstream of it is late by itself.
 */
function bottleneckOf(id: string, upstream: Map<string, string[]>, byId: Map<string, ChainNode>, plans: Map<string, NodePlan>): string | null {
  let current = id;
  let found: string | null = isLate(plans.get(id)!) ? id : null;
  for (;;) {
    const late = upstream.get(current)!.filter((u) => !byId.get(u)!.finished && isLate(plans.get(u)!));
    if (late.length === 0) return found;
    late.sort((a, b) => plans.get(a)!.ownSlackSeconds! - plans.get(b)!.ownSlackSeconds! || a.localeCompare(b));
    current = late[0];
    found = current;
  }
}

/**
 * The projected finish never moves earlier as time passes. A node that is not advancing
 * (paused, or waiting on dependencies) slips from the moment it could no longer start its
 * remaining work in time; a node being worked keeps its projection until its lead time is used
 * up, and slips only past its latest finish. The earliest crossing over a chain is its timer.
 */
function crossingTime(node: ChainNode, plan: NodePlan, waiting: boolean, left: number, now: number): number | null {
  if (plan.latestFinishAt === null || plan.ownSlackSeconds === null || plan.ownSlackSeconds < 0) return null;
  const advancing = !node.paused && !waiting;
  const at = advancing ? plan.latestFinishAt : node.calendar.subtractBusinessSeconds(plan.latestFinishAt, Math.ceil(left));
  return at > now ? at + 1000 : now + 1000;
}

function topologicalOrder(nodes: readonly ChainNode[], upstream: Map<string, string[]>, downstream: Map<string, string[]>): string[] {
  const indegree = new Map(nodes.map((n) => [n.id, upstream.get(n.id)!.length]));
  const ready = nodes.filter((n) => indegree.get(n.id) === 0).map((n) => n.id).sort();
  const order: string[] = [];
  while (ready.length) {
    const id = ready.shift()!;
    order.push(id);
    for (const d of downstream.get(id)!) {
      indegree.set(d, indegree.get(d)! - 1);
      if (indegree.get(d) === 0) ready.push(d);
    }
  }
  if (order.length !== nodes.length) throw new ChainCycleError('the dependency graph has a cycle');
  return order;
}

/** Every unfinished request upstream of `id`, and `id` itself: the path into one end of a chain. */
export function pathInto(id: string, links: readonly ChainLink[]): Set<string> {
  const seen = new Set([id]);
  const stack = [id];
  while (stack.length) {
    const current = stack.pop()!;
    for (const link of links) {
      if (link.requestId === current && !seen.has(link.dependsOnId)) {
        seen.add(link.dependsOnId);
        stack.push(link.dependsOnId);
      }
    }
  }
  return seen;
}
