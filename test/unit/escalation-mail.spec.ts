import fc from 'fast-check';
import { DateTime } from 'luxon';
import { wallClockLabel } from '../../src/escalation/escalation-mail';

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
