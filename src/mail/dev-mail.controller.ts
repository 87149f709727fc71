import { Controller, Get, Header, Inject } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { Public } from '../identity/auth.decorators';
import { DevMailbox, type CaughtMail } from './dev-mailbox';

const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

function textPart(raw: string): string {
  const body = raw.split(/\r?\n\r?\n/).slice(1).join('\n\n');
  const plain = /Content-Type: text\/plain[\s\S]*?\r?\n\r?\n([\s\S]*?)\r?\n--/i.exec(body)?.[1] ?? body;
  return plain.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
}

/** Development only (registered when `npm start` runs its own SMTP catcher): the mail Handoff sent. */
@ApiExcludeController()
@Public()
@Controller('dev/mail')
export class DevMailController {
  constructor(@Inject(DevMailbox) private readonly mailbox: DevMailbox) {}

  @Get()
  @Header('Content-Type', 'text/html; charset=utf-8')
  page(): string {
    const rows = this.mailbox.mails.map((m: CaughtMail) => `<article>
<h3>${escapeHtml(m.subject)}</h3>
<p class="meta">${escapeHtml(m.at)} · to ${escapeHtml(m.to.join(', '))}${m.escalation ? ` · <b>${escapeHtml(m.escalation)}</b>` : ''}</p>
<pre>${escapeHtml(textPart(m.raw))}</pre></article>`);
    return `<!doctype html><html><head><meta charset="utf-8"><meta http-equiv="refresh" content="5"><title>Handoff dev mail (${this.mailbox.mails.length})</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem;max-width:60rem}article{border:1px solid #ccc;border-radius:6px;padding:0 1rem;margin:1rem 0}.meta{color:#555}pre{white-space:pre-wrap}</style></head>
<body><h1>Mail caught in development</h1><p>${this.mailbox.mails.length} message(s), newest first; this page refreshes every 5 s. Nothing here is sent anywhere.</p>
${rows.join('\n') || '<p>No mail yet. Escalations appear here when a request runs late.</p>'}</body></html>`;
  }

  @Get('json')
  list(): CaughtMail[] {
    return this.mailbox.mails;
  }
}
