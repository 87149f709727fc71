/**
 * Root cause of late requests, with no database in sight (docs/reports.md). Each late request's
 * elapsed life, from creation to its finish (or now), is split between departments: the time it
 * was blocked goes to the department whose request blocked it (or further upstream, for the part
 * of that time the blocker was blocked itself), and the rest goes to its own provider. The
 * department with the largest share is the main cause of that incident.
 */

export interface Span {
  start: number;
  end: number;
}

export interface BlockedSpan extends Span {
  blockerId: string;
}

export interface ChainRequest {
  id: string;
  providerDepartmentId: string;
  createdAt: number;
  /** Resolved or cancelled at; null while open. */
  finishedAt: number | null;
  /** Recorded `blocked` pauses naming their blocker; an open one runs to now. */
  blocked: BlockedSpan[];
  /** Requests it depends on, used when no blocked pause was recorded. */
  dependsOn: string[];
}

export interface Incident {
  requestId: string;
  lateOnResolution: boolean;
  lateOnPromise: boolean;
}

export interface RootCauseRow {
  causedBy: string;
  delayed: string;
  incidents: number;
  lateRequests: number;
  lateExternalPromises: number;
  chargedSeconds: number;
  exampleRequestIds: string[];
}

const MAX_DEPTH = 50;
const MAX_EXAMPLES = 5;

const length = (spans: readonly Span[]) => spans.reduce((sum, s) => sum + (s.end - s.start), 0);

/** Sorted, disjoint spans of `spans` that fall inside `[start, end)`. */
export function intersect(spans: readonly Span[], start: number, end: number): Span[] {
  const out: Span[] = [];
  for (const s of spans) {
    const a = Math.max(s.start, start);
    const b = Math.min(s.end, end);
    if (b > a) out.push({ start: a, end: b });
  }
  return out;
}

/** `spans` less `removed`; both sorted and disjoint. */
export function subtract(spans: readonly Span[], removed: readonly Span[]): Span[] {
  let out = spans.map((s) => ({ ...s }));
  for (const r of removed) {
    const next: Span[] = [];
    for (const s of out) {
      if (r.end <= s.start || r.start >= s.end) next.push(s);
      else {
        if (r.start > s.start) next.push({ start: s.start, end: r.start });
        if (r.end < s.end) next.push({ start: r.end, end: s.end });
      }
    }
    out = next;
  }
  return out;
}

/**
 * The stretches a request waited on another: its recorded blocked pauses, or, when none were
 * recorded, from its creation until the last of its dependencies finished (that one held it up).
 */
export function blockedSpansOf(request: ChainRequest, requests: ReadonlyMap<string, ChainRequest>, now: number): BlockedSpan[] {
  if (request.blocked.length) return [...request.blocked].sort((a, b) => a.start - b.start);
  let last: { id: string; finish: number } | null = null;
  for (const id of request.dependsOn) {
    const dependency = requests.get(id);
    if (!dependency) continue;
    const finish = dependency.finishedAt ?? now;
    if (!last || finish > last.finish || (finish === last.finish && id < last.id)) last = { id, finish };
  }
  const end = Math.min(last?.finish ?? 0, request.finishedAt ?? now);
  return last && end > request.createdAt ? [{ start: request.createdAt, end, blockerId: last.id }] : [];
}

/** Charges `spans`, during which `blockerId` held something up, to its provider, or upstream where it was blocked itself. */
function chargeUpstream(
  blockerId: string,
  spans: Span[],
  requests: ReadonlyMap<string, ChainRequest>,
  now: number,
  charged: Map<string, number>,
  path: Set<string>,
): void {
  const blocker = requests.get(blockerId);
  if (!blocker) return;
  let remaining = spans;
  if (path.size < MAX_DEPTH && !path.has(blockerId)) {
    path.add(blockerId);
    for (const own of blockedSpansOf(blocker, requests, now)) {
      const overlap = remaining.flatMap((s) => intersect([s], own.start, own.end));
      if (overlap.length === 0) continue;
      chargeUpstream(own.blockerId, overlap, requests, now, charged, path);
      remaining = subtract(remaining, overlap);
    }
    path.delete(blockerId);
  }
  const ms = length(remaining);
  if (ms > 0) charged.set(blocker.providerDepartmentId, (charged.get(blocker.providerDepartmentId) ?? 0) + ms);
}

/** Milliseconds of a late request's life charged to each department: blocked time upstream, the rest to its own provider. */
export function chargeIncident(request: ChainRequest, requests: ReadonlyMap<string, ChainRequest>, now: number): Map<string, number> {
  const charged = new Map<string, number>();
  const end = request.finishedAt ?? now;
  let own: Span[] = end > request.createdAt ? [{ start: request.createdAt, end }] : [];
  for (const blocked of blockedSpansOf(request, requests, now)) {
    const overlap = own.flatMap((s) => intersect([s], blocked.start, blocked.end));
    if (overlap.length === 0) continue;
    chargeUpstream(blocked.blockerId, overlap, requests, now, charged, new Set([request.id]));
    own = subtract(own, overlap);
  }
  const ownMs = length(own);
  charged.set(request.providerDepartmentId, (charged.get(request.providerDepartmentId) ?? 0) + ownMs);
  return charged;
}

/** One row per (cause, delayed provider): incidents by their main cause, charged time from every incident. */
export function rootCauseRows(incidents: readonly Incident[], requests: ReadonlyMap<string, ChainRequest>, now: number): RootCauseRow[] {
  const rows = new Map<string, RootCauseRow>();
  const rowOf = (causedBy: string, delayed: string) => {
    const key = `${causedBy}:${delayed}`;
    let row = rows.get(key);
    if (!row) rows.set(key, (row = { causedBy, delayed, incidents: 0, lateRequests: 0, lateExternalPromises: 0, chargedSeconds: 0, exampleRequestIds: [] }));
    return row;
  };
  for (const incident of incidents) {
    const request = requests.get(incident.requestId);
    if (!request) continue;
    const charged = chargeIncident(request, requests, now);
    let main = request.providerDepartmentId;
    let mainMs = -1;
    for (const [department, ms] of charged) {
      rowOf(department, request.providerDepartmentId).chargedSeconds += ms / 1000;
      // Ties go upstream: the hand-off is what ops want to see.
      if (ms > mainMs || (ms === mainMs && main === request.providerDepartmentId)) {
        main = department;
        mainMs = ms;
      }
    }
    const row = rowOf(main, request.providerDepartmentId);
    row.incidents++;
    if (incident.lateOnResolution) row.lateRequests++;
    if (incident.lateOnPromise) row.lateExternalPromises++;
    if (row.exampleRequestIds.length < MAX_EXAMPLES) row.exampleRequestIds.push(incident.requestId);
  }
  return [...rows.values()]
    .map((r) => ({ ...r, chargedSeconds: Math.round(r.chargedSeconds) }))
    .filter((r) => r.incidents > 0 || r.chargedSeconds > 0)
    .sort((a, b) => b.incidents - a.incidents || b.chargedSeconds - a.chargedSeconds || a.causedBy.localeCompare(b.causedBy) || a.delayed.localeCompare(b.delayed));
}
