import { DateTime } from 'luxon';
import type { ComposedMail } from '../escalation/escalation-mail';

export interface ChainHop {
  id: string;
  title: string;
  status: string;
  department: string;
  projectedFinishAt: number;
  latestFinishAt: number | null;
  slackSeconds: number | null;
  isBottleneck: boolean;
}

const at = (ms: number | null, zone: string) => (ms === null ? '—' : DateTime.fromMillis(ms, { zone }).toFormat('ccc d LLL HH:mm'));
/** A duration as a person reads it: seconds under a minute, minutes under an hour, then hours and minutes. */
export const span = (seconds: number): string => {
  const s = Math.round(Math.abs(seconds));
  if (s < 60) return `${s} s`;
  const m = Math.round(s / 60);
  if (m < 60) return `${m} min`;
  return `${Math.floor(m / 60)} h${m % 60 ? ` ${m % 60} min` : ''}`;
};
const minutes = (s: number | null) => (s === null ? '—' : `${s < 0 ? '−' : '+'}${span(s)}`);
const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** The chain_at_risk mail: the chain drawn hop by hop, upstream first, with projected and latest finish. */
export function composeChainAtRiskMail(f: {
  sinkId: string;
  sinkTitle: string;
  promise: { customer: string; dueAt: number | null; externalRef: string | null };
  bottleneck: { id: string; title: string; department: string };
  hops: ChainHop[];
  slackSeconds: number;
  timezone: string;
  publicUrl: string;
}): ComposedMail {
  const lines = f.hops.map(
    (h, i) =>
      `${String(i + 1).padStart(2)}. ${h.isBottleneck ? '>>' : '  '} ${h.department.padEnd(12)} ${h.title.slice(0, 40).padEnd(40)} ${h.status.padEnd(19)} projected ${at(h.projectedFinishAt, f.timezone)}  latest ${at(h.latestFinishAt, f.timezone)}  slack ${minutes(h.slackSeconds)}`,
  );
  const promise = f.promise.dueAt
    ? `promised to the external customer${f.promise.externalRef ? ` (${f.promise.externalRef})` : ''} for ${at(f.promise.dueAt, f.timezone)} (${new Date(f.promise.dueAt).toISOString()}), held by ${f.promise.customer}`
    : `needed by ${f.promise.customer}`;
  const link = `${f.publicUrl}/api/v1/chains/${f.sinkId}`;
  const subject = `[Handoff] Chain at risk: ${f.sinkTitle} (${f.sinkId})`;
  const text = [
    `Chain at risk — ${span(f.slackSeconds)} short of its deadline if nothing changes.`,
    '',
    `The chain ends in "${f.sinkTitle}", ${promise}.`,
    `Holding it up: "${f.bottleneck.title}" at ${f.bottleneck.department} (${f.bottleneck.id}).`,
    '',
    'The chain, upstream first (>> marks the bottleneck):',
    ...lines,
    '',
    `Open it: ${link}`,
  ].join('\n');
  const html = `<!doctype html><html><body style="font-family:sans-serif"><h2>Chain at risk</h2>
<p>${escapeHtml(`${span(f.slackSeconds)} short if nothing changes. The chain ends in "${f.sinkTitle}", ${promise}.`)}</p>
<p>Holding it up: <b>${escapeHtml(f.bottleneck.title)}</b> at ${escapeHtml(f.bottleneck.department)}.</p>
<pre>${escapeHtml(lines.join('\n'))}</pre><p><a href="${escapeHtml(link)}">Open the chain</a></p></body></html>`;
  return { subject, text, html, headers: { 'X-Handoff-Request': f.sinkId, 'X-Handoff-Escalation': 'chain_at_risk' } };
}
