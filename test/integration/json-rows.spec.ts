import fc from 'fast-check';
import { Client } from 'pg';
import { jsonRows } from '../../src/database/json-rows';
import { TEST_SERVER_URL } from '../support/database';

/** Strings rich in what JSON and jsonb treat specially: lone and paired surrogates, backslashes, the text `\ud800`. */
const awkwardString = fc
  .array(
    fc.oneof(
      fc.integer({ min: 0xd800, max: 0xdfff }).map((unit) => String.fromCharCode(unit)),
      fc.constantFrom('\\ud800', '\\\\udc00', '\\', '"', '\n', '😀', 'u', 'd8'),
      fc.integer({ min: 1, max: 0xffff }).map((unit) => String.fromCharCode(unit)),
    ),
    { maxLength: 12 },
  )
  .map((pieces) => pieces.join(''));

/** String.prototype.toWellFormed (ES2024, in Node 20) is beyond this project's ES2023 lib. */
type WellFormable = string & { toWellFormed(): string };

const wellFormed = (value: unknown): unknown =>
  typeof value === 'string'
    ? (value as WellFormable).toWellFormed()
    : Array.isArray(value)
      ? value.map(wellFormed)
      : value && typeof value === 'object'
        ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, wellFormed(v)]))
        : value;

describe('jsonRows: rows as one jsonb parameter', () => {
  let client: Client;
  beforeAll(async () => {
    client = new Client({ connectionString: TEST_SERVER_URL });
    await client.connect();
  });
  afterAll(() => client.end());

  it('PostgreSQL takes any strings as jsonb, lone surrogates turned into U+FFFD and everything else kept', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.record({ title: awkwardString, terms: fc.record({ note: awkwardString }), n: fc.integer() }), { maxLength: 4 }), async (rows) => {
        const { rows: out } = await client.query<{ value: unknown }>('SELECT $1::jsonb AS value', [jsonRows(rows)]);
        expect(out[0].value).toEqual(wellFormed(rows));
      }),
      { numRuns: 300 },
    );
  });

  it('keeps a user\'s literal "\\ud800" text and mends the real lone surrogate beside it', async () => {
    const rows = [{ title: '\\ud800 is text, \ud800 is not' }];
    const { rows: out } = await client.query<{ value: { title: string }[] }>('SELECT $1::jsonb AS value', [jsonRows(rows)]);
    expect(out[0].value[0].title).toBe('\\ud800 is text, \ufffd is not');
  });
});
