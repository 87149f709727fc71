import { DateTime } from 'luxon';
import {
  BusinessCalendar,
  CalendarDefinition,
  InvalidCalendarError,
  NoOpenTimeError,
  WeeklyInterval,
  isValidTimeZone,
  validateCalendarDefinition,
} from '../../src/business-time';

const HOUR = 3600;

/** Epoch ms of an unambiguous local wall-clock time, e.g. local('Europe/Amsterdam', '2025-03-03T09:00'). */
function local(timezone: string, wallTime: string): number {
  return DateTime.fromISO(wallTime, { zone: timezone }).toMillis();
}

function utc(iso: string): number {
  return Date.parse(iso);
}

function weekdays(days: number[], start: string, end: string): WeeklyInterval[] {
  return days.map((weekday) => ({ weekday, start, end }));
}

const MON_FRI = [1, 2, 3, 4, 5];
const EVERY_DAY = [1, 2, 3, 4, 5, 6, 7];

describe('office hours with a lunch break (Europe/Amsterdam, Mon–Fri 09:00–12:00 and 13:00–17:00)', () => {
  const zone = 'Europe/Amsterdam';
  const calendar = BusinessCalendar.compile({
    timezone: zone,
    weeklyHours: [...weekdays(MON_FRI, '09:00', '12:00'), ...weekdays(MON_FRI, '13:00', '17:00')],
  });
  // 2025-03-03 is a Monday.
  const at = (wallTime: string) => local(zone, wallTime);

  it('is open during the intervals and closed at lunch, at closing time and at the weekend', () => {
    expect(calendar.isOpen(at('2025-03-03T08:59'))).toBe(false);
    expect(calendar.isOpen(at('2025-03-03T09:00'))).toBe(true);
    expect(calendar.isOpen(at('2025-03-03T11:59:59'))).toBe(true);
    expect(calendar.isOpen(at('2025-03-03T12:00'))).toBe(false);
    expect(calendar.isOpen(at('2025-03-03T12:30'))).toBe(false);
    expect(calendar.isOpen(at('2025-03-03T17:00'))).toBe(false);
    expect(calendar.isOpen(at('2025-03-08T10:00'))).toBe(false);
  });

  it('counts a working day as 7 hours', () => {
    expect(calendar.businessSecondsBetween(at('2025-03-03T00:00'), at('2025-03-04T00:00'))).toBe(7 * HOUR);
    expect(calendar.businessSecondsBetween(at('2025-03-03T11:00'), at('2025-03-03T14:00'))).toBe(2 * HOUR);
  });

  it('skips the lunch break', () => {
    expect(calendar.addBusinessSeconds(at('2025-03-03T10:00'), 4 * HOUR)).toBe(at('2025-03-03T15:00'));
  });

  it('ends a deadline that lands on closing time at 17:00, not at the next opening', () => {
    expect(calendar.addBusinessSeconds(at('2025-03-03T16:00'), HOUR)).toBe(at('2025-03-03T17:00'));
    expect(calendar.addBusinessSeconds(at('2025-03-03T09:00'), 7 * HOUR)).toBe(at('2025-03-03T17:00'));
    expect(calendar.addBusinessSeconds(at('2025-03-03T11:00'), HOUR)).toBe(at('2025-03-03T12:00'));
  });

  it('starts a clock opened on Saturday at Monday 09:00', () => {
    expect(calendar.nextOpenInstant(at('2025-03-08T10:00'))).toBe(at('2025-03-10T09:00'));
    expect(calendar.addBusinessSeconds(at('2025-03-08T10:00'), HOUR)).toBe(at('2025-03-10T10:00'));
    expect(calendar.businessSecondsBetween(at('2025-03-08T10:00'), at('2025-03-10T10:00'))).toBe(HOUR);
  });

  it('returns the instant itself from nextOpenInstant when it is open', () => {
    expect(calendar.nextOpenInstant(at('2025-03-03T10:15'))).toBe(at('2025-03-03T10:15'));
    expect(calendar.nextOpenInstant(at('2025-03-03T12:00'))).toBe(at('2025-03-03T13:00'));
  });

  it('subtracts back over the weekend and stops at an opening rather than the previous close', () => {
    expect(calendar.subtractBusinessSeconds(at('2025-03-10T10:00'), 2 * HOUR)).toBe(at('2025-03-07T16:00'));
    expect(calendar.subtractBusinessSeconds(at('2025-03-10T10:00'), HOUR)).toBe(at('2025-03-10T09:00'));
    expect(calendar.subtractBusinessSeconds(at('2025-03-03T14:00'), 2 * HOUR)).toBe(at('2025-03-03T11:00'));
  });

  it('returns the start for a zero target even when closed', () => {
    expect(calendar.addBusinessSeconds(at('2025-03-08T10:00'), 0)).toBe(at('2025-03-08T10:00'));
    expect(calendar.subtractBusinessSeconds(at('2025-03-08T10:00'), 0)).toBe(at('2025-03-08T10:00'));
  });

  it('counts fractional seconds when instants carry milliseconds', () => {
    expect(calendar.businessSecondsBetween(at('2025-03-03T09:00'), at('2025-03-03T09:00') + 1500)).toBe(1.5);
    expect(calendar.businessSecondsBetween(at('2025-03-03T10:00'), at('2025-03-03T09:00'))).toBe(0);
  });

  it('refuses negative or fractional targets', () => {
    expect(() => calendar.addBusinessSeconds(at('2025-03-03T09:00'), -1)).toThrow(RangeError);
    expect(() => calendar.addBusinessSeconds(at('2025-03-03T09:00'), 1.5)).toThrow(RangeError);
    expect(() => calendar.isOpen(Number.NaN)).toThrow(RangeError);
  });
});

describe('days with a DST change count their real length', () => {
  const zone = 'Europe/Amsterdam';
  const allDay = BusinessCalendar.compile({ timezone: zone, weeklyHours: weekdays(EVERY_DAY, '00:00', '24:00') });

  it('has a 23-hour spring-forward day and a 25-hour fall-back day', () => {
    expect(allDay.businessSecondsBetween(local(zone, '2025-03-30T00:00'), local(zone, '2025-03-31T00:00'))).toBe(23 * HOUR);
    expect(allDay.businessSecondsBetween(local(zone, '2025-10-26T00:00'), local(zone, '2025-10-27T00:00'))).toBe(25 * HOUR);
    expect(allDay.addBusinessSeconds(local(zone, '2025-03-30T00:00'), 24 * HOUR)).toBe(local(zone, '2025-03-31T01:00'));
  });

  it('counts an interval 01:00–03:00 as 3 real hours on the fall-back day and 1 on the spring-forward day', () => {
    const night = BusinessCalendar.compile({ timezone: zone, weeklyHours: [{ weekday: 7, start: '01:00', end: '03:00' }] });
    // 02:00–03:00 happens twice on 2025-10-26 (CEST, then CET) and not at all on 2025-03-30.
    expect(night.businessSecondsBetween(local(zone, '2025-10-26T00:00'), local(zone, '2025-10-27T00:00'))).toBe(3 * HOUR);
    expect(night.businessSecondsBetween(local(zone, '2025-03-30T00:00'), local(zone, '2025-03-31T00:00'))).toBe(HOUR);
    // 01:00 CEST is 23:00Z; three open hours later it is 03:00 CET, 02:00Z.
    expect(night.addBusinessSeconds(utc('2025-10-25T23:00:00Z'), 3 * HOUR)).toBe(utc('2025-10-26T02:00:00Z'));
    expect(night.isOpen(utc('2025-10-26T01:30:00Z'))).toBe(true); // 02:30 CET, the repeated hour
  });

  it('handles zones that switch at midnight (America/Havana, America/Santiago)', () => {
    const havana = BusinessCalendar.compile({ timezone: 'America/Havana', weeklyHours: weekdays(EVERY_DAY, '00:00', '24:00') });
    // Havana springs forward at 00:00 on 2025-03-09: that local day has no 00:00–01:00.
    const havanaDay = havana.businessSecondsBetween(local('America/Havana', '2025-03-09T01:00'), local('America/Havana', '2025-03-10T00:00'));
    expect(havanaDay).toBe(23 * HOUR);
    expect(havana.businessSecondsBetween(utc('2025-03-08T00:00:00Z'), utc('2025-03-11T00:00:00Z'))).toBe(72 * HOUR);

    const santiago = BusinessCalendar.compile({ timezone: 'America/Santiago', weeklyHours: weekdays(EVERY_DAY, '00:00', '24:00') });
    // Santiago falls back at 24:00 on Saturday 2025-04-05 (23:00–24:00 happens twice) and springs
    // forward at 24:00 on Saturday 2025-09-06 (Sunday starts at 01:00).
    expect(santiago.businessSecondsBetween(local('America/Santiago', '2025-04-05T00:00'), local('America/Santiago', '2025-04-06T00:00'))).toBe(25 * HOUR);
    expect(santiago.businessSecondsBetween(local('America/Santiago', '2025-09-06T00:00'), local('America/Santiago', '2025-09-07T01:00'))).toBe(24 * HOUR);

    const saturdayLate = BusinessCalendar.compile({ timezone: 'America/Santiago', weeklyHours: [{ weekday: 6, start: '23:00', end: '24:00' }] });
    expect(saturdayLate.businessSecondsBetween(utc('2025-04-05T00:00:00Z'), utc('2025-04-07T00:00:00Z'))).toBe(2 * HOUR);
    const sundayEarly = BusinessCalendar.compile({ timezone: 'America/Santiago', weeklyHours: [{ weekday: 7, start: '00:00', end: '02:00' }] });
    expect(sundayEarly.businessSecondsBetween(utc('2025-09-06T00:00:00Z'), utc('2025-09-08T00:00:00Z'))).toBe(HOUR);
  });
});

describe('holidays', () => {
  const zone = 'Europe/Amsterdam';
  const def: CalendarDefinition = {
    timezone: zone,
    weeklyHours: weekdays(MON_FRI, '09:00', '17:00'),
    holidays: [{ date: '2025-04-21' }, { date: '2025-12-24', start: '13:00', end: '17:00' }],
  };
  const calendar = BusinessCalendar.compile(def);

  it('closes a whole local day', () => {
    // Friday 16:00 + 2 h: one hour on Friday, Easter Monday closed, one hour on Tuesday.
    expect(calendar.addBusinessSeconds(local(zone, '2025-04-18T16:00'), 2 * HOUR)).toBe(local(zone, '2025-04-22T10:00'));
    expect(calendar.isOpen(local(zone, '2025-04-21T10:00'))).toBe(false);
  });

  it('closes only the given wall-clock part of a partial holiday', () => {
    expect(calendar.businessSecondsBetween(local(zone, '2025-12-24T00:00'), local(zone, '2025-12-25T00:00'))).toBe(4 * HOUR);
    expect(calendar.addBusinessSeconds(local(zone, '2025-12-24T12:00'), 2 * HOUR)).toBe(local(zone, '2025-12-25T10:00'));
  });

  it('gives up with an error instead of scanning forever when holidays close everything', () => {
    const holidays = [];
    for (let day = Date.UTC(2025, 0, 1); day < Date.UTC(2037, 0, 1); day += 86_400_000) {
      holidays.push({ date: new Date(day).toISOString().slice(0, 10) });
    }
    const closed = BusinessCalendar.compile({ timezone: 'UTC', weeklyHours: weekdays(MON_FRI, '09:00', '17:00'), holidays });
    expect(() => closed.addBusinessSeconds(utc('2025-01-01T00:00:00Z'), HOUR)).toThrow(NoOpenTimeError);
    expect(() => closed.nextOpenInstant(utc('2025-01-01T00:00:00Z'))).toThrow(NoOpenTimeError);
    expect(() => closed.subtractBusinessSeconds(utc('2036-12-31T00:00:00Z'), HOUR)).toThrow(NoOpenTimeError);
  });
});

describe('zones with 30- and 45-minute offsets', () => {
  it('opens Asia/Kathmandu (+05:45) at 10:00 local, which is 04:15 UTC', () => {
    const calendar = BusinessCalendar.compile({ timezone: 'Asia/Kathmandu', weeklyHours: weekdays(MON_FRI, '10:00', '17:00') });
    expect(calendar.isOpen(utc('2025-03-03T04:14:59Z'))).toBe(false);
    expect(calendar.isOpen(utc('2025-03-03T04:15:00Z'))).toBe(true);
    expect(calendar.addBusinessSeconds(utc('2025-03-03T04:15:00Z'), 7 * HOUR)).toBe(utc('2025-03-03T11:15:00Z'));
  });

  it('follows Pacific/Chatham between +13:45 in January and +12:45 in June', () => {
    const calendar = BusinessCalendar.compile({ timezone: 'Pacific/Chatham', weeklyHours: weekdays(MON_FRI, '09:00', '17:00') });
    // Monday 2025-01-06 09:00 local is Sunday 19:15 UTC; Monday 2025-06-02 09:00 local is Sunday 20:15 UTC.
    expect(calendar.nextOpenInstant(utc('2025-01-05T12:00:00Z'))).toBe(utc('2025-01-05T19:15:00Z'));
    expect(calendar.nextOpenInstant(utc('2025-06-01T12:00:00Z'))).toBe(utc('2025-06-01T20:15:00Z'));
    // Chatham leaves DST at 03:45 local on 2025-04-06: 02:45–03:45 happens twice.
    const night = BusinessCalendar.compile({ timezone: 'Pacific/Chatham', weeklyHours: [{ weekday: 7, start: '02:00', end: '04:00' }] });
    expect(night.businessSecondsBetween(utc('2025-04-05T00:00:00Z'), utc('2025-04-06T00:00:00Z'))).toBe(3 * HOUR);
  });

  it('follows Australia/Lord_Howe with its 30-minute DST shift', () => {
    const calendar = BusinessCalendar.compile({ timezone: 'Australia/Lord_Howe', weeklyHours: weekdays(EVERY_DAY, '00:00', '24:00') });
    // Lord Howe moves from +10:30 to +11 at 02:00 local on 2025-10-05, and back at 02:00 on 2025-04-06.
    const day = (date: string, next: string) =>
      calendar.businessSecondsBetween(local('Australia/Lord_Howe', `${date}T00:00`), local('Australia/Lord_Howe', `${next}T00:00`));
    expect(day('2025-10-05', '2025-10-06')).toBe(23.5 * HOUR);
    expect(day('2025-04-06', '2025-04-07')).toBe(24.5 * HOUR);
  });
});

describe('alwaysOpen calendars', () => {
  const calendar = BusinessCalendar.compile({ timezone: 'UTC', alwaysOpen: true });

  it('uses plain arithmetic', () => {
    const start = utc('2025-03-08T10:00:00Z');
    expect(calendar.isOpen(start)).toBe(true);
    expect(calendar.nextOpenInstant(start)).toBe(start);
    expect(calendar.addBusinessSeconds(start, 2 * 86_400)).toBe(utc('2025-03-10T10:00:00Z'));
    expect(calendar.subtractBusinessSeconds(start, HOUR)).toBe(utc('2025-03-08T09:00:00Z'));
    expect(calendar.businessSecondsBetween(start, utc('2025-03-09T10:00:00Z'))).toBe(86_400);
  });
});

describe('long targets', () => {
  const zone = 'Europe/Amsterdam';

  it('spans 30 business days of 8 hours across six weeks', () => {
    const calendar = BusinessCalendar.compile({ timezone: zone, weeklyHours: weekdays(MON_FRI, '09:00', '17:00') });
    const start = local(zone, '2025-06-02T09:00');
    const deadline = calendar.addBusinessSeconds(start, 30 * 8 * HOUR);
    expect(deadline).toBe(local(zone, '2025-07-11T17:00'));
    expect(calendar.businessSecondsBetween(start, deadline)).toBe(30 * 8 * HOUR);
    expect(calendar.subtractBusinessSeconds(deadline, 30 * 8 * HOUR)).toBe(start);
  });

  it('moves the same deadline a day later when Whit Monday is a holiday', () => {
    const calendar = BusinessCalendar.compile({
      timezone: zone,
      weeklyHours: weekdays(MON_FRI, '09:00', '17:00'),
      holidays: [{ date: '2025-06-09' }],
    });
    expect(calendar.addBusinessSeconds(local(zone, '2025-06-02T09:00'), 30 * 8 * HOUR)).toBe(local(zone, '2025-07-14T17:00'));
  });

  it('crosses both DST changes over a whole year', () => {
    const calendar = BusinessCalendar.compile({ timezone: zone, weeklyHours: weekdays(EVERY_DAY, '00:00', '24:00') });
    expect(calendar.businessSecondsBetween(local(zone, '2025-01-01T00:00'), local(zone, '2026-01-01T00:00'))).toBe(365 * 24 * HOUR);
  });
});

describe('validateCalendarDefinition', () => {
  const valid: CalendarDefinition = { timezone: 'Europe/Amsterdam', weeklyHours: weekdays(MON_FRI, '09:00', '17:00') };

  it('accepts a valid definition, overlapping intervals and an alwaysOpen calendar without hours', () => {
    expect(validateCalendarDefinition(valid)).toEqual([]);
    expect(
      validateCalendarDefinition({
        timezone: 'UTC',
        weeklyHours: [
          { weekday: 1, start: '09:00', end: '13:00' },
          { weekday: 1, start: '12:00', end: '24:00' },
        ],
      }),
    ).toEqual([]);
    expect(validateCalendarDefinition({ timezone: 'Etc/UTC', alwaysOpen: true })).toEqual([]);
  });

  it('merges overlapping intervals instead of counting them twice', () => {
    const calendar = BusinessCalendar.compile({
      timezone: 'UTC',
      weeklyHours: [
        { weekday: 1, start: '09:00', end: '13:00' },
        { weekday: 1, start: '12:00', end: '17:00' },
        { weekday: 1, start: '17:00', end: '18:00' },
      ],
    });
    expect(calendar.businessSecondsBetween(utc('2025-03-03T00:00:00Z'), utc('2025-03-04T00:00:00Z'))).toBe(9 * HOUR);
  });

  it('rejects offsets and unknown names as time zones', () => {
    for (const timezone of ['+02:00', 'UTC+1', 'GMT+1', 'Mars/Olympus', '']) {
      expect(validateCalendarDefinition({ ...valid, timezone })).toEqual([
        { field: 'timezone', message: expect.stringContaining('IANA time zone') },
      ]);
    }
    expect(isValidTimeZone('Europe/Amsterdam')).toBe(true);
    expect(isValidTimeZone('UTC')).toBe(true);
    expect(isValidTimeZone('+02:00')).toBe(false);
  });

  it('reports bad weekdays, times, start >= end and bad holidays by field', () => {
    const problems = validateCalendarDefinition({
      timezone: 'Europe/Amsterdam',
      weeklyHours: [
        { weekday: 1, start: '09:00', end: '17:00' },
        { weekday: 8, start: '09:00', end: '17:00' },
        { weekday: 2, start: '17:00', end: '09:00' },
        { weekday: 3, start: '9:00', end: '24:01' },
      ],
      holidays: [{ date: '2025-02-30' }, { date: '2025-12-24', start: '13:00' }, { date: '2025-12-31', start: '15:00', end: '15:00' }],
    });
    expect(problems.map((problem) => problem.field)).toEqual([
      'weeklyHours[1].weekday',
      'weeklyHours[2].end',
      'weeklyHours[3].start',
      'weeklyHours[3].end',
      'holidays[0].date',
      'holidays[1].end',
      'holidays[2].end',
    ]);
    expect(problems[0].message).toBe('must be an integer from 1 (Monday) to 7 (Sunday)');
    expect(problems[1].message).toBe('must be later than start (17:00)');
    expect(problems[4].message).toBe('must be a real calendar date "YYYY-MM-DD"');
  });

  it('requires an open interval unless the calendar is alwaysOpen', () => {
    expect(validateCalendarDefinition({ timezone: 'UTC', weeklyHours: [] })).toEqual([
      { field: 'weeklyHours', message: expect.stringContaining('at least one weekly interval') },
    ]);
    expect(validateCalendarDefinition({ timezone: 'UTC' })).toHaveLength(1);
  });

  it('makes compile throw InvalidCalendarError carrying the problems', () => {
    let thrown: unknown;
    try {
      BusinessCalendar.compile({ timezone: 'UTC+1', weeklyHours: [{ weekday: 0, start: '09:00', end: '17:00' }] });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(InvalidCalendarError);
    expect((thrown as InvalidCalendarError).problems.map((problem) => problem.field)).toEqual([
      'timezone',
      'weeklyHours[0].weekday',
    ]);
  });
});
