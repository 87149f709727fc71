import type { MigrationInterface, QueryRunner } from 'typeorm';

// The columns of `requests` whose change can change a report; any other update is skipped at once.
const COUNTED_COLUMNS = [
  'status', 'created_at', 'provider_department_id', 'customer_department_id', 'service_id', 'respond_by', 'resolve_by',
  'responded_at', 'resolved_at', 'cancelled_at', 'paused_since', 'breached_response', 'breached_resolution',
  'respond_business_seconds', 'resolve_business_seconds', 'at_risk',
];
const COUNTED_CHANGE = `(${COUNTED_COLUMNS.map((c) => `o.${c}`).join(', ')}) IS DISTINCT FROM (${COUNTED_COLUMNS.map((c) => `n.${c}`).join(', ')})`;
// The rows whose day figures (groups and facts) really changed; pause starts and at-risk flips, for
// one, change only the open-request row. Keeps chain recomputes and breach batches off report_daily.
const FACTS = ['day', 'cancelled', 'response_met', 'response_breached', 'resolution_met', 'resolution_breached', 'breached_either', 'respond_bytes', 'resolve_bytes'];
const GROUPS = ['provider_department_id', 'customer_department_id', 'service_id'];
const DAILY_CHANGED_ROWS = {
  from: `old_requests o JOIN new_requests n ON n.id = o.id AND ${COUNTED_CHANGE}
    CROSS JOIN LATERAL report_facts(o) fo CROSS JOIN LATERAL report_facts(n) fn`,
  where: `(${[...GROUPS.map((c) => `o.${c}`), ...FACTS.map((c) => `fo.${c}`)].join(', ')})
    IS DISTINCT FROM (${[...GROUPS.map((c) => `n.${c}`), ...FACTS.map((c) => `fn.${c}`)].join(', ')})`,
};

const DAILY_COLUMNS = `dimension, span, day, group_id, partner_id, total, cancelled, response_met, response_breached,
  resolution_met, resolution_breached, breached_either, respond_seconds, resolve_seconds`;
const ADD_COUNTS = ['total', 'cancelled', 'response_met', 'response_breached', 'resolution_met', 'resolution_breached', 'breached_either']
  .map((c) => `${c} = d.${c} + excluded.${c}`)
  .join(', ');

/** Adds every request of `source` (a table or transition table) to its days, one upsert in key order. */
const addToDaily = (source: string) => `INSERT INTO report_daily AS d (${DAILY_COLUMNS})
  SELECT g.dimension, s.span, s.day, g.group_id, g.partner_id, count(*), sum(f.cancelled), sum(f.response_met), sum(f.response_breached),
    sum(f.resolution_met), sum(f.resolution_breached), sum(f.breached_either),
    string_agg(f.respond_bytes, ''::bytea), string_agg(f.resolve_bytes, ''::bytea)
  FROM ${source} r CROSS JOIN LATERAL report_facts(r) f CROSS JOIN LATERAL report_groups(r) g CROSS JOIN LATERAL report_spans(g.dimension, f.day) s
  GROUP BY 1, 2, 3, 4, 5
  ORDER BY 1, 2, 3, 4, 5
  ON CONFLICT (dimension, span, day, group_id, partner_id) DO UPDATE SET ${ADD_COUNTS},
    respond_seconds = d.respond_seconds || excluded.respond_seconds,
    resolve_seconds = d.resolve_seconds || excluded.resolve_seconds;`;

/**
 * PL/pgSQL applying changes to the days they belong to: each side is (sign, row alias, FROM
 * clause, WHERE clause), -1 for rows' old states and +1 for their new ones. Per key, counts move by the
 * difference and packed seconds lose the old values and gain the new ones. Keys in order; keys
 * whose figures do not change are not touched (nor locked).
 */
const applyToDaily = (sides: { sign: number; row: string; from: string; where?: string }[]) => `FOR k IN
    SELECT c.dimension, c.span, c.day, c.group_id, c.partner_id,
      sum(c.sign)::integer AS total,
      sum(c.sign * c.cancelled)::integer AS cancelled,
      sum(c.sign * c.response_met)::integer AS response_met,
      sum(c.sign * c.response_breached)::integer AS response_breached,
      sum(c.sign * c.resolution_met)::integer AS resolution_met,
      sum(c.sign * c.resolution_breached)::integer AS resolution_breached,
      sum(c.sign * c.breached_either)::integer AS breached_either,
      coalesce(string_agg(c.respond_bytes, ''::bytea) FILTER (WHERE c.sign > 0), ''::bytea) AS respond_added,
      coalesce(string_agg(c.respond_bytes, ''::bytea) FILTER (WHERE c.sign < 0), ''::bytea) AS respond_removed,
      coalesce(string_agg(c.resolve_bytes, ''::bytea) FILTER (WHERE c.sign > 0), ''::bytea) AS resolve_added,
      coalesce(string_agg(c.resolve_bytes, ''::bytea) FILTER (WHERE c.sign < 0), ''::bytea) AS resolve_removed
    FROM (${sides
      .map(
        (side) => `SELECT ${side.sign} AS sign, g.dimension, p.span, p.day, g.group_id, g.partner_id, f.cancelled, f.response_met,
          f.response_breached, f.resolution_met, f.resolution_breached, f.breached_either, f.respond_bytes, f.resolve_bytes
          FROM ${side.from} CROSS JOIN LATERAL report_facts(${side.row}) f CROSS JOIN LATERAL report_groups(${side.row}) g
          CROSS JOIN LATERAL report_spans(g.dimension, f.day) p ${side.where ? `WHERE ${side.where}` : ''}`,
      )
      .join(' UNION ALL ')}) c
    GROUP BY 1, 2, 3, 4, 5
    ORDER BY 1, 2, 3, 4, 5
  LOOP
    CONTINUE WHEN k.total = 0 AND k.cancelled = 0 AND k.response_met = 0 AND k.response_breached = 0
      AND k.resolution_met = 0 AND k.resolution_breached = 0 AND k.breached_either = 0
      AND k.respond_added = k.respond_removed AND k.resolve_added = k.resolve_removed;
    INSERT INTO report_daily AS d (${DAILY_COLUMNS})
      VALUES (k.dimension, k.span, k.day, k.group_id, k.partner_id, k.total, k.cancelled, k.response_met, k.response_breached,
        k.resolution_met, k.resolution_breached, k.breached_either, k.respond_added, k.resolve_added)
      ON CONFLICT (dimension, span, day, group_id, partner_id) DO UPDATE SET ${ADD_COUNTS},
        respond_seconds = report_bytes_remove(d.respond_seconds, k.respond_removed) || excluded.respond_seconds,
        resolve_seconds = report_bytes_remove(d.resolve_seconds, k.resolve_removed) || excluded.resolve_seconds;
    IF k.total < 0 THEN
      DELETE FROM report_daily
      WHERE dimension = k.dimension AND span = k.span AND day = k.day AND group_id = k.group_id AND partner_id = k.partner_id AND total <= 0;
    END IF;
  END LOOP;`;

/**
 * Reports: a roll-up per grouping and UTC day (and ISO week, for pairs) (report_daily) and the open requests' live clocks
 * (report_open_requests), both kept by triggers on `requests` in the writer's own transaction,
 * so a report read after a commit always sees it (docs/reports.md).
 *
 * One definition of what a request counts for lives here, in SQL: report_facts (its day and
 * the outcomes of its stopped clocks), report_groups (the rows it counts in) and report_live
 * (an open request's running deadlines). Triggers, the backfill and the report queries all use them.
 */
export class Reports1764300000000 implements MigrationInterface {
  name = 'Reports1764300000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`CREATE TABLE report_daily (
      dimension text NOT NULL CHECK (dimension IN ('provider', 'customer', 'service', 'pair')),
      span text NOT NULL CHECK (span IN ('day', 'week')),
      day date NOT NULL,
      group_id uuid NOT NULL,
      partner_id uuid NOT NULL,
      total integer NOT NULL,
      cancelled integer NOT NULL,
      response_met integer NOT NULL,
      response_breached integer NOT NULL,
      resolution_met integer NOT NULL,
      resolution_breached integer NOT NULL,
      breached_either integer NOT NULL,
      respond_seconds bytea NOT NULL,
      resolve_seconds bytea NOT NULL,
      PRIMARY KEY (dimension, span, day, group_id, partner_id)
    )`);
    await db.query(`CREATE TABLE report_open_requests (
      request_id uuid PRIMARY KEY,
      created_at timestamptz NOT NULL,
      provider_department_id uuid NOT NULL,
      customer_department_id uuid NOT NULL,
      service_id uuid NOT NULL,
      respond_due timestamptz,
      resolve_due timestamptz,
      breached_static boolean NOT NULL,
      at_risk boolean NOT NULL
    )`);
    await db.query(`CREATE INDEX report_open_requests_created_idx ON report_open_requests (created_at)`);

    // 1 = met, 2 = breached, 0 = not decided yet (the clock runs, is paused, or was cancelled in time).
    await db.query(`CREATE FUNCTION report_response_outcome(responded_at timestamptz, respond_by timestamptz, breached boolean, cancelled_at timestamptz)
      RETURNS smallint LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT (CASE
          WHEN breached OR responded_at > respond_by THEN 2
          WHEN responded_at IS NOT NULL THEN 1
          WHEN cancelled_at > respond_by THEN 2
          ELSE 0 END)::smallint
      $$`);
    await db.query(`CREATE FUNCTION report_resolution_outcome(resolved_at timestamptz, resolve_by timestamptz, breached boolean, cancelled_at timestamptz)
      RETURNS smallint LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT (CASE
          WHEN breached OR resolved_at > resolve_by THEN 2
          WHEN resolved_at IS NOT NULL THEN 1
          WHEN cancelled_at > resolve_by THEN 2
          ELSE 0 END)::smallint
      $$`);
    // Business seconds travel as 4-byte big-endian integers packed in bytea: the report concatenates
    // a month of them without touching each value, and the API decodes them in one pass.
    await db.query(`CREATE FUNCTION report_facts(r requests)
      RETURNS TABLE (day date, cancelled integer, response_met integer, response_breached integer, resolution_met integer,
                     resolution_breached integer, breached_either integer, respond_bytes bytea, resolve_bytes bytea)
      LANGUAGE sql STABLE PARALLEL SAFE AS $$
        SELECT (r.created_at AT TIME ZONE 'UTC')::date,
          (r.status = 'cancelled')::integer,
          (o.response = 1)::integer, (o.response = 2)::integer,
          (o.resolution = 1)::integer, (o.resolution = 2)::integer,
          (o.response = 2 OR o.resolution = 2)::integer,
          CASE WHEN r.respond_business_seconds IS NULL THEN ''::bytea ELSE int4send(r.respond_business_seconds) END,
          CASE WHEN r.resolve_business_seconds IS NULL THEN ''::bytea ELSE int4send(r.resolve_business_seconds) END
        FROM (SELECT report_response_outcome(r.responded_at, r.respond_by, r.breached_response, r.cancelled_at) AS response,
                     report_resolution_outcome(r.resolved_at, r.resolve_by, r.breached_resolution, r.cancelled_at) AS resolution) o
      $$`);
    await db.query(`CREATE FUNCTION report_groups(r requests)
      RETURNS TABLE (dimension text, group_id uuid, partner_id uuid)
      LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        VALUES ('customer'::text, r.customer_department_id, '00000000-0000-0000-0000-000000000000'::uuid),
               ('pair', r.provider_department_id, r.customer_department_id),
               ('provider', r.provider_department_id, '00000000-0000-0000-0000-000000000000'::uuid),
               ('service', r.service_id, '00000000-0000-0000-0000-000000000000'::uuid)
      $$`);
    // A request counts in its day; for pairs (many groups, few requests each) in its ISO week too,
    // so a month of pairs is four weekly rows and a few daily ones. A department's week would be a
    // row of kilobytes that PostgreSQL moves out of line (TOAST), slower to read than its days.
    // WEEKLY_DIMENSIONS in src/reports/report-rollup.entity.ts says the same.
    await db.query(`CREATE FUNCTION report_spans(dimension text, of_day date)
      RETURNS TABLE (span text, day date)
      LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT v.span, v.day
        FROM (VALUES ('day'::text, of_day), ('week', of_day - (extract(isodow FROM of_day)::integer - 1))) AS v (span, day)
        WHERE v.span = 'day' OR dimension = 'pair'
      $$`);
    // An open request's deadlines that have not been decided yet: it counts as breached once now passes them.
    // A paused resolution clock stopped at paused_since: breached only if it stopped after its deadline.
    await db.query(`CREATE FUNCTION report_live(r requests)
      RETURNS TABLE (request_id uuid, created_at timestamptz, provider_department_id uuid, customer_department_id uuid, service_id uuid,
                     respond_due timestamptz, resolve_due timestamptz, breached_static boolean, at_risk boolean)
      LANGUAGE sql STABLE PARALLEL SAFE AS $$
        SELECT r.id, r.created_at, r.provider_department_id, r.customer_department_id, r.service_id,
          CASE WHEN o.response = 0 AND r.responded_at IS NULL AND r.cancelled_at IS NULL THEN r.respond_by END,
          CASE WHEN o.resolution = 0 AND r.resolved_at IS NULL AND r.cancelled_at IS NULL
               AND (r.paused_since IS NULL OR r.paused_since > r.resolve_by) THEN r.resolve_by END,
          o.response = 2 OR o.resolution = 2,
          r.at_risk
        FROM (SELECT report_response_outcome(r.responded_at, r.respond_by, r.breached_response, r.cancelled_at) AS response,
                     report_resolution_outcome(r.resolved_at, r.resolve_by, r.breached_resolution, r.cancelled_at) AS resolution) o
        WHERE r.status NOT IN ('resolved', 'closed', 'cancelled')
      $$`);
    // Removes one occurrence of each packed value of 'removed' from 'packed', matching only at 4-byte boundaries.
    await db.query(`CREATE FUNCTION report_bytes_remove(packed bytea, removed bytea) RETURNS bytea LANGUAGE plpgsql IMMUTABLE AS $$
      DECLARE
        value bytea;
        found_at integer;
        offset_from integer;
      BEGIN
        FOR i IN 0 .. length(removed) / 4 - 1 LOOP
          value := substring(removed FROM i * 4 + 1 FOR 4);
          offset_from := 0;
          LOOP
            found_at := position(value IN substring(packed FROM offset_from + 1));
            EXIT WHEN found_at = 0;
            found_at := offset_from + found_at - 1;
            IF found_at % 4 = 0 THEN
              packed := substring(packed FROM 1 FOR found_at) || substring(packed FROM found_at + 5);
              EXIT;
            END IF;
            offset_from := found_at + 1;
          END LOOP;
        END LOOP;
        RETURN packed;
      END $$`);
    await db.query(`CREATE FUNCTION report_requests_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        ${addToDaily('inserted_requests')}
        INSERT INTO report_open_requests
          SELECT l.* FROM inserted_requests r CROSS JOIN LATERAL report_live(r) l;
        RETURN NULL;
      END $$`);
    await db.query(`CREATE FUNCTION report_requests_updated() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        k record;
      BEGIN
        -- Versions, timers and chain slack change nothing a report counts: the common case ends here.
        IF NOT EXISTS (SELECT 1 FROM old_requests o JOIN new_requests n ON n.id = o.id WHERE ${COUNTED_CHANGE}) THEN
          RETURN NULL;
        END IF;
        ${applyToDaily([
          { sign: -1, row: 'o', ...DAILY_CHANGED_ROWS },
          { sign: 1, row: 'n', ...DAILY_CHANGED_ROWS },
        ])}
        DELETE FROM report_open_requests x USING new_requests n
          WHERE x.request_id = n.id AND NOT EXISTS (SELECT 1 FROM report_live(n));
        INSERT INTO report_open_requests
          SELECT l.* FROM old_requests o JOIN new_requests n ON n.id = o.id CROSS JOIN LATERAL report_live(n) l
          WHERE ${COUNTED_CHANGE}
          ORDER BY l.request_id
          ON CONFLICT (request_id) DO UPDATE SET
            created_at = excluded.created_at,
            provider_department_id = excluded.provider_department_id,
            customer_department_id = excluded.customer_department_id,
            service_id = excluded.service_id,
            respond_due = excluded.respond_due,
            resolve_due = excluded.resolve_due,
            breached_static = excluded.breached_static,
            at_risk = excluded.at_risk;
        RETURN NULL;
      END $$`);
    await db.query(`CREATE FUNCTION report_requests_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        k record;
      BEGIN
        ${applyToDaily([{ sign: -1, row: 'o', from: 'old_requests o' }])}
        DELETE FROM report_open_requests x USING old_requests o WHERE x.request_id = o.id;
        RETURN NULL;
      END $$`);
    await db.query(`CREATE FUNCTION report_requests_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        TRUNCATE report_daily, report_open_requests;
        RETURN NULL;
      END $$`);
    // Statement triggers: a COPY of a million rows is one set-based pass, and every statement
    // locks the roll-up rows it changes in key order, so concurrent writers cannot deadlock on them.
    await db.query(`CREATE TRIGGER report_requests_inserted AFTER INSERT ON requests
      REFERENCING NEW TABLE AS inserted_requests FOR EACH STATEMENT EXECUTE FUNCTION report_requests_inserted()`);
    await db.query(`CREATE TRIGGER report_requests_updated AFTER UPDATE ON requests
      REFERENCING OLD TABLE AS old_requests NEW TABLE AS new_requests FOR EACH STATEMENT EXECUTE FUNCTION report_requests_updated()`);
    await db.query(`CREATE TRIGGER report_requests_deleted AFTER DELETE ON requests
      REFERENCING OLD TABLE AS old_requests FOR EACH STATEMENT EXECUTE FUNCTION report_requests_deleted()`);
    await db.query(`CREATE TRIGGER report_requests_truncated AFTER TRUNCATE ON requests FOR EACH STATEMENT EXECUTE FUNCTION report_requests_truncated()`);

    // Requests that exist already.
    await db.query(addToDaily('requests'));
    await db.query(`INSERT INTO report_open_requests SELECT l.* FROM requests r CROSS JOIN LATERAL report_live(r) l`);
  }

  async down(db: QueryRunner): Promise<void> {
    for (const trigger of ['report_requests_truncated', 'report_requests_deleted', 'report_requests_updated', 'report_requests_inserted']) {
      await db.query(`DROP TRIGGER ${trigger} ON requests`);
      await db.query(`DROP FUNCTION ${trigger}()`);
    }
    await db.query(`DROP FUNCTION report_bytes_remove(bytea, bytea)`);
    await db.query(`DROP FUNCTION report_live(requests)`);
    await db.query(`DROP FUNCTION report_spans(text, date)`);
    await db.query(`DROP FUNCTION report_groups(requests)`);
    await db.query(`DROP FUNCTION report_facts(requests)`);
    await db.query(`DROP FUNCTION report_resolution_outcome(timestamptz, timestamptz, boolean, timestamptz)`);
    await db.query(`DROP FUNCTION report_response_outcome(timestamptz, timestamptz, boolean, timestamptz)`);
    await db.query(`DROP TABLE report_open_requests`);
    await db.query(`DROP TABLE report_daily`);
  }
}
