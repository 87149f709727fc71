import fc from 'fast-check';
import { DateTime, IANAZone } from 'luxon';
import { BusinessCalendar, CalendarDefinition, Holiday, WeeklyInterval } from '../../src/business-time';
import {
  refAddBusinessSeconds,
  refBusinessSecondsBetween,
  refNextOpenInstant,
  refSubtractBusinessSeconds,
} from '../support/reference-business-time';

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;
const ZONES = [
  'Europe/Amsterdam',
  'America/New_York',
  'America/St_Johns',
  'Asia/Kathmandu',
  'Australia/Lord_Howe',
  'Pacific/Chatham',
  'America/Santiago',
  'America/Havana',
  'Asia/Tokyo',
  'UTC',
  'Europe/London',
  'Australia/Adelaide',
];
const RANGE_START = Date.UTC(2025, 0, 1);
const RANGE_END = Date.UTC(2028, 0, 1);

/** Minute-precise offset changes of a zone in 2025–2027, found by a day-by-day scan. */
function transitionsOf(timezone: string): number[] {
  const zone = IANAZone.create(timezone);
  const transitions: number[] = [];
  for (let day = RANGE_START; day < RANGE_END; day += DAY_MS) {
    if (zone.offset(day) === zone.offset(day + DAY_MS)) continue;
    let before = day;
    let after = day + DAY_MS;
    while (after - before > MINUTE_MS) {
      const middle = before + Math.floor((after - before) / 2 / MINUTE_MS) * MINUTE_MS;
      if (zone.offset(middle) === zone.offset(before)) before = middle;
      else after = middle;
    }
    transitions.push(after);
  }
  return transitions;
}
const TRANSITIONS = new Map(ZONES.map((zone) => [zone, transitionsOf(zone)]));

function hhmm(minutes: number): string {
  return `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
}

// Wall minutes around typical DST switch times (00:00, 01:00–03:00, Lord Howe's 02:00/02:30) and office hours.
const interestingMinute = fc.oneof(
  fc.constantFrom(0, 30, 60, 90, 120, 150, 165, 180, 225, 540, 720, 780, 1020, 1380, 1410),
  fc.integer({ min: 0, max: 1439 }),
);

const intervalOnDay = fc
  .tuple(interestingMinute, fc.oneof(fc.constant(24 * 60), fc.integer({ min: 1, max: 600 })))
  .map(([start, lengthOrEnd]) => {
    const end = lengthOrEnd === 24 * 60 ? 24 * 60 : Math.min(24 * 60, start + lengthOrEnd);
    return { start: hhmm(start), end: hhmm(end) };
  });

const weeklyHours: fc.Arbitrary<WeeklyInterval[]> = fc
  .array(fc.oneof({ weight: 1, arbitrary: fc.constant([]) }, { weight: 3, arbitrary: fc.array(intervalOnDay, { minLength: 1, maxLength: 3 }) }), {
    minLength: 7,
    maxLength: 7,
  })
  .map((days) => days.flatMap((intervals, index) => intervals.map((interval) => ({ weekday: index + 1, ...interval }))))
  .map((intervals) => (intervals.length > 0 ? intervals : [{ weekday: 1, start: '09:00', end: '17:00' }]));

const holidayShape = fc.record({
  dayOffset: fc.integer({ min: -2, max: 20 }),
  part: fc.option(
    fc.tuple(interestingMinute, fc.integer({ min: 1, max: 720 })).map(([start, length]) => ({
      start: hhmm(start),
      end: hhmm(Math.min(24 * 60, start + length)),
    })),
  ),
});

interface Scenario {
  def: CalendarDefinition;
  start: number;
}

/** A random calendar plus a minute-aligned start in 2025–2027, half the time within days of a DST change. */
const scenario: fc.Arbitrary<Scenario> = fc.constantFrom(...ZONES).chain((timezone) => {
  const transitions = TRANSITIONS.get(timezone) ?? [];
  const uniformStart = fc.integer({ min: RANGE_START / MINUTE_MS, max: RANGE_END / MINUTE_MS - 1 }).map((m) => m * MINUTE_MS);
  const nearTransition =
    transitions.length === 0
      ? uniformStart
      : fc
          .tuple(fc.constantFrom(...transitions), fc.integer({ min: -3 * 24 * 60, max: 2 * 24 * 60 }))
          .map(([transition, minutes]) => transition + minutes * MINUTE_MS);
  return fc
    .record({
      start: fc.oneof(uniformStart, nearTransition),
      weeklyHours,
      holidays: fc.array(holidayShape, { maxLength: 4 }),
      alwaysOpen: fc.integer({ min: 0, max: 19 }).map((n) => n === 0),
    })
    .map(({ start, weeklyHours: hours, holidays, alwaysOpen }) => {
      const startDate = Date.parse(DateTime.fromMillis(start, { zone: timezone }).toISODate() ?? '');
      const localHolidays: Holiday[] = holidays.map(({ dayOffset, part }) => ({
        date: new Date(startDate + dayOffset * DAY_MS).toISOString().slice(0, 10),
        ...(part ?? {}),
      }));
      return { def: { timezone, alwaysOpen, weeklyHours: hours, holidays: localHolidays }, start };
    });
});

/** Open minutes per week of the weekly pattern (overlaps counted twice; only used to size targets). */
function roughWeeklyOpenMinutes(def: CalendarDefinition): number {
  const minutes = (text: string) => Number(text.slice(0, 2)) * 60 + Number(text.slice(3));
  return (def.weeklyHours ?? []).reduce((sum, i) => sum + minutes(i.end) - minutes(i.start), 0);
}

/** Whole minutes of business time, up to three 8-hour days but small against sparse calendars so the reference stays quick. */
function targetSeconds(def: CalendarDefinition, permille: number): number {
  const cap = Math.max(1, Math.min(3 * 8 * 60, Math.floor(roughWeeklyOpenMinutes(def) / 2)));
  return Math.round((cap * permille) / 1000) * 60;
}

const RUNS = 60;

describe('BusinessCalendar agrees with the minute-stepping reference', () => {
  it('addBusinessSeconds and subtractBusinessSeconds', () => {
    fc.assert(
      fc.property(scenario, fc.integer({ min: 0, max: 1000 }), ({ def, start }, permille) => {
        const calendar = BusinessCalendar.compile(def);
        const seconds = targetSeconds(def, permille);
        expect(calendar.addBusinessSeconds(start, seconds)).toBe(refAddBusinessSeconds(def, start, seconds));
        expect(calendar.subtractBusinessSeconds(start, seconds)).toBe(refSubtractBusinessSeconds(def, start, seconds));
      }),
      { numRuns: RUNS },
    );
  });

  it('businessSecondsBetween', () => {
    fc.assert(
      fc.property(scenario, fc.integer({ min: -60, max: 4 * 24 * 60 }), ({ def, start }, minutes) => {
        const calendar = BusinessCalendar.compile(def);
        const end = start + minutes * MINUTE_MS;
        expect(calendar.businessSecondsBetween(start, end)).toBe(refBusinessSecondsBetween(def, start, end));
      }),
      { numRuns: RUNS },
    );
  });

  it('nextOpenInstant and isOpen', () => {
    fc.assert(
      fc.property(scenario, ({ def, start }) => {
        const calendar = BusinessCalendar.compile(def);
        const next = refNextOpenInstant(def, start);
        expect(calendar.nextOpenInstant(start)).toBe(next);
        expect(calendar.isOpen(start)).toBe(next === start);
        expect(calendar.isOpen(next)).toBe(true);
      }),
      { numRuns: RUNS },
    );
  });
});

// Instants with millisecond precision and targets up to six 8-hour weeks exercise week skipping.
const anyInstant = fc.integer({ min: RANGE_START, max: RANGE_END });
const largeTarget = fc.integer({ min: 0, max: 30 * 8 * 3600 });

describe('BusinessCalendar arithmetic laws', () => {
  it('between(start, add(start, s)) equals s, and subtract undoes add back to the next opening', () => {
    fc.assert(
      fc.property(scenario, anyInstant, largeTarget, ({ def }, start, seconds) => {
        const calendar = BusinessCalendar.compile(def);
        const deadline = calendar.addBusinessSeconds(start, seconds);
        expect(calendar.businessSecondsBetween(start, deadline)).toBe(seconds);
        const back = calendar.subtractBusinessSeconds(deadline, seconds);
        expect(calendar.businessSecondsBetween(back, deadline)).toBe(seconds);
        expect(back).toBe(seconds === 0 ? deadline : calendar.nextOpenInstant(start));
      }),
      { numRuns: 200 },
    );
  });

  it('add(start, a + b) equals add(add(start, a), b)', () => {
    fc.assert(
      fc.property(scenario, anyInstant, largeTarget, largeTarget, ({ def }, start, a, b) => {
        const calendar = BusinessCalendar.compile(def);
        expect(calendar.addBusinessSeconds(calendar.addBusinessSeconds(start, a), b)).toBe(
          calendar.addBusinessSeconds(start, a + b),
        );
        expect(calendar.subtractBusinessSeconds(calendar.subtractBusinessSeconds(start, a), b)).toBe(
          calendar.subtractBusinessSeconds(start, a + b),
        );
      }),
      { numRuns: 200 },
    );
  });

  it('businessSecondsBetween is additive over long spans', () => {
    fc.assert(
      fc.property(scenario, anyInstant, anyInstant, anyInstant, ({ def }, x, y, z) => {
        const calendar = BusinessCalendar.compile(def);
        const [a, b, c] = [x, y, z].sort((p, q) => p - q);
        const whole = calendar.businessSecondsBetween(a, c);
        const parts = calendar.businessSecondsBetween(a, b) + calendar.businessSecondsBetween(b, c);
        expect(Math.abs(whole - parts)).toBeLessThan(1e-6);
      }),
      { numRuns: 100 },
    );
  });

  it('deadlines are monotonic in start and in target', () => {
    fc.assert(
      fc.property(scenario, anyInstant, anyInstant, largeTarget, largeTarget, ({ def }, x, y, s, t) => {
        const calendar = BusinessCalendar.compile(def);
        const [early, late] = x <= y ? [x, y] : [y, x];
        const [small, large] = s <= t ? [s, t] : [t, s];
        expect(calendar.addBusinessSeconds(early, small)).toBeLessThanOrEqual(calendar.addBusinessSeconds(late, small));
        expect(calendar.addBusinessSeconds(early, small)).toBeLessThanOrEqual(calendar.addBusinessSeconds(early, large));
        expect(calendar.subtractBusinessSeconds(early, small)).toBeLessThanOrEqual(
          calendar.subtractBusinessSeconds(late, small),
        );
        expect(calendar.nextOpenInstant(early)).toBeLessThanOrEqual(calendar.nextOpenInstant(late));
      }),
      { numRuns: 200 },
    );
  });
});
