/**
 * In JSON.stringify's output a lone UTF-16 surrogate is the only thing written as a `\ud800`–`\udfff`
 * escape (a paired one is written as the character itself), and jsonb refuses such an escape. Each
 * becomes `\ufffd`, U+FFFD, as the driver's UTF-8 encoding of a text parameter makes it. An escaped
 * backslash is matched as a pair, so the text `\ud800` typed by a user (`\\ud800` in JSON) is kept.
 */
const ESCAPED_BACKSLASH_OR_LONE_SURROGATE = /\\\\|\\ud[89a-f][0-9a-f]{2}/g;

/**
 * Rows as one JSON array parameter, for `INSERT … SELECT … FROM jsonb_populate_recordset(NULL::<table>, $1::jsonb)`:
 * many rows in one statement whose text does not grow with them (keys are column names; dates become ISO strings).
 * No replacer function: with one, JSON.stringify calls back into JavaScript for every value (5 % of
 * the API's CPU per create); lone surrogates are rare and mended in the text afterwards.
 */
export function jsonRows(rows: readonly object[]): string {
  const json = JSON.stringify(rows);
  return json.includes('\\ud') ? json.replace(ESCAPED_BACKSLASH_OR_LONE_SURROGATE, (match) => (match === '\\\\' ? match : '\\ufffd')) : json;
}
