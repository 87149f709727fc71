import type { Socket } from 'node:net';
import SMTPConnection from 'nodemailer/lib/smtp-connection';

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

export class SmtpSendError extends Error {
  constructor(
    readonly smtpError: unknown,
    /** The end of data had been written: the server may hold the message. */
    readonly pastCommitPoint: boolean,
  ) {
    super((smtpError as Error)?.message ?? String(smtpError));
  }
}

/**
 * One SMTP connection sending one message at a time. `atCommitPoint` runs synchronously right
 * after the end-of-data marker is handed to the kernel — the instant the message becomes the
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
   * Resolves with the recipients the server refused while it took the message for the others (none,
   * as a rule). A connection kept open may be closed by the server just as a mail starts on it; lost
   * before the end of data, nothing of the mail reached the server, so it goes once more on a new
   * connection at once instead of waiting for a retry.
   */
  async send(envelope: { from: string; to: string[] }, raw: Buffer, atCommitPoint: () => void): Promise<RefusedRecipient[]> {
    const reused = this.connection !== null && this.isOpen(this.connection);
    try {
      return await this.sendOnce(envelope, raw, atCommitPoint);
    } catch (error) {
      if (!reused || !(error instanceof SmtpSendError) || error.pastCommitPoint || !CONNECTION_LOST.has((error.smtpError as { code?: string })?.code ?? '')) throw error;
      return this.sendOnce(envelope, raw, atCommitPoint);
    }
  }

  private async sendOnce(envelope: { from: string; to: string[] }, raw: Buffer, atCommitPoint: () => void): Promise<RefusedRecipient[]> {
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
