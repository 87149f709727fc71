import type { BusinessCalendar } from '../business-time';

/** Instants are epoch milliseconds floored to whole seconds, so every deadline is a whole second. */
export const toClockInstant = (at: Date | number) => Math.floor(new Date(at).getTime() / 1000) * 1000;

export interface PauseSpan {
  startedAt: number;
  endedAt: number | null;
}

/** Overlapping pauses (waiting on the customer while also blocked) count once. */
export function mergeFinishedPauses(pauses: readonly PauseSpan[]): { startedAt: number; endedAt: number }[] {
  const finished = pauses
    .filter((p): p is { startedAt: number; endedAt: number } => p.endedAt !== null && p.endedAt > p.startedAt)
    .map((p) => ({ startedAt: p.startedAt, endedAt: p.endedAt }))
    .sort((a, b) => a.startedAt - b.startedAt);
  const merged: { startedAt: number; endedAt: number }[] = [];
  for (const p of finished) {
    const last = merged[merged.length - 1];
    if (last && p.startedAt <= last.endedAt) last.endedAt = Math.max(last.endedAt, p.endedAt);
    else merged.push({ ...p });
  }
  return merged;
}

/**
 * The resolution deadline: the earliest instant by which `targetSeconds` of unpaused business
 * time have passed since `start`. A finished pause that began before that instant moves it out
 * by the business time it lasted; a pause that began after it changes nothing (a breach is not
 * forgiven by pausing later). A pause still running is not counted yet: its time is added when it ends.
 */
export function resolutionDeadline(
  calendar: BusinessCalendar,
  start: number,
  targetSeconds: number,
  pauses: readonly PauseSpan[],
): number {
  let cursor = start;
  let remaining = targetSeconds;
  for (const pause of mergeFinishedPauses(pauses)) {
    if (pause.endedAt <= cursor) continue;
    if (pause.startedAt > cursor) {
      const available = calendar.businessSecondsBetween(cursor, pause.startedAt);
      if (available >= remaining) return calendar.addBusinessSeconds(cursor, remaining);
      remaining -= available;
    }
    cursor = Math.max(cursor, pause.endedAt);
  }
  return calendar.addBusinessSeconds(cursor, remaining);
}

/** Business seconds of all pauses, a running one counted up to `now`. */
export function pausedBusinessSeconds(calendar: BusinessCalendar, pauses: readonly PauseSpan[], now: number): number {
  const closed = pauses.map((p) => ({ startedAt: p.startedAt, endedAt: p.endedAt ?? Math.max(now, p.startedAt) }));
  return mergeFinishedPauses(closed).reduce(
    (sum, p) => sum + calendar.businessSecondsBetween(p.startedAt, p.endedAt),
    0,
  );
}

/** Business seconds the clock ran between start and end, pauses left out. */
export function businessSecondsWorked(
  calendar: BusinessCalendar,
  start: number,
  end: number,
  pauses: readonly PauseSpan[],
): number {
  const clipped = pauses
    .map((p) => ({ startedAt: Math.max(p.startedAt, start), endedAt: Math.min(p.endedAt ?? end, end) }))
    .filter((p) => p.endedAt > p.startedAt);
  return Math.max(0, calendar.businessSecondsBetween(start, end) - pausedBusinessSeconds(calendar, clipped, end));
}
