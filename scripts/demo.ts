// `npm run demo`: the flower shop's story in a minute. Creates a database of its own, seeds the
// flower shop, starts Handoff in this process with an SMTP catcher of its own, and plays the
// story through the real HTTP API with targets of seconds, drawing a live timeline: every
// hand-off, each hop's slack, Purchasing running late, the chain turning at risk and who was
// told — long before the 16:00 promise. Exit code 0 when the story ran as expected.
//
// DEMO_SECONDS_PER_HOUR (default 6: one real second is ten story minutes; 3–60) sets the pace,
// DEMO_PLAIN=1 prints plain lines even on a terminal. DEMO_RESOLUTION_HOURS (default 8: a working
// day) is every hop's resolution target in story hours. DATABASE_URL and REDIS_URL name the
// servers (the database part of DATABASE_URL is replaced by a fresh handoff_demo_<random>).
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import type { INestApplication } from '@nestjs/common';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { createHttpApp } from '../src/bootstrap';
import { AppConfig } from '../src/common/app-config';
import { StartupError } from '../src/database/connection-errors';
import { dataSourceOptions } from '../src/database/data-source-options';
import { ensureDatabaseExists } from '../src/database/ensure-database';
import { runPendingMigrations } from '../src/database/migrate';
import { DEMO_PASSWORD, seedFlowerShop, type FlowerShop } from '../src/demo/flower-shop';
import { PasswordHasher } from '../src/identity/password-hasher';
import { DevMailbox, type CaughtMail } from '../src/mail/dev-mailbox';
import { checkRedisReachable, deleteKeysUnder } from '../src/operations/redis-client';
import { gistOf } from './demo-mail';
import { ApiError, Person, type ChainView, type EventView, type RequestView } from './demo-api';
import { StoryClock, storyDuration, TimelineView, type LogKind } from './demo-view';

const HOUR = 60;
const PROMISE_MINUTE = 16 * HOUR;

class Interrupted extends Error {
  constructor() {
    super('interrupted');
  }
}

function secondsPerStoryHour(): number {
  const raw = process.env.DEMO_SECONDS_PER_HOUR ?? '6';
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 3 || value > 60) {
    console.error(`Invalid DEMO_SECONDS_PER_HOUR: must be a whole number from 3 to 60 (got ${JSON.stringify(raw)})`);
    process.exit(2);
  }
  return value;
}

function storyHours(variable: string, fallback: number): number {
  const raw = process.env[variable] ?? String(fallback);
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > 24) {
    console.error(`Invalid ${variable}: must be a whole number of story hours from 1 to 24 (got ${JSON.stringify(raw)})`);
    process.exit(2);
  }
  return value;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Everything the demo started, so it can all be taken down again — also on Ctrl-C. */
class Backstage {
  readonly suffix = randomBytes(4).toString('hex');
  readonly databaseName = `handoff_demo_${this.suffix}`;
  readonly queuePrefix = `handoff-demo-${this.suffix}`;
  readonly databaseUrl: string;
  readonly redisUrl = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
  private readonly serverUrl: string;
  databaseCreated = false;
  redisTouched = false;
  mailbox: DevMailbox | null = null;
  app: INestApplication | null = null;
  private torn: Promise<string[]> | null = null;

  constructor() {
    const url = new URL(process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/handoff');
    url.pathname = `/${this.databaseName}`;
    this.databaseUrl = url.toString();
    url.pathname = '/postgres';
    this.serverUrl = url.toString();
  }

  /** Closes the app and the catcher, drops the database, deletes the Redis keys; says what it did. */
  tearDown(): Promise<string[]> {
    this.torn ??= (async () => {
      const done: string[] = [];
      const attempt = async (what: string, work: () => Promise<unknown>) => {
        try {
          await work();
          done.push(what);
        } catch (error) {
          done.push(`NOT ${what}: ${(error as Error).message}`);
        }
      };
      if (this.app) await attempt('app closed', () => withTimeout(this.app!.close(), 10_000));
      if (this.mailbox) await attempt('SMTP catcher closed', () => withTimeout(this.mailbox!.close(), 2_000).catch(() => undefined));
      if (this.redisTouched) await attempt(`Redis keys ${this.queuePrefix}:* deleted`, () => deleteKeysUnder(this.redisUrl, this.queuePrefix));
      if (this.databaseCreated)
        await attempt(`database ${this.databaseName} dropped`, async () => {
          const client = new Client({ connectionString: this.serverUrl });
          await client.connect();
          try {
            await client.query(`DROP DATABASE IF EXISTS "${this.databaseName}" WITH (FORCE)`);
          } finally {
            await client.end();
          }
        });
      return done;
    })();
    return this.torn;
  }
}

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([work, new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms)))]).finally(() => clearTimeout(timer));
}


interface Cast {
  admin: Person;
  clerk: Person;
  designer: Person;
  buyer: Person;
  courier: Person;
}

/** Who an address belongs to, for the view: "Pia (head of Purchasing)". */
const nameOf = (shop: FlowerShop, email: string) => Object.values(shop.users).find((u) => u.email === email)?.name ?? email;

async function main(): Promise<number> {
  const perHour = secondsPerStoryHour();
  const msPerStoryMinute = (perHour * 1000) / HOUR;
  const plain = process.env.DEMO_PLAIN === '1' || !process.stdout.isTTY;
  const color = !process.env.NO_COLOR && (process.stdout.isTTY || Boolean(process.env.FORCE_COLOR));
  const backstage = new Backstage();
  const abort = new AbortController();
  let view: TimelineView | null = null;
  let watching = false;

  const sleepUntil = (ms: number) =>
    new Promise<void>((resolve, reject) => {
      if (abort.signal.aborted) return reject(new Interrupted());
      const timer = setTimeout(() => {
        abort.signal.removeEventListener('abort', onAbort);
        resolve();
      }, Math.max(0, ms - Date.now()));
      const onAbort = () => {
        clearTimeout(timer);
        reject(new Interrupted());
      };
      abort.signal.addEventListener('abort', onAbort, { once: true });
    });

  // Ctrl-C: stop the story, take everything down, leave. A second Ctrl-C leaves at once.
  let signals = 0;
  let hungUp = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (signal === 'SIGHUP') {
      hungUp = true;
      if (abort.signal.aborted) return; // the terminal closed while cleaning up: finish cleaning up
    }
    signals++;
    if (signals > 1) {
      view?.restoreTerminal();
      console.error(`\nLeft without cleaning up: drop the database ${backstage.databaseName} and the Redis keys ${backstage.queuePrefix}:* by hand.`);
      process.exit(130);
    }
    abort.abort();
    view?.restoreTerminal();
    console.error(`\n${signal}: stopping the story and cleaning up… (again to leave at once)`);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal); // the terminal went away: still clean up
  process.stdout.on('error', () => undefined); // …even when nobody reads stdout any more

  const say = (text: string) => (view ? view.setup(text) : console.log(`  setup  ${text}`));
  let verdict: { ok: boolean; lines: string[] };
  const started = Date.now();
  try {
    // --- backstage: a database, Redis, an SMTP catcher, the app ----------------------------
    console.log(`\nHandoff · the flower shop, its story in a minute (1 real second = ${storyDuration(Math.round(1000 / msPerStoryMinute))} of story)\n`);
    await ensureDatabaseExists(backstage.databaseUrl);
    backstage.databaseCreated = true; // from here on even a half-made database is dropped
    const migrations = await runPendingMigrations(backstage.databaseUrl);
    say(`database ${backstage.databaseName}: created, ${migrations.length} migrations applied`);
    await checkRedisReachable(backstage.redisUrl);
    backstage.redisTouched = true;
    const seeding = new DataSource(dataSourceOptions(backstage.databaseUrl, 2));
    await seeding.initialize();
    let shop: FlowerShop;
    try {
      shop = await seedFlowerShop(seeding, await new PasswordHasher().hash(DEMO_PASSWORD));
    } finally {
      await seeding.destroy();
    }
    say('seeded the flower shop: Purchasing, Sales, Design, Delivery, their heads and staff');
    const smtpPort = await freePort();
    backstage.mailbox = await DevMailbox.startIfNobodyListens(`smtp://127.0.0.1:${smtpPort}`);
    if (!backstage.mailbox) throw new StartupError(`could not start the demo's SMTP catcher on 127.0.0.1:${smtpPort}`);
    const mailbox = backstage.mailbox;
    const httpPort = await freePort();
    const baseUrl = `http://127.0.0.1:${httpPort}`;
    const config = AppConfig.with({
      DATABASE_URL: backstage.databaseUrl,
      REDIS_URL: backstage.redisUrl,
      SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
      ROLE: 'all',
      NODE_ENV: 'development',
      PORT: String(httpPort),
      PUBLIC_URL: baseUrl,
      QUEUE_PREFIX: backstage.queuePrefix,
      RECONCILE_INTERVAL_S: '2',
      MIGRATIONS_RUN: 'false',
      MAIL_RETRY_BASE_MS: '250',
      MAIL_RETRY_MAX_MS: '2000',
    });
    // The app's own shutdown hooks would race ours on Ctrl-C; the demo closes it itself.
    const before = new Map((['SIGINT', 'SIGTERM', 'SIGHUP'] as const).map((s) => [s, new Set(process.listeners(s))]));
    backstage.app = await createHttpApp(config, { devMailbox: mailbox, logLevel: process.env.DEMO_LOG_LEVEL || 'silent' });
    for (const [signal, kept] of before) for (const listener of process.listeners(signal)) if (!kept.has(listener)) process.removeListener(signal, listener);
    await backstage.app.listen(httpPort, '127.0.0.1');
    if (abort.signal.aborted) throw new Interrupted();
    say(`Handoff (API and worker) on ${baseUrl}, queue prefix ${backstage.queuePrefix}; mail caught on smtp://127.0.0.1:${smtpPort}`);

    const signIn = (key: string) => Person.signIn(baseUrl, shop.users[key].name, shop.users[key].email, DEMO_PASSWORD);
    const cast: Cast = { admin: await signIn('admin'), clerk: await signIn('clerk'), designer: await signIn('designer'), buyer: await signIn('buyer'), courier: await signIn('courier') };

    // Fast services: around-the-clock calendar, lead times and targets of seconds (story hours).
    const resolveHours = storyHours('DEMO_RESOLUTION_HOURS', 8);
    const sec = (storyMinutes: number) => `PT${Math.round((storyMinutes * msPerStoryMinute) / 1000)}S`;
    const calendar = await cast.admin.post<{ id: string }>('/calendars', { name: 'Around the clock (demo)', timezone: 'Europe/Amsterdam', alwaysOpen: true });
    const levels = [
      { atPercent: 100, notify: 'provider_head' },
      { atPercent: 150, notify: 'ladder' },
      { atPercent: 200, notify: 'ops' },
    ];
    const offer = async (department: 'PURCH' | 'DESIGN' | 'DELIV', code: string, name: string, lead: number, resolution: number) => {
      const service = await cast.admin.post<{ id: string }>('/services', { departmentId: shop.departments[department].id, code, name, leadTime: sec(lead) });
      await cast.admin.post('/agreements', { serviceId: service.id, responseTarget: sec(HOUR), resolutionTarget: sec(resolution), calendarId: calendar.id, warnAtPercent: 75, escalations: levels });
      return service.id;
    };
    const services = {
      roses: await offer('PURCH', 'ROSES-DEMO', 'Roses for an order (demo pace)', 3 * HOUR, resolveHours * HOUR),
      bouquet: await offer('DESIGN', 'BOUQUET-DEMO', 'Bouquet for an order (demo pace)', 2 * HOUR, resolveHours * HOUR),
      delivery: await offer('DELIV', 'DELIVERY-DEMO', 'Deliver an order (demo pace)', 1 * HOUR, resolveHours * HOUR),
    };
    say(`services at demo pace, around the clock: roses (Purchasing) lead 3 h = ${sec(3 * HOUR)}, bouquet (Design) 2 h = ${sec(2 * HOUR)}, delivery (Delivery) 1 h = ${sec(HOUR)}; SLAs: respond within 1 h, resolve within ${resolveHours} h`);

    // --- the story -------------------------------------------------------------------------
    // 09:00 falls on a whole second, so Handoff's clock (whole seconds) and the story agree.
    const startMs = Math.ceil((Date.now() + 500) / 1000) * 1000;
    const clock = new StoryClock(startMs, msPerStoryMinute);
    const promiseMs = clock.at(PROMISE_MINUTE);
    const people = {
      pia: shop.users.purchasingHead.email,
      sam: shop.users.salesHead.email,
    };
    view = new TimelineView(
      {
        plain,
        color,
        clock,
        promiseMs,
        title: 'the flower shop, its story in a minute',
        subtitle: `Order ORDER-1604: Mrs Jansen wants 20 red roses, delivered by ${clock.label(promiseMs)}. Sales promised it; Purchasing, Design and Delivery hand it on.`,
        mailNote: `caught by the demo's own SMTP server on 127.0.0.1:${smtpPort}`,
      },
      [
        { key: 'roses', label: 'roses', department: 'Purchasing' },
        { key: 'bouquet', label: 'bouquet', department: 'Design' },
        { key: 'delivery', label: 'delivery', department: 'Delivery' },
      ],
    );
    const v = view;
    await sleepUntil(startMs);
    v.begin();

    const ids: Record<string, string> = {};
    // Handoff's reactions are logged when the demo sees them; the people's steps at their story time.
    const log = (kind: LogKind, tag: string, text: string) => v.log(Date.now(), kind, tag, text);
    let stepAt = startMs;
    const tell = (kind: LogKind, tag: string, text: string) => v.log(stepAt, kind, tag, text);
    const observed = { flaggedAt: null as number | null, atRiskAt: null as number | null, worstDeliveryFinish: null as number | null, leastSlack: null as number | null };

    // Watching: the chain as Handoff reports it, escalations in the requests' timelines, mail as it lands.
    const seenEvents = new Set<string>();
    const seenMail = new Set<CaughtMail>();
    let lastChain: ChainView | null = null;
    let lastKey = '';
    watching = true;
    const watchChain = async () => {
      if (!ids.delivery) return;
      const chain = await cast.admin.get<ChainView>(`/chains/${ids.delivery}`);
      const now = Date.now();
      // A move commits before its chain is recomputed: believe a picture once it holds for two looks.
      const key = JSON.stringify(chain.nodes.map((n) => [n.status, n.projectedFinishAt, n.latestFinishAt, n.slackSeconds, n.atRisk, n.blocked]));
      if (key !== lastKey) {
        lastKey = key;
        return;
      }
      if (chain.atRisk && observed.atRiskAt === null) observed.atRiskAt = now;
      if (chain.slackSeconds !== null) observed.leastSlack = Math.min(observed.leastSlack ?? Infinity, chain.slackSeconds);
      const delivery = chain.nodes.find((n) => n.id === ids.delivery);
      if (delivery?.projectedFinishAt && !['resolved', 'closed'].includes(delivery.status)) {
        observed.worstDeliveryFinish = Math.max(observed.worstDeliveryFinish ?? 0, Date.parse(delivery.projectedFinishAt));
      }
      if (lastChain && chain.nodes.length === lastChain.nodes.length) {
        const was = lastChain.slackSeconds;
        if (chain.atRisk && !lastChain.atRisk) {
          const b = chain.nodes.find((n) => n.id === chain.bottleneckRequestId);
          const hop = Object.entries(ids).find(([, id]) => id === b?.id)?.[0];
          log(
            'risk',
            'Handoff: AT RISK',
            `chain slack ${clock.slack(was)} → ${clock.slack(chain.slackSeconds)}${b ? `: the ${hop ?? b.title} at ${b.provider.name} can no longer finish by ${b.latestFinishAt ? clock.label(Date.parse(b.latestFinishAt)) : '?'}` : ''}; the delivery would arrive ${delivery?.projectedFinishAt ? clock.label(Date.parse(delivery.projectedFinishAt)) : '?'}`,
          );
        } else if (!chain.atRisk && lastChain.atRisk) {
          log('recover', 'Handoff: back on track', `chain slack ${clock.slack(was)} → ${clock.slack(chain.slackSeconds)}: the at-risk episode is over`);
        } else if (chain.slackSeconds !== null && was !== null && clock.storyMinutes(chain.slackSeconds) !== clock.storyMinutes(was)) {
          log('chain', 'Handoff: slack', `chain slack ${clock.slack(was)} → ${clock.slack(chain.slackSeconds)}${delivery?.projectedFinishAt && chain.slackSeconds !== null ? `; delivery projected ${clock.label(Date.parse(delivery.projectedFinishAt))}` : ''}`);
        }
      } else if (chain.slackSeconds !== null && (!lastChain || clock.storyMinutes(chain.slackSeconds) !== clock.storyMinutes(lastChain.slackSeconds ?? NaN))) {
        log('chain', 'Handoff: slack', `chain of ${chain.nodes.length}: slack ${clock.slack(chain.slackSeconds)}${delivery?.projectedFinishAt ? `, delivery projected ${clock.label(Date.parse(delivery.projectedFinishAt))}` : ''}`);
      }
      lastChain = chain;
      v.update(chain, now);
    };
    const watchEvents = async () => {
      for (const [key, id] of Object.entries(ids)) {
        const page = await cast.admin.get<{ items: EventView[] }>(`/requests/${id}/events?limit=100`);
        for (const e of page.items) {
          if (seenEvents.has(e.id) || !['escalated', 'breached'].includes(e.type)) continue;
          seenEvents.add(e.id);
          const after = e.after ?? {};
          const kind = String(after.kind ?? e.type);
          if (kind === 'chain_at_risk') {
            observed.flaggedAt ??= Date.parse(e.at);
            v.flagged(Date.parse(e.at));
          }
          const to = ((after.recipients as string[] | undefined) ?? []).map((r) => nameOf(shop, r)).join(', ');
          v.log(Date.parse(e.at), kind.includes('breach') ? 'breach' : 'escalation', `Handoff: ${kind}`, `on the ${key}${to ? ` — told ${to}` : ''}`);
        }
      }
    };
    const watchMail = () => {
      for (const mail of [...mailbox.mails].reverse()) {
        if (seenMail.has(mail)) continue;
        seenMail.add(mail);
        v.mail({ at: Date.parse(mail.at), kind: mail.escalation ?? '(no kind)', to: mail.to.map((r) => nameOf(shop, r)).join(', '), subject: mail.subject, gist: gistOf(mail.raw) });
      }
    };
    const watcher = (async () => {
      let tick = 0;
      while (watching) {
        try {
          await watchChain();
          if (tick++ % 3 === 0) await watchEvents();
        } catch (error) {
          if (!(error instanceof ApiError) && watching) log('note', 'demo', `could not read the chain: ${(error as Error).message}`);
        }
        watchMail();
        await new Promise((r) => setTimeout(r, 150));
      }
    })();

    const at = async (storyMinute: number) => {
      stepAt = clock.at(storyMinute);
      await sleepUntil(stepAt + 150);
    };
    const raise = async (who: Person, serviceId: string, body: Record<string, unknown>) => who.post<RequestView>('/requests', { serviceId, ...body });

    // The first hand-offs come in a rush, as orders do: the chain is linked before anyone has
    // started, so every hop's whole lead time is still ahead of it.
    // Each step is told first, then done: what Handoff makes of it shows up after.
    await at(9 * HOUR);
    tell('handoff', 'Sales → Delivery', `Clara the clerk takes order ORDER-1604 and asks Delivery to deliver it by ${clock.label(promiseMs)} (the external promise)`);
    const delivery = await raise(cast.clerk, services.delivery, {
      title: 'Deliver order 1604 to Mrs Jansen',
      description: '20 red roses, hand-tied, to Prinsengracht 12.',
      externalRef: 'ORDER-1604',
      externalDueAt: new Date(promiseMs).toISOString(),
    });
    ids.delivery = delivery.id;
    v.setHopId('delivery', delivery.id);
    tell('handoff', 'Sales → Design', 'Clara asks Design for the bouquet; the delivery waits on it');
    const bouquet = await raise(cast.clerk, services.bouquet, { title: 'Bouquet for order 1604: 20 red roses' });
    ids.bouquet = bouquet.id;
    v.setHopId('bouquet', bouquet.id);
    await cast.clerk.post(`/requests/${delivery.id}/dependencies`, { dependsOnId: bouquet.id });

    await at(9 * HOUR + 5);
    tell('handoff', 'Design → Purchasing', 'Dan the designer orders the roses and acknowledges the bouquet, which waits on them');
    const roses = await raise(cast.designer, services.roses, { title: 'Roses for order 1604: 20 red Naomi' });
    ids.roses = roses.id;
    v.setHopId('roses', roses.id);
    await cast.designer.post(`/requests/${bouquet.id}/dependencies`, { dependsOnId: roses.id });
    await cast.designer.move(bouquet.id, 'acknowledged', 'On it once the roses are in.');

    await at(9 * HOUR + 10);
    tell('move', 'Delivery', 'Cody the courier acknowledges the delivery (blocked until the bouquet is done)');
    await cast.courier.move(delivery.id, 'acknowledged', 'Van booked for the afternoon round.');

    await at(9 * HOUR + 20);
    tell('move', 'Purchasing', 'Bob the buyer acknowledges the roses and goes to the auction');
    await cast.buyer.move(roses.id, 'acknowledged');
    await cast.buyer.move(roses.id, 'in_progress', 'Off to the auction.');

    await at(10 * HOUR);
    const stalledAt = Date.now();
    tell('pause', 'Purchasing ⏸ waiting', 'Bob: red Naomi sold out — asks Design whether white will do, and waits. The roses stop advancing');
    await cast.buyer.move(roses.id, 'waiting_on_customer', 'Red Naomi sold out in the first lot. White Avalanche instead? Waiting for your answer.');

    await at(11 * HOUR + 30);
    tell('move', 'Design answers', 'Dan answers the buyer: white will do. Roses back in progress (a customer reply resumes the clock)');
    await cast.designer.post(`/requests/${roses.id}/comments`, { body: 'Sorry, was at the bench. White Avalanche is fine — buy them!' });

    await at(12 * HOUR + 30);
    tell('done', 'Purchasing ✔ → Design', 'Bob hurries: the roses are in at 12:30 — the bouquet is unblocked');
    await cast.buyer.move(roses.id, 'resolved', '20 white Avalanche roses in the cooler.');

    await at(12 * HOUR + 40);
    tell('move', 'Design', 'Dan starts on the bouquet');
    await cast.designer.move(bouquet.id, 'in_progress', 'Building it now.');

    await at(14 * HOUR);
    tell('done', 'Design ✔ → Delivery', 'the bouquet is ready; the delivery is unblocked');
    await cast.designer.move(bouquet.id, 'resolved', 'Bouquet ready at the back door.');

    await at(14 * HOUR + 10);
    tell('move', 'Delivery', 'Cody sets off with the bouquet');
    await cast.courier.move(delivery.id, 'in_progress', 'On the road.');

    await at(15 * HOUR);
    tell('done', 'Delivery ✔', `Cody hands the bouquet to Mrs Jansen — the promise was ${clock.label(promiseMs)}`);
    const delivered = await cast.courier.move(delivery.id, 'resolved', 'Delivered, signed for by Mrs Jansen.');

    await at(15 * HOUR + 10);
    tell('done', 'Sales ✔ closed', 'Clara closes the order: the customer is served');
    await cast.clerk.move(delivery.id, 'closed', 'Mrs Jansen is happy.');

    // A last look for stragglers (a late escalation, a mail still in flight).
    await sleepUntil(Date.now() + 1500);
    watching = false;
    await watcher;
    await watchChain().catch(() => undefined);
    await watchEvents().catch(() => undefined);
    watchMail();

    // --- did the story go as it should? ------------------------------------------------------
    const mails = [...mailbox.mails].reverse();
    const atRiskMails = mails.filter((m) => m.escalation === 'chain_at_risk');
    const atRiskMail = atRiskMails[0];
    const toldBoth = atRiskMail ? [people.pia, people.sam].every((h) => atRiskMail.to.includes(h)) : false;
    const mailAt = atRiskMail ? Date.parse(atRiskMail.at) : null;
    const breachesBefore = mails.filter((m) => (m.escalation ?? '').includes('breach') && (mailAt === null || Date.parse(m.at) <= mailAt));
    const deliveredAt = delivered.resolvedAt ? Date.parse(delivered.resolvedAt) : null;
    const flaggedAt = observed.flaggedAt ?? observed.atRiskAt;
    const ahead = (ms: number) => storyDuration(Math.max(0, Math.round(clock.minuteAt(promiseMs) - clock.minuteAt(ms))));
    const checks: [boolean, string][] = [
      [
        flaggedAt !== null && flaggedAt >= stalledAt && flaggedAt < promiseMs,
        flaggedAt === null
          ? 'the chain never turned at risk'
          : `the chain turned at risk at ${clock.label(flaggedAt)}${flaggedAt < stalledAt ? `, before the buyer stalled at ${clock.label(stalledAt)}` : ` (slack down to ${clock.slack(observed.leastSlack)}), ${ahead(flaggedAt)} before the promise`}`,
      ],
      [
        atRiskMails.length === 1 && toldBoth && mailAt! < promiseMs,
        atRiskMail
          ? `chain_at_risk mail to ${atRiskMail.to.map((r) => nameOf(shop, r)).join(' and ')} arrived at ${clock.label(mailAt!)} (${clock.real(mailAt!)} real), ${ahead(mailAt!)} before ${clock.label(promiseMs)}` +
            `${toldBoth ? '' : ' — but not to both heads of Purchasing and Sales'}${atRiskMails.length > 1 ? ` — and ${atRiskMails.length - 1} more chain_at_risk mail(s), where one episode was expected` : ''}`
          : 'no chain_at_risk mail arrived',
      ],
      [breachesBefore.length === 0, breachesBefore.length === 0 ? 'no breach mail before it' : `${breachesBefore.length} breach mail(s) came first: ${breachesBefore.map((m) => m.escalation).join(', ')}`],
      [
        deliveredAt !== null && deliveredAt <= promiseMs,
        deliveredAt !== null
          ? `delivered at ${clock.label(deliveredAt)}, ${deliveredAt <= promiseMs ? `${ahead(deliveredAt)} before` : 'after'} the promise` +
            (observed.worstDeliveryFinish && observed.worstDeliveryFinish > promiseMs
              ? ` — at worst Handoff had projected ${clock.label(observed.worstDeliveryFinish)}, ${storyDuration(Math.round(clock.minuteAt(observed.worstDeliveryFinish) - clock.minuteAt(promiseMs)))} late`
              : '')
          : 'the delivery was not resolved',
      ],
    ];
    const ok = checks.every(([pass]) => pass);
    const c = (code: string, s: string) => (color ? `\x1b[${code}m${s}\x1b[0m` : s);
    verdict = {
      ok,
      lines: [
        c('1', ok ? ' The story ran as expected:' : ' The story did NOT run as expected:'),
        ...checks.map(([pass, text]) => `   ${pass ? c('32', '✔') : c('31', '✘')} ${text}`),
        `   ${mails.length} mail(s) caught: ${mails.map((m) => `${m.escalation ?? '?'} → ${m.to.join(', ')}`).join('; ') || 'none'}`,
      ],
    };
    view.end(verdict.lines);
  } catch (error) {
    watching = false;
    view?.restoreTerminal();
    if (error instanceof Interrupted) {
      verdict = { ok: false, lines: [' Interrupted.'] };
    } else {
      const message = error instanceof StartupError ? error.message : error instanceof ApiError ? `the API refused a step of the story: ${error.message}` : `the demo failed: ${(error as Error)?.stack ?? String(error)}`;
      console.error(`\n${message}`);
      verdict = { ok: false, lines: [] };
    }
    if (verdict.lines.length) console.log(verdict.lines.join('\n'));
  }
  const done = await backstage.tearDown();
  console.log(` Cleaned up: ${done.join('; ') || 'nothing to clean'}. Ran ${((Date.now() - started) / 1000).toFixed(1)} s.`);
  // With its terminal gone, Node's exit would fail restoring the terminal's settings (an assertion
  // in ResetStdio) and can hang; everything is cleaned up by now, so leave at once.
  if (hungUp) process.kill(process.pid, 'SIGKILL');
  return abort.signal.aborted ? 130 : verdict.ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(`the demo failed: ${(error as Error)?.stack ?? String(error)}`);
    process.exit(1);
  },
);
