import fc from 'fast-check';
import { simpleParser } from 'mailparser';
import MailComposer from 'nodemailer/lib/mail-composer';
import { buildMimeMessage, type OutgoingMail } from '../../src/mail/mime-message';

const FROM = 'handoff@flowers.example';
const lines = (text: string) => text.replace(/\r?\n|\r/g, '\n');

// Text as users and templates make it: any Unicode (astral included), long lines, dots at line starts, '=' and tabs.
const text = fc
  .array(fc.oneof(fc.string({ unit: 'grapheme', maxLength: 120 }), fc.constantFrom('.', '..', '=', '=3D', ' trailing  ', '\t', 'x'.repeat(200), 'Zoë — 花 🌹')), {
    maxLength: 12,
  })
  .map((parts) => parts.join('\n'))
  // Our mails always have a body (an empty part would parse back as one line break).
  .filter((t) => t.length > 0);

const mailOf = (subject: string, body: string, html: string): OutgoingMail => ({
  to: ['pia.head@flowers.example', 'ops@flowers.example'],
  subject,
  text: body,
  html,
  headers: { 'X-Handoff-Request': '0d6f1c9e-4b1a-4c2e-9d55-1f2e3a4b5c6d', 'X-Handoff-Escalation': 'response_breach' },
  messageId: '<escalation-0d6f1c9e@handoff>',
});

describe('escalation mail as MIME', () => {
  it('parses back to the same subject, text, HTML, recipients and headers for any Unicode text', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: 'grapheme', maxLength: 200 }), text, text, async (title, body, html) => {
        const subject = `[Handoff] Response target missed: ${title}`;
        const mail = mailOf(subject, body, html);
        const parsed = await simpleParser(buildMimeMessage(FROM, mail));
        // A header is one line: line breaks in a subject become spaces.
        expect((parsed.subject ?? '').trimEnd()).toBe(subject.replace(/\r?\n|\r/g, ' ').trimEnd());
        expect(lines(parsed.text ?? '')).toBe(lines(body));
        expect(lines(typeof parsed.html === 'string' ? parsed.html : '')).toBe(lines(html));
        expect((Array.isArray(parsed.to) ? parsed.to : [parsed.to]).flatMap((a) => a!.value.map((v) => v.address))).toEqual(mail.to);
        expect(parsed.messageId).toBe(mail.messageId);
        expect(parsed.headers.get('x-handoff-request')).toBe(mail.headers['X-Handoff-Request']);
        expect(parsed.headers.get('x-handoff-escalation')).toBe('response_breach');
      }),
      { numRuns: 300 },
    );
  });

  it('reads as nodemailer’s own MailComposer message reads, and keeps every line within SMTP’s limits', async () => {
    const mail = mailOf('[Handoff] Response target missed: Bouquet für Zoë — rush (0d6f1c9e)', 'Deadline: Tue 1 Dec 2026\nLäne two\n', '<p>Zoë 🌹</p>');
    const ours = buildMimeMessage(FROM, mail, new Date('2026-12-01T10:00:00Z'));
    const theirs = await new MailComposer({ from: FROM, ...mail, date: new Date('2026-12-01T10:00:00Z') }).compile().build();
    const [a, b] = await Promise.all([simpleParser(ours), simpleParser(theirs)]);
    for (const field of ['subject', 'text', 'html', 'messageId', 'date'] as const) expect(a[field]).toEqual(b[field]);
    expect(a.from?.text).toBe(b.from?.text);
    expect(a.to).toEqual(b.to);
    for (const line of ours.toString('utf8').split('\r\n')) expect(line.length).toBeLessThanOrEqual(78);
    expect(ours.toString('utf8')).not.toMatch(/[^\r]\n|\r[^\n]/);
  });

  it('cannot be made to carry another header: a subject with line breaks stays one header', async () => {
    const parsed = await simpleParser(buildMimeMessage(FROM, mailOf('Bouquet\r\nBcc: thief@evil.example\nX-Injected: 1', 'x', 'y')));
    expect(parsed.bcc).toBeUndefined();
    expect(parsed.headers.has('x-injected')).toBe(false);
    expect(parsed.subject).toBe('Bouquet Bcc: thief@evil.example X-Injected: 1');
  });
});
