import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Organisation, agreements (versioned), requests with their pauses, events, comments, links and idempotency keys. */
export class InitialSchema1764000000000 implements MigrationInterface {
  name = 'InitialSchema1764000000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`CREATE TABLE users (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      email text NOT NULL CONSTRAINT users_email_key UNIQUE,
      name text NOT NULL,
      password_hash text NOT NULL,
      department_id uuid,
      role text NOT NULL CHECK (role IN ('employee', 'head', 'ops', 'admin')),
      active boolean NOT NULL DEFAULT true,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    )`);
    await db.query(`CREATE TABLE calendars (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      name text NOT NULL,
      timezone text NOT NULL,
      always_open boolean NOT NULL DEFAULT false,
      weekly_hours jsonb NOT NULL DEFAULT '[]',
      holidays jsonb NOT NULL DEFAULT '[]',
      revision integer NOT NULL DEFAULT 1,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    )`);
    await db.query(`CREATE TABLE departments (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      name text NOT NULL,
      code text NOT NULL CONSTRAINT departments_code_key UNIQUE,
      timezone text NOT NULL,
      calendar_id uuid REFERENCES calendars (id),
      head_user_id uuid REFERENCES users (id),
      escalation_email text,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    )`);
    await db.query(`ALTER TABLE users ADD CONSTRAINT users_department_fk FOREIGN KEY (department_id) REFERENCES departments (id)`);
    await db.query(`CREATE TABLE services (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      department_id uuid NOT NULL REFERENCES departments (id),
      code text NOT NULL,
      name text NOT NULL,
      description text,
      lead_time text,
      lead_time_seconds integer,
      active boolean NOT NULL DEFAULT true,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    )`);
    await db.query(`CREATE UNIQUE INDEX services_department_code_key ON services (department_id, code)`);
    await db.query(`CREATE TABLE agreements (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      service_id uuid NOT NULL REFERENCES services (id),
      customer_department_id uuid REFERENCES departments (id),
      priority text CHECK (priority IN ('low', 'normal', 'high', 'urgent')),
      version integer NOT NULL DEFAULT 1,
      response_target text NOT NULL,
      response_target_seconds integer NOT NULL CHECK (response_target_seconds > 0),
      resolution_target text NOT NULL,
      resolution_target_seconds integer NOT NULL CHECK (resolution_target_seconds > 0),
      calendar_id uuid REFERENCES calendars (id),
      warn_at_percent integer NOT NULL DEFAULT 75,
      pause_while_blocked boolean NOT NULL DEFAULT true,
      escalations jsonb NOT NULL DEFAULT '[]',
      active boolean NOT NULL DEFAULT true,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    )`);
    // At most one active agreement per scope; "no customer" and "no priority" count as a scope of their own.
    await db.query(`CREATE UNIQUE INDEX agreements_scope_key ON agreements
      (service_id, COALESCE(customer_department_id, '00000000-0000-0000-0000-000000000000'::uuid), COALESCE(priority, ''))
      WHERE active`);
    await db.query(`CREATE TABLE agreement_versions (
      agreement_id uuid NOT NULL REFERENCES agreements (id),
      version integer NOT NULL,
      terms jsonb NOT NULL,
      changed_by uuid,
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (agreement_id, version)
    )`);
    await db.query(`CREATE TABLE requests (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      service_id uuid NOT NULL REFERENCES services (id),
      provider_department_id uuid NOT NULL REFERENCES departments (id),
      customer_department_id uuid NOT NULL REFERENCES departments (id),
      requester_id uuid NOT NULL REFERENCES users (id),
      assignee_id uuid REFERENCES users (id),
      title text NOT NULL,
      description text,
      priority text NOT NULL CHECK (priority IN ('low', 'normal', 'high', 'urgent')),
      status text NOT NULL CHECK (status IN ('open', 'acknowledged', 'in_progress', 'waiting_on_customer', 'resolved', 'closed', 'cancelled')),
      version integer NOT NULL DEFAULT 1,
      agreement_id uuid NOT NULL REFERENCES agreements (id),
      agreement_version integer NOT NULL,
      terms jsonb NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      respond_by timestamptz NOT NULL,
      resolve_by timestamptz NOT NULL,
      responded_at timestamptz,
      resolved_at timestamptz,
      closed_at timestamptz,
      cancelled_at timestamptz,
      paused_since timestamptz,
      paused_seconds integer NOT NULL DEFAULT 0,
      respond_business_seconds integer,
      resolve_business_seconds integer,
      breached_response boolean NOT NULL DEFAULT false,
      breached_resolution boolean NOT NULL DEFAULT false,
      escalation_level integer NOT NULL DEFAULT 0,
      needed_by timestamptz,
      external_ref text,
      external_due_at timestamptz,
      projected_finish_at timestamptz,
      latest_finish_at timestamptz,
      slack_seconds integer,
      at_risk boolean NOT NULL DEFAULT false,
      bottleneck_request_id uuid,
      updated_at timestamptz NOT NULL DEFAULT now()
    )`);
    await db.query(`CREATE INDEX requests_created_idx ON requests (created_at, id)`);
    await db.query(`CREATE INDEX requests_provider_created_idx ON requests (provider_department_id, created_at, id)`);
    await db.query(`CREATE INDEX requests_customer_created_idx ON requests (customer_department_id, created_at, id)`);
    await db.query(`CREATE TABLE request_pauses (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      request_id uuid NOT NULL REFERENCES requests (id),
      reason text NOT NULL CHECK (reason IN ('waiting_on_customer', 'resolved', 'blocked')),
      started_at timestamptz NOT NULL,
      ended_at timestamptz,
      CHECK (ended_at IS NULL OR ended_at >= started_at)
    )`);
    await db.query(`CREATE INDEX request_pauses_request_idx ON request_pauses (request_id, started_at)`);
    await db.query(`CREATE TABLE request_events (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      request_id uuid NOT NULL REFERENCES requests (id),
      actor_id uuid,
      type text NOT NULL,
      at timestamptz NOT NULL,
      before jsonb,
      after jsonb
    )`);
    await db.query(`CREATE INDEX request_events_request_idx ON request_events (request_id, id)`);
    await db.query(`CREATE TABLE request_comments (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      request_id uuid NOT NULL REFERENCES requests (id),
      author_id uuid NOT NULL REFERENCES users (id),
      side text NOT NULL CHECK (side IN ('provider', 'customer')),
      body text NOT NULL,
      created_at timestamptz NOT NULL
    )`);
    await db.query(`CREATE INDEX request_comments_request_idx ON request_comments (request_id, created_at)`);
    await db.query(`CREATE TABLE request_dependencies (
      request_id uuid NOT NULL REFERENCES requests (id),
      depends_on_id uuid NOT NULL REFERENCES requests (id),
      created_by uuid,
      created_at timestamptz NOT NULL,
      PRIMARY KEY (request_id, depends_on_id),
      CHECK (request_id <> depends_on_id)
    )`);
    await db.query(`CREATE INDEX request_dependencies_depends_on_idx ON request_dependencies (depends_on_id)`);
    await db.query(`CREATE TABLE idempotency_keys (
      user_id uuid NOT NULL,
      key text NOT NULL,
      request_hash text NOT NULL,
      request_id uuid,
      response_status integer,
      response_body jsonb,
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (user_id, key)
    )`);
  }

  async down(db: QueryRunner): Promise<void> {
    for (const table of [
      'idempotency_keys',
      'request_dependencies',
      'request_comments',
      'request_events',
      'request_pauses',
      'requests',
      'agreement_versions',
      'agreements',
      'services',
    ]) {
      await db.query(`DROP TABLE ${table}`);
    }
    await db.query(`ALTER TABLE users DROP CONSTRAINT users_department_fk`);
    await db.query(`DROP TABLE departments`);
    await db.query(`DROP TABLE calendars`);
    await db.query(`DROP TABLE users`);
  }
}
