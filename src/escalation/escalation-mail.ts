import type { EscalationKind } from './deadline-plan';
import type { EscalationContext } from './escalations.repository';

export interface MailFacts {
  requestId: string;
  title: string;
  priority: string;
  status: string;
  kind: EscalationKind;
  /** The target's own deadline: respondBy for the response kinds, resolveBy for the rest. */
  deadlineAt: number;
  /** When this escalation was recorded (its mail is written then, and may leave later). */
  firedAt: number;
  deadlineLabel: string;
  publicUrl: string;
  context: EscalationContext;
}

export interface ComposedMail {
  subject: string;
  text: string;
  html: string;
  headers: Record<string, string>;
}

const TITLES: Record<string, string> = {
  response_warning: 'Response due soon',
  response_breach: 'Response target missed',
  resolution_warning: 'Resolution due soon',
  resolution_breach: 'Resolution target missed',
  chain_at_risk: 'Chain at risk',
};

export const kindTitle = (kind: string) => TITLES[kind] ?? `Escalation ${kind.replace('level-', 'level ')}`;

function humanDuration(ms: number): string {
  const minutes = Math.round(Math.abs(ms) / 60000);
  if (minutes < 1) return `${Math.round(Math.abs(ms) / 1000)} s`;
  if (minutes < 120) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  return `${hours} h ${minutes % 60} min`;
}

const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const wallClocks = new Map<string, Intl.DateTimeFormat>();

/**
 * "Tue 1 Dec 2026 10:00:00 CET": an instant on a zone's wall clock with the zone's short name,
 * as Luxon's "ccc d LLL yyyy HH:mm:ss ZZZZ" writes it, through one kept formatter per zone
 * (Luxon builds a new Intl formatter for every zone name it prints, a tenth of a burst's mail time).
 */
export function wallClockLabel(ms: number, zone: string): string {
  let format = wallClocks.get(zone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      weekday: 'short',
      day: 'numeric',
      month: 'short',
      year: 'numeric',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
      timeZoneName: 'short',
    });
    wallClocks.set(zone, format);
  }
  const p: Partial<Record<Intl.DateTimeFormatPartTypes, string>> = {};
  for (const part of format.formatToParts(ms)) p[part.type] = part.value;
  return `${p.weekday} ${p.day} ${p.month} ${p.year} ${p.hour}:${p.minute}:${p.second} ${p.timeZoneName}`;
}

/** The mail for one escalation: names the request, both departments, the deadline (provider zone and UTC), lateness, the chain and a link. */
export function composeEscalationMail(f: MailFacts): ComposedMail {
  const link = `${f.publicUrl}/api/v1/requests/${f.requestId}`;
  const local = wallClockLabel(f.deadlineAt, f.context.timezone);
  const utc = new Date(f.deadlineAt).toISOString();
  // A warning or an early level comes before the deadline, a breach at it or after; the mail may
  // leave later than it was written (SMTP down), so the figure says when it held.
  const overdue = f.firedAt - f.deadlineAt;
  const asOf = `as of ${new Date(f.firedAt).toISOString()}, when this escalation was recorded`;
  const timing =
    overdue <= -1000
      ? `${humanDuration(overdue)} left before the deadline (${asOf}).`
      : overdue >= 1000
        ? `${humanDuration(overdue)} past the deadline (${asOf}).`
        : `The deadline is now (${asOf}).`;
  const chainLines = [
    ...f.context.upstream.map((r) => `  waits on: ${r.title} (${r.status}) ${r.id}`),
    ...f.context.downstream.map((r) => `  needed by: ${r.title} (${r.status}) ${r.id}`),
  ];
  // A warning recorded only after its deadline (the worker was down) says so, rather than "due soon".
  const title = f.kind.endsWith('_warning') && overdue >= 1000 ? `${kindTitle(f.kind)} (recorded late: the deadline has passed)` : kindTitle(f.kind);
  const subject = `[Handoff] ${title}: ${f.title} (${f.requestId})`;
  const text = [
    `${title} — ${f.deadlineLabel}`,
    '',
    `Request:   ${f.title}`,
    `Id:        ${f.requestId}`,
    `Priority:  ${f.priority}, status ${f.status}`,
    `Provider:  ${f.context.providerName} (${f.context.providerCode})`,
    `Customer:  ${f.context.customerName} (${f.context.customerCode})`,
    `Deadline:  ${local} (${utc})`,
    timing,
    '',
    chainLines.length ? `Chain:\n${chainLines.join('\n')}` : 'Chain:     this request has no linked requests.',
    '',
    `Open it:   ${link}`,
  ].join('\n');
  const row = (label: string, value: string) => `<tr><th align="left">${escapeHtml(label)}</th><td>${escapeHtml(value)}</td></tr>`;
  const html = `<!doctype html><html><body style="font-family:sans-serif">
<h2>${escapeHtml(title)}</h2>
<p>${escapeHtml(f.deadlineLabel)}. ${escapeHtml(timing)}</p>
<table>${[
    row('Request', f.title),
    row('Id', f.requestId),
    row('Priority', `${f.priority}, status ${f.status}`),
    row('Provider', `${f.context.providerName} (${f.context.providerCode})`),
    row('Customer', `${f.context.customerName} (${f.context.customerCode})`),
    row('Deadline', `${local} (${utc})`),
  ].join('')}</table>
<p>${chainLines.length ? `Chain:<br>${chainLines.map((l) => escapeHtml(l.trim())).join('<br>')}` : 'This request has no linked requests.'}</p>
<p><a href="${escapeHtml(link)}">Open the request</a></p>
</body></html>`;
  return { subject, text, html, headers: { 'X-Handoff-Request': f.requestId, 'X-Handoff-Escalation': f.kind } };
}
