import { IANAZone } from 'luxon';
import {
  CalendarDefinition,
  CalendarProblem,
  MINUTES_PER_DAY,
  parseEndTime,
  parseLocalDate,
  parseStartTime,
  validateCalendarDefinition,
} from './calendar-definition';

const MS_PER_MINUTE = 60_000;
const MS_PER_DAY = 86_400_000;
const DAYS_PER_WEEK = 7;
/** A calendar closed for this long (about ten years) is treated as never opening again. */
export const MAX_CLOSED_SCAN_DAYS = 3653;
/** No single computation looks further than about a century from its starting point. */
export const MAX_SCAN_DAYS = 100 * 366;
/** Instants beyond this are outside what Date and Intl can convert, with room for the scan horizon. */
const MAX_INSTANT_MS = 8e15;
const CACHE_LIMIT = 50_000;
// Zone offsets are sampled this often before a binary search pins each change down; no zone
// changes its offset twice within three hours, so no pair of changes can hide between samples.
const OFFSET_SAMPLE_STEP_MS = 3 * 60 * MS_PER_MINUTE;

export class InvalidCalendarError extends Error {
  constructor(readonly problems: CalendarProblem[]) {
    super(`invalid calendar definition: ${problems.map((p) => `${p.field}: ${p.message}`).join('; ')}`);
    this.name = 'InvalidCalendarError';
  }
}

/** Thrown when a computation finds no open time for about ten years (e.g. a calendar closed by holidays). */
export class NoOpenTimeError extends Error {
  constructor(timezone: string, from: number) {
    super(
      `calendar (${timezone}) has no open time for ${MAX_CLOSED_SCAN_DAYS} days around ${new Date(from).toISOString()}`,
    );
    this.name = 'NoOpenTimeError';
  }
}

/** Thrown when a computation would look more than a century away (a calendar that opens too rarely for the target). */
export class BeyondHorizonError extends RangeError {
  constructor(what: string) {
    super(`${what} would scan more than ${MAX_SCAN_DAYS} days`);
    this.name = 'BeyondHorizonError';
  }
}

/** Whether a computation gave up because the calendar puts the answer out of reach (either error above). */
export const isOutOfReach = (error: unknown): error is NoOpenTimeError | BeyondHorizonError =>
  error instanceof NoOpenTimeError || error instanceof BeyondHorizonError;

/** A stretch of real time [from, to) during which the zone's UTC offset is offsetMs. */
interface OffsetPiece {
  from: number;
  to: number;
  offsetMs: number;
}

/** Open real time within one UTC day: sorted, disjoint [start, end) pairs laid out flat, and their total. */
interface DayOpenTime {
  ranges: number[];
  openMs: number;
}

// Offsets depend only on the zone, so calendars in the same zone share them.
const offsetPiecesByZone = new Map<string, Map<number, OffsetPiece[]>>();

function offsetPiecesOfUtcDay(zone: IANAZone, utcDay: number): OffsetPiece[] {
  let byDay = offsetPiecesByZone.get(zone.name);
  if (!byDay) {
    byDay = new Map();
    offsetPiecesByZone.set(zone.name, byDay);
  }
  let pieces = byDay.get(utcDay);
  if (!pieces) {
    if (byDay.size >= CACHE_LIMIT) byDay.clear();
    pieces = findOffsetPieces(zone, utcDay * MS_PER_DAY, (utcDay + 1) * MS_PER_DAY);
    byDay.set(utcDay, pieces);
  }
  return pieces;
}

/** Splits [from, to) at every change of the zone's offset, to the millisecond. */
function findOffsetPieces(zone: IANAZone, from: number, to: number): OffsetPiece[] {
  const offsetAt = (instant: number): number => Math.round(zone.offset(instant) * MS_PER_MINUTE);
  const pieces: OffsetPiece[] = [];
  let pieceFrom = from;
  let pieceOffset = offsetAt(from);
  let lastSameOffset = from;
  for (let sample = from + OFFSET_SAMPLE_STEP_MS; ; sample += OFFSET_SAMPLE_STEP_MS) {
    const probe = Math.min(sample, to - 1);
    while (offsetAt(probe) !== pieceOffset) {
      let same = Math.max(pieceFrom, lastSameOffset);
      let changed = probe;
      while (changed - same > 1) {
        const middle = Math.floor((same + changed) / 2);
        if (offsetAt(middle) === pieceOffset) same = middle;
        else changed = middle;
      }
      pieces.push({ from: pieceFrom, to: changed, offsetMs: pieceOffset });
      pieceFrom = changed;
      pieceOffset = offsetAt(changed);
    }
    lastSameOffset = probe;
    if (probe === to - 1) break;
  }
  pieces.push({ from: pieceFrom, to, offsetMs: pieceOffset });
  return pieces;
}

/** Sorts and unions [start, end) pairs; touching pairs merge. */
function mergeRanges(pairs: Array<[number, number]>): number[] {
  const sorted = pairs.filter(([start, end]) => start < end).sort((a, b) => a[0] - b[0]);
  const merged: number[] = [];
  for (const [start, end] of sorted) {
    const last = merged.length - 1;
    if (last > 0 && start <= merged[last]) merged[last] = Math.max(merged[last], end);
    else merged.push(start, end);
  }
  return merged;
}

/** The flat ranges of `open` minus those of `closed`. */
function subtractRanges(open: number[], closed: number[]): number[] {
  const result: number[] = [];
  for (let i = 0; i < open.length; i += 2) {
    let start = open[i];
    const end = open[i + 1];
    for (let j = 0; j < closed.length && start < end; j += 2) {
      const closedStart = closed[j];
      const closedEnd = closed[j + 1];
      if (closedEnd <= start || closedStart >= end) continue;
      if (closedStart > start) result.push(start, closedStart);
      start = Math.max(start, closedEnd);
    }
    if (start < end) result.push(start, end);
  }
  return result;
}

/** ISO weekday (Monday = 1) of a day number counted from 1970-01-01, which was a Thursday. */
function isoWeekdayOfDay(day: number): number {
  return ((((day + 3) % DAYS_PER_WEEK) + DAYS_PER_WEEK) % DAYS_PER_WEEK) + 1;
}

/** Weeks of UTC days, Monday-aligned like ISO weeks, so totals can be skipped seven days at a time. */
function weekOfDay(day: number): number {
  return Math.floor((day + 3) / DAYS_PER_WEEK);
}

function firstDayOfWeek(week: number): number {
  return week * DAYS_PER_WEEK - 3;
}

function requireInstant(name: string, value: number): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || Math.abs(value) > MAX_INSTANT_MS) {
    throw new RangeError(`${name} must be an instant in epoch milliseconds, got ${String(value)}`);
  }
}

function requireSeconds(value: number): void {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`seconds must be a whole number >= 0, got ${String(value)}`);
  }
}

/**
 * Business-time arithmetic for one calendar. Open hours are local wall-clock intervals, so days with
 * a DST change are shorter or longer. Real time is cut into UTC days whose open ranges (and weekly
 * totals) are computed once and cached, which lets the arithmetic jump over whole days and weeks.
 */
export class BusinessCalendar {
  readonly timezone: string;
  private readonly alwaysOpen: boolean;
  private readonly zone: IANAZone;
  /** Open wall-clock ranges in ms after local midnight, per ISO weekday (index 1..7). */
  private readonly weekdayWallRanges: number[][];
  /** Open wall-clock ranges of the local dates touched by a holiday, keyed by local day number. */
  private readonly holidayWallRanges: Map<number, number[]>;
  private readonly openTimeByUtcDay = new Map<number, DayOpenTime>();
  private readonly openMsByWeek = new Map<number, number>();

  private constructor(def: CalendarDefinition) {
    this.timezone = def.timezone;
    this.alwaysOpen = def.alwaysOpen === true;
    this.zone = IANAZone.create(def.timezone);

    const pairsByWeekday: Array<Array<[number, number]>> = Array.from({ length: 8 }, () => []);
    for (const interval of def.weeklyHours ?? []) {
      pairsByWeekday[interval.weekday].push(BusinessCalendar.wallPair(interval.start, interval.end));
    }
    this.weekdayWallRanges = pairsByWeekday.map((pairs) => mergeRanges(pairs));

    const closedPairsByDay = new Map<number, Array<[number, number]>>();
    for (const holiday of def.holidays ?? []) {
      const day = parseLocalDate(holiday.date) as number;
      const closed: [number, number] =
        holiday.start !== undefined && holiday.end !== undefined
          ? BusinessCalendar.wallPair(holiday.start, holiday.end)
          : [0, MS_PER_DAY];
      closedPairsByDay.set(day, [...(closedPairsByDay.get(day) ?? []), closed]);
    }
    this.holidayWallRanges = new Map();
    for (const [day, closedPairs] of closedPairsByDay) {
      const weekdayRanges = this.weekdayWallRanges[isoWeekdayOfDay(day)];
      this.holidayWallRanges.set(day, subtractRanges(weekdayRanges, mergeRanges(closedPairs)));
    }
  }

  /** Validates and compiles a definition; throws InvalidCalendarError listing every problem. */
  static compile(def: CalendarDefinition): BusinessCalendar {
    const problems = validateCalendarDefinition(def);
    if (problems.length > 0) throw new InvalidCalendarError(problems);
    return new BusinessCalendar(def);
  }

  private static wallPair(start: string, end: string): [number, number] {
    return [
      (parseStartTime(start) as number) * MS_PER_MINUTE,
      (parseEndTime(end) ?? MINUTES_PER_DAY) * MS_PER_MINUTE,
    ];
  }

  isOpen(at: number): boolean {
    requireInstant('at', at);
    if (this.alwaysOpen) return true;
    const { ranges } = this.openTimeOfUtcDay(Math.floor(at / MS_PER_DAY));
    for (let i = 0; i < ranges.length; i += 2) {
      if (at < ranges[i]) return false;
      if (at < ranges[i + 1]) return true;
    }
    return false;
  }

  /** The smallest open instant >= at (at itself when open). */
  nextOpenInstant(at: number): number {
    requireInstant('at', at);
    if (this.alwaysOpen) return at;
    let day = Math.floor(at / MS_PER_DAY);
    const { ranges } = this.openTimeOfUtcDay(day);
    for (let i = 0; i < ranges.length; i += 2) {
      if (ranges[i + 1] > at) return Math.max(ranges[i], at);
    }
    const firstScannedDay = ++day;
    for (;;) {
      if (day - firstScannedDay > MAX_CLOSED_SCAN_DAYS) throw new NoOpenTimeError(this.timezone, at);
      const week = weekOfDay(day);
      if (firstDayOfWeek(week) === day && this.openMsOfWeek(week) === 0) {
        day += DAYS_PER_WEEK;
        continue;
      }
      const next = this.openTimeOfUtcDay(day);
      if (next.ranges.length > 0) return next.ranges[0];
      day++;
    }
  }

  /**
   * The earliest instant t >= start with businessSecondsBetween(start, t) >= seconds. A deadline that
   * lands on the close of an interval is that closing instant, not the next opening.
   */
  addBusinessSeconds(start: number, seconds: number): number {
    requireInstant('start', start);
    requireSeconds(seconds);
    if (seconds === 0) return start;
    let remaining = seconds * 1000;
    if (this.alwaysOpen) return start + remaining;

    let day = Math.floor(start / MS_PER_DAY);
    const { ranges } = this.openTimeOfUtcDay(day);
    for (let i = 0; i < ranges.length; i += 2) {
      const end = ranges[i + 1];
      if (end <= start) continue;
      const from = Math.max(ranges[i], start);
      if (end - from >= remaining) return from + remaining;
      remaining -= end - from;
    }

    const firstDay = day;
    let lastOpenDay = day;
    for (day++; ; ) {
      this.checkScan(firstDay, day, lastOpenDay, start);
      const week = weekOfDay(day);
      if (firstDayOfWeek(week) === day) {
        const weekOpenMs = this.openMsOfWeek(week);
        // Strictly less: a week holding exactly the remainder ends the deadline at its last close.
        if (weekOpenMs < remaining) {
          if (weekOpenMs > 0) lastOpenDay = day;
          remaining -= weekOpenMs;
          day += DAYS_PER_WEEK;
          continue;
        }
      }
      const openTime = this.openTimeOfUtcDay(day);
      if (openTime.openMs >= remaining) return BusinessCalendar.instantAfterOpenMs(openTime.ranges, remaining);
      if (openTime.openMs > 0) lastOpenDay = day;
      remaining -= openTime.openMs;
      day++;
    }
  }

  /** The latest instant t <= end with businessSecondsBetween(t, end) >= seconds; the mirror of addBusinessSeconds. */
  subtractBusinessSeconds(end: number, seconds: number): number {
    requireInstant('end', end);
    requireSeconds(seconds);
    if (seconds === 0) return end;
    let remaining = seconds * 1000;
    if (this.alwaysOpen) return end - remaining;

    // The day holding the instants just before end.
    let day = Math.ceil(end / MS_PER_DAY) - 1;
    const { ranges } = this.openTimeOfUtcDay(day);
    for (let i = ranges.length - 2; i >= 0; i -= 2) {
      const start = ranges[i];
      if (start >= end) continue;
      const to = Math.min(ranges[i + 1], end);
      if (to - start >= remaining) return to - remaining;
      remaining -= to - start;
    }

    const firstDay = day;
    let lastOpenDay = day;
    for (day--; ; ) {
      this.checkScan(firstDay, day, lastOpenDay, end);
      const week = weekOfDay(day);
      if (firstDayOfWeek(week) + DAYS_PER_WEEK - 1 === day) {
        const weekOpenMs = this.openMsOfWeek(week);
        if (weekOpenMs < remaining) {
          if (weekOpenMs > 0) lastOpenDay = day;
          remaining -= weekOpenMs;
          day -= DAYS_PER_WEEK;
          continue;
        }
      }
      const openTime = this.openTimeOfUtcDay(day);
      if (openTime.openMs >= remaining) return BusinessCalendar.instantBeforeOpenMs(openTime.ranges, remaining);
      if (openTime.openMs > 0) lastOpenDay = day;
      remaining -= openTime.openMs;
      day--;
    }
  }

  /** Open time in [from, to) in seconds (fractional when the instants carry milliseconds); 0 when to <= from. */
  businessSecondsBetween(from: number, to: number): number {
    requireInstant('from', from);
    requireInstant('to', to);
    if (!(to > from)) return 0;
    if (this.alwaysOpen) return (to - from) / 1000;

    const firstDay = Math.floor(from / MS_PER_DAY);
    const lastDay = Math.ceil(to / MS_PER_DAY) - 1;
    if (lastDay - firstDay > MAX_SCAN_DAYS) {
      throw new BeyondHorizonError('businessSecondsBetween');
    }
    if (firstDay === lastDay) return BusinessCalendar.openMsWithin(this.openTimeOfUtcDay(firstDay).ranges, from, to) / 1000;

    let openMs = BusinessCalendar.openMsWithin(this.openTimeOfUtcDay(firstDay).ranges, from, Infinity);
    let day = firstDay + 1;
    while (day < lastDay) {
      const week = weekOfDay(day);
      if (firstDayOfWeek(week) === day && day + DAYS_PER_WEEK <= lastDay) {
        openMs += this.openMsOfWeek(week);
        day += DAYS_PER_WEEK;
      } else {
        openMs += this.openTimeOfUtcDay(day).openMs;
        day++;
      }
    }
    openMs += BusinessCalendar.openMsWithin(this.openTimeOfUtcDay(lastDay).ranges, -Infinity, to);
    return openMs / 1000;
  }

  private checkScan(firstDay: number, day: number, lastOpenDay: number, origin: number): void {
    if (Math.abs(day - lastOpenDay) > MAX_CLOSED_SCAN_DAYS) throw new NoOpenTimeError(this.timezone, origin);
    if (Math.abs(day - firstDay) > MAX_SCAN_DAYS) {
      throw new BeyondHorizonError('business-time computation');
    }
  }

  private static instantAfterOpenMs(ranges: number[], openMs: number): number {
    let remaining = openMs;
    for (let i = 0; i < ranges.length; i += 2) {
      const length = ranges[i + 1] - ranges[i];
      if (length >= remaining) return ranges[i] + remaining;
      remaining -= length;
    }
    throw new Error('open time of the day is shorter than its recorded total');
  }

  private static instantBeforeOpenMs(ranges: number[], openMs: number): number {
    let remaining = openMs;
    for (let i = ranges.length - 2; i >= 0; i -= 2) {
      const length = ranges[i + 1] - ranges[i];
      if (length >= remaining) return ranges[i + 1] - remaining;
      remaining -= length;
    }
    throw new Error('open time of the day is shorter than its recorded total');
  }

  private static openMsWithin(ranges: number[], from: number, to: number): number {
    let openMs = 0;
    for (let i = 0; i < ranges.length; i += 2) {
      const start = Math.max(ranges[i], from);
      const end = Math.min(ranges[i + 1], to);
      if (end > start) openMs += end - start;
    }
    return openMs;
  }

  private openMsOfWeek(week: number): number {
    let openMs = this.openMsByWeek.get(week);
    if (openMs === undefined) {
      openMs = 0;
      const firstDay = firstDayOfWeek(week);
      for (let day = firstDay; day < firstDay + DAYS_PER_WEEK; day++) openMs += this.openTimeOfUtcDay(day).openMs;
      if (this.openMsByWeek.size >= CACHE_LIMIT) this.openMsByWeek.clear();
      this.openMsByWeek.set(week, openMs);
    }
    return openMs;
  }

  private openTimeOfUtcDay(utcDay: number): DayOpenTime {
    let openTime = this.openTimeByUtcDay.get(utcDay);
    if (openTime === undefined) {
      openTime = this.computeOpenTimeOfUtcDay(utcDay);
      if (this.openTimeByUtcDay.size >= CACHE_LIMIT) this.openTimeByUtcDay.clear();
      this.openTimeByUtcDay.set(utcDay, openTime);
    }
    return openTime;
  }

  /**
   * Within a stretch of constant offset o, wall time is real time + o, so the wall range [s, e) of
   * local date D is the real range [D·day + s − o, D·day + e − o) clipped to the stretch. Repeated
   * wall hours fall into two stretches and count twice; skipped ones fall into none.
   */
  private computeOpenTimeOfUtcDay(utcDay: number): DayOpenTime {
    const ranges: number[] = [];
    let openMs = 0;
    for (const piece of offsetPiecesOfUtcDay(this.zone, utcDay)) {
      const firstLocalDay = Math.floor((piece.from + piece.offsetMs) / MS_PER_DAY);
      const lastLocalDay = Math.floor((piece.to - 1 + piece.offsetMs) / MS_PER_DAY);
      for (let localDay = firstLocalDay; localDay <= lastLocalDay; localDay++) {
        const wallRanges = this.openWallRangesOfLocalDay(localDay);
        const shift = localDay * MS_PER_DAY - piece.offsetMs;
        for (let i = 0; i < wallRanges.length; i += 2) {
          const start = Math.max(wallRanges[i] + shift, piece.from);
          const end = Math.min(wallRanges[i + 1] + shift, piece.to);
          if (start >= end) continue;
          openMs += end - start;
          // Pieces and local days come in real-time order, so only the last range can touch this one.
          if (ranges.length > 0 && ranges[ranges.length - 1] === start) ranges[ranges.length - 1] = end;
          else ranges.push(start, end);
        }
      }
    }
    return { ranges, openMs };
  }

  private openWallRangesOfLocalDay(localDay: number): number[] {
    return this.holidayWallRanges.get(localDay) ?? this.weekdayWallRanges[isoWeekdayOfDay(localDay)];
  }
}
