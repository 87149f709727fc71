import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Pool } from 'pg';
import { DataSource, EntityManager } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { DomainError } from '../common/domain-error';
import { jsonRows } from '../database/json-rows';
import type { Actor } from '../identity/actor';
import { isOpsOrAdmin } from '../identity/actor';
import { IdempotencyKey } from './idempotency-key.entity';
import { RequestComment } from './request-comment.entity';
import { RequestDependency } from './request-dependency.entity';
import { RequestEvent, RequestEventType } from './request-event.entity';
import { RequestPause } from './request-pause.entity';
import { ServiceRequest } from './request.entity';

export interface RequestFilter {
  statuses?: string[];
  providerDepartmentId?: string;
  customerDepartmentId?: string;
  breached?: boolean;
  atRisk?: boolean;
  /** keyset: items strictly after this (createdAt desc, id desc) */
  after?: { createdAt: string; id: string };
  now: Date;
  limit: number;
}

interface PendingCreate {
  request: ServiceRequest;
  event: NewEvent;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/** At most this many creates share one INSERT. */
const CREATE_BATCH = 64;
/**
 * One shared INSERT in flight at a time: creates arriving while it runs gather into the next one
 * (group commit). Batches that ran side by side waited on each other anyway (the report roll-up
 * rows they both update) and cost a socket write and a commit each.
 */
const MAX_WRITES_IN_FLIGHT = 1;

const eventRow = (e: NewEvent) => ({
  request_id: e.requestId,
  actor_id: e.actorId,
  type: e.type,
  at: e.at.toISOString(),
  before: e.before ?? null,
  after: e.after ?? null,
});

function insertCreatesSql(requestColumns: string[]): string {
  const cols = requestColumns.map((c) => `"${c}"`).join(', ');
  return `WITH inserted AS (
      INSERT INTO requests (${cols}) SELECT ${cols} FROM jsonb_populate_recordset(NULL::requests, $1::jsonb) RETURNING id
    )
    INSERT INTO request_events (request_id, actor_id, type, at, before, after)
    SELECT e.request_id, e.actor_id, e.type, e.at, e.before, e.after
      FROM jsonb_populate_recordset(NULL::request_events, $2::jsonb) AS e JOIN inserted ON inserted.id = e.request_id`;
}

export interface NewEvent {
  requestId: string;
  actorId: string | null;
  type: RequestEventType;
  at: Date;
  before?: Record<string, unknown> | null;
  after?: Record<string, unknown> | null;
}

// Stored flags, or a clock that has run past its deadline without stopping.
const BREACHED = `(r.breached_response OR r.breached_resolution
  OR (r.responded_at IS NULL AND r.respond_by < COALESCE(r.cancelled_at, :now))
  OR (r.resolved_at IS NULL AND r.resolve_by < COALESCE(r.paused_since, r.cancelled_at, :now)))`;

@Injectable()
export class RequestsRepository {
  private creates: PendingCreate[] | null = null;
  private insertCreatesSql: string | undefined;
  private requestColumns: { column: string; property: string }[] | undefined;
  private writesInFlight = 0;
  private readonly waitingBatches: PendingCreate[][] = [];

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }

  findById(id: string, manager?: EntityManager): Promise<ServiceRequest | null> {
    return (manager ?? this.dataSource.manager).getRepository(ServiceRequest).findOne({ where: { id } });
  }

  /** Row-locks the request for the rest of the transaction, so racing writers queue up. */
  findForUpdate(manager: EntityManager, id: string): Promise<ServiceRequest | null> {
    return manager
      .getRepository(ServiceRequest)
      .createQueryBuilder('r')
      .setLock('pessimistic_write')
      .where('r.id = :id', { id })
      .getOne();
  }

  /** Requests whose clocks still run in a calendar (their terms name it), by id after `after`. */
  async runningIdsInCalendar(manager: EntityManager, calendarId: string, after: string | null, limit: number): Promise<string[]> {
    const rows: { id: string }[] = await manager.query(
      `SELECT id FROM requests
        WHERE terms->>'calendarId' = $1 AND status IN ('open', 'acknowledged', 'in_progress', 'waiting_on_customer')
          AND ($2::uuid IS NULL OR id > $2::uuid)
        ORDER BY id LIMIT $3`,
      [calendarId, after, limit],
    );
    return rows.map((r) => r.id);
  }

  /** Optimistic lock: writes only if the version is still the one read; false when it moved on. */
  async updateIfVersion(
    manager: EntityManager,
    id: string,
    version: number,
    changes: Partial<Omit<ServiceRequest, 'id' | 'version'>>,
  ): Promise<boolean> {
    const result = await manager
      .createQueryBuilder()
      .update(ServiceRequest)
      .set({ ...changes, version: () => 'version + 1' } as Record<string, unknown>)
      .where('id = :id AND version = :version', { id, version })
      .execute();
    return result.affected === 1;
  }

  async insertRequest(manager: EntityManager, request: ServiceRequest): Promise<void> {
    await manager.getRepository(ServiceRequest).insert(request);
  }

  /**
   * The common create — no Idempotency-Key, no links: the request and its `created` event in one
   * statement, atomic without an explicit transaction. Creates arriving in the same event-loop
   * turn, or while the previous such statement is still running, share that statement (up to
   * CREATE_BATCH rows): one round trip, one commit and one pass of the report triggers for all of
   * them. Each caller's promise settles when its row is committed;
   * if a shared statement fails, every row is tried again on its own, so one bad row fails only its caller.
   */
  insertRequestWithEvent(request: ServiceRequest, event: NewEvent): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (!this.creates) {
        const batch: PendingCreate[] = [];
        this.creates = batch;
        setImmediate(() => {
          if (this.writesInFlight >= MAX_WRITES_IN_FLIGHT) return void this.waitingBatches.push(batch);
          if (this.creates === batch) this.creates = null;
          void this.writeCreates(batch);
        });
      }
      this.creates.push({ request, event, resolve, reject });
      if (this.creates.length >= CREATE_BATCH) this.creates = null;
    });
  }

  private async writeCreates(batch: PendingCreate[]): Promise<void> {
    this.writesInFlight++;
    try {
      await this.insertCreates(batch);
      for (const create of batch) create.resolve();
    } catch (error) {
      if (batch.length === 1) return batch[0].reject(error);
      await Promise.all(batch.map((create) => this.writeCreates([create])));
    } finally {
      this.writesInFlight--;
      const next = this.waitingBatches.shift();
      if (next) {
        if (this.creates === next) this.creates = null;
        void this.writeCreates(next);
      }
    }
  }

  private insertCreates(batch: PendingCreate[]): Promise<unknown> {
    // Column by column straight from the entity's properties (it has no embeddeds or transformers); a
    // key left out is NULL to jsonb_populate_recordset, and a date goes as its ISO text — a third less
    // CPU per row than TypeORM's getEntityValue and JSON.stringify calling back into each Date's toJSON.
    this.requestColumns ??= this.dataSource.getMetadata(ServiceRequest).columns.map((c) => ({ column: c.databaseName, property: c.propertyName }));
    const rows = batch.map(({ request }) => {
      const row: Record<string, unknown> = {};
      for (const { column, property } of this.requestColumns!) {
        const value = (request as unknown as Record<string, unknown>)[property];
        if (value !== null && value !== undefined) row[column] = value instanceof Date ? value.toISOString() : value;
      }
      return row;
    });
    const events = batch.map(({ event }) => eventRow(event));
    this.insertCreatesSql ??= insertCreatesSql(this.requestColumns.map((c) => c.column));
    // A named statement: parsed and planned once per connection, then only bound and run.
    const pool = (this.dataSource.driver as PostgresDriver).master as Pool;
    return pool.query({
      name: 'handoff_insert_requests',
      text: this.insertCreatesSql,
      values: [jsonRows(rows), jsonRows(events)],
    });
  }

  async appendEvents(manager: EntityManager, events: NewEvent[]): Promise<void> {
    if (events.length === 0) return;
    await manager.query(
      `INSERT INTO request_events (request_id, actor_id, type, at, before, after)
       SELECT request_id, actor_id, type, at, before, after FROM jsonb_populate_recordset(NULL::request_events, $1::jsonb)`,
      [jsonRows(events.map(eventRow))],
    );
  }

  list(actor: Actor, filter: RequestFilter): Promise<ServiceRequest[]> {
    const q = this.dataSource
      .getRepository(ServiceRequest)
      .createQueryBuilder('r')
      .orderBy('r.created_at', 'DESC')
      .addOrderBy('r.id', 'DESC')
      .limit(filter.limit);
    if (!isOpsOrAdmin(actor)) {
      q.andWhere('(r.provider_department_id = :own OR r.customer_department_id = :own)', { own: actor.departmentId });
    }
    if (filter.statuses?.length) q.andWhere('r.status IN (:...statuses)', { statuses: filter.statuses });
    if (filter.providerDepartmentId) q.andWhere('r.provider_department_id = :p', { p: filter.providerDepartmentId });
    if (filter.customerDepartmentId) q.andWhere('r.customer_department_id = :c', { c: filter.customerDepartmentId });
    if (filter.atRisk !== undefined) q.andWhere('r.at_risk = :atRisk', { atRisk: filter.atRisk });
    if (filter.breached !== undefined) {
      q.andWhere(filter.breached ? BREACHED : `NOT ${BREACHED}`, { now: filter.now });
    }
    if (filter.after) {
      q.andWhere('(r.created_at, r.id) < (:afterCreatedAt, :afterId)', {
        afterCreatedAt: filter.after.createdAt,
        afterId: filter.after.id,
      });
    }
    return q.getMany();
  }

  pausesOf(requestIds: string[], manager?: EntityManager): Promise<RequestPause[]> {
    if (requestIds.length === 0) return Promise.resolve([]);
    return (manager ?? this.dataSource.manager)
      .getRepository(RequestPause)
      .createQueryBuilder('p')
      .where('p.request_id IN (:...ids)', { ids: requestIds })
      .orderBy('p.started_at', 'ASC')
      .getMany();
  }

  async startPause(manager: EntityManager, requestId: string, reason: RequestPause['reason'], at: Date, endedAt: Date | null = null, blockingRequestId: string | null = null) {
    await manager.getRepository(RequestPause).insert({ requestId, reason, startedAt: at, endedAt, blockingRequestId });
  }

  async endPauses(manager: EntityManager, requestId: string, reason: RequestPause['reason'], at: Date): Promise<void> {
    await manager
      .createQueryBuilder()
      .update(RequestPause)
      .set({ endedAt: at })
      .where('request_id = :requestId AND reason = :reason AND ended_at IS NULL', { requestId, reason })
      .execute();
  }

  dependenciesOf(requestIds: string[]): Promise<RequestDependency[]> {
    if (requestIds.length === 0) return Promise.resolve([]);
    return this.dataSource
      .getRepository(RequestDependency)
      .createQueryBuilder('d')
      .where('d.request_id IN (:...ids)', { ids: requestIds })
      .orderBy('d.created_at', 'ASC')
      .getMany();
  }

  /** Serialises changes to the dependency graph, so two racing links cannot close a cycle together. */
  async lockDependencyGraph(manager: EntityManager): Promise<void> {
    await manager.query(`SELECT pg_advisory_xact_lock(hashtext('handoff.request_dependencies'))`);
  }

  /** True when `from` already reaches `to` by following depends-on links. */
  async reaches(manager: EntityManager, from: string, to: string): Promise<boolean> {
    const rows: unknown[] = await manager.query(
      `WITH RECURSIVE upstream(id) AS (
         SELECT $1::uuid
         UNION
         SELECT d.depends_on_id FROM request_dependencies d JOIN upstream u ON d.request_id = u.id
       )
       SELECT 1 FROM upstream WHERE id = $2::uuid LIMIT 1`,
      [from, to],
    );
    return rows.length > 0;
  }

  /** Adds the link; false when it was already there. */
  async addDependency(manager: EntityManager, link: RequestDependency): Promise<boolean> {
    const inserted: unknown[] = await manager.query(
      `INSERT INTO request_dependencies (request_id, depends_on_id, created_by, created_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT DO NOTHING RETURNING request_id`,
      [link.requestId, link.dependsOnId, link.createdBy, link.createdAt],
    );
    return inserted.length > 0;
  }

  async removeDependency(manager: EntityManager, requestId: string, dependsOnId: string): Promise<boolean> {
    const result = await manager.getRepository(RequestDependency).delete({ requestId, dependsOnId });
    return (result.affected ?? 0) > 0;
  }

  async insertComment(manager: EntityManager, comment: Omit<RequestComment, 'id'>): Promise<RequestComment> {
    return manager.getRepository(RequestComment).save(manager.getRepository(RequestComment).create(comment));
  }

  /** The agreement and version a request was opened under: before its first priority change, else its own. */
  async openedUnder(request: Pick<ServiceRequest, 'id' | 'agreementId' | 'agreementVersion'>): Promise<{ agreementId: string; agreementVersion: number }> {
    const rows: { before: { agreementId?: string; agreementVersion?: number } | null }[] = await this.dataSource.query(
      `SELECT before FROM request_events WHERE request_id = $1 AND type = 'priority_changed' ORDER BY id LIMIT 1`,
      [request.id],
    );
    const before = rows[0]?.before;
    return before?.agreementId && before.agreementVersion
      ? { agreementId: before.agreementId, agreementVersion: before.agreementVersion }
      : { agreementId: request.agreementId, agreementVersion: request.agreementVersion };
  }

  events(requestId: string, afterId: string | undefined, limit: number): Promise<RequestEvent[]> {
    const q = this.dataSource
      .getRepository(RequestEvent)
      .createQueryBuilder('e')
      .where('e.request_id = :requestId', { requestId })
      .orderBy('e.id', 'ASC')
      .limit(limit);
    if (afterId) q.andWhere('e.id > :afterId', { afterId });
    return q.getMany();
  }

  /**
   * Claims an Idempotency-Key inside the caller's transaction. A racing claim of the same key
   * waits on the primary key until the first transaction ends, then finds the row.
   */
  async claimIdempotencyKey(manager: EntityManager, userId: string, key: string, requestHash: string): Promise<IdempotencyKey | 'claimed'> {
    const inserted: unknown[] = await manager.query(
      `INSERT INTO idempotency_keys (user_id, key, request_hash) VALUES ($1, $2, $3)
       ON CONFLICT (user_id, key) DO NOTHING RETURNING key`,
      [userId, key, requestHash],
    );
    if (inserted.length > 0) return 'claimed';
    const existing = await manager.getRepository(IdempotencyKey).findOne({ where: { userId, key } });
    if (!existing) throw new DomainError('conflict', 'The Idempotency-Key is being used by another request; retry');
    return existing;
  }

  async recordIdempotentAnswer(manager: EntityManager, userId: string, key: string, requestId: string, status: number, body: object) {
    await manager
      .getRepository(IdempotencyKey)
      .update({ userId, key }, { requestId, responseStatus: status, responseBody: body } as QueryDeepPartialEntity<IdempotencyKey>);
  }
}
