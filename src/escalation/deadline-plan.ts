import type { NotifyTarget } from '../agreements/agreement-terms';
import { isOutOfReach, type BusinessCalendar } from '../business-time';
import { resolutionDeadline, type PauseSpan } from '../requests/request-clocks';

export type EscalationKind =
  | 'response_warning'
  | 'response_breach'
  | 'resolution_warning'
  | 'resolution_breach'
  | `level-${number}`
  | 'chain_at_risk';

export interface ClockFacts {
  createdAt: number;
  respondedAt: number | null;
  /** true once resolved, closed or cancelled: no clock runs. */
  finished: boolean;
  /** true while the resolution clock is paused (its deadlines are unknown until it resumes). */
  paused: boolean;
  pauses: readonly PauseSpan[];
  responseTargetSeconds: number;
  resolutionTargetSeconds: number;
  warnAtPercent: number;
  escalations: readonly { atPercent: number; notify: NotifyTarget }[];
  /** On the last request of a chain: when its slack would cross zero; re-checked then, not by a scan. */
  chainCheckAt: number | null;
}

export interface PlannedDeadline {
  kind: EscalationKind;
  dueAt: number;
  /** Who is told: warnings the assignee, breaches the provider's head, levels their own `notify`. */
  notify: NotifyTarget;
}

const share = (seconds: number, percent: number) => Math.max(1, Math.floor((seconds * percent) / 100));

const NEVER = Number.POSITIVE_INFINITY;

/**
 * A deadline the calendar puts out of reach (closed for ten years, or more than a century of
 * real time away: a level at 1000 % in a calendar opened one minute a week) is never planned.
 * A request's own deadlines are checked when it is opened and when its calendar is edited (422);
 * this keeps one request's far-off level from failing the sweep that fires its whole batch.
 */
function orNever(compute: () => number): number {
  try {
    return compute();
  } catch (error) {
    if (isOutOfReach(error)) return NEVER;
    throw error;
  }
}

/**
 * Every escalation deadline still ahead of a request, earliest first, leaving out the kinds
 * already fired. Response deadlines count on the response clock (it never pauses); warnings at
 * `warnAtPercent`, breaches at 100 %, and each level at its percent of the resolution target
 * count on the resolution clock, pauses left out.
 */
export function planDeadlines(calendar: BusinessCalendar, facts: ClockFacts, fired: ReadonlySet<string>): PlannedDeadline[] {
  if (facts.finished) return [];
  const planned: PlannedDeadline[] = [];
  const start = facts.createdAt;
  if (facts.respondedAt === null) {
    const onResponseClock = (seconds: number) => orNever(() => calendar.addBusinessSeconds(start, seconds));
    planned.push(
      { kind: 'response_warning', dueAt: onResponseClock(share(facts.responseTargetSeconds, facts.warnAtPercent)), notify: 'assignee' },
      { kind: 'response_breach', dueAt: onResponseClock(facts.responseTargetSeconds), notify: 'provider_head' },
    );
  }
  if (!facts.paused) {
    const onResolutionClock = (seconds: number) => orNever(() => resolutionDeadline(calendar, start, seconds, facts.pauses));
    planned.push(
      { kind: 'resolution_warning', dueAt: onResolutionClock(share(facts.resolutionTargetSeconds, facts.warnAtPercent)), notify: 'assignee' },
      { kind: 'resolution_breach', dueAt: onResolutionClock(facts.resolutionTargetSeconds), notify: 'provider_head' },
      ...facts.escalations.map((level, i) => ({
        kind: `level-${i + 1}` as EscalationKind,
        dueAt: onResolutionClock(share(facts.resolutionTargetSeconds, level.atPercent)),
        notify: level.notify,
      })),
    );
  }
  const due = planned.filter((d) => !fired.has(d.kind) && d.dueAt !== NEVER);
  // The chain check is not an escalation of its own: it may come again in every at-risk episode.
  if (facts.chainCheckAt !== null) due.push({ kind: CHAIN_CHECK, dueAt: facts.chainCheckAt, notify: 'provider_head' });
  return due.sort((a, b) => a.dueAt - b.dueAt || a.kind.localeCompare(b.kind));
}

export const CHAIN_CHECK: EscalationKind = 'chain_at_risk';

export const isBreach = (kind: EscalationKind) => kind === 'response_breach' || kind === 'resolution_breach';
