import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  to: string[];
  headers: Record<string, string>;
  subject: string;
  /** The message as sent, with quoted-printable soft breaks and escapes undone, so text can be searched. */
  raw: string;
  receivedAt: number;
  /** The SMTP session (connection) it came over. */
  session: string;
}

/** smtp-server's connection, as far as the sink reaches into it. */
interface SinkConnection {
  id: string;
  _socket: { destroy(): void; on(event: 'data', listener: (chunk: Buffer) => void): void };
}

const decodeQuotedPrintable = (text: string) =>
  Buffer.from(text.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16))), 'latin1').toString('utf8');

/** A real SMTP server for tests: records what arrives; can refuse (temporarily or for good) on demand. */
export class SmtpSink {
  readonly received: ReceivedMail[] = [];
  /** null accepts; otherwise the SMTP code to refuse with (451 temporary, 550 permanent). */
  refuseWith: number | null = null;
  /** Which answer refuses: the end of data (default), MAIL FROM, or RCPT TO. */
  refuseAt: 'data' | 'mail' | 'rcpt' = 'data';
  /** How long the answer to an end of data is held back (a server scanning content). */
  holdDataAnswerMs = 0;
  /** Called as each message's end of data arrives, before it is answered. */
  onDataEnd: (() => void) | null = null;
  /** Messages refused at their end of data so far. */
  refusedAfterData = 0;
  /** Mailboxes that do not exist here: RCPT TO answers 550 for them, whatever else is set. */
  readonly unknownMailboxes = new Set<string>();
  /** SMTP connections accepted so far. */
  connections = 0;
  /** How long the answer to each MAIL FROM is held back (ms); asked once per MAIL FROM. */
  mailFromDelay: (() => number) | null = null;
  /** This many next MAIL FROMs are answered by closing the connection (a server timing out an idle client as it speaks). */
  closeOnMailFrom = 0;
  /** While true, what clients send is kept in `inbound`, one entry per chunk the server read. */
  recordInbound = false;
  readonly inbound: string[] = [];
  /** Connection-level errors the server saw (resets by killed clients), kept for a failing test's message. */
  readonly connectionErrors: string[] = [];
  private server!: SMTPServer;
  port = 0;

  static async start(): Promise<SmtpSink> {
    const sink = new SmtpSink();
    sink.server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onConnect(session, callback) {
        sink.connections++;
        for (const connection of sink.openConnections()) {
          if (connection.id === session.id) connection._socket.on('data', (chunk: Buffer) => sink.recordInbound && sink.inbound.push(chunk.toString('latin1')));
        }
        callback();
      },
      onMailFrom(_address, session, callback) {
        if (sink.closeOnMailFrom > 0) {
          sink.closeOnMailFrom--;
          for (const connection of sink.openConnections()) if (connection.id === session.id) connection._socket.destroy();
          return;
        }
        const delay = sink.mailFromDelay?.() ?? 0;
        if (delay > 0) setTimeout(() => callback(sink.refusal('mail')), delay);
        else callback(sink.refusal('mail'));
      },
      onRcptTo(address, _session, callback) {
        if (sink.unknownMailboxes.has(address.address)) {
          return callback(Object.assign(new Error('No such mailbox'), { responseCode: 550 }));
        }
        callback(sink.refusal('rcpt'));
      },
      onData(stream, session, callback) {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          sink.onDataEnd?.();
          const refused = sink.refusal('data');
          if (refused) sink.refusedAfterData++;
          if (sink.holdDataAnswerMs > 0) setTimeout(() => answer(refused), sink.holdDataAnswerMs);
          else answer(refused);
        });
        const answer = (refused: (Error & { responseCode: number }) | undefined) => {
          if (refused) return callback(refused);
          const raw = Buffer.concat(chunks).toString('utf8');
          const headerBlock = raw.split(/\r?\n\r?\n/)[0].replace(/\r?\n[ \t]+/g, ' ');
          const headers: Record<string, string> = {};
          for (const line of headerBlock.split(/\r?\n/)) {
            const colon = line.indexOf(':');
            if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
          }
          sink.received.push({
            to: session.envelope.rcptTo.map((r) => r.address),
            headers,
            subject: headers.subject ?? '',
            raw: decodeQuotedPrintable(raw),
            receivedAt: Date.now(),
            session: session.id,
          });
          callback();
        };
      },
    });
    // A client killed mid-session (the SIGKILL tests) resets its socket; that is the client's
    // problem, not a reason to crash the test file.
    sink.server.on('error', (error) => sink.connectionErrors.push(error.message));
    sink.server.listen(0, '127.0.0.1');
    await once(sink.server.server, 'listening');
    sink.port = (sink.server.server.address() as AddressInfo).port;
    return sink;
  }

  private refusal(at: SmtpSink['refuseAt']): (Error & { responseCode: number }) | undefined {
    if (this.refuseWith === null || this.refuseAt !== at) return undefined;
    const error = new Error(this.refuseWith >= 500 ? 'Mailbox unavailable' : 'Try again later') as Error & { responseCode: number };
    error.responseCode = this.refuseWith;
    return error;
  }

  get url(): string {
    return `smtp://127.0.0.1:${this.port}`;
  }

  /** Mails about one request, optionally of one escalation kind. */
  about(requestId: string, kind?: string): ReceivedMail[] {
    return this.received.filter((m) => m.headers['x-handoff-request'] === requestId && (!kind || m.headers['x-handoff-escalation'] === kind));
  }

  async waitFor(predicate: () => boolean, timeoutMs = 20000, what = 'mail'): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (!predicate()) {
      if (Date.now() > until) throw new Error(`timed out waiting for ${what}; received: ${this.received.map((m) => `${m.headers['x-handoff-escalation']}→${m.to.join(',')}`).join(' ')}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /** Closes every client connection at once, without a word (a server restarting, a firewall forgetting them). */
  dropConnections(): void {
    for (const connection of this.openConnections()) connection._socket.destroy();
  }

  /** smtp-server's own set of open connections. */
  private openConnections(): Set<SinkConnection> {
    return (this.server as unknown as { connections: Set<SinkConnection> }).connections;
  }

  /** Whether EHLO offers PIPELINING (RFC 2920), for connections opened from now on. */
  set pipelining(offered: boolean) {
    (this.server as unknown as { options: { hidePIPELINING?: boolean } }).options.hidePIPELINING = !offered;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
