import { getQueueToken } from '@nestjs/bullmq';
import type { Job, Queue } from 'bullmq';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { Client } from 'pg';
import type { FlowerShop } from '../../src/demo/flower-shop';
import { DevMailbox } from '../../src/mail/dev-mailbox';
import { EscalationsRepository } from '../../src/escalation/escalations.repository';
import { QueueName } from '../../src/escalation/queues';
import { Reconciler } from '../../src/escalation/reconciler';
import { MailProcessor } from '../../src/mail/mail.processor';
import { MailSender } from '../../src/mail/mail-sender';
import { MAIL_LANES, MailTransport } from '../../src/mail/mail-transport';
import { MAILS_PER_JOB } from '../../src/mail/mail-queue';
import { createFastService } from '../support/fast-sla';
import { SmtpSink } from '../support/smtp-sink';
import { bearer, startMailingApp, startTestApp, withFlowerShop, type MailingApp, type TestApp } from '../support/test-app';

const basic = (email: string, password: string) => `Basic ${Buffer.from(`${email}:${password}`).toString('base64')}`;

describe('seeing the escalation engine work: metrics and the queue board', () => {
  let t: TestApp;
  let sink: SmtpSink;
  let shop: FlowerShop;
  let tokens: Record<string, string>;

  let app: MailingApp;

  beforeAll(async () => {
    app = await startMailingApp('escalation_ops');
    ({ t, sink, shop, tokens } = app);
  });
  afterAll(() => app.close());

  it('/metrics counts escalations by kind, their lateness, mails sent and pending, and queue depths', async () => {
    const { serviceId } = await createFastService(t, shop, tokens, { code: 'FAST-METRICS', responseTarget: 'PT1S', resolutionTarget: 'PT60S' });
    const request = (await t.http.post('/api/v1/requests').set(bearer(tokens.clerk)).send({ serviceId, title: 'Counted' })).body;
    await sink.waitFor(() => sink.about(request.id, 'response_breach').length === 1, 10000);
    await new Promise((r) => setTimeout(r, 200));
    const metrics = (await t.http.get('/metrics')).text;
    expect(metrics).toMatch(/handoff_escalations_fired_total\{kind="response_breach"\} 1/);
    expect(metrics).toMatch(/handoff_escalations_fired_total\{kind="response_warning"\} 1/);
    expect(metrics).toMatch(/handoff_escalation_lateness_seconds_count\{kind="response_breach"\} 1/);
    expect(metrics).toMatch(/handoff_mails_sent_total 2/);
    expect(metrics).toMatch(/handoff_mails_pending 0/);
    expect(metrics).toMatch(/handoff_queue_jobs\{queue="deadlines",state="delayed"\} 1/); // the resolution warning ahead
  });

  it('/admin/queues asks ops or admin to sign in, and shows the queues to them', async () => {
    const anonymous = await t.http.get('/admin/queues');
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers['www-authenticate']).toMatch(/^Basic/);
    expect((await t.http.get('/admin/queues').set('Authorization', basic(shop.users.clerk.email, 'handoff-demo'))).status).toBe(401);
    expect((await t.http.get('/admin/queues').set('Authorization', basic(shop.users.ops.email, 'wrong-password'))).status).toBe(401);
    const ops = await t.http.get('/admin/queues/api/queues').set('Authorization', basic(shop.users.ops.email, 'handoff-demo'));
    expect(ops.status).toBe(200);
    expect((ops.body.queues as { name: string }[]).map((q) => q.name).sort()).toEqual(['deadlines', 'mail']);
    const page = await t.http.get('/admin/queues').set('Authorization', basic(shop.users.admin.email, 'handoff-demo'));
    expect(page.status).toBe(200);
    expect(page.text).toContain('<div id="root">');
  });
});

describe('development: an SMTP catcher of our own and /dev/mail', () => {
  it('catches the mail when nothing listens at SMTP_URL and lists it at /dev/mail; never in production', async () => {
    const probe = await SmtpSink.start();
    const port = probe.port;
    await probe.stop(); // now nothing listens there
    const mailbox = await DevMailbox.startIfNobodyListens(`smtp://localhost:${port}`);
    expect(mailbox).not.toBeNull();
    expect(await DevMailbox.startIfNobodyListens(`smtp://localhost:${port}`)).toBeNull(); // it listens now itself
    expect(await DevMailbox.startIfNobodyListens('smtp://mail.example.com:25')).toBeNull();
    const t = await startTestApp('devmail', { worker: true, env: { SMTP_URL: `smtp://localhost:${port}`, NODE_ENV: 'development' }, devMailbox: mailbox! });
    try {
      const { shop, tokens } = await withFlowerShop(t);
      const { serviceId } = await createFastService(t, shop, tokens, { code: 'FAST-DEV', responseTarget: 'PT1S', resolutionTarget: 'PT60S' });
      const request = (await t.http.post('/api/v1/requests').set(bearer(tokens.clerk)).send({ serviceId, title: 'Seen in dev' })).body;
      const both = () => ['response_warning', 'response_breach'].every((kind) => mailbox!.mails.some((m) => m.request === request.id && m.escalation === kind));
      for (let i = 0; i < 300 && !both(); i++) await new Promise((r) => setTimeout(r, 50));
      const page = await t.http.get('/dev/mail');
      expect(page.status).toBe(200);
      expect(page.text).toContain(`Response target missed: Seen in dev (${request.id})`);
      const json = (await t.http.get('/dev/mail/json')).body as { request: string; escalation: string }[];
      expect(json.filter((m) => m.request === request.id).map((m) => m.escalation).sort()).toEqual(['response_breach', 'response_warning']);
    } finally {
      await t.close();
      await mailbox!.close();
    }
    const production = await startTestApp('devmail_prod', { env: { NODE_ENV: 'production' }, devMailbox: new DevMailbox() });
    try {
      expect((await production.http.get('/dev/mail')).status).toBe(404);
    } finally {
      await production.close();
    }
  });
});

describe('mail claims: a job sends its own mail and the other due ones, never another live sender\'s', () => {
  let t: TestApp;
  let sink: SmtpSink;
  let shop: FlowerShop;
  let tokens: Record<string, string>;

  let app: MailingApp;

  beforeAll(async () => {
    // No reconciler pass during the test: only the send called below touches the outbox.
    app = await startMailingApp('mail_claims', { RECONCILE_INTERVAL_S: '3600' });
    ({ t, sink, shop, tokens } = app);
  });
  afterAll(() => app.close());

  it("takes over a claim whose sender's connection is gone at once, a live sender's only after the age limit", async () => {
    const request = (await t.http.post('/api/v1/requests').set(bearer(tokens.clerk)).send({ serviceId: shop.services.bouquet.id, title: 'Claimed mail' })).body;
    // A live sender is a backend that is connected; a dead one, a backend that was and is gone.
    const alive = new Client({ connectionString: t.database.url });
    await alive.connect();
    const gone = new Client({ connectionString: t.database.url });
    await gone.connect();
    const livePid = (await alive.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid;
    const deadPid = (await gone.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid;
    await gone.end();
    const exists = async (pid: number) => (await t.dataSource.query(`SELECT 1 FROM pg_stat_activity WHERE pid = $1`, [pid])).length > 0;
    for (let i = 0; i < 50 && (await exists(deadPid)); i++) await new Promise((r) => setTimeout(r, 20));
    let level = 0;
    const outbox = async (label: string, status: string, claimedAgo: string | null, claimedBy: number | null) => {
      const [escalation] = await t.dataSource.query(
        `INSERT INTO escalations (request_id, kind, clock_version, due_at, fired_at) VALUES ($1, $2, 1, now(), now()) RETURNING id`,
        [request.id, `level-${++level}`],
      );
      const [mail] = await t.dataSource.query(
        `INSERT INTO mail_outbox (escalation_id, request_id, kind, recipients, subject, text_body, html_body, headers, due_at, status, claimed_at, claimed_by, attempts)
         VALUES ($1, $2, 'level-1', '["pia@flowers.example"]', $3, 'text', '<p>html</p>', '{}', now(), $4, now() - $5::interval, $6, $7)
         RETURNING id`,
        [escalation.id, request.id, `[Handoff] ${label}`, status, claimedAgo ?? '0 s', claimedBy, status === 'sending' ? 1 : 0],
      );
      return mail.id as string;
    };
    try {
      const dead = await outbox('claimed a second ago by a sender whose connection is gone', 'sending', '1 second', deadPid);
      const pending = await outbox('pending', 'pending', null, null);
      const live = await outbox('claimed just now by a live sender', 'sending', '0 s', livePid);
      const unknown = await outbox('claimed a minute ago, sender not recorded', 'sending', '1 minute', null);
      const aged = await outbox('claimed three minutes ago, sender not recorded', 'sending', '3 minutes', null);
      // The live backend's pid on a claim made before that backend started: the pid was reused.
      const reused = await outbox('claimed an hour ago by a backend that reused the pid', 'sending', '1 hour', livePid);

      const outcome = await t.app.get(MailSender).send(dead);

      expect(outcome).toEqual({ sent: 2, retrying: 0, failed: 0 });
      const statuses = await t.dataSource.query(`SELECT id, status, attempts FROM mail_outbox WHERE id = ANY($1)`, [[dead, pending, live]]);
      const byId = new Map(statuses.map((r: { id: string; status: string; attempts: number }) => [r.id, r]));
      expect(byId.get(dead)).toMatchObject({ status: 'sent', attempts: 2 });
      expect(byId.get(pending)).toMatchObject({ status: 'sent', attempts: 1 });
      expect(byId.get(live)).toMatchObject({ status: 'sending', attempts: 1 });
      expect(sink.received.map((m) => m.subject).sort()).toEqual(['[Handoff] claimed a second ago by a sender whose connection is gone', '[Handoff] pending']);
      // A live sender's mail is not the job's to take, even when it is the job's own; nor, for
      // STALE_CLAIM_SECONDS, one whose sender is not recorded (a slow SMTP server is no reason).
      expect(await t.app.get(MailSender).send(live)).toEqual({ sent: 0, retrying: 0, failed: 0 });
      expect(await t.app.get(MailSender).send(unknown)).toEqual({ sent: 0, retrying: 0, failed: 0 });
      // Past the age limit the sender is taken for hung; and a reused pid keeps no claim alive.
      expect(await t.app.get(MailSender).send(aged)).toEqual({ sent: 1, retrying: 0, failed: 0 });
      expect(await t.app.get(MailSender).send(reused)).toEqual({ sent: 1, retrying: 0, failed: 0 });
      expect(sink.received).toHaveLength(4);

      // A reconciler pass (at worker start and every RECONCILE_INTERVAL_S) puts a dead sender's
      // claims back to pending, where any running job's next claim takes them first; a live one's stays.
      const deadAgain = await outbox('claimed by a sender that died, found by the reconciler', 'sending', '1 second', deadPid);
      await t.app.get(Reconciler).runOnce();
      await sink.waitFor(() => sink.received.length >= 5, 20000, 'the released mail');
      const after = await t.dataSource.query(`SELECT id, status FROM mail_outbox WHERE id = ANY($1)`, [[deadAgain, live]]);
      expect(Object.fromEntries(after.map((r: { id: string; status: string }) => [r.id, r.status]))).toEqual({ [deadAgain]: 'sent', [live]: 'sending' });
      expect(sink.received.at(-1)!.subject).toBe('[Handoff] claimed by a sender that died, found by the reconciler');

      // The released claims' ids come back, for their takeover jobs (they came back undefined until 2026-12-07).
      const releasedOne = await outbox('released by a direct call', 'sending', '1 second', deadPid);
      expect(await t.app.get(EscalationsRepository).releaseAbandonedClaims(120)).toEqual([releasedOne]);
      expect(await t.app.get(MailSender).send(releasedOne)).toEqual({ sent: 1, retrying: 0, failed: 0 });

      // Marked sent at its end of data by a sender that died before reading the server's answer: in
      // doubt. With no refusal after the data on record at the time, the server is taken at its word.
      // The dead lane's row names the mail it marked last, unanswered; its backend is gone.
      const inDoubt = async (label: string, answered = false) => {
        const id = await outbox(label, 'sent', '1 second', deadPid);
        await t.dataSource.query(`UPDATE mail_outbox SET sent_at = now() - interval '1 second' WHERE id = $1`, [id]);
        await t.dataSource.query(
          `INSERT INTO mail_lanes (id, backend_pid, backend_start, marked, marked_at, answered)
           SELECT gen_random_uuid(), $2, now() - interval '1 minute', id, sent_at, $3 FROM mail_outbox WHERE id = $1`,
          [id, deadPid, answered],
        );
        return id;
      };
      const state = async (id: string) => (await t.dataSource.query(`SELECT status, last_error AS note FROM mail_outbox WHERE id = $1`, [id]))[0];
      const quiet = await inDoubt('in doubt while the server took everything');
      const answered = await inDoubt('answered before its lane died', true);
      await t.app.get(Reconciler).runOnce();
      expect(await state(quiet)).toEqual({ status: 'sent', note: expect.stringContaining('counted as delivered') });
      expect(await state(answered)).toEqual({ status: 'sent', note: null });
      // The dead lanes' rows are gone; the live lanes' remain.
      expect(await t.dataSource.query(`SELECT 1 FROM mail_lanes WHERE backend_pid = $1`, [deadPid])).toEqual([]);
      expect((await t.dataSource.query(`SELECT count(*)::int AS n FROM mail_lanes`))[0].n).toBeGreaterThan(0);
      // While the server was refusing mail after the data, it most likely refused this one too: sent again.
      await t.dataSource.query(`UPDATE mail_outbox SET refused_after_data_at = now() - interval '10 seconds' WHERE id = $1`, [pending]);
      const refusing = await inDoubt('in doubt while the server refused after the data');
      await t.app.get(Reconciler).runOnce();
      await sink.waitFor(() => sink.received.some((m) => m.subject === '[Handoff] in doubt while the server refused after the data'), 20000, 'the mail sent again');
      expect(await state(refusing)).toEqual({ status: 'sent', note: null });
      expect(sink.received.filter((m) => m.subject.startsWith('[Handoff] in doubt')).map((m) => m.subject)).toEqual(['[Handoff] in doubt while the server refused after the data']);
    } finally {
      await alive.end();
    }
  });

  it('shares a batch with the lanes that come free while it is sent (a slow SMTP server)', async () => {
    const request = (await t.http.post('/api/v1/requests').set(bearer(tokens.clerk)).send({ serviceId: shop.services.bouquet.id, title: 'Slow server' })).body;
    const mails: { id: string }[] = await t.dataSource.query(
      `WITH e AS (
         INSERT INTO escalations (request_id, kind, clock_version, due_at, fired_at)
         SELECT $1, 'level-' || (100 + g), 1, now(), now() FROM generate_series(1, 12) g RETURNING id
       )
       INSERT INTO mail_outbox (escalation_id, request_id, kind, recipients, subject, text_body, html_body, headers, due_at)
       SELECT e.id, $1, 'level-1', '["pia@flowers.example"]', '[Handoff] slow ' || row_number() OVER (), 'text', '<p>html</p>', '{}', now() FROM e
       RETURNING id`,
      [request.id],
    );
    // Every lane but one is busy when the job claims its batch; they come free while it sends.
    const transport = t.app.get(MailTransport);
    let freeLanes!: () => void;
    const held = new Promise<void>((resolve) => (freeLanes = resolve));
    const blockers: Promise<void>[] = [];
    for (let i = 0; i < MAIL_LANES - 1; i++) blockers.push(transport.withLane(() => held));
    sink.holdDataAnswerMs = 100;
    try {
      const sending = t.app.get(MailSender).send(mails[0].id);
      await sink.waitFor(() => sink.received.some((m) => m.subject.startsWith('[Handoff] slow ')), 20000, 'the first mail of the batch');
      freeLanes();
      expect(await sending).toEqual({ sent: mails.length, retrying: 0, failed: 0 });
      await Promise.all(blockers);
    } finally {
      sink.holdDataAnswerMs = 0;
      freeLanes();
    }
    const batch = sink.received.filter((m) => m.subject.startsWith('[Handoff] slow '));
    expect(batch).toHaveLength(mails.length);
    // Not one mail after another on the job's own connection: the freed lanes took part.
    expect(new Set(batch.map((m) => m.session)).size).toBeGreaterThan(1);
  });

  it('keeps claiming while claims come back full, so due mail never waits for a job of its own', async () => {
    const request = (await t.http.post('/api/v1/requests').set(bearer(tokens.clerk)).send({ serviceId: shop.services.bouquet.id, title: 'Many mails' })).body;
    const count = MAILS_PER_JOB * 2 + 10;
    const mails: { id: string }[] = await t.dataSource.query(
      `WITH e AS (
         INSERT INTO escalations (request_id, kind, clock_version, due_at, fired_at)
         SELECT $1, 'level-' || g, 7, now(), now() FROM generate_series(1, $2::int) g RETURNING id, kind)
       INSERT INTO mail_outbox (escalation_id, request_id, kind, recipients, subject, text_body, html_body, headers, due_at, next_attempt_at)
       SELECT e.id, $1, e.kind, '["pia@flowers.example"]', '[Handoff] many ' || e.kind, 'text', '<p>html</p>', '{}', now(), now() - interval '1 minute'
       FROM e RETURNING id`,
      [request.id, count],
    );
    sink.received.length = 0;

    // One job, as when the jobs of the others were lost: it sends them all.
    const outcome = await t.app.get(MailSender).send(mails[0].id);

    expect(outcome).toEqual({ sent: count, retrying: 0, failed: 0 });
    expect(sink.received.filter((m) => m.subject.startsWith('[Handoff] many ')).length).toBe(count);
    const [{ unsent }] = await t.dataSource.query(`SELECT count(*)::int AS unsent FROM mail_outbox WHERE id = ANY($1) AND status <> 'sent'`, [mails.map((m) => m.id)]);
    expect(unsent).toBe(0);
  });

  /** A new request's level-1 mail, due now, with no job of its own: only the test's MailSender.send sends it. Its id. */
  const dueMail = async (subject: string): Promise<string> => {
    const request = (await t.http.post('/api/v1/requests').set(bearer(tokens.clerk)).send({ serviceId: shop.services.bouquet.id, title: subject })).body;
    const [escalation] = await t.dataSource.query(
      `INSERT INTO escalations (request_id, kind, clock_version, due_at, fired_at) VALUES ($1, 'level-1', 1, now(), now()) RETURNING id`,
      [request.id],
    );
    const [mail] = await t.dataSource.query(
      `INSERT INTO mail_outbox (escalation_id, request_id, kind, recipients, subject, text_body, html_body, headers, due_at)
       VALUES ($1, $2, 'level-1', '["pia@flowers.example"]', $3, 'text', '<p>html</p>', '{}', now()) RETURNING id`,
      [escalation.id, request.id, `[Handoff] ${subject}`],
    );
    return mail.id;
  };

  it('keeps its SMTP connections open through a quiet spell, so the next mail waits for no new connection and greeting', async () => {
    // The lanes connect at start (a greeting may take a while: smtp-server pauses 100 ms before it).
    await sink.waitFor(() => sink.connections >= MAIL_LANES, 10000, 'every lane connected');
    const mail = await dueMail('after a quiet spell');
    const connections = sink.connections;
    // Longer than the client's own 10 s socket timeout, which closed an idle connection before.
    await new Promise((resolve) => setTimeout(resolve, 12_000));

    expect(await t.app.get(MailSender).send(mail)).toEqual({ sent: 1, retrying: 0, failed: 0 });
    expect(sink.received.at(-1)!.subject).toBe('[Handoff] after a quiet spell');
    expect(sink.connections).toBe(connections);
  }, 30_000);

  it('opens its SMTP connections again when the server drops them, before the next mail needs one', async () => {
    await sink.waitFor(() => sink.connections >= MAIL_LANES, 10000, 'every lane connected');
    const before = sink.connections;
    sink.dropConnections();
    await sink.waitFor(() => sink.connections >= before + MAIL_LANES, 15000, 'every lane connected again');
    const mail = await dueMail('after a drop');

    expect(await t.app.get(MailSender).send(mail)).toEqual({ sent: 1, retrying: 0, failed: 0 });
    expect(sink.connections).toBe(before + MAIL_LANES);
  });

  it('sends a mail once more at once on a new connection when the server closes a kept connection as the mail starts', async () => {
    const mail = await dueMail('closed under it');
    await sink.waitFor(() => sink.connections >= MAIL_LANES, 10000, 'every lane connected');
    sink.closeOnMailFrom = 1;

    expect(await t.app.get(MailSender).send(mail)).toEqual({ sent: 1, retrying: 0, failed: 0 });
    expect(sink.closeOnMailFrom).toBe(0);
    expect(sink.received.filter((m) => m.subject === '[Handoff] closed under it')).toHaveLength(1);
    expect(await t.dataSource.query(`SELECT status, attempts, last_error FROM mail_outbox WHERE id = $1`, [mail])).toEqual([{ status: 'sent', attempts: 1, last_error: null }]);
  });

  it('a reconciler pass over a backlog of due mail adds a job per run of it, not per mail; every mail goes out once', async () => {
    const request = (await t.http.post('/api/v1/requests').set(bearer(tokens.clerk)).send({ serviceId: shop.services.bouquet.id, title: 'Backlog' })).body;
    // A burst's backlog as a pass finds it: due, unsent, without jobs of their own; and two retries due in a while.
    const due = MAILS_PER_JOB * 3 + 5;
    const mails: { id: string; later: boolean }[] = await t.dataSource.query(
      `WITH e AS (
         INSERT INTO escalations (request_id, kind, clock_version, due_at, fired_at)
         SELECT $1, 'level-' || g, 9, now(), now() FROM generate_series(1, $2::int + 2) g RETURNING id, kind)
       INSERT INTO mail_outbox (escalation_id, request_id, kind, recipients, subject, text_body, html_body, headers, due_at, next_attempt_at)
       SELECT e.id, $1, e.kind, '["pia@flowers.example"]', '[Handoff] backlog ' || e.kind, 'text', '<p>html</p>', '{}', now(),
              CASE WHEN substr(e.kind, 7)::int > $2 THEN now() + interval '3 seconds' ELSE now() - interval '1 second' END
       FROM e RETURNING id, next_attempt_at > now() AS later`,
      [request.id, due],
    );
    sink.received.length = 0;
    const queue = t.app.get<Queue>(getQueueToken(QueueName.Mail));
    const worker = t.app.get(MailProcessor).worker;
    await worker.pause(true);
    let jobs: Job[];
    try {
      await t.app.get(Reconciler).runOnce();
      jobs = (await queue.getJobs(['waiting', 'delayed', 'prioritized'])).filter((job) => mails.some((m) => m.id === job.data.mailId));
    } finally {
      worker.resume();
    }

    const retries = new Set(mails.filter((m) => m.later).map((m) => m.id));
    expect(jobs.filter((job) => retries.has(job.data.mailId)).map((job) => job.opts.delay! > 1000)).toEqual([true, true]);
    expect(jobs.filter((job) => !retries.has(job.data.mailId)).length).toBe(Math.ceil(due / MAILS_PER_JOB));
    await sink.waitFor(() => sink.received.filter((m) => m.subject.startsWith('[Handoff] backlog ')).length >= due + 2, 20000, 'the backlog and the retries');
    const subjects = sink.received.map((m) => m.subject).filter((subject) => subject.startsWith('[Handoff] backlog '));
    expect(subjects).toHaveLength(due + 2);
    expect(new Set(subjects).size).toBe(due + 2);
  });
});

describe('an SMTP server that cannot be reached: mail waits for its retry, the server is not flooded with connections', () => {
  let t: TestApp;
  let shop: FlowerShop;
  let tokens: Record<string, string>;
  let server: Server;
  let attempts = 0;

  beforeAll(async () => {
    // Accepts and hangs up at once: every connection fails before the greeting, and each is counted.
    server = createServer((socket) => {
      attempts++;
      socket.destroy();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    t = await startTestApp('smtp_unreachable', { worker: true, env: { SMTP_URL: `smtp://127.0.0.1:${port}`, RECONCILE_INTERVAL_S: '3600' } });
    ({ shop, tokens } = await withFlowerShop(t));
  });
  afterAll(async () => {
    await t.close();
    await new Promise((resolve) => server.close(resolve));
  });

  it('a batch of 25 due mails meets it with one connection attempt, and every mail is put off for its retry', async () => {
    const request = (await t.http.post('/api/v1/requests').set(bearer(tokens.clerk)).send({ serviceId: shop.services.bouquet.id, title: 'Nobody answers' })).body;
    const mails: { id: string }[] = await t.dataSource.query(
      `WITH e AS (
         INSERT INTO escalations (request_id, kind, clock_version, due_at, fired_at)
         SELECT $1, 'level-' || g, 3, now(), now() FROM generate_series(1, $2::int) g RETURNING id, kind)
       INSERT INTO mail_outbox (escalation_id, request_id, kind, recipients, subject, text_body, html_body, headers, due_at)
       SELECT e.id, $1, e.kind, '["pia@flowers.example"]', '[Handoff] nobody answers', 'text', '<p>html</p>', '{}', now() FROM e RETURNING id`,
      [request.id, MAILS_PER_JOB],
    );
    // The lanes tried at start and failed; a moment later one lane may try again.
    for (let i = 0; i < 100 && attempts === 0; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    await new Promise((resolve) => setTimeout(resolve, 1200));
    attempts = 0;

    const outcome = await t.app.get(MailSender).send(mails[0].id);

    expect(outcome).toEqual({ sent: 0, retrying: MAILS_PER_JOB, failed: 0 });
    expect(attempts).toBeLessThanOrEqual(2);
    const rows: { status: string; last_error: string }[] = await t.dataSource.query(`SELECT status, last_error FROM mail_outbox WHERE id = ANY($1)`, [mails.map((m) => m.id)]);
    expect(rows.every((r) => r.status === 'pending' && r.last_error.length > 0)).toBe(true);
  });
});
