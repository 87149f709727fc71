import { DateTime } from 'luxon';

export const TREND_INTERVALS = ['day', 'week'] as const;
export type TrendInterval = (typeof TREND_INTERVALS)[number];

export const MAX_WINDOW_DAYS = 1100;
export const MAX_BUCKETS = 400;
const DAY_MS = 86_400_000;

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;

/** An ISO-8601 instant with its zone, or a plain date that means its midnight in `zone`; null when neither. */
export function parseReportInstant(text: string, zone: string): number | null {
  const parsed = DATE_ONLY.test(text) ? DateTime.fromISO(text, { zone }) : DateTime.fromISO(text, { setZone: true });
  if (!parsed.isValid || parsed.year < 2000 || parsed.year > 2200) return null;
  return parsed.toMillis();
}

/** The SLA report's window when the caller leaves an end out: up to now, 30 days long. */
export function slaWindow(from: number | null, to: number | null, now: number): { from: number; to: number } {
  const end = to ?? (from !== null ? Math.max(now, from + DAY_MS) : now);
  return { from: from ?? end - 30 * DAY_MS, to: end };
}

/** The trend's window when the caller leaves an end out: the last 30 days or 12 weeks, whole buckets from the first. */
export function trendWindow(from: number | null, to: number | null, interval: TrendInterval, zone: string, now: number): { from: number; to: number } {
  const end = to ?? now;
  if (from !== null) return { from, to: end };
  const start = DateTime.fromMillis(end - 1, { zone })
    .startOf(interval)
    .minus(interval === 'day' ? { days: 29 } : { weeks: 11 });
  return { from: start.toMillis(), to: end };
}

/**
 * Bucket bounds: `from`, each start of a day or ISO week (Monday) in `zone` after it, and `to`.
 * Days follow the zone's wall clock, so a day with a daylight-saving change is 23 or 25 hours.
 */
export function bucketBounds(from: number, to: number, interval: TrendInterval, zone: string): number[] {
  const bounds = [from];
  let next = DateTime.fromMillis(from, { zone }).startOf(interval);
  for (;;) {
    next = next.plus(interval === 'day' ? { days: 1 } : { weeks: 1 });
    if (next.toMillis() >= to) break;
    bounds.push(next.toMillis());
    if (bounds.length > MAX_BUCKETS + 1) break;
  }
  bounds.push(to);
  return bounds;
}
