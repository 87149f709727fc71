import type { DataSource } from 'typeorm';
import type { FlowerShop } from '../../src/demo/flower-shop';
import { bearer, type TestApp } from './test-app';

export interface Raised {
  id: string;
  version: number;
}

/** Drives requests through the API as the people of the flower shop would, on a clock moved by hand. */
export class FlowerDesk {
  constructor(
    private readonly t: TestApp,
    private readonly shop: FlowerShop,
    private readonly tokens: Record<string, string>,
  ) {}

  at(instant: string): this {
    this.t.clock.set(instant);
    return this;
  }

  async raise(who: string, service: keyof FlowerShop['services'] | string, extra: Record<string, unknown> = {}): Promise<Raised> {
    const serviceId = this.shop.services[service]?.id ?? service;
    const answer = await this.t.http
      .post('/api/v1/requests')
      .set(bearer(this.tokens[who]))
      .send({ serviceId, title: `${String(service)} for ${who}`, ...extra });
    if (answer.status !== 201) throw new Error(`raise ${String(service)} as ${who}: ${answer.status} ${JSON.stringify(answer.body)}`);
    return { id: answer.body.id, version: answer.body.version };
  }

  async move(who: string, request: Raised, to: string, comment?: string): Promise<Raised> {
    const current = await this.t.http.get(`/api/v1/requests/${request.id}`).set(bearer(this.tokens[who]));
    const answer = await this.t.http
      .post(`/api/v1/requests/${request.id}/transitions`)
      .set(bearer(this.tokens[who]))
      .send({ to, version: current.body.version, ...(comment ? { comment } : {}) });
    if (answer.status !== 200) throw new Error(`move ${request.id} to ${to} as ${who}: ${answer.status} ${JSON.stringify(answer.body)}`);
    request.version = answer.body.version;
    return request;
  }

  async comment(who: string, request: Raised, body: string): Promise<void> {
    const answer = await this.t.http.post(`/api/v1/requests/${request.id}/comments`).set(bearer(this.tokens[who])).send({ body });
    if (answer.status !== 201) throw new Error(`comment on ${request.id} as ${who}: ${answer.status} ${JSON.stringify(answer.body)}`);
  }

  async link(who: string, request: Raised, dependsOn: Raised): Promise<void> {
    const answer = await this.t.http.post(`/api/v1/requests/${request.id}/dependencies`).set(bearer(this.tokens[who])).send({ dependsOnId: dependsOn.id });
    if (answer.status !== 201) throw new Error(`link ${request.id} -> ${dependsOn.id}: ${answer.status} ${JSON.stringify(answer.body)}`);
  }
}

/**
 * Tuesday 2026-12-01 at the flower shop (Amsterdam, UTC+1), every figure worked out by hand in
 * test/e2e/reports.e2e.spec.ts. Sales orders bouquets from Design (B1–B6), Design orders roses
 * from Purchasing (R1–R3). Read the report at 15:00Z.
 */
export async function seedFlowerDay(desk: FlowerDesk) {
  const r3 = await desk.at('2026-12-01T06:00:00Z').raise('designer', 'roses');
  await desk.at('2026-12-01T06:10:00Z').move('buyer', r3, 'acknowledged');

  desk.at('2026-12-01T09:00:00Z');
  const b1 = await desk.raise('clerk', 'bouquet');
  const b2 = await desk.raise('clerk', 'bouquet');
  const b3 = await desk.raise('clerk', 'bouquet');
  const b4 = await desk.raise('clerk', 'bouquet');
  const b6 = await desk.raise('clerk', 'bouquet');
  const r1 = await desk.raise('designer', 'roses');
  const r2 = await desk.raise('designer', 'roses');

  await desk.at('2026-12-01T09:05:00Z').move('designer', b3, 'acknowledged');
  await desk.at('2026-12-01T09:10:00Z').move('designer', b1, 'acknowledged');
  await desk.at('2026-12-01T09:20:00Z').move('buyer', r1, 'acknowledged');
  await desk.move('clerk', b6, 'cancelled');
  await desk.at('2026-12-01T09:30:00Z').move('designer', b3, 'in_progress');
  await desk.move('designer', b3, 'waiting_on_customer', 'Which colour of roses?');
  await desk.at('2026-12-01T09:40:00Z').move('designer', b2, 'acknowledged');
  await desk.at('2026-12-01T09:45:00Z').move('buyer', r2, 'acknowledged');
  await desk.at('2026-12-01T10:00:00Z').move('designer', b1, 'resolved');
  desk.at('2026-12-01T11:00:00Z');
  await desk.move('designer', b2, 'resolved');
  await desk.move('buyer', r1, 'resolved');
  await desk.move('buyer', r3, 'resolved');
  await desk.at('2026-12-01T11:30:00Z').move('buyer', r2, 'resolved');
  await desk.at('2026-12-01T12:00:00Z').comment('clerk', b3, 'Red, please');
  await desk.at('2026-12-01T13:00:00Z').move('designer', b3, 'resolved');
  await desk.at('2026-12-01T13:30:00Z').move('clerk', b3, 'in_progress', 'The ribbon is missing');
  await desk.at('2026-12-01T14:00:00Z').move('designer', b3, 'resolved');
  const b5 = await desk.at('2026-12-01T14:45:00Z').raise('clerk', 'bouquet');
  desk.at('2026-12-01T15:00:00Z');
  return { b1, b2, b3, b4, b5, b6, r1, r2, r3 };
}

/** RFC 4180 fields, quoted or not, rows ended by CRLF (or LF). */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  if (field !== '' || row.length) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

/** CSV rows as objects keyed by the header. */
export function csvRecords(text: string): Record<string, string>[] {
  const [header, ...rows] = parseCsv(text);
  return rows.map((row) => Object.fromEntries(header.map((h, i) => [h, row[i]])));
}

interface DailyRow {
  key: string;
  counts: number[];
  respond: number[];
  resolve: number[];
}

const unpack = (bytes: Buffer | null) => {
  const values: number[] = [];
  for (let i = 0; bytes && i < bytes.length; i += 4) values.push(bytes.readInt32BE(i));
  return values.sort((a, b) => a - b);
};

async function dailyRows(dataSource: DataSource, source: string): Promise<DailyRow[]> {
  const rows: { key: string; counts: number[]; respond: Buffer | null; resolve: Buffer | null }[] = await dataSource.query(`${source} ORDER BY 1`);
  return rows.map((r) => ({ key: r.key, counts: r.counts, respond: unpack(r.respond), resolve: unpack(r.resolve) }));
}

/**
 * The roll-up as the triggers kept it, and as it would be rebuilt from the requests now: they
 * must be equal, or the roll-up has gone stale.
 */
export async function rollupAndRebuild(dataSource: DataSource): Promise<{ kept: DailyRow[]; rebuilt: DailyRow[] }> {
  const kept = await dailyRows(
    dataSource,
    `SELECT concat_ws('|', dimension, span, day, group_id, partner_id) AS key,
       ARRAY[total, cancelled, response_met, response_breached, resolution_met, resolution_breached, breached_either] AS counts,
       respond_seconds AS respond, resolve_seconds AS resolve
     FROM report_daily`,
  );
  const rebuilt = await dailyRows(
    dataSource,
    `SELECT concat_ws('|', g.dimension, s.span, s.day, g.group_id, g.partner_id) AS key,
       ARRAY[count(*), sum(f.cancelled), sum(f.response_met), sum(f.response_breached), sum(f.resolution_met), sum(f.resolution_breached), sum(f.breached_either)]::integer[] AS counts,
       string_agg(f.respond_bytes, ''::bytea) AS respond, string_agg(f.resolve_bytes, ''::bytea) AS resolve
     FROM requests r CROSS JOIN LATERAL report_facts(r) f CROSS JOIN LATERAL report_groups(r) g CROSS JOIN LATERAL report_spans(g.dimension, f.day) s
     GROUP BY g.dimension, s.span, s.day, g.group_id, g.partner_id`,
  );
  return { kept, rebuilt };
}

export async function openRowsAndRebuild(dataSource: DataSource): Promise<{ kept: unknown[]; rebuilt: unknown[] }> {
  const columns = (alias: string) =>
    ['request_id', 'created_at', 'provider_department_id', 'customer_department_id', 'service_id', 'respond_due', 'resolve_due', 'breached_static', 'at_risk']
      .map((c) => `${alias}.${c}`)
      .join(', ');
  return {
    kept: await dataSource.query(`SELECT ${columns('o')} FROM report_open_requests o ORDER BY o.request_id`),
    rebuilt: await dataSource.query(`SELECT ${columns('l')} FROM requests r CROSS JOIN LATERAL report_live(r) l ORDER BY l.request_id`),
  };
}
