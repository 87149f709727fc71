const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
const SURROGATE = /[\ud800-\udfff]/;

/**
 * JSON replacer: a lone UTF-16 surrogate becomes U+FFFD, as the driver's UTF-8 encoding of a text
 * parameter does; JSON.stringify would write it as a \uD8xx escape, which jsonb refuses.
 */
function wellFormed(_key: string, value: unknown): unknown {
  return typeof value === 'string' && SURROGATE.test(value) ? value.replace(LONE_SURROGATE, '\ufffd') : value;
}

/**
 * Rows as one JSON array parameter, for `INSERT … SELECT … FROM jsonb_populate_recordset(NULL::<table>, $1::jsonb)`:
 * many rows in one statement whose text does not grow with them (keys are column names; dates become ISO strings).
 */
export function jsonRows(rows: readonly object[]): string {
  return JSON.stringify(rows, wellFormed);
}
