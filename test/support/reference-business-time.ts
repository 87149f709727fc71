// A deliberately simple business-time reference for tests and the benchmark: it walks real time
// one minute at a time and asks Luxon for each minute's local wall-clock time. Valid for
// minute-aligned instants and zones whose offsets and transitions fall on whole minutes, where
// openness is constant over each real minute. Slow on purpose; correctness should be evident.
import { IANAZone } from 'luxon';
import type { CalendarDefinition } from '../../src/business-time';

const MINUTE_MS = 60_000;
/** Stop after scanning this many minutes (about a year) instead of looping forever. */
const MAX_SCAN_MINUTES = 366 * 24 * 60;

function minutesOf(hhmm: string): number {
  const [hours, minutes] = hhmm.split(':').map(Number);
  return hours * 60 + minutes;
}

// Memoising the zone offset per minute keeps repeated scans affordable; it caches a pure function.
const offsetMemo = new Map<string, number>();

function offsetMinutesAt(timezone: string, minuteStart: number): number {
  const key = `${timezone}@${minuteStart}`;
  let offset = offsetMemo.get(key);
  if (offset === undefined) {
    offset = IANAZone.create(timezone).offset(minuteStart);
    if (offsetMemo.size > 2_000_000) offsetMemo.clear();
    offsetMemo.set(key, offset);
  }
  return offset;
}

/** Whether the real minute starting at minuteStart is open, decided from its local wall-clock time. */
export function refIsOpenMinute(def: CalendarDefinition, minuteStart: number): boolean {
  if (def.alwaysOpen) return true;
  const wall = new Date(minuteStart + offsetMinutesAt(def.timezone, minuteStart) * MINUTE_MS);
  const localDate = wall.toISOString().slice(0, 10);
  const isoWeekday = wall.getUTCDay() === 0 ? 7 : wall.getUTCDay();
  const wallMinute = wall.getUTCHours() * 60 + wall.getUTCMinutes();

  const inWeeklyHours = (def.weeklyHours ?? []).some(
    (interval) =>
      interval.weekday === isoWeekday &&
      minutesOf(interval.start) <= wallMinute &&
      wallMinute < minutesOf(interval.end),
  );
  if (!inWeeklyHours) return false;

  const inHoliday = (def.holidays ?? []).some((holiday) => {
    if (holiday.date !== localDate) return false;
    if (holiday.start === undefined || holiday.end === undefined) return true;
    return minutesOf(holiday.start) <= wallMinute && wallMinute < minutesOf(holiday.end);
  });
  return !inHoliday;
}

function requireMinuteAligned(...values: number[]): void {
  for (const value of values) {
    if (value % MINUTE_MS !== 0) throw new Error(`reference needs minute-aligned values, got ${value}`);
  }
}

/** Earliest t >= start with refBusinessSecondsBetween(start, t) >= seconds, for whole minutes. */
export function refAddBusinessSeconds(def: CalendarDefinition, start: number, seconds: number): number {
  requireMinuteAligned(start, seconds * 1000);
  let minutesLeft = seconds / 60;
  if (minutesLeft === 0) return start;
  for (let minute = start, scanned = 0; scanned < MAX_SCAN_MINUTES; minute += MINUTE_MS, scanned++) {
    if (refIsOpenMinute(def, minute)) minutesLeft--;
    if (minutesLeft === 0) return minute + MINUTE_MS;
  }
  throw new Error('reference scanned a year without reaching the target');
}

/** Latest t <= end with refBusinessSecondsBetween(t, end) >= seconds, for whole minutes. */
export function refSubtractBusinessSeconds(def: CalendarDefinition, end: number, seconds: number): number {
  requireMinuteAligned(end, seconds * 1000);
  let minutesLeft = seconds / 60;
  if (minutesLeft === 0) return end;
  for (let minute = end - MINUTE_MS, scanned = 0; scanned < MAX_SCAN_MINUTES; minute -= MINUTE_MS, scanned++) {
    if (refIsOpenMinute(def, minute)) minutesLeft--;
    if (minutesLeft === 0) return minute;
  }
  throw new Error('reference scanned a year without reaching the target');
}

/** Open seconds in [from, to). */
export function refBusinessSecondsBetween(def: CalendarDefinition, from: number, to: number): number {
  requireMinuteAligned(from, to);
  let openMinutes = 0;
  for (let minute = from; minute < to; minute += MINUTE_MS) {
    if (refIsOpenMinute(def, minute)) openMinutes++;
  }
  return openMinutes * 60;
}

/** Smallest open minute start >= at. */
export function refNextOpenInstant(def: CalendarDefinition, at: number): number {
  requireMinuteAligned(at);
  for (let minute = at, scanned = 0; scanned < MAX_SCAN_MINUTES; minute += MINUTE_MS, scanned++) {
    if (refIsOpenMinute(def, minute)) return minute;
  }
  throw new Error('reference scanned a year without finding an open minute');
}
