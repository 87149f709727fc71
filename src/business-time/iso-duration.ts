const SECONDS_PER_MINUTE = 60;
const SECONDS_PER_HOUR = 3600;
const SECONDS_PER_DAY = 86_400;
const SECONDS_PER_WEEK = 7 * SECONDS_PER_DAY;

/** Ten calendar years at their longest (three leap days); longer SLA targets are treated as typos. */
export const MAX_DURATION_SECONDS = 3653 * SECONDS_PER_DAY;

// Years and months have no fixed length, so only W, D, H, M and S are accepted.
const DURATION = /^P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/;

/**
 * Whole seconds of an ISO-8601 duration such as "P1DT2H30M5S", or null when the text is not
 * one we accept. D is exactly 24 hours and W exactly 7 D, so "two 8-hour business days" is PT16H.
 */
export function parseIsoDuration(text: string): number | null {
  if (typeof text !== 'string') return null;
  const match = DURATION.exec(text);
  if (!match) return null;
  const [, weeks, days, hours, minutes, seconds] = match;
  // "P" and "PT" match the pattern with no component at all.
  if ([weeks, days, hours, minutes, seconds].every((part) => part === undefined)) return null;
  if (text.includes('T') && [hours, minutes, seconds].every((part) => part === undefined)) return null;

  const total =
    Number(weeks ?? 0) * SECONDS_PER_WEEK +
    Number(days ?? 0) * SECONDS_PER_DAY +
    Number(hours ?? 0) * SECONDS_PER_HOUR +
    Number(minutes ?? 0) * SECONDS_PER_MINUTE +
    Number(seconds ?? 0);
  if (!Number.isSafeInteger(total) || total > MAX_DURATION_SECONDS) return null;
  return total;
}

/** Canonical form of a whole number of seconds: days, then hours, minutes and seconds; 0 is "PT0S". */
export function formatIsoDuration(seconds: number): string {
  if (!Number.isSafeInteger(seconds) || seconds < 0) {
    throw new RangeError(`duration must be a whole, non-negative number of seconds, got ${seconds}`);
  }
  if (seconds === 0) return 'PT0S';
  const days = Math.floor(seconds / SECONDS_PER_DAY);
  const hours = Math.floor((seconds % SECONDS_PER_DAY) / SECONDS_PER_HOUR);
  const minutes = Math.floor((seconds % SECONDS_PER_HOUR) / SECONDS_PER_MINUTE);
  const rest = seconds % SECONDS_PER_MINUTE;
  const datePart = days > 0 ? `${days}D` : '';
  const timePart = (hours > 0 ? `${hours}H` : '') + (minutes > 0 ? `${minutes}M` : '') + (rest > 0 ? `${rest}S` : '');
  return `P${datePart}${timePart ? `T${timePart}` : ''}`;
}
