import type { BusinessCalendar } from '../business-time';
import type { ChainLink } from './chain-plan';

export interface BudgetHop {
  id: string;
  leadSeconds: number;
  calendar: BusinessCalendar;
  createdAt: number;
}

export interface BudgetCheck {
  promiseRequestId: string;
  externalDueAt: string;
  /** The latest instant the first hop of the critical path could have started and still met the promise. */
  requiredStartAt: string;
  /** When the chain's first request was raised. */
  chainStartedAt: string;
  fits: boolean;
  marginSeconds: number;
  criticalPath: string[];
  totalLeadSeconds: number;
}

/**
 * The OLA budget: do the hops' lead times fit inside the external promise? Walks back from the
 * promise, subtracting each hop's lead time in its own provider's calendar, and compares the
 * latest start of the critical path with when the chain was started.
 */
export function checkBudget(promiseId: string, externalDueAt: number, hops: Map<string, BudgetHop>, links: readonly ChainLink[]): BudgetCheck {
  const latestStart = new Map<string, { at: number; next: string | null }>();
  const visit = (id: string, finishBy: number, next: string | null) => {
    const hop = hops.get(id)!;
    const start = hop.calendar.subtractBusinessSeconds(finishBy, Math.ceil(hop.leadSeconds));
    const known = latestStart.get(id);
    if (known && known.at <= start) return;
    latestStart.set(id, { at: start, next });
    for (const link of links) if (link.requestId === id && hops.has(link.dependsOnId)) visit(link.dependsOnId, start, id);
  };
  visit(promiseId, externalDueAt, null);
  const [firstId, first] = [...latestStart.entries()].sort((a, b) => a[1].at - b[1].at || a[0].localeCompare(b[0]))[0];
  const criticalPath: string[] = [];
  for (let id: string | null = firstId; id; id = latestStart.get(id)!.next) criticalPath.push(id);
  const chainStartedAt = Math.min(...[...latestStart.keys()].map((id) => hops.get(id)!.createdAt));
  return {
    promiseRequestId: promiseId,
    externalDueAt: new Date(externalDueAt).toISOString(),
    requiredStartAt: new Date(first.at).toISOString(),
    chainStartedAt: new Date(chainStartedAt).toISOString(),
    fits: first.at >= chainStartedAt,
    marginSeconds: Math.floor((first.at - chainStartedAt) / 1000),
    criticalPath,
    totalLeadSeconds: criticalPath.reduce((sum, id) => sum + hops.get(id)!.leadSeconds, 0),
  };
}
