import type { Socket } from 'node:net';
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import { envelopeCommands, messageData, pipelinable, SmtpReplyReader, type Envelope, type SmtpReply } from './smtp-wire';

export interface SmtpTarget {
  host: string;
  port: number;
  secure: boolean;
  ignoreTLS: boolean;
  auth?: { user: string; pass: string };
  rejectUnauthorized: boolean;
}

export function smtpTarget(smtpUrl: string, production: boolean): SmtpTarget {
  const url = new URL(smtpUrl);
  return {
    host: url.hostname,
    port: Number(url.port || (url.protocol === 'smtps:' ? 465 : 25)),
    secure: url.protocol === 'smtps:',
    ignoreTLS: url.protocol === 'smtp:' && !url.searchParams.has('starttls'),
    auth: url.username ? { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } : undefined,
    rejectUnauthorized: production,
  };
}

/** SMTP's end of data: nodemailer's DataStream writes it as its own last chunk; the body is dot-stuffed, so it appears nowhere else. */
const END_OF_DATA = [Buffer.from('\r\n.\r\n'), Buffer.from('.\r\n'), Buffer.from('\n.\r\n')];
const isEndOfData = (chunk: unknown) => Buffer.isBuffer(chunk) && END_OF_DATA.some((end) => chunk.equals(end));

/** The DATA command, written last of the pipelined envelope (MAIL FROM, RCPT TO…, DATA) or alone. */
const isDataCommand = (chunk: unknown) => {
  if ((!Buffer.isBuffer(chunk) && typeof chunk !== 'string') || chunk.length > 1024) return false;
  const text = chunk.toString();
  return text === 'DATA\r\n' || text.endsWith('\r\nDATA\r\n');
};

const RESET_TIMEOUT_MS = 5000;

/** nodemailer's codes for a connection the server closed or reset (not a timeout, not an SMTP answer). */
const CONNECTION_LOST = new Set(['ECONNECTION', 'ESOCKET']);

export interface RefusedRecipient {
  address: string;
  /** The server's answer to its RCPT TO. */
  response: string;
}

/** How long a worker's lanes leave the SMTP server alone after a connection to it failed. */
const UNREACHABLE_HOLD_MS = 1000;

/**
 * Shared by a worker's lanes: once a connection to the server failed, the lanes leave it alone for
 * a moment and then one of them tries again while the others wait for its outcome, so a backlog
 * of mail meeting a server that is down fails each mail at once (to be retried with backoff)
 * instead of each trying a connection of its own (an outside probe counted ~74 attempts a second
 * per worker with 900 mails pending). Until a first failure, lanes connect side by side.
 */
export class SmtpReachability {
  private failedAt = 0;
  private trying = false;
  private lastError = '';

  /** The error a connection attempt fails with at once; null when this caller may try. */
  check(): Error | null {
    if (this.failedAt === 0) return null;
    if (!this.trying && Date.now() >= this.failedAt + UNREACHABLE_HOLD_MS) {
      this.trying = true;
      return null;
    }
    return Object.assign(new Error(`SMTP server not reachable a moment ago, not tried again yet: ${this.lastError}`), { code: 'ECONNECTION' });
  }

  failed(error: unknown): void {
    this.failedAt = Date.now();
    this.trying = false;
    this.lastError = (error as Error)?.message ?? String(error);
  }

  reached(): void {
    this.failedAt = 0;
    this.trying = false;
  }
}

const toReply = (text: string): SmtpReply => ({ code: Number(text.slice(0, 3)) || 0, text });

export class SmtpSendError extends Error {
  constructor(
    readonly smtpError: unknown,
    /** The end of data had been written: the server may hold the message. */
    readonly pastCommitPoint: boolean,
  ) {
    super((smtpError as Error)?.message ?? String(smtpError));
  }
}

/** One mail handed to SmtpLane.sendEach. */
export interface Submission {
  envelope: Envelope;
  raw: Buffer;
  /** Awaited before the message's end of data is written (the lane's PostgreSQL connection must be idle then); rejected, the mail is not sent. */
  beforeData(): Promise<unknown>;
  /** Runs synchronously right after the message and its end of data are handed to the kernel. */
  atCommitPoint(): void;
  /** Called once: the recipients the server refused while it took the message, or why the mail was not sent. */
  settle(outcome: { refused: RefusedRecipient[] } | { error: SmtpSendError }): void;
}

/** A pipelined transaction's progress on one mail. */
interface InFlight {
  sub: Submission;
  accepted: number;
  /** The recipients refused at RCPT TO, with the server's replies. */
  refused: RefusedRecipient[];
  mailError: Error | null;
  committed: boolean;
  settled: boolean;
}

/** What a reply that is still to come answers. */
type AwaitedReply = { kind: 'mail' | 'rcpt' | 'data' | 'message'; mail: InFlight } | { kind: 'rset' };

/** An error shaped like nodemailer's: its code, the server's reply and the reply's code. */
function smtpError(message: string, code: string, reply?: SmtpReply, command?: string): Error {
  const error = new Error(reply ? `${message}: ${reply.text}` : message) as Error & { code: string; response?: string; responseCode?: number; command?: string };
  error.code = code;
  if (reply) {
    error.response = reply.text;
    error.responseCode = reply.code;
  }
  if (command) error.command = command;
  return error;
}

/**
 * One SMTP connection sending one message at a time (sendEach), the next one's envelope pipelined
 * behind the current one's end of data where the server allows. `atCommitPoint` runs synchronously
 * right after the end-of-data marker is handed to the kernel — the instant the message becomes the
 * server's — so the caller can record "sent" within microseconds of it, not a round trip later.
 */
export class SmtpLane {
  private connection: SMTPConnection | null = null;
  /** When the connection last carried a mail or a keep-alive (Date.now()). */
  private lastUsed = 0;

  constructor(
    private readonly target: SmtpTarget,
    private readonly reachability = new SmtpReachability(),
  ) {}

  /** Opens the connection ahead of the first mail: a server's greeting may take a while (smtp-server pauses 100 ms). */
  async open(): Promise<void> {
    await this.connected();
    this.lastUsed = Date.now();
  }

  /** Whether there is no open connection (never opened, dropped, or closed by the server). */
  get closed(): boolean {
    return this.connection === null || !this.isOpen(this.connection);
  }

  /** Whether the connection is open and has carried nothing for `ms`. */
  idleFor(ms: number): boolean {
    return this.connection !== null && this.isOpen(this.connection) && Date.now() - this.lastUsed >= ms;
  }

  /** RSET on an open connection, so that neither our socket timeout nor the server's idle timeout closes it and the next mail need not wait for a new one. */
  async keepAlive(): Promise<void> {
    const connection = this.connection;
    if (!connection || !this.isOpen(connection)) return;
    this.lastUsed = Date.now();
    if (!(await this.reset(connection))) this.drop();
  }

  /**
   * Sends the mails `pull` hands out, one after the other, until it has none. Where the server
   * offers PIPELINING (RFC 2920), each mail's end of data and the next mail's envelope (MAIL FROM,
   * RCPT TO…, DATA) leave in one write, so a mail costs one round trip and one write, not two:
   * the next mail is pulled the moment the current one's data is written. Mails whose addresses
   * need more than plain ASCII, and servers without PIPELINING, go through nodemailer's send.
   */
  async sendEach(pull: () => Submission | null): Promise<void> {
    let carried: Submission | null = null;
    const retried = new WeakSet<Submission>();
    for (;;) {
      const sub: Submission | null = carried ?? pull();
      carried = null;
      if (!sub) return;
      const reused = !this.closed;
      let connection: SMTPConnection;
      try {
        connection = await this.connected();
      } catch (error) {
        sub.settle({ error: new SmtpSendError(error, false) });
        continue;
      }
      if (!pipelinable(sub.envelope) || !this.offersPipelining(connection)) {
        try {
          await sub.beforeData();
          sub.settle({ refused: await this.send(sub.envelope, sub.raw, () => sub.atCommitPoint()) });
        } catch (error) {
          sub.settle({ error: error instanceof SmtpSendError ? error : new SmtpSendError(error, false) });
        }
        continue;
      }
      const { next, lostBeforeData } = await this.pipeline(connection, sub, pull);
      carried = next;
      // Lost before its data: nothing of it reached the server. Sent again at once on a new
      // connection if the lost one had carried mail before (a server closing a kept connection).
      if (lostBeforeData) {
        const { sub: lost, error } = lostBeforeData;
        const again = (lost !== sub || reused) && !retried.has(lost) && CONNECTION_LOST.has((error as { code?: string }).code ?? '');
        if (again && !carried) {
          retried.add(lost);
          carried = lost;
        } else {
          lost.settle({ error: new SmtpSendError(error, false) });
        }
      }
    }
  }

  private offersPipelining(connection: SMTPConnection): boolean {
    return ((connection as unknown as { _supportedExtensions?: string[] })._supportedExtensions ?? []).includes('PIPELINING');
  }

  /**
   * One run of pipelined transactions on an open connection, reading the replies itself (nodemailer's
   * reader handles one reply per event-loop turn). Resolves when every mail written has its answer
   * and `pull` has no more (`next`: a mail pulled that must go another way), or when the connection
   * is lost (`lostBeforeData`: the mail whose envelope was written and not its data, if any; mails
   * past their end of data are settled as in doubt).
   */
  private pipeline(
    connection: SMTPConnection,
    first: Submission,
    pull: () => Submission | null,
  ): Promise<{ next: Submission | null; lostBeforeData: { sub: Submission; error: unknown } | null }> {
    const socket = connection._socket as Socket;
    const nodemailerReader = (connection as unknown as { _onSocketData: (chunk: Buffer) => void })._onSocketData;
    const reader = new SmtpReplyReader();
    const awaited: AwaitedReply[] = [];
    let carried: Submission | null = null;
    let ended = false;
    this.lastUsed = Date.now();

    return new Promise((resolve) => {
      /** The mail whose data waits for its beforeData (its 354 is in, its data not yet written). */
      let awaitingData: InFlight | null = null;

      const finish = (lost: boolean, lostBeforeData: { sub: Submission; error: unknown } | null) => {
        if (ended) return;
        ended = true;
        socket.removeListener('data', onData);
        connection.off('end', onEnd);
        connection.off('error', onError);
        if (!lost) socket.on('data', nodemailerReader);
        this.lastUsed = Date.now();
        resolve({ next: carried, lostBeforeData });
      };

      /** The connection is gone: what was past its end of data is in doubt, the rest was never the server's. */
      const lose = (error: unknown) => {
        if (ended) return;
        let beforeData: { sub: Submission; error: unknown } | null = null;
        const unanswered = awaited.splice(0).flatMap((item) => (item.kind === 'rset' ? [] : [item.mail]));
        if (awaitingData) unanswered.push(awaitingData);
        for (const mail of new Set(unanswered)) {
          if (mail.settled) continue;
          mail.settled = true;
          if (mail.committed) mail.sub.settle({ error: new SmtpSendError(error, true) });
          else beforeData = { sub: mail.sub, error };
        }
        finish(true, beforeData);
        if (this.connection === connection) this.drop();
      };
      let lastError: unknown = null;
      const onError = (error: unknown) => (lastError = error);
      const onEnd = () => lose(lastError ?? smtpError('Connection closed unexpectedly', 'ECONNECTION'));

      const settle = (mail: InFlight, outcome: Parameters<Submission['settle']>[0]) => {
        if (mail.settled) return;
        mail.settled = true;
        mail.sub.settle(outcome);
      };

      const start = (sub: Submission): InFlight => {
        const mail: InFlight = { sub, accepted: 0, refused: [], mailError: null, committed: false, settled: false };
        awaited.push({ kind: 'mail', mail }, ...sub.envelope.to.map(() => ({ kind: 'rcpt' as const, mail })), { kind: 'data', mail });
        return mail;
      };

      /** The next mail to pipeline, or null (none, or one that must go through nodemailer: carried). */
      const pullNext = (): Submission | null => {
        if (carried) return null;
        const sub = pull();
        if (sub && !pipelinable(sub.envelope)) {
          carried = sub;
          return null;
        }
        return sub;
      };

      const writeData = async (mail: InFlight) => {
        awaitingData = mail;
        try {
          await mail.sub.beforeData();
        } catch (error) {
          // Not to be sent now (its mark could not be written): the server discards the unfinished transaction.
          return lose(Object.assign(new Error(`not sent: ${(error as Error)?.message ?? error}`), { code: 'EABORTED' }));
        }
        if (ended) return;
        awaitingData = null;
        const next = pullNext();
        const data = messageData(mail.sub.raw);
        if (next) {
          socket.write(Buffer.concat([data, Buffer.from(envelopeCommands(next.envelope), 'latin1')]));
        } else {
          socket.write(data);
        }
        mail.committed = true;
        this.lastUsed = Date.now();
        mail.sub.atCommitPoint();
        awaited.push({ kind: 'message', mail });
        if (next) start(next);
      };

      /** After a mail failed in its envelope: RSET, then the next mail's envelope, or the end. */
      const resetThenNext = () => {
        awaited.push({ kind: 'rset' });
        socket.write('RSET\r\n');
      };

      const onReply = (reply: SmtpReply) => {
        const item = awaited.shift();
        if (!item) return lose(smtpError('Unexpected reply', 'EPROTOCOL', reply));
        if (item.kind === 'rset') {
          if (reply.code < 200 || reply.code >= 300) return lose(smtpError('Could not reset session state', 'EPROTOCOL', reply, 'RSET'));
          const next = pullNext();
          if (next) {
            start(next);
            socket.write(envelopeCommands(next.envelope));
          }
        } else if (item.kind === 'mail') {
          if (reply.code >= 300) item.mail.mailError = smtpError('Mail command failed', 'EENVELOPE', reply, 'MAIL FROM');
        } else if (item.kind === 'rcpt') {
          const address = item.mail.sub.envelope.to[item.mail.accepted + item.mail.refused.length];
          if (reply.code >= 200 && reply.code < 300) item.mail.accepted++;
          else item.mail.refused.push({ address, response: reply.text });
        } else if (item.kind === 'data') {
          const mail = item.mail;
          const envelopeError =
            mail.mailError ??
            (mail.accepted === 0
              ? smtpError(
                  "Can't send mail - all recipients were rejected",
                  'EENVELOPE',
                  // A temporary refusal among them makes the whole one temporary.
                  toReply(mail.refused.find((r) => /^4/.test(r.response))?.response ?? mail.refused[mail.refused.length - 1]?.response ?? reply.text),
                  'RCPT TO',
                )
              : null);
          if (envelopeError && reply.code >= 300 && reply.code < 400) {
            // A server must refuse DATA without a sender or recipient; one that took it cannot be trusted with the session.
            settle(mail, { error: new SmtpSendError(envelopeError, false) });
            return lose(smtpError('Server accepted DATA without a valid envelope', 'EPROTOCOL', reply, 'DATA'));
          }
          if (envelopeError || reply.code < 200 || reply.code >= 400) {
            settle(mail, { error: new SmtpSendError(envelopeError ?? smtpError('Data command failed', 'EENVELOPE', reply, 'DATA'), false) });
            resetThenNext();
          } else {
            void writeData(mail);
          }
        } else {
          const mail = item.mail;
          if (reply.code >= 200 && reply.code < 300) settle(mail, { refused: mail.refused });
          else settle(mail, { error: new SmtpSendError(smtpError('Message failed', 'EMESSAGE', reply, 'DATA'), true) });
        }
        // 421: the server is closing the connection, whatever it was answering.
        if (reply.code === 421) return lose(smtpError('Server closed the connection', 'ECONNECTION', reply));
        if (awaited.length === 0 && !awaitingData && !reader.partial) finish(false, null);
      };

      const onData = (chunk: Buffer) => {
        let replies: SmtpReply[];
        try {
          replies = reader.read(chunk);
        } catch (error) {
          return lose(smtpError((error as Error).message, 'EPROTOCOL'));
        }
        for (const reply of replies) {
          if (ended) return;
          onReply(reply);
        }
      };

      socket.removeListener('data', nodemailerReader);
      socket.on('data', onData);
      connection.on('error', onError);
      connection.once('end', onEnd);
      start(first);
      socket.write(envelopeCommands(first.envelope));
    });
  }

  /**
   * One mail through nodemailer's own send (sendEach's way for servers without PIPELINING and for
   * non-ASCII addresses). Resolves with the recipients the server refused while it took the message
   * for the others (none, as a rule). A connection kept open may be closed by the server just as a mail starts on it; lost
   * before the end of data, nothing of the mail reached the server, so it goes once more on a new
   * connection at once instead of waiting for a retry.
   */
  private async send(envelope: Envelope, raw: Buffer, atCommitPoint: () => void): Promise<RefusedRecipient[]> {
    const reused = this.connection !== null && this.isOpen(this.connection);
    try {
      return await this.sendOnce(envelope, raw, atCommitPoint);
    } catch (error) {
      if (!reused || !(error instanceof SmtpSendError) || error.pastCommitPoint || !CONNECTION_LOST.has((error.smtpError as { code?: string })?.code ?? '')) throw error;
      return this.sendOnce(envelope, raw, atCommitPoint);
    }
  }

  private async sendOnce(envelope: Envelope, raw: Buffer, atCommitPoint: () => void): Promise<RefusedRecipient[]> {
    const connection = await this.connected();
    this.lastUsed = Date.now();
    const socket = connection._socket as Socket;
    const write = socket.write;
    let armed = true;
    let inData = false;
    let corked = false;
    socket.write = function (this: Socket, chunk: unknown, ...rest: unknown[]) {
      // The message and its end of data leave in one write (the body alone would be one more
      // system call per mail, and a segment the server cannot answer yet): corked from the first
      // byte of content, uncorked — written, synchronously — with the end of data.
      const endOfData = armed && isEndOfData(chunk);
      if (inData && !corked && armed && !endOfData) {
        this.cork();
        corked = true;
      }
      const accepted = (write as (...a: unknown[]) => boolean).call(this, chunk, ...rest);
      if (endOfData) {
        armed = false;
        if (corked) {
          corked = false;
          this.uncork();
        }
        atCommitPoint();
      } else if (!inData && isDataCommand(chunk)) {
        inData = true;
      }
      return accepted;
    } as Socket['write'];
    const unwrap = () => {
      socket.write = write;
      if (corked) {
        corked = false;
        socket.uncork();
      }
    };
    try {
      const info = await new Promise<SMTPConnection.SentMessageInfo>((resolve, reject) =>
        connection.send(envelope, raw, (error, sent) => (error ? reject(error) : resolve(sent))),
      );
      return (info.rejected ?? []).map((address, i) => ({ address, response: String(info.rejectedErrors?.[i]?.response ?? '') }));
    } catch (error) {
      // Unwrapped first: a refusal of the pipelined MAIL FROM or RCPT TO comes after DATA was
      // written, and a still-wrapped socket would cork the RSET below, whose answer never came.
      unwrap();
      // A refused message leaves the session usable once reset; anything else, start afresh next time.
      if (typeof (error as { responseCode?: number }).responseCode !== 'number' || !(await this.reset(connection))) this.drop();
      throw new SmtpSendError(error, !armed);
    } finally {
      unwrap();
    }
  }

  /** RSET; false when the server does not answer it well within the socket timeout, or the connection ends. */
  private reset(connection: SMTPConnection): Promise<boolean> {
    return new Promise((resolve) => {
      const done = (ok: boolean) => {
        clearTimeout(timer);
        connection.off('end', ended);
        resolve(ok);
      };
      const ended = () => done(false);
      const timer = setTimeout(ended, RESET_TIMEOUT_MS);
      connection.once('end', ended);
      connection.reset((error) => done(!error));
    });
  }

  private isOpen(connection: SMTPConnection): boolean {
    return Boolean((connection as unknown as { _socket: Socket | null })._socket) && !(connection as unknown as { _destroyed?: boolean })._destroyed;
  }

  private connected(): Promise<SMTPConnection> {
    if (this.connection && this.isOpen(this.connection)) return Promise.resolve(this.connection);
    const held = this.reachability.check();
    if (held) return Promise.reject(held);
    const t = this.target;
    const connection = new SMTPConnection({
      host: t.host,
      port: t.port,
      secure: t.secure,
      ignoreTLS: t.ignoreTLS,
      tls: { rejectUnauthorized: t.rejectUnauthorized },
      connectionTimeout: 5000,
      greetingTimeout: 5000,
      socketTimeout: 10000,
    });
    connection.on('error', () => this.drop());
    connection.on('end', () => {
      if (this.connection === connection) this.connection = null;
    });
    return new Promise((resolve, reject) => {
      let connected = false;
      connection.connect((error) => {
        if (error) {
          this.reachability.failed(error);
          return reject(error);
        }
        connected = true;
        this.reachability.reached();
        if (!t.auth) {
          this.connection = connection;
          return resolve(connection);
        }
        connection.login(t.auth, (loginError) => {
          if (loginError) {
            connection.close();
            return reject(loginError);
          }
          this.connection = connection;
          resolve(connection);
        });
      });
      connection.once('error', (error) => {
        if (!connected) this.reachability.failed(error);
        reject(error);
      });
    });
  }

  private drop(): void {
    const connection = this.connection;
    this.connection = null;
    try {
      connection?.close();
    } catch {
      /* already closed */
    }
  }

  close(): void {
    const connection = this.connection;
    this.connection = null;
    try {
      connection?.quit();
    } catch {
      /* already closed */
    }
  }
}
