import { IANAZone } from 'luxon';

/** Opening hours on one ISO weekday (1 = Monday … 7 = Sunday), as local wall-clock "HH:MM" times, end exclusive. */
export interface WeeklyInterval {
  weekday: number;
  start: string;
  end: string;
}

/** A closed local date; with start and end only that wall-clock part of the date is closed. */
export interface Holiday {
  date: string;
  start?: string;
  end?: string;
}

export interface CalendarDefinition {
  timezone: string;
  alwaysOpen?: boolean;
  weeklyHours?: WeeklyInterval[];
  holidays?: Holiday[];
}

export interface CalendarProblem {
  field: string;
  message: string;
}

const START_TIME = /^([01]\d|2[0-3]):([0-5]\d)$/;
const END_TIME = /^(?:([01]\d|2[0-3]):([0-5]\d)|(24):(00))$/;
const LOCAL_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
// Offset spellings that some runtimes' Intl accepts but that carry no DST rules.
const FIXED_OFFSET_SPELLING = /^(?:[+-]|(?:UTC|GMT|UT)[+-])/i;

export const MINUTES_PER_DAY = 24 * 60;

/** True for IANA zone names ("Europe/Amsterdam", "UTC", "Etc/UTC"); false for offsets like "+02:00" or "UTC+1". */
export function isValidTimeZone(zone: string): boolean {
  if (typeof zone !== 'string' || zone.trim() !== zone || zone === '') return false;
  if (FIXED_OFFSET_SPELLING.test(zone)) return false;
  return IANAZone.isValidZone(zone);
}

/** Minutes after local midnight for a valid start time "00:00".."23:59", else null. */
export function parseStartTime(text: unknown): number | null {
  if (typeof text !== 'string') return null;
  const match = START_TIME.exec(text);
  return match ? Number(match[1]) * 60 + Number(match[2]) : null;
}

/** Minutes after local midnight for a valid end time "00:01".."24:00", else null. */
export function parseEndTime(text: unknown): number | null {
  if (typeof text !== 'string') return null;
  const match = END_TIME.exec(text);
  if (!match) return null;
  const minutes = match[3] !== undefined ? MINUTES_PER_DAY : Number(match[1]) * 60 + Number(match[2]);
  return minutes === 0 ? null : minutes;
}

/** Days since 1970-01-01 for a real calendar date "YYYY-MM-DD", else null. */
export function parseLocalDate(text: unknown): number | null {
  if (typeof text !== 'string') return null;
  const match = LOCAL_DATE.exec(text);
  if (!match) return null;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  if (month < 1 || month > 12 || day < 1) return null;
  const epochMs = Date.UTC(year, month - 1, day);
  // Date.UTC rolls 2025-02-30 over into March; a real date survives the round trip.
  const check = new Date(epochMs);
  if (check.getUTCFullYear() !== year || check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day) {
    return null;
  }
  return epochMs / 86_400_000;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Every problem in a calendar definition, or [] when it is valid. Written defensively because
 * definitions arrive as JSON: wrong types are reported rather than thrown.
 */
export function validateCalendarDefinition(def: CalendarDefinition): CalendarProblem[] {
  const problems: CalendarProblem[] = [];
  if (!isRecord(def)) {
    return [{ field: '', message: 'calendar definition must be an object' }];
  }

  if (typeof def.timezone !== 'string' || !isValidTimeZone(def.timezone)) {
    problems.push({
      field: 'timezone',
      message: 'must be an IANA time zone name such as "Europe/Amsterdam" or "UTC"; fixed offsets like "+02:00" are not accepted',
    });
  }

  if (def.alwaysOpen !== undefined && typeof def.alwaysOpen !== 'boolean') {
    problems.push({ field: 'alwaysOpen', message: 'must be true or false' });
  }

  let openIntervalCount = 0;
  const problemsBeforeIntervals = problems.length;
  if (def.weeklyHours !== undefined && !Array.isArray(def.weeklyHours)) {
    problems.push({ field: 'weeklyHours', message: 'must be a list of weekly intervals' });
  } else {
    (def.weeklyHours ?? []).forEach((interval: unknown, index) => {
      const field = `weeklyHours[${index}]`;
      if (!isRecord(interval)) {
        problems.push({ field, message: 'must be an object with weekday, start and end' });
        return;
      }
      const weekday = interval.weekday;
      if (typeof weekday !== 'number' || !Number.isInteger(weekday) || weekday < 1 || weekday > 7) {
        problems.push({ field: `${field}.weekday`, message: 'must be an integer from 1 (Monday) to 7 (Sunday)' });
      }
      const start = parseStartTime(interval.start);
      const end = parseEndTime(interval.end);
      if (start === null) {
        problems.push({ field: `${field}.start`, message: 'must be a time "HH:MM" from 00:00 to 23:59' });
      }
      if (end === null) {
        problems.push({ field: `${field}.end`, message: 'must be a time "HH:MM" from 00:01 to 24:00' });
      }
      if (start !== null && end !== null) {
        if (start >= end) {
          problems.push({ field: `${field}.end`, message: `must be later than start (${String(interval.start)})` });
        } else {
          openIntervalCount++;
        }
      }
    });
  }

  // Only complain about the missing open interval when the intervals themselves were fine.
  const intervalsAreWellFormed = problems.length === problemsBeforeIntervals;

  if (def.holidays !== undefined && !Array.isArray(def.holidays)) {
    problems.push({ field: 'holidays', message: 'must be a list of holidays' });
  } else {
    (def.holidays ?? []).forEach((holiday: unknown, index) => {
      const field = `holidays[${index}]`;
      if (!isRecord(holiday)) {
        problems.push({ field, message: 'must be an object with a date' });
        return;
      }
      if (parseLocalDate(holiday.date) === null) {
        problems.push({ field: `${field}.date`, message: 'must be a real calendar date "YYYY-MM-DD"' });
      }
      const hasStart = holiday.start !== undefined;
      const hasEnd = holiday.end !== undefined;
      if (hasStart !== hasEnd) {
        problems.push({
          field: `${field}.${hasStart ? 'end' : 'start'}`,
          message: 'start and end must be given together (or both left out to close the whole day)',
        });
        return;
      }
      if (!hasStart) return;
      const start = parseStartTime(holiday.start);
      const end = parseEndTime(holiday.end);
      if (start === null) {
        problems.push({ field: `${field}.start`, message: 'must be a time "HH:MM" from 00:00 to 23:59' });
      }
      if (end === null) {
        problems.push({ field: `${field}.end`, message: 'must be a time "HH:MM" from 00:01 to 24:00' });
      }
      if (start !== null && end !== null && start >= end) {
        problems.push({ field: `${field}.end`, message: `must be later than start (${String(holiday.start)})` });
      }
    });
  }

  if (def.alwaysOpen !== true && openIntervalCount === 0 && intervalsAreWellFormed) {
    problems.push({
      field: 'weeklyHours',
      message: 'a calendar that is not alwaysOpen needs at least one weekly interval with start before end',
    });
  }

  return problems;
}
