import { naiveKey, naiveSlaReport } from '../../bench/reports-naive';
import type { FlowerShop } from '../../src/demo/flower-shop';
import { csvRecords, FlowerDesk, openRowsAndRebuild, rollupAndRebuild, seedFlowerDay, type Raised } from '../support/report-fixtures';
import { bearer, startTestApp, withFlowerShop, type TestApp } from '../support/test-app';

/*
 * Tuesday 2026-12-01 at the flower shop (Amsterdam is UTC+1; Design's studio is open 08:00–12:00
 * and 12:30–17:00, Purchasing 05:30–13:00). Read at 15:00Z. Every number below is worked out by hand:
 *
 * Bouquets, Sales → Design (response PT30M, resolution PT3H):
 *   B1 09:00  acknowledged 09:10 (600 s, met)      resolved 10:00 (3 600 s, met)
 *   B2 09:00  acknowledged 09:40 (2 400 s, LATE)   resolved 11:00 (7 200 s, met)
 *   B3 09:00  acknowledged 09:05 (300 s, met)      waiting on Sales 09:30–12:00Z (2 business hours paused),
 *             resolved 13:00 (5 400 s), reopened 13:30, resolved again 14:00Z: 10:00–15:00 local is
 *             4.5 business hours, less 2 h waiting and 0.5 h resolved = 7 200 s, met (due 15:00Z)
 *   B4 09:00  nothing yet: response due 09:30Z and resolution due 12:30Z have passed — both breached, open
 *   B5 14:45  nothing yet, response due 15:15Z: not decided, open
 *   B6 09:00  cancelled 09:20 before any deadline: not decided, cancelled
 *   → total 6, cancelled 1; response met B1 B3, breached B2 B4 → 0.5; resolution met B1 B2 B3, breached B4
 *     → 0.75; breaches (requests) B2 B4 = 2; respond [300, 600, 2400] → p50 600, p90 600 + 0.8·1800 = 2040;
 *     resolve [3600, 7200, 7200] → p50 7200, p90 7200; open B4 B5 = 2.
 *
 * Roses, Design → Purchasing (response PT30M, resolution PT4H):
 *   R3 06:00  acknowledged 06:10 (600 s, met)      resolved 11:00: 07:00–12:00 local = 18 000 s, due 10:00Z, LATE
 *   R1 09:00  acknowledged 09:20 (1 200 s, met)    resolved 11:00 (7 200 s, met)
 *   R2 09:00  acknowledged 09:45 (2 700 s, LATE)   resolved 11:30 (9 000 s, met)
 *   → total 3; response 2 of 3; resolution 2 of 3; breaches R2 R3 = 2; respond [600, 1200, 2700] → p50 1200,
 *     p90 1200 + 0.8·1500 = 2400; resolve [7200, 9000, 18000] → p50 9000, p90 9000 + 0.8·9000 = 16200.
 */
const DESIGN_DAY = {
  total: 6,
  cancelled: 1,
  responseMet: 2,
  responseBreaches: 2,
  responseCompliance: 0.5,
  resolutionMet: 3,
  resolutionBreaches: 1,
  resolutionCompliance: 0.75,
  breaches: 2,
  respondP50Seconds: 600,
  respondP90Seconds: 2040,
  resolveP50Seconds: 7200,
  resolveP90Seconds: 7200,
  open: 2,
  atRisk: 0,
};
const PURCH_DAY = {
  total: 3,
  cancelled: 0,
  responseMet: 2,
  responseBreaches: 1,
  responseCompliance: 2 / 3,
  resolutionMet: 2,
  resolutionBreaches: 1,
  resolutionCompliance: 2 / 3,
  breaches: 2,
  respondP50Seconds: 1200,
  respondP90Seconds: 2400,
  resolveP50Seconds: 9000,
  resolveP90Seconds: 16200,
  open: 0,
  atRisk: 0,
};
const DAY = 'from=2026-12-01&to=2026-12-02';

interface Row {
  group: { id: string; code: string; name: string };
  provider?: { code: string };
  customer?: { code: string };
  [figure: string]: unknown;
}

describe('SLA report (GET /api/v1/reports/sla) on a day worked out by hand', () => {
  let t: TestApp;
  let shop: FlowerShop;
  let tokens: Record<string, string>;
  let desk: FlowerDesk;
  let day: Record<string, Raised>;

  beforeAll(async () => {
    t = await startTestApp('reports');
    ({ shop, tokens } = await withFlowerShop(t));
    desk = new FlowerDesk(t, shop, tokens);
    day = await seedFlowerDay(desk);
  });
  afterAll(() => t.close());
  beforeEach(() => t.clock.set('2026-12-01T15:00:00Z'));

  const read = async (query: string, token = tokens.ops) => {
    const answer = await t.http.get(`/api/v1/reports/sla?${query}`).set(bearer(token));
    expect({ status: answer.status, body: answer.body }).toMatchObject({ status: 200 });
    return answer.body as { from: string; to: string; groupBy: string; asOf: string; rows: Row[] };
  };
  const byCode = (rows: Row[]) => Object.fromEntries(rows.map(({ group, provider, customer, ...figures }) => [group.code, { ...figures, ...(provider ? { provider: provider.code } : {}), ...(customer ? { customer: customer.code } : {}) }]));

  it('by provider: compliance, breaches, percentiles, backlog as worked out by hand', async () => {
    const report = await read(`${DAY}&groupBy=provider`);
    expect(report).toMatchObject({ from: '2026-12-01T00:00:00.000Z', to: '2026-12-02T00:00:00.000Z', groupBy: 'provider', asOf: '2026-12-01T15:00:00.000Z' });
    expect(report.rows.map((r) => r.group)).toEqual([
      { id: shop.departments.DESIGN.id, code: 'DESIGN', name: 'Design' },
      { id: shop.departments.PURCH.id, code: 'PURCH', name: 'Purchasing' },
    ]);
    expect(byCode(report.rows)).toEqual({ DESIGN: DESIGN_DAY, PURCH: PURCH_DAY });
  });

  it('by customer, by service and by department pair', async () => {
    expect(byCode((await read(`${DAY}&groupBy=customer`)).rows)).toEqual({ SALES: DESIGN_DAY, DESIGN: PURCH_DAY });
    expect(byCode((await read(`${DAY}&groupBy=service`)).rows)).toEqual({
      BOUQUET: { ...DESIGN_DAY, provider: 'DESIGN' },
      ROSES: { ...PURCH_DAY, provider: 'PURCH' },
    });
    const pairs = await read(`${DAY}&groupBy=pair`);
    expect(byCode(pairs.rows)).toEqual({
      'DESIGN->SALES': { ...DESIGN_DAY, provider: 'DESIGN', customer: 'SALES' },
      'PURCH->DESIGN': { ...PURCH_DAY, provider: 'PURCH', customer: 'DESIGN' },
    });
    expect(pairs.rows[0].group).toEqual({
      id: `${shop.departments.DESIGN.id}:${shop.departments.SALES.id}`,
      code: 'DESIGN->SALES',
      name: 'Design → Sales',
    });
  });

  it('gives the same figures for windows that are not whole UTC days (read from the requests, not the roll-up)', async () => {
    const expected = { DESIGN: DESIGN_DAY, PURCH: PURCH_DAY };
    expect(byCode((await read('from=2026-12-01T05:59:59Z&to=2026-12-01T14:45:01Z')).rows)).toEqual(expected);
    // A day in Amsterdam runs 23:00Z to 23:00Z.
    const amsterdam = await read('from=2026-12-01&to=2026-12-02&timezone=Europe/Amsterdam');
    expect(amsterdam).toMatchObject({ from: '2026-11-30T23:00:00.000Z', to: '2026-12-01T23:00:00.000Z' });
    expect(byCode(amsterdam.rows)).toEqual(expected);
    // Cut between B5 (14:45) and the rest: B5 drops out of Design's row and nothing else moves.
    expect(byCode((await read('from=2026-12-01T00:00:00Z&to=2026-12-01T14:44:59Z')).rows).DESIGN).toEqual({ ...DESIGN_DAY, total: 5, open: 1 });
    expect(byCode((await read('from=2026-12-01T14:45:00Z&to=2026-12-01T14:45:01Z')).rows)).toEqual({
      DESIGN: { ...zeroFigures(), total: 1, open: 1 },
    });
  });

  it('counts an open request as breached only once its deadline has passed', async () => {
    t.clock.set('2026-12-01T15:15:00Z'); // B5's response is due at 15:15:00Z: not late yet
    expect(byCode((await read(`${DAY}&groupBy=provider`)).rows).DESIGN).toEqual(DESIGN_DAY);
    t.clock.set('2026-12-01T15:15:01Z');
    expect(byCode((await read(`${DAY}&groupBy=provider`)).rows).DESIGN).toEqual({
      ...DESIGN_DAY,
      responseBreaches: 3,
      responseCompliance: 0.4,
      breaches: 3,
    });
  });

  it('answers CSV for format=csv and for Accept: text/csv, with the JSON figures', async () => {
    const json = await read(`${DAY}&groupBy=pair`);
    const viaFormat = await t.http.get(`/api/v1/reports/sla?${DAY}&groupBy=pair&format=csv`).set(bearer(tokens.ops));
    const viaAccept = await t.http.get(`/api/v1/reports/sla?${DAY}&groupBy=pair`).set(bearer(tokens.ops)).set('Accept', 'text/csv');
    for (const answer of [viaFormat, viaAccept]) {
      expect(answer.status).toBe(200);
      expect(answer.headers['content-type']).toBe('text/csv; charset=utf-8');
      expect(answer.headers['content-disposition']).toBe('attachment; filename="sla-pair-2026-12-01-2026-12-02.csv"');
      expect(answer.headers.vary).toMatch(/Accept/);
      expect(answer.text.endsWith('\r\n')).toBe(true);
    }
    expect(viaAccept.text).toBe(viaFormat.text);
    // The file is named after the dates asked for, in the zone they were asked in (not their UTC instants).
    const amsterdam = await t.http.get('/api/v1/reports/sla?from=2026-12-01&to=2026-12-02&timezone=Europe/Amsterdam&format=csv').set(bearer(tokens.ops));
    expect(amsterdam.headers['content-disposition']).toBe('attachment; filename="sla-provider-2026-12-01-2026-12-02.csv"');
    const records = csvRecords(viaFormat.text);
    expect(records).toHaveLength(json.rows.length);
    records.forEach((record, i) => {
      const row = json.rows[i];
      expect(record).toEqual({
        from: json.from,
        to: json.to,
        groupId: row.group.id,
        groupCode: row.group.code,
        groupName: row.group.name,
        providerCode: row.provider?.code ?? '',
        customerCode: row.customer?.code ?? '',
        ...Object.fromEntries(Object.entries(row).filter(([k]) => !['group', 'provider', 'customer'].includes(k)).map(([k, v]) => [k, v === null ? '' : String(v)])),
      });
    });
    // JSON stays the answer for a browser-ish Accept, and format=json wins over Accept.
    const browser = await t.http.get(`/api/v1/reports/sla?${DAY}`).set(bearer(tokens.ops)).set('Accept', 'text/html,application/xhtml+xml,*/*;q=0.8');
    expect(browser.headers['content-type']).toMatch(/^application\/json/);
    const forced = await t.http.get(`/api/v1/reports/sla?${DAY}&format=json`).set(bearer(tokens.ops)).set('Accept', 'text/csv');
    expect(forced.headers['content-type']).toMatch(/^application\/json/);
  });

  it('agrees with a plain GROUP BY over the requests for every grouping, and the roll-up equals a rebuild', async () => {
    for (const groupBy of ['provider', 'customer', 'service', 'pair'] as const) {
      const report = await read(`${DAY}&groupBy=${groupBy}`);
      const naive = await naiveSlaReport((sql, params) => t.dataSource.query(sql, params), groupBy, new Date('2026-12-01T00:00:00Z'), new Date('2026-12-02T00:00:00Z'), t.clock.now());
      expect(Object.fromEntries(report.rows.map(({ group, provider: _p, customer: _c, ...figures }) => [group.id, stripCompliance(figures)]))).toEqual(
        Object.fromEntries(naive.map((row) => [naiveKey(row), stripIds(row)])),
      );
    }
    const daily = await rollupAndRebuild(t.dataSource);
    expect(daily.kept).toEqual(daily.rebuilt);
    expect(daily.kept).toHaveLength(10); // the day's two providers, two customers, two services and two pairs; the pairs' week
    const open = await openRowsAndRebuild(t.dataSource);
    expect(open.kept).toEqual(open.rebuilt);
  });

  it('lets ops and admin see every row, a head only the rows of their department, and refuses employees', async () => {
    for (const token of [tokens.ops, tokens.admin]) {
      expect((await read(`${DAY}&groupBy=pair`, token)).rows.map((r) => r.group.code)).toEqual(['DESIGN->SALES', 'PURCH->DESIGN']);
    }
    const codes = async (token: string, groupBy: string) => (await read(`${DAY}&groupBy=${groupBy}`, token)).rows.map((r) => r.group.code);
    expect(await codes(tokens.designHead, 'provider')).toEqual(['DESIGN']);
    expect(await codes(tokens.designHead, 'customer')).toEqual(['DESIGN']);
    expect(await codes(tokens.designHead, 'service')).toEqual(['BOUQUET']);
    expect(await codes(tokens.designHead, 'pair')).toEqual(['DESIGN->SALES', 'PURCH->DESIGN']);
    expect(await codes(tokens.purchasingHead, 'pair')).toEqual(['PURCH->DESIGN']);
    expect(await codes(tokens.purchasingHead, 'customer')).toEqual([]);
    expect(await codes(tokens.salesHead, 'provider')).toEqual([]);
    expect(await codes(tokens.salesHead, 'customer')).toEqual(['SALES']);
    expect(await codes(tokens.deliveryHead, 'pair')).toEqual([]);
    // A head's own row carries the whole figures, not a share of them.
    expect(byCode((await read(`${DAY}&groupBy=provider`, tokens.designHead)).rows).DESIGN).toEqual(DESIGN_DAY);
    expect(byCode((await read('from=2026-12-01T05:00:00Z&to=2026-12-01T16:00:00Z&groupBy=pair', tokens.purchasingHead)).rows)).toEqual({
      'PURCH->DESIGN': { ...PURCH_DAY, provider: 'PURCH', customer: 'DESIGN' },
    });

    const paths = ['/reports/sla', '/reports/sla?format=csv', '/reports/sla/trend', '/reports/root-cause', '/reports/at-risk', '/reports/escalations'];
    for (const employee of ['clerk', 'designer', 'buyer', 'courier']) {
      for (const path of paths) {
        const answer = await t.http.get(`/api/v1${path}`).set(bearer(tokens[employee]));
        expect({ employee, path, status: answer.status, error: answer.body.error }).toEqual({ employee, path, status: 403, error: 'Forbidden' });
      }
    }
    expect((await t.http.get('/api/v1/reports/sla')).status).toBe(401);
  });

  it('refuses bad input with one message per field', async () => {
    const refused = async (query: string) => {
      const answer = await t.http.get(`/api/v1/reports/sla?${query}`).set(bearer(tokens.ops));
      expect(answer.status).toBe(400);
      return (answer.body.details as { field: string }[]).map((d) => d.field);
    };
    expect(await refused('groupBy=department&format=xml')).toEqual(['groupBy', 'format']);
    expect(await refused('from=yesterday&to=tomorrow')).toEqual(['from', 'to']);
    expect(await refused('from=2026-02-30')).toEqual(['from']);
    expect(await refused('from=2026-12-02&to=2026-12-01')).toEqual(['to']);
    expect(await refused('from=2020-01-01&to=2026-01-01')).toEqual(['from']);
    expect(await refused('timezone=Mars/Olympus_Mons')).toEqual(['timezone']);
    expect(await refused('colour=red')).toEqual(['colour']);
    const trend = await t.http.get('/api/v1/reports/sla/trend?from=2024-01-01&to=2026-01-01&interval=day').set(bearer(tokens.ops));
    expect(trend.status).toBe(400);
    expect(trend.body.message).toMatch(/more than 400 buckets/);
  });

  it('a request resolved today corrects the day it belongs to before the next read', async () => {
    t.clock.set('2026-12-01T15:10:00Z');
    await desk.move('designer', day.b4, 'resolved'); // 09:00Z → 15:10Z is 10:00–16:10 local: 2 h + 3 h 40 = 20 400 s
    const design = byCode((await read(`${DAY}&groupBy=provider`)).rows).DESIGN;
    // B4 now counts with its stored flags and seconds, no longer as an open request past its deadlines.
    expect(design).toEqual({
      ...DESIGN_DAY,
      // respond [300, 600, 2400, 20400] → p50 1500, p90 2400 + 0.7·18000; resolve [3600, 7200, 7200, 20400] → p90 7200 + 0.7·13200
      respondP50Seconds: 1500,
      respondP90Seconds: 15000,
      resolveP50Seconds: 7200,
      resolveP90Seconds: 16440,
      open: 1,
    });
    const daily = await rollupAndRebuild(t.dataSource);
    expect(daily.kept).toEqual(daily.rebuilt);
  });
});

describe('SLA trend (GET /api/v1/reports/sla/trend)', () => {
  let t: TestApp;
  let tokens: Record<string, string>;

  beforeAll(async () => {
    t = await startTestApp('reports_trend');
    let shop: FlowerShop;
    ({ shop, tokens } = await withFlowerShop(t));
    const desk = new FlowerDesk(t, shop, tokens);
    await seedFlowerDay(desk);
    // Wednesday: one bouquet on time; and one raised late on Tuesday night (UTC), already Wednesday in Amsterdam.
    const late = await desk.at('2026-12-01T23:30:00Z').raise('clerk', 'bouquet');
    const early = await desk.at('2026-12-02T09:00:00Z').raise('clerk', 'bouquet');
    await desk.at('2026-12-02T09:12:00Z').move('designer', early, 'resolved'); // response and resolution 12 min after 10:00 local
    await desk.at('2026-12-02T09:30:00Z').move('designer', late, 'resolved'); // raised after hours: clocks from 08:00 local, 2.5 h
    t.clock.set('2026-12-03T12:00:00Z');
  });
  afterAll(() => t.close());

  const trend = async (query: string) => {
    const answer = await t.http.get(`/api/v1/reports/sla/trend?${query}`).set(bearer(tokens.ops));
    expect({ status: answer.status, body: answer.body }).toMatchObject({ status: 200 });
    return answer.body as { buckets: { start: string; end: string; rows: Row[] }[]; interval: string; timezone: string; from: string; to: string };
  };
  const designIn = (bucket: { rows: Row[] }) => bucket.rows.find((r) => r.group.code === 'DESIGN');

  it('buckets days in UTC by default, each with the figures of the SLA report', async () => {
    const answer = await trend('from=2026-12-01&to=2026-12-03&groupBy=provider');
    expect(answer).toMatchObject({ interval: 'day', timezone: 'UTC' });
    expect(answer.buckets.map((b) => [b.start, b.end])).toEqual([
      ['2026-12-01T00:00:00.000Z', '2026-12-02T00:00:00.000Z'],
      ['2026-12-02T00:00:00.000Z', '2026-12-03T00:00:00.000Z'],
    ]);
    // Tuesday in UTC holds the late-night bouquet (answered at 10:30 local, due 08:30): 7 requests; B4 and B5 are late by now.
    expect(designIn(answer.buckets[0])).toMatchObject({ total: 7, responseMet: 2, responseBreaches: 4, open: 2 });
    expect(designIn(answer.buckets[1])).toMatchObject({ total: 1, responseMet: 1, responseBreaches: 0, respondP50Seconds: 720, resolveP50Seconds: 720 });
    const sla = await t.http.get('/api/v1/reports/sla?from=2026-12-02&to=2026-12-03&groupBy=provider').set(bearer(tokens.ops));
    expect(answer.buckets[1].rows).toEqual(sla.body.rows);
  });

  it('buckets in the zone the caller names: the late-night bouquet is Wednesday in Amsterdam', async () => {
    const answer = await trend('from=2026-12-01&to=2026-12-03&groupBy=provider&timezone=Europe/Amsterdam');
    expect(answer.buckets.map((b) => b.start)).toEqual(['2026-11-30T23:00:00.000Z', '2026-12-01T23:00:00.000Z']);
    expect(designIn(answer.buckets[0])).toMatchObject({ total: 6 });
    expect(designIn(answer.buckets[1])).toMatchObject({ total: 2, respondP50Seconds: 720 + (9000 - 720) / 2 });
  });

  it('buckets ISO weeks from Monday, and answers CSV', async () => {
    const answer = await trend('from=2026-11-30&to=2026-12-07&interval=week&groupBy=pair');
    expect(answer.buckets).toHaveLength(1);
    expect(answer.buckets[0].rows.map((r) => [r.group.code, r.total])).toEqual([
      ['DESIGN->SALES', 8],
      ['PURCH->DESIGN', 3],
    ]);
    const csv = await t.http.get('/api/v1/reports/sla/trend?from=2026-12-01&to=2026-12-03&groupBy=provider&format=csv').set(bearer(tokens.ops));
    expect(csv.headers['content-type']).toBe('text/csv; charset=utf-8');
    const records = csvRecords(csv.text);
    expect(records.map((r) => [r.bucketStart.slice(0, 10), r.groupCode, r.total])).toEqual([
      ['2026-12-01', 'DESIGN', '7'],
      ['2026-12-01', 'PURCH', '3'],
      ['2026-12-02', 'DESIGN', '1'],
    ]);
  });

  it('reads a whole ISO week from the weekly roll-up with the same figures as a plain GROUP BY', async () => {
    for (const groupBy of ['provider', 'pair', 'service'] as const) {
      const answer = await t.http.get(`/api/v1/reports/sla?from=2026-11-30&to=2026-12-07&groupBy=${groupBy}`).set(bearer(tokens.ops));
      const naive = await naiveSlaReport((sql, params) => t.dataSource.query(sql, params), groupBy, new Date('2026-11-30T00:00:00Z'), new Date('2026-12-07T00:00:00Z'), t.clock.now());
      expect(Object.fromEntries((answer.body.rows as Row[]).map(({ group, provider: _p, customer: _c, ...figures }) => [group.id, stripCompliance(figures)]))).toEqual(
        Object.fromEntries(naive.map((row) => [naiveKey(row), stripIds(row)])),
      );
    }
  });

  it('defaults to the last 30 days (or 12 weeks), whole buckets in the zone', async () => {
    const days = await trend('groupBy=provider');
    expect(days.buckets).toHaveLength(30);
    expect(days.buckets[0].start).toBe('2026-11-04T00:00:00.000Z');
    expect(days.buckets[29]).toMatchObject({ start: '2026-12-03T00:00:00.000Z', end: '2026-12-03T12:00:00.000Z' });
    const weeks = await trend('groupBy=provider&interval=week&timezone=Europe/Amsterdam');
    expect(weeks.buckets).toHaveLength(12);
    expect(weeks.buckets[11].start).toBe('2026-11-29T23:00:00.000Z'); // Monday 30 November, local midnight
  });
});

function zeroFigures() {
  return {
    total: 0,
    cancelled: 0,
    responseMet: 0,
    responseBreaches: 0,
    responseCompliance: null,
    resolutionMet: 0,
    resolutionBreaches: 0,
    resolutionCompliance: null,
    breaches: 0,
    respondP50Seconds: null,
    respondP90Seconds: null,
    resolveP50Seconds: null,
    resolveP90Seconds: null,
    open: 0,
    atRisk: 0,
  };
}

function stripCompliance(figures: Record<string, unknown>) {
  const { responseCompliance: _r, resolutionCompliance: _s, ...rest } = figures;
  return rest;
}

function stripIds<T extends { groupId: string; partnerId: string | null }>(row: T) {
  const { groupId: _g, partnerId: _p, ...rest } = row;
  return rest;
}
