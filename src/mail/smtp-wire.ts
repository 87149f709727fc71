/** What goes over an SMTP connection in a pipelined transaction (RFC 5321, RFC 2920), and the replies coming back. */

export interface Envelope {
  from: string;
  to: string[];
}

/** SMTP's end of data, after a message whose last line ends with CRLF. */
const END_OF_DATA = '.\r\n';

/**
 * A message as its DATA content: every line break CRLF, a dot opening a line doubled, then the end
 * of data — what nodemailer's DataStream does, in one synchronous step.
 */
export function messageData(raw: Buffer): Buffer {
  let text = raw.toString('latin1');
  if (/\r(?!\n)|(?<!\r)\n/.test(text)) text = text.replace(/\r\n|\r|\n/g, '\r\n');
  if (text.startsWith('.') || text.includes('\n.')) text = text.replace(/(^|\n)\./g, '$1..');
  return Buffer.from(`${text}${text.endsWith('\r\n') ? '' : '\r\n'}${END_OF_DATA}`, 'latin1');
}

/** MAIL FROM, a RCPT TO per recipient, and DATA: a group that may go out at once (DATA last, RFC 2920). */
export function envelopeCommands(envelope: Envelope): string {
  return `MAIL FROM:<${envelope.from}>\r\n${envelope.to.map((to) => `RCPT TO:<${to}>\r\n`).join('')}DATA\r\n`;
}

/**
 * Whether an envelope can go out as written by envelopeCommands: ASCII addresses (no SMTPUTF8),
 * at least one recipient, nothing that would end a command early. Others go through nodemailer's
 * send, which checks and refuses them as it always has.
 */
export function pipelinable(envelope: Envelope): boolean {
  const plain = (address: string) => /^[\x21-\x7e]*$/.test(address) && !/[<>]/.test(address);
  return envelope.to.length > 0 && plain(envelope.from) && envelope.to.every((to) => to.length > 0 && plain(to));
}

/** One reply: its code and its text (the lines of a multi-line reply joined by newlines). */
export interface SmtpReply {
  code: number;
  text: string;
}

/** Turns what arrives from the server into whole replies, however it is cut into chunks. */
export class SmtpReplyReader {
  private remainder = '';
  private lines: string[] = [];

  /** The replies completed by this chunk, in order. */
  read(chunk: Buffer): SmtpReply[] {
    const replies: SmtpReply[] = [];
    const parts = (this.remainder + chunk.toString('latin1')).split('\n');
    this.remainder = parts.pop() ?? '';
    if (this.remainder.length > 64 * 1024) throw new Error('SMTP reply line too long');
    for (const part of parts) {
      const line = part.endsWith('\r') ? part.slice(0, -1) : part;
      if (!line.trim()) continue;
      this.lines.push(line);
      // "250-…" continues the reply; "250 …" (or a bare "250") ends it.
      if (/^\d{3}-/.test(line)) continue;
      const text = Buffer.from(this.lines.join('\n'), 'latin1').toString('utf8');
      this.lines = [];
      replies.push({ code: Number(text.slice(0, 3)) || 0, text });
    }
    return replies;
  }

  /** Whether part of a reply has arrived and not the rest. */
  get partial(): boolean {
    return this.remainder.length > 0 || this.lines.length > 0;
  }
}
