import jwt from 'jsonwebtoken';
import type { Response } from 'supertest';
import { TEST_JWT_SECRET } from './test-app';

export const API = '/api/v1';

/** What a sweep remembers of one answer. */
export interface Answer {
  status: number;
  body: unknown;
  headers: Record<string, string | string[] | undefined>;
  text?: string;
}

const short = (value: unknown, max = 300): string => {
  let text: string;
  try {
    text = typeof value === 'string' ? value : JSON.stringify(value);
  } catch {
    text = String(value);
  }
  if (text === undefined) text = String(value);
  return text.length > max ? `${text.slice(0, max)}… (${text.length} chars)` : text;
};

export const describeAnswer = (res: Answer): string => `${res.status} ${short(res.body && Object.keys(res.body).length ? res.body : res.text)}`;

export const MISSING_REQUEST_ID = 'requestId is missing';

/**
 * Everything wrong with an error answer, [] when it is the product's one error shape:
 * JSON `{statusCode, error, message, details?, requestId}` with statusCode equal to the HTTP status.
 */
export function errorShapeProblems(res: Answer, options: { requestId?: boolean } = {}): string[] {
  const problems: string[] = [];
  const type = String(res.headers['content-type'] ?? '');
  if (!type.includes('application/json')) problems.push(`content-type is "${type}", not JSON`);
  const body = res.body as Record<string, unknown> | null;
  if (!body || typeof body !== 'object' || Array.isArray(body)) return [...problems, `body is not an object: ${short(res.text ?? res.body)}`];
  if (body.statusCode !== res.status) problems.push(`statusCode ${short(body.statusCode)} differs from HTTP ${res.status}`);
  if (typeof body.error !== 'string' || body.error === '') problems.push('error is not a non-empty string');
  if (typeof body.message !== 'string' || body.message === '') problems.push('message is not a non-empty string');
  if (options.requestId !== false && (typeof body.requestId !== 'string' || body.requestId === '')) problems.push(MISSING_REQUEST_ID);
  const allowed = new Set(['statusCode', 'error', 'message', 'details', 'requestId']);
  const extra = Object.keys(body).filter((k) => !allowed.has(k));
  if (extra.length) problems.push(`unexpected keys ${extra.join(', ')}`);
  if (res.status === 400 && Array.isArray(body.details)) {
    for (const d of body.details as unknown[]) {
      const entry = d as { field?: unknown; message?: unknown } | null;
      if (!entry || typeof entry.field !== 'string' || typeof entry.message !== 'string') {
        problems.push(`details entry is not {field, message}: ${short(d)}`);
      }
    }
  }
  return problems;
}

/** Asserts the one error shape (and, when given, the status), printing the answer when it is not. */
export function expectError(res: Answer, status?: number): void {
  const problems = errorShapeProblems(res);
  if (status !== undefined && res.status !== status) problems.unshift(`status ${res.status}, expected ${status}`);
  if (problems.length) throw new Error(`${problems.join('; ')}\n  answer: ${describeAnswer(res)}`);
}

/** The fields named in a 400's details. */
export const detailFields = (res: Answer): string[] => {
  const details = (res.body as { details?: unknown } | null)?.details;
  return Array.isArray(details) ? details.map((d) => String((d as { field?: unknown }).field)) : [];
};

/** Whether a 400 names `field` itself or something inside it (`field.x`, `field[0]`). */
export const namesField = (res: Answer, field: string): boolean =>
  detailFields(res).some((f) => f === field || f.startsWith(`${field}.`) || f.startsWith(`${field}[`));

/** Paths of every key anywhere in `value` whose name matches `pattern`. */
export function keysMatching(value: unknown, pattern: RegExp, path = '$'): string[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => keysMatching(v, pattern, `${path}[${i}]`));
  if (value && typeof value === 'object') {
    return Object.entries(value).flatMap(([k, v]) => [...(pattern.test(k) ? [`${path}.${k}`] : []), ...keysMatching(v, pattern, `${path}.${k}`)]);
  }
  return [];
}

/** Matches `password`, `passwordHash`, `password_hash` and friends. */
export const SECRET_KEYS = /^pass(word)?(_?hash)?$/i;

// --- tokens ---------------------------------------------------------------------------

const b64url = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

export function decodeTokenPart(part: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;
}

/** An HS256 token signed with the test secret (or `secret`), as the product would sign it. */
export function signToken(claims: Record<string, unknown>, options: jwt.SignOptions = {}, secret: string = TEST_JWT_SECRET): string {
  return jwt.sign(claims, secret, { algorithm: 'HS256', ...options });
}

/** A token whose payload was edited and re-encoded, keeping the original header and signature. */
export function tamperPayload(token: string, edit: (claims: Record<string, unknown>) => Record<string, unknown>): string {
  const [header, payload, signature] = token.split('.');
  return `${header}.${b64url(edit(decodeTokenPart(payload)))}.${signature}`;
}

/** An unsigned `alg: none` token, with the given signature segment (empty by the RFC). */
export function unsignedToken(claims: Record<string, unknown>, signature = ''): string {
  return `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(claims)}.${signature}`;
}

// --- waiting --------------------------------------------------------------------------

/** Calls `attempt` until it answers true or `timeoutMs` passes; returns the milliseconds it took, or null. */
export async function pollUntil(attempt: () => Promise<boolean>, timeoutMs: number, intervalMs = 100): Promise<number | null> {
  const started = Date.now();
  for (;;) {
    if (await attempt()) return Date.now() - started;
    if (Date.now() - started >= timeoutMs) return null;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

// --- sweeps ---------------------------------------------------------------------------

export interface SweepExpectation {
  /** Statuses that are right for this call; anything else is reported. Default: any status below 500. */
  status?: number[];
  /** For a 400: a field its details must name. */
  names?: string;
}

/**
 * Collects many calls and reports every one that misbehaved, so a single test lists all offenders:
 * never a 5xx, every 4xx in the error shape, and the expected status and field when given.
 */
export class Sweep {
  readonly failures: string[] = [];
  calls = 0;

  /** With a sink, answers that lack only the requestId are collected there instead of failing this sweep. */
  constructor(private readonly missingRequestId?: { call: string; status: number; message: string }[]) {}

  record(label: string, res: Answer, expected: SweepExpectation = {}): void {
    this.calls++;
    const problems: string[] = [];
    if (res.status >= 500) problems.push(`server error ${res.status}`);
    if (expected.status && !expected.status.includes(res.status)) problems.push(`status ${res.status}, expected ${expected.status.join(' or ')}`);
    if (res.status >= 400) {
      const shape = errorShapeProblems(res, { requestId: !this.missingRequestId });
      problems.push(...shape);
      if (this.missingRequestId && errorShapeProblems(res).includes(MISSING_REQUEST_ID)) {
        this.missingRequestId.push({ call: label, status: res.status, message: String((res.body as { message?: unknown }).message) });
      }
    }
    if (expected.names && res.status === 400 && !namesField(res, expected.names)) {
      problems.push(`details name ${JSON.stringify(detailFields(res))}, not ${expected.names}`);
    }
    if (problems.length) this.failures.push(`${label}\n    ${problems.join('; ')}\n    answer: ${describeAnswer(res)}`);
  }

  /** Fails the test with every offending call listed. */
  assertClean(): void {
    if (this.failures.length) {
      throw new Error(`${this.failures.length} of ${this.calls} calls misbehaved:\n  ${this.failures.join('\n  ')}`);
    }
  }
}

export const asAnswer = (res: Response): Answer => ({ status: res.status, body: res.body as unknown, headers: res.headers, text: res.text });
