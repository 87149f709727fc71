import type { RootCauseView, SlaReportView, SlaRowView, SlaTrendView } from './report.dto';

type Cell = string | number | boolean | null | undefined;

/**
 * RFC 4180: comma-separated, CRLF line ends, a field quoted when it holds a comma, quote or line
 * break. Text that a spreadsheet would run as a formula (=, +, -, @ first) gets a leading quote mark.
 */
export function toCsv(header: readonly string[], rows: readonly Cell[][]): string {
  const field = (cell: Cell): string => {
    if (cell === null || cell === undefined) return '';
    if (typeof cell !== 'string') return String(cell);
    const text = /^[=+\-@\t\r]/.test(cell) ? `'${cell}` : cell;
    return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
  };
  return [header, ...rows].map((row) => row.map(field).join(',')).join('\r\n') + '\r\n';
}

const FIGURES = [
  'total',
  'cancelled',
  'responseMet',
  'responseBreaches',
  'responseCompliance',
  'resolutionMet',
  'resolutionBreaches',
  'resolutionCompliance',
  'breaches',
  'respondP50Seconds',
  'respondP90Seconds',
  'resolveP50Seconds',
  'resolveP90Seconds',
  'open',
  'atRisk',
] as const satisfies readonly (keyof SlaRowView)[];

const GROUP_COLUMNS = ['groupId', 'groupCode', 'groupName', 'providerCode', 'customerCode'];
const groupCells = (row: SlaRowView): Cell[] => [row.group.id, row.group.code, row.group.name, row.provider?.code, row.customer?.code];

export function slaReportCsv(report: SlaReportView): string {
  return toCsv(
    ['from', 'to', ...GROUP_COLUMNS, ...FIGURES],
    report.rows.map((row) => [report.from, report.to, ...groupCells(row), ...FIGURES.map((f) => row[f])]),
  );
}

export function slaTrendCsv(trend: SlaTrendView): string {
  return toCsv(
    ['bucketStart', 'bucketEnd', ...GROUP_COLUMNS, ...FIGURES],
    trend.buckets.flatMap((bucket) => bucket.rows.map((row) => [bucket.start, bucket.end, ...groupCells(row), ...FIGURES.map((f) => row[f])])),
  );
}

export function rootCauseCsv(report: RootCauseView): string {
  return toCsv(
    ['from', 'to', 'causedByCode', 'causedByName', 'delayedCode', 'delayedName', 'ownDelay', 'incidents', 'lateRequests', 'lateExternalPromises', 'chargedSeconds'],
    report.rows.map((r) => [
      report.from,
      report.to,
      r.causedBy.code,
      r.causedBy.name,
      r.delayed.code,
      r.delayed.name,
      r.ownDelay,
      r.incidents,
      r.lateRequests,
      r.lateExternalPromises,
      r.chargedSeconds,
    ]),
  );
}
