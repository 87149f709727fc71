// The reports' pure arithmetic, without a database (it lives beside the reports' end-to-end specs).
import fc from 'fast-check';
import { toCsv } from '../../src/reports/report-csv';
import { bucketBounds, parseReportInstant, trendWindow } from '../../src/reports/report-window';
import { chargeIncident, rootCauseRows, subtract, type ChainRequest } from '../../src/reports/root-cause';
import { emptyPartial, figuresOf, percentiles, planWindow, select, unpackSeconds } from '../../src/reports/sla-figures';

const pack = (values: number[]) => {
  const bytes = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => bytes.writeInt32BE(v, i * 4));
  return bytes;
};

/** percentile_cont by the book, over a sorted copy, in exact rationals, rounded half up. */
function referencePercentile(values: number[], numerator: number, denominator: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = numerator * (values.length - 1);
  const below = Math.floor(rank / denominator);
  const remainder = rank % denominator;
  const low = sorted[below];
  const high = remainder ? sorted[below + 1] : low;
  return Math.floor((2 * (low * denominator + (high - low) * remainder) + denominator) / (2 * denominator));
}

describe('SLA figures', () => {
  it('percentiles agree with a sort-based percentile_cont for any values', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 400_000 }), { maxLength: 300 }), fc.boolean(), (values, fewDistinct) => {
        const input = fewDistinct ? values.map((v) => v % 7) : values;
        const got = percentiles(Int32Array.from(input), [
          [1, 2],
          [9, 10],
        ]);
        expect(got).toEqual([referencePercentile(input, 1, 2), referencePercentile(input, 9, 10)]);
      }),
    );
  });

  it('select puts the k-th value in place with smaller ones before it and larger ones after', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -5, max: 5 }), { minLength: 1, maxLength: 80 }), fc.nat(), (values, at) => {
        const k = at % values.length;
        const array = Int32Array.from(values);
        select(array, k);
        const sorted = [...values].sort((a, b) => a - b);
        expect(array[k]).toBe(sorted[k]);
        for (let i = 0; i < k; i++) expect(array[i]).toBeLessThanOrEqual(array[k]);
        for (let i = k + 1; i < array.length; i++) expect(array[i]).toBeGreaterThanOrEqual(array[k]);
      }),
    );
  });

  it('rounds a percentile that falls exactly between two seconds up, whatever floating point would say', () => {
    expect(percentiles(Int32Array.from([1, 2]), [[1, 2]])).toEqual([2]);
    // rank 0.9 · 10 = 9: the tenth value exactly; 0.9 · 11 = 9.9: 90 % of the way to the twelfth.
    expect(percentiles(Int32Array.from([...Array(11).keys()].map((i) => i * 10)), [[9, 10]])).toEqual([90]);
    expect(percentiles(Int32Array.from([...Array(12).keys()].map((i) => i * 10)), [[9, 10]])).toEqual([99]);
    expect(percentiles(new Int32Array(0), [[1, 2]])).toEqual([null]);
  });

  it('unpacks big-endian seconds from any number of chunks', () => {
    expect([...unpackSeconds([pack([1, 70_000]), Buffer.alloc(0), pack([259_200])])]).toEqual([1, 70_000, 259_200]);
    expect(() => unpackSeconds([Buffer.from([1, 2, 3])])).toThrow(/whole 4-byte/);
  });

  it('derives compliance and breaches from the counts, null where nothing was decided', () => {
    const figures = figuresOf({ ...emptyPartial(), total: 5, responseMet: 3, responseBreached: 1, breachedEither: 2, open: 1, respondSeconds: [pack([300, 600, 2400, 20_400])] });
    expect(figures).toMatchObject({ responseCompliance: 0.75, resolutionCompliance: null, breaches: 2, respondP50Seconds: 1500, respondP90Seconds: 15_000, resolveP50Seconds: null });
  });

  it('reads whole UTC days from the roll-up and only the edges from the requests', () => {
    const at = (iso: string) => Date.parse(iso);
    expect(planWindow([at('2026-10-01T00:00:00Z'), at('2026-10-04T00:00:00Z')])).toEqual({ fullWeeks: [], fullDays: ['2026-10-01', '2026-10-02', '2026-10-03'], edges: [] });
    expect(planWindow([at('2026-10-01T09:30:00Z'), at('2026-10-03T06:00:00Z')])).toEqual({
      fullWeeks: [],
      fullDays: ['2026-10-02'],
      edges: [
        { start: at('2026-10-01T09:30:00Z'), end: at('2026-10-02T00:00:00Z') },
        { start: at('2026-10-03T00:00:00Z'), end: at('2026-10-03T06:00:00Z') },
      ],
    });
    // Amsterdam days: no whole UTC day fits in one, so each is read from the requests; adjacent edges merge.
    expect(planWindow([at('2026-09-30T22:00:00Z'), at('2026-10-01T22:00:00Z'), at('2026-10-02T22:00:00Z')])).toEqual({
      fullWeeks: [],
      fullDays: [],
      edges: [{ start: at('2026-09-30T22:00:00Z'), end: at('2026-10-02T22:00:00Z') }],
    });
    // Amsterdam weeks: six whole UTC days each (no whole UTC week), edges around them.
    const weeks = planWindow(bucketBounds(at('2026-09-27T22:00:00Z'), at('2026-10-11T22:00:00Z'), 'week', 'Europe/Amsterdam'));
    expect([weeks.fullWeeks, weeks.fullDays.length]).toEqual([[], 12]);
    // October in UTC: Thursday to Sunday, three whole weeks from Monday the 5th, then the 26th to the 31st.
    const october = planWindow([at('2026-10-01T00:00:00Z'), at('2026-11-01T00:00:00Z')]);
    expect(october.fullWeeks).toEqual(['2026-10-05', '2026-10-12', '2026-10-19']);
    expect(october.fullDays).toEqual(['2026-10-01', '2026-10-02', '2026-10-03', '2026-10-04', '2026-10-26', '2026-10-27', '2026-10-28', '2026-10-29', '2026-10-30', '2026-10-31']);
    // Groupings without weekly rows read every day.
    expect(planWindow([at('2026-10-01T00:00:00Z'), at('2026-11-01T00:00:00Z')], false)).toMatchObject({ fullWeeks: [], edges: [] });
    expect(planWindow([at('2026-10-01T00:00:00Z'), at('2026-11-01T00:00:00Z')], false).fullDays).toHaveLength(31);
  });
});

describe('report windows', () => {
  it('reads plain dates as midnight in the zone, instants as given', () => {
    expect(parseReportInstant('2026-10-01', 'UTC')).toBe(Date.parse('2026-10-01T00:00:00Z'));
    expect(parseReportInstant('2026-10-01', 'Europe/Amsterdam')).toBe(Date.parse('2026-09-30T22:00:00Z'));
    expect(parseReportInstant('2026-10-01T08:00:00+02:00', 'UTC')).toBe(Date.parse('2026-10-01T06:00:00Z'));
    expect(parseReportInstant('2026-02-30', 'UTC')).toBeNull();
    expect(parseReportInstant('1999-12-31', 'UTC')).toBeNull();
  });

  it('follows the zone across a daylight-saving change: a 23-hour day, weeks from Monday', () => {
    const bounds = bucketBounds(Date.parse('2026-03-28T00:00:00+01:00'), Date.parse('2026-03-31T00:00:00+02:00'), 'day', 'Europe/Amsterdam');
    expect(bounds.map((b) => new Date(b).toISOString())).toEqual([
      '2026-03-27T23:00:00.000Z',
      '2026-03-28T23:00:00.000Z',
      '2026-03-29T22:00:00.000Z', // Sunday 29 March had 23 hours
      '2026-03-30T22:00:00.000Z',
    ]);
    const weeks = bucketBounds(Date.parse('2026-11-04T10:00:00Z'), Date.parse('2026-11-20T00:00:00Z'), 'week', 'UTC');
    expect(weeks.map((b) => new Date(b).toISOString())).toEqual([
      '2026-11-04T10:00:00.000Z', // the first bucket is cut at from (a Wednesday)
      '2026-11-09T00:00:00.000Z',
      '2026-11-16T00:00:00.000Z',
      '2026-11-20T00:00:00.000Z',
    ]);
    expect(trendWindow(null, null, 'week', 'UTC', Date.parse('2026-12-03T12:00:00Z')).from).toBe(Date.parse('2026-09-14T00:00:00Z'));
  });
});

describe('CSV', () => {
  it('quotes what needs quoting and defuses spreadsheet formulas', () => {
    expect(toCsv(['name', 'count', 'share'], [['Plants, "green" & co', 3, 0.5], ['=HYPERLINK("x")', null, true], ['-1', -1, undefined]])).toBe(
      'name,count,share\r\n"Plants, ""green"" & co",3,0.5\r\n"\'=HYPERLINK(""x"")",,true\r\n\'-1,-1,\r\n',
    );
  });
});

describe('root cause', () => {
  const H = 3_600_000;
  const request = (id: string, department: string, createdAt: number, finishedAt: number | null, blocked: ChainRequest['blocked'] = [], dependsOn: string[] = []): ChainRequest => ({
    id,
    providerDepartmentId: department,
    createdAt,
    finishedAt,
    blocked,
    dependsOn,
  });

  it('charges blocked time upstream, and the part the blocker was blocked itself further upstream', () => {
    const roses = request('roses', 'PURCH', 0, 5 * H);
    const bouquet = request('bouquet', 'DESIGN', 0, 6 * H, [{ start: 0, end: 5 * H, blockerId: 'roses' }]);
    const delivery = request('delivery', 'DELIV', 0, 7.5 * H, [{ start: 0, end: 6 * H, blockerId: 'bouquet' }]);
    const all = new Map([roses, bouquet, delivery].map((r) => [r.id, r]));
    expect(Object.fromEntries(chargeIncident(delivery, all, 10 * H))).toEqual({ PURCH: 5 * H, DESIGN: 1 * H, DELIV: 1.5 * H });
    expect(rootCauseRows([{ requestId: 'delivery', lateOnResolution: false, lateOnPromise: true }], all, 10 * H)[0]).toMatchObject({
      causedBy: 'PURCH',
      delayed: 'DELIV',
      incidents: 1,
      lateExternalPromises: 1,
      chargedSeconds: 18_000,
    });
  });

  it('without recorded pauses, takes the last dependency to finish as the blocker from creation', () => {
    const a = request('a', 'PURCH', 0, 2 * H);
    const b = request('b', 'SALES', 0, 3 * H);
    const late = request('late', 'DESIGN', 1 * H, 4 * H, [], ['a', 'b']);
    const all = new Map([a, b, late].map((r) => [r.id, r]));
    expect(Object.fromEntries(chargeIncident(late, all, 10 * H))).toEqual({ SALES: 2 * H, DESIGN: 1 * H });
  });

  it('charges a late request with nothing upstream to its own provider, and an open one up to now', () => {
    const open = request('open', 'DELIV', 0, null);
    expect(Object.fromEntries(chargeIncident(open, new Map([['open', open]]), 3 * H))).toEqual({ DELIV: 3 * H });
    const rows = rootCauseRows([{ requestId: 'open', lateOnResolution: true, lateOnPromise: false }], new Map([['open', open]]), 3 * H);
    expect(rows).toEqual([{ causedBy: 'DELIV', delayed: 'DELIV', incidents: 1, lateRequests: 1, lateExternalPromises: 0, chargedSeconds: 10_800, exampleRequestIds: ['open'] }]);
  });

  it('gives a tie to the department upstream', () => {
    const up = request('up', 'PURCH', 0, 1 * H);
    const down = request('down', 'DESIGN', 0, 2 * H, [{ start: 0, end: 1 * H, blockerId: 'up' }]);
    const all = new Map([up, down].map((r) => [r.id, r]));
    expect(rootCauseRows([{ requestId: 'down', lateOnResolution: true, lateOnPromise: false }], all, 5 * H).find((r) => r.incidents === 1)?.causedBy).toBe('PURCH');
  });

  it('subtracts spans', () => {
    expect(subtract([{ start: 0, end: 10 }], [{ start: 2, end: 4 }, { start: 8, end: 12 }])).toEqual([
      { start: 0, end: 2 },
      { start: 4, end: 8 },
    ]);
  });
});
