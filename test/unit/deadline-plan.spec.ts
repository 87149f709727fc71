import { BusinessCalendar } from '../../src/business-time';
import { planDeadlines, type ClockFacts } from '../../src/escalation/deadline-plan';

const HOUR = 3600;
const facts = (overrides: Partial<ClockFacts> = {}): ClockFacts => ({
  createdAt: Date.UTC(2026, 11, 7, 0, 0, 0),
  respondedAt: null,
  finished: false,
  paused: false,
  pauses: [],
  responseTargetSeconds: 60,
  resolutionTargetSeconds: 60 * HOUR,
  warnAtPercent: 50,
  escalations: [
    { atPercent: 150, notify: 'customer_head' },
    { atPercent: 200, notify: 'ops' },
  ],
  chainCheckAt: null,
  ...overrides,
});

describe('the deadlines a request plans', () => {
  it('plans every kind, earliest first, in the calendar', () => {
    const open = BusinessCalendar.compile({ timezone: 'UTC', alwaysOpen: true });
    const start = facts().createdAt;
    expect(planDeadlines(open, facts(), new Set()).map((d) => [d.kind, (d.dueAt - start) / 1000])).toEqual([
      ['response_warning', 30],
      ['response_breach', 60],
      ['resolution_warning', 30 * HOUR],
      ['resolution_breach', 60 * HOUR],
      ['level-1', 90 * HOUR],
      ['level-2', 120 * HOUR],
    ]);
  });

  it('leaves out a level the calendar puts more than a century away, instead of failing the whole sweep', () => {
    // Open one minute a week: 60 h of business time is 3 600 weeks (69 years); 150 % is 104 years.
    const rare = BusinessCalendar.compile({ timezone: 'UTC', weeklyHours: [{ weekday: 3, start: '12:00', end: '12:01' }] });
    const kinds = planDeadlines(rare, facts(), new Set()).map((d) => d.kind);
    expect(kinds).toEqual(['response_warning', 'response_breach', 'resolution_warning', 'resolution_breach']);
  }, 30_000);
});
