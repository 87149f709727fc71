import { connect } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface CaughtMail {
  at: string;
  from: string;
  to: string[];
  subject: string;
  escalation: string | null;
  request: string | null;
  raw: string;
}

const KEEP = 500;

/**
 * Development only: when nothing listens at SMTP_URL, `npm start` catches the mail itself so
 * the quick start shows escalations with nothing else installed. /dev/mail lists it.
 */
export class DevMailbox {
  readonly mails: CaughtMail[] = [];
  private server?: SMTPServer;

  /** Starts a catcher on SMTP_URL's port when it is a local address with nothing listening; null otherwise. */
  static async startIfNobodyListens(smtpUrl: string): Promise<DevMailbox | null> {
    const url = new URL(smtpUrl);
    if (!['localhost', '127.0.0.1', '::1', '[::1]'].includes(url.hostname)) return null;
    const port = Number(url.port || 25);
    const someoneListens = await new Promise<boolean>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (someoneListens) return null;
    const mailbox = new DevMailbox();
    await mailbox.listen(port);
    return mailbox;
  }

  private listen(port: number): Promise<void> {
    this.server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onData: (stream, session, callback) => {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          const raw = Buffer.concat(chunks).toString('utf8');
          // Long headers are folded over several lines; unfold before reading them.
          const head = raw.split(/\r?\n\r?\n/)[0].replace(/\r?\n[ \t]+/g, ' ');
          const header = (name: string) => new RegExp(`^${name}:\\s*(.*)$`, 'im').exec(head)?.[1]?.trim() ?? null;
          this.mails.unshift({
            at: new Date().toISOString(),
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
            subject: header('Subject') ?? '(no subject)',
            escalation: header('X-Handoff-Escalation'),
            request: header('X-Handoff-Request'),
            raw,
          });
          this.mails.length = Math.min(this.mails.length, KEEP);
          callback();
        });
      },
    });
    return new Promise((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(port, '127.0.0.1', () => {
        this.server!.off('error', reject);
        // A sender that drops its connection mid-session (a killed worker) must not bring the
        // service down with it: smtp-server reports that as an 'error' on the server.
        this.server!.on('error', () => undefined);
        resolve();
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
