/**
 * The arithmetic of the SLA report, with no database in sight: how a window splits into whole
 * ISO weeks and UTC days (read from the roll-up) and edges (read from the requests themselves), how
 * partial counts add up, and how the figures of a row follow from them (docs/reports.md).
 */

const DAY_MS = 86_400_000;
const WEEK_MS = 7 * DAY_MS;

/** What one source (roll-up days, edge requests, open requests) contributes to one group in one bucket. */
export interface SlaPartial {
  total: number;
  cancelled: number;
  responseMet: number;
  responseBreached: number;
  resolutionMet: number;
  resolutionBreached: number;
  /** Requests that missed at least one target. */
  breachedEither: number;
  open: number;
  atRisk: number;
  /** Business seconds of stopped clocks, as 4-byte big-endian integers in any number of chunks. */
  respondSeconds: Buffer[];
  resolveSeconds: Buffer[];
}

export interface SlaFigures {
  total: number;
  cancelled: number;
  responseMet: number;
  responseBreaches: number;
  /** responseMet / (responseMet + responseBreaches); null when no response clock has ended. */
  responseCompliance: number | null;
  resolutionMet: number;
  resolutionBreaches: number;
  resolutionCompliance: number | null;
  /** Requests that missed their response target, their resolution target, or both. */
  breaches: number;
  respondP50Seconds: number | null;
  respondP90Seconds: number | null;
  resolveP50Seconds: number | null;
  resolveP90Seconds: number | null;
  open: number;
  atRisk: number;
}

export const COUNTS = ['total', 'cancelled', 'responseMet', 'responseBreached', 'resolutionMet', 'resolutionBreached', 'breachedEither', 'open', 'atRisk'] as const;

export function emptyPartial(): SlaPartial {
  return {
    total: 0,
    cancelled: 0,
    responseMet: 0,
    responseBreached: 0,
    resolutionMet: 0,
    resolutionBreached: 0,
    breachedEither: 0,
    open: 0,
    atRisk: 0,
    respondSeconds: [],
    resolveSeconds: [],
  };
}

export function addPartial(into: SlaPartial, from: Partial<SlaPartial>): SlaPartial {
  for (const key of COUNTS) into[key] += from[key] ?? 0;
  if (from.respondSeconds?.length) into.respondSeconds.push(...from.respondSeconds);
  if (from.resolveSeconds?.length) into.resolveSeconds.push(...from.resolveSeconds);
  return into;
}

/** The packed values of all chunks, in no particular order. */
export function unpackSeconds(chunks: readonly Buffer[]): Int32Array {
  const length = chunks.reduce((sum, c) => sum + c.length, 0);
  if (length % 4 !== 0) throw new Error(`packed seconds must be whole 4-byte integers, got ${length} bytes`);
  const values = new Int32Array(length / 4);
  let at = 0;
  for (const chunk of chunks) {
    const view = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    for (let i = 0; i < chunk.byteLength; i += 4) values[at++] = view.getInt32(i);
  }
  return values;
}

/**
 * Rearranges values[left..right] so that values[k] is the one a sort would put there, smaller or
 * equal ones before it and greater or equal ones after (Hoare's selection, median-of-three pivot):
 * linear on average, where a sort of a month of values would cost more than the whole query.
 */
export function select(values: Int32Array, k: number, left = 0, right = values.length - 1): void {
  while (right > left) {
    const middle = (left + right) >>> 1;
    const [a, b, c] = [values[left], values[middle], values[right]];
    const pivot = a < b ? (b < c ? b : a < c ? c : a) : a < c ? a : b < c ? c : b;
    let i = left;
    let j = right;
    while (i <= j) {
      while (values[i] < pivot) i++;
      while (values[j] > pivot) j--;
      if (i <= j) {
        const swap = values[i];
        values[i++] = values[j];
        values[j--] = swap;
      }
    }
    if (k <= j) right = j;
    else if (k >= i) left = i;
    else return;
  }
}

/**
 * The continuous percentiles `numerator / denominator` of the values, as PostgreSQL's
 * percentile_cont defines them (rank p·(n−1), linear between the two nearest values), but in exact
 * integer arithmetic and rounded half up to whole seconds, so no floating-point error decides a
 * tie. Reorders `values`.
 */
export function percentiles(values: Int32Array, fractions: readonly [number, number][]): (number | null)[] {
  if (values.length === 0) return fractions.map(() => null);
  const below: number[] = [];
  const remainder: number[] = [];
  const ranks: number[] = [];
  for (const [numerator, denominator] of fractions) {
    const rank = numerator * (values.length - 1);
    const b = Math.floor(rank / denominator);
    below.push(b);
    remainder.push(rank - b * denominator);
    ranks.push(b);
    if (rank > b * denominator) ranks.push(b + 1);
  }
  // Highest rank first: each selection then only searches below the one before.
  ranks.sort((a, b) => b - a);
  let right = values.length - 1;
  for (const rank of ranks) {
    if (rank > right) continue; // selected already
    select(values, rank, 0, right);
    right = rank - 1;
  }
  return fractions.map(([, denominator], i) => {
    const low = values[below[i]];
    const high = remainder[i] ? values[below[i] + 1] : low;
    // (low·d + (high − low)·r) / d, rounded half up: values are whole non-negative seconds.
    return Math.floor((2 * (low * denominator + (high - low) * remainder[i]) + denominator) / (2 * denominator));
  });
}

const MEDIAN_AND_P90: [number, number][] = [
  [1, 2],
  [9, 10],
];
const ratio = (met: number, breached: number) => (met + breached === 0 ? null : met / (met + breached));

export function figuresOf(partial: SlaPartial): SlaFigures {
  const [respondP50, respondP90] = percentiles(unpackSeconds(partial.respondSeconds), MEDIAN_AND_P90);
  const [resolveP50, resolveP90] = percentiles(unpackSeconds(partial.resolveSeconds), MEDIAN_AND_P90);
  return {
    total: partial.total,
    cancelled: partial.cancelled,
    responseMet: partial.responseMet,
    responseBreaches: partial.responseBreached,
    responseCompliance: ratio(partial.responseMet, partial.responseBreached),
    resolutionMet: partial.resolutionMet,
    resolutionBreaches: partial.resolutionBreached,
    resolutionCompliance: ratio(partial.resolutionMet, partial.resolutionBreached),
    breaches: partial.breachedEither,
    respondP50Seconds: respondP50,
    respondP90Seconds: respondP90,
    resolveP50Seconds: resolveP50,
    resolveP90Seconds: resolveP90,
    open: partial.open,
    atRisk: partial.atRisk,
  };
}

export interface WindowPlan {
  /** Mondays of ISO weeks (UTC) that lie wholly inside one bucket: read from the weekly roll-up. */
  fullWeeks: string[];
  /** Other UTC days (YYYY-MM-DD) that lie wholly inside one bucket: read from the daily roll-up. */
  fullDays: string[];
  /** Everything else, as half-open [start, end) instants in ms, merged: read from the requests. */
  edges: { start: number; end: number }[];
}

const utcDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/**
 * Splits buckets (ascending bounds, bucket i = [bounds[i], bounds[i + 1])) into whole ISO weeks
 * (when the grouping has weekly rows), whole UTC days and the edges around them. A bucket that holds no whole UTC day is an edge from
 * end to end.
 */
export function planWindow(bounds: readonly number[], withWeeks = true): WindowPlan {
  const plan: WindowPlan = { fullWeeks: [], fullDays: [], edges: [] };
  const addEdge = (start: number, end: number) => {
    if (end <= start) return;
    const last = plan.edges[plan.edges.length - 1];
    if (last && last.end === start) last.end = end;
    else plan.edges.push({ start, end });
  };
  for (let i = 0; i + 1 < bounds.length; i++) {
    const [start, end] = [bounds[i], bounds[i + 1]];
    const firstMidnight = Math.ceil(start / DAY_MS) * DAY_MS;
    const lastMidnight = Math.floor(end / DAY_MS) * DAY_MS;
    if (lastMidnight - firstMidnight < DAY_MS) {
      addEdge(start, end);
      continue;
    }
    addEdge(start, firstMidnight);
    for (let day = firstMidnight; day < lastMidnight; ) {
      if (withWeeks && new Date(day).getUTCDay() === 1 && day + WEEK_MS <= lastMidnight) {
        plan.fullWeeks.push(utcDay(day));
        day += WEEK_MS;
      } else {
        plan.fullDays.push(utcDay(day));
        day += DAY_MS;
      }
    }
    addEdge(lastMidnight, end);
  }
  return plan;
}
