import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { MailSender } from '../../src/mail/mail-sender';
import { SmtpLane, smtpTarget } from '../../src/mail/smtp-lane';
import { MAIL_LANES, MailTransport } from '../../src/mail/mail-transport';
import { MAILS_PER_JOB } from '../../src/mail/mail-queue';
import { waitUntil } from '../support/fast-sla';
import { bearer, startMailingApp, type MailingApp } from '../support/test-app';

/**
 * Mail lanes and an SMTP server offering PIPELINING (RFC 2920): a mail's end of data and the next
 * mail's envelope leave in one write, so each mail after a lane's first costs one write and one
 * round trip. What the server reads is recorded chunk by chunk.
 */
describe('SMTP pipelining: each mail after a lane\'s first costs one write and one round trip', () => {
  let app: MailingApp;

  beforeAll(async () => {
    // No reconciler pass during the test: only the sends called below touch the outbox.
    app = await startMailingApp('smtp_pipelining', { RECONCILE_INTERVAL_S: '3600' });
  });
  afterAll(() => app.close());

  /** `count` due mails with no jobs of their own, to the given recipients (by position); their ids in order. */
  const dueMails = async (label: string, count: number, recipients: (i: number) => string[] = () => ['pia@flowers.example']): Promise<string[]> => {
    const { t, shop, tokens } = app;
    const request = (await t.http.post('/api/v1/requests').set(bearer(tokens.clerk)).send({ serviceId: shop.services.bouquet.id, title: label })).body;
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      const [escalation] = await t.dataSource.query(
        `INSERT INTO escalations (request_id, kind, clock_version, due_at, fired_at) VALUES ($1, $2, 1, now(), now()) RETURNING id`,
        [request.id, `level-${i + 1}`],
      );
      const [mail] = await t.dataSource.query(
        `INSERT INTO mail_outbox (escalation_id, request_id, kind, recipients, subject, text_body, html_body, headers, due_at, next_attempt_at)
         VALUES ($1, $2, $3, $4, $5, $6, '<p>html</p>', '{}', now(), now() - make_interval(secs => 100 - $7::int)) RETURNING id`,
        // A line opening with a dot: SMTP's end of data unless doubled (dot-stuffing).
        [escalation.id, request.id, `level-${i + 1}`, JSON.stringify(recipients(i)), `[Handoff] ${label} ${i + 1}`, `text\n.\n..${i}\n.`, i],
      );
      ids.push(mail.id);
    }
    return ids;
  };

  /** Sends a batch starting at its first mail, with what the server reads recorded; the outcome. */
  const sendRecorded = async (mails: string[]) => {
    const { t, sink } = app;
    sink.received.length = 0;
    sink.inbound.length = 0;
    sink.recordInbound = true;
    try {
      return await t.app.get(MailSender).send(mails[0]);
    } finally {
      sink.recordInbound = false;
    }
  };

  const statuses = async (ids: string[]) =>
    (await app.t.dataSource.query(`SELECT status FROM mail_outbox WHERE id = ANY($1) ORDER BY next_attempt_at`, [ids])).map((r: { status: string }) => r.status);

  it("writes each envelope after a lane's first together with the end of data before it; every mail arrives once and intact", async () => {
    const { sink } = app;
    await sink.waitFor(() => sink.connections >= MAIL_LANES, 10000, 'every lane connected');
    const mails = await dueMails('pipelined', MAILS_PER_JOB);
    const outcome = await sendRecorded(mails);

    expect(outcome).toEqual({ sent: MAILS_PER_JOB, retrying: 0, failed: 0 });
    const subjects = sink.received.map((m) => m.subject);
    expect(new Set(subjects).size).toBe(MAILS_PER_JOB);
    expect(subjects).toHaveLength(MAILS_PER_JOB);
    // Dot-stuffed on the way, the body arrives as written.
    for (const mail of sink.received) expect(mail.raw).toContain(`text\r\n.\r\n..${Number(mail.subject.split(' ').at(-1)) - 1}\r\n.\r\n`);
    // Without pipelining every envelope is a write of its own, answered before the message goes.
    const envelopesAlone = sink.inbound.filter((chunk) => chunk.startsWith('MAIL FROM:')).length;
    const withEndOfData = sink.inbound.filter((chunk) => /\r\n\.\r\nMAIL FROM:<[^\r\n]*>\r\nRCPT TO:<[^\r\n]*>\r\nDATA\r\n$/.test(chunk)).length;
    expect(envelopesAlone + withEndOfData).toBe(MAILS_PER_JOB);
    expect(envelopesAlone).toBeLessThanOrEqual(MAIL_LANES);
    expect(withEndOfData).toBeGreaterThanOrEqual(MAILS_PER_JOB - MAIL_LANES);
    expect(await statuses(mails)).toEqual(mails.map(() => 'sent'));
  });

  it('a mail refused in its envelope amid a pipelined run fails alone: the session is reset and the rest go out', async () => {
    const { t, sink } = app;
    sink.unknownMailboxes.add('nobody@flowers.example');
    sink.received.length = 0;
    // Every fifth mail goes to a mailbox that does not exist (550 at RCPT TO: a permanent refusal),
    // one to that mailbox and a real one (sent, the refusal kept).
    const mails = await dueMails('refused amid', MAILS_PER_JOB, (i) =>
      i % 5 === 2 ? ['nobody@flowers.example'] : i === 3 ? ['nobody@flowers.example', 'pia@flowers.example'] : ['pia@flowers.example'],
    );
    const outcome = await t.app.get(MailSender).send(mails[0]);

    expect(outcome).toEqual({ sent: MAILS_PER_JOB - 5, retrying: 0, failed: 5 });
    expect(await statuses(mails)).toEqual(mails.map((_, i) => (i % 5 === 2 ? 'failed' : 'sent')));
    expect(sink.received.map((m) => m.subject).sort()).toEqual(
      mails.map((_, i) => `[Handoff] refused amid ${i + 1}`).filter((_, i) => i % 5 !== 2).sort(),
    );
    const [partly] = await t.dataSource.query(`SELECT last_error FROM mail_outbox WHERE id = $1`, [mails[3]]);
    expect(partly.last_error).toMatch(/^sent, but refused for nobody@flowers\.example \(550/);
    const [refused] = await t.dataSource.query(`SELECT last_error FROM mail_outbox WHERE id = $1`, [mails[2]]);
    expect(refused.last_error).toMatch(/^refused: .*all recipients were rejected.*550/);
    sink.unknownMailboxes.clear();
  });

  it("never writes the data of a mail whose lane could not record the ones before it: the server discards its transaction", async () => {
    const { sink } = app;
    const lane = new SmtpLane(smtpTarget(sink.url, false));
    sink.received.length = 0;
    const outcomes: string[] = [];
    const subjects = ['first', 'unrecordable', 'third'];
    const pending = [...subjects];
    try {
      await lane.sendEach(() => {
        const subject = pending.shift();
        if (subject === undefined) return null;
        return {
          envelope: { from: 'handoff@flowers.example', to: ['pia@flowers.example'] },
          raw: Buffer.from(`Subject: ${subject}\r\n\r\nbody\r\n`, 'latin1'),
          // As MailSender's is when the lane's PostgreSQL connection failed the mark of a mail before.
          beforeData: () => (subject === 'unrecordable' ? Promise.reject(new Error('connection lost')) : Promise.resolve()),
          atCommitPoint: () => outcomes.push(`${subject} committed`),
          settle: (outcome) =>
            outcomes.push('error' in outcome ? `${subject} ${(outcome.error.smtpError as { code: string }).code}, past commit point: ${outcome.error.pastCommitPoint}` : `${subject} sent`),
        };
      });
    } finally {
      lane.close();
    }

    expect(outcomes).toEqual(['first committed', 'first sent', 'unrecordable EABORTED, past commit point: false', 'third committed', 'third sent']);
    expect(sink.received.map((m) => m.subject)).toEqual(['first', 'third']);
  });

  it.each([
    ['offering PIPELINING', true],
    ['without PIPELINING', false],
  ])("records a mail's answer at once though the lane still waits on the next mail's envelope (a server %s), so a worker dying then leaves it not in doubt", async (_, pipelining) => {
    const { t, sink } = app;
    const transport = t.app.get(MailTransport);
    if (!pipelining) {
      sink.pipelining = false;
      const before = sink.connections;
      sink.dropConnections();
      await sink.waitFor(() => sink.connections >= before + MAIL_LANES, 15000, 'every lane connected again');
    }
    // One lane for the batch: the other eleven held by the test, so the two mails go one after the other.
    let lanes = transport.takeFree(MAIL_LANES);
    while (lanes.length < MAIL_LANES) {
      for (const lane of lanes) transport.release(lane);
      await new Promise((resolve) => setTimeout(resolve, 50));
      lanes = transport.takeFree(MAIL_LANES);
    }
    transport.release(lanes.pop()!);
    const mails = await dueMails('answered', 2);
    sink.received.length = 0;
    // The server holds its answer to the second MAIL FROM (a slow server, greylisting in the making).
    let mailFroms = 0;
    sink.mailFromDelay = () => (++mailFroms === 2 ? 1500 : 0);
    const lanesRow = async (mailId: string) => (await t.dataSource.query(`SELECT answered FROM mail_lanes WHERE marked = $1`, [mailId]))[0];
    const sending = t.app.get(MailSender).send(mails[0]);
    try {
      await sink.waitFor(() => sink.received.length === 1, 5000, 'the first mail');
      await sink.waitFor(() => mailFroms === 2, 5000, 'the second envelope');
      // The first mail is answered and the second's envelope held: a worker killed now must not
      // leave the first looking unanswered (the reconciler would send it again while the server
      // was refusing other mail after the data).
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(sink.received).toHaveLength(1);
      expect(await lanesRow(mails[0])).toEqual({ answered: true });

      expect(await sending).toEqual({ sent: 2, retrying: 0, failed: 0 });
      await waitUntil(async () => (await lanesRow(mails[1]))?.answered === true, 2000, () => 'the second answer recorded once the lane is idle');
    } finally {
      sink.mailFromDelay = null;
      sink.pipelining = true;
      await sending.catch(() => undefined);
      for (const lane of lanes) transport.release(lane);
    }
  });

  it('a server without PIPELINING gets one command group at a time, and every mail once', async () => {
    const { sink } = app;
    sink.pipelining = false;
    const before = sink.connections;
    sink.dropConnections();
    await sink.waitFor(() => sink.connections >= before + MAIL_LANES, 15000, 'every lane connected again');
    const mails = await dueMails('one at a time', MAILS_PER_JOB);
    const outcome = await sendRecorded(mails).finally(() => (sink.pipelining = true));

    expect(outcome).toEqual({ sent: MAILS_PER_JOB, retrying: 0, failed: 0 });
    expect(new Set(sink.received.map((m) => m.subject)).size).toBe(MAILS_PER_JOB);
    expect(sink.received).toHaveLength(MAILS_PER_JOB);
    expect(sink.inbound.filter((chunk) => chunk.includes('MAIL FROM:') && !chunk.startsWith('MAIL FROM:'))).toEqual([]);
    expect(sink.inbound.filter((chunk) => chunk.startsWith('MAIL FROM:'))).toHaveLength(MAILS_PER_JOB);
  });
});

describe('SMTP pipelining after STARTTLS and AUTH', () => {
  it('sends every mail once, intact, on one encrypted, signed-in connection', async () => {
    const received: { from: string; to: string[]; body: string; secure: boolean; user: string | undefined }[] = [];
    const server = new SMTPServer({
      logger: false,
      authMethods: ['PLAIN'],
      onAuth(auth, _session, callback) {
        if (auth.username === 'handoff' && auth.password === 'p@ss word') return callback(null, { user: auth.username });
        callback(new Error('Invalid username or password'));
      },
      onData(stream, session, callback) {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () => {
          received.push({
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
            body: Buffer.concat(chunks).toString('latin1'),
            secure: session.secure,
            user: session.user as string | undefined,
          });
          callback();
        });
      },
    });
    server.listen(0, '127.0.0.1');
    await once(server.server, 'listening');
    const port = (server.server.address() as AddressInfo).port;
    const lane = new SmtpLane(smtpTarget(`smtp://handoff:${encodeURIComponent('p@ss word')}@127.0.0.1:${port}?starttls`, false));
    try {
      const outcomes: string[] = [];
      const bodies = Array.from({ length: 5 }, (_, i) => `Subject: ${i}\r\n\r\n.line ${i}\r\n`);
      const pending = [...bodies];
      await lane.sendEach(() => {
        const body = pending.shift();
        if (body === undefined) return null;
        return {
          envelope: { from: 'handoff@flowers.example', to: [`head${bodies.indexOf(body)}@flowers.example`] },
          raw: Buffer.from(body, 'latin1'),
          beforeData: () => Promise.resolve(),
          atCommitPoint: () => undefined,
          settle: (outcome) => outcomes.push('error' in outcome ? `error ${outcome.error.message}` : `sent, refused ${outcome.refused.length}`),
        };
      });

      expect(outcomes).toEqual(bodies.map(() => 'sent, refused 0'));
      // The server undoes the dot-stuffing: each body arrives as written.
      expect(received.map((m) => [m.to, m.body, m.secure, m.user])).toEqual(bodies.map((body, i) => [[`head${i}@flowers.example`], body, true, 'handoff']));
    } finally {
      lane.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
