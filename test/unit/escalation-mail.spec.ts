import fc from 'fast-check';
import { DateTime } from 'luxon';
import { composeEscalationMail, wallClockLabel, type MailFacts } from '../../src/escalation/escalation-mail';

const ZONES = ['Europe/Amsterdam', 'America/New_York', 'Asia/Kathmandu', 'Australia/Lord_Howe', 'Pacific/Chatham', 'UTC', 'America/St_Johns', 'Asia/Tokyo'];

describe('the deadline on the provider wall clock in escalation mail', () => {
  it('reads as Luxon writes "ccc d LLL yyyy HH:mm:ss ZZZZ", across daylight-saving changes and odd offsets', () => {
    fc.assert(
      fc.property(fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2040, 0, 1) }), fc.constantFrom(...ZONES), (ms, zone) => {
        expect(wallClockLabel(ms, zone)).toBe(DateTime.fromMillis(ms, { zone }).toFormat('ccc d LLL yyyy HH:mm:ss ZZZZ'));
      }),
      { numRuns: 3000 },
    );
  });

  it('writes midnight as 00 and names the offset where a zone has no abbreviation', () => {
    expect(wallClockLabel(Date.UTC(2026, 11, 1, 23, 0, 0), 'Europe/Amsterdam')).toBe('Wed 2 Dec 2026 00:00:00 GMT+1');
    expect(wallClockLabel(Date.UTC(2026, 6, 1, 12, 0, 5), 'Asia/Kathmandu')).toBe('Wed 1 Jul 2026 17:45:05 GMT+5:45');
    expect(wallClockLabel(Date.UTC(2026, 6, 1, 12, 0, 0), 'America/New_York')).toBe('Wed 1 Jul 2026 08:00:00 EDT');
  });
});

describe('the words of an escalation mail', () => {
  const deadlineAt = Date.UTC(2026, 11, 1, 15, 0, 0);
  const facts = (kind: MailFacts['kind'], firedAt: number): MailFacts => ({
    requestId: '0d6f1c9e-0000-4000-8000-000000000001',
    title: 'Bouquet for order 1042',
    priority: 'high',
    status: 'open',
    kind,
    deadlineAt,
    firedAt,
    deadlineLabel: 'the response target is close',
    publicUrl: 'https://handoff.example',
    context: { providerName: 'Design', providerCode: 'DESIGN', customerName: 'Sales', customerCode: 'SALES', timezone: 'Europe/Amsterdam', upstream: [], downstream: [] },
  });

  it('a warning before its deadline says how long is left, and is "due soon"', () => {
    const mail = composeEscalationMail(facts('response_warning', deadlineAt - 15 * 60_000));
    expect(mail.subject).toBe('[Handoff] Response due soon: Bouquet for order 1042 (0d6f1c9e-0000-4000-8000-000000000001)');
    expect(mail.text).toContain('Deadline:  Tue 1 Dec 2026 16:00:00 GMT+1 (2026-12-01T15:00:00.000Z)');
    expect(mail.text).toContain('15 min left before the deadline (as of 2026-12-01T14:45:00.000Z, when this escalation was recorded).');
  });

  it('a warning recorded only after its deadline (the worker was down) says so, in the subject too', () => {
    const mail = composeEscalationMail(facts('response_warning', deadlineAt + 6_000));
    expect(mail.subject).toBe('[Handoff] Response due soon (recorded late: the deadline has passed): Bouquet for order 1042 (0d6f1c9e-0000-4000-8000-000000000001)');
    expect(mail.text).toContain('6 s past the deadline (as of 2026-12-01T15:00:06.000Z');
  });

  it('a breach says how late it is', () => {
    const mail = composeEscalationMail(facts('response_breach', deadlineAt + 90 * 60_000));
    expect(mail.subject.startsWith('[Handoff] Response target missed: ')).toBe(true);
    expect(mail.text).toContain('90 min past the deadline');
  });
});
