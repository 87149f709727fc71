import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type { ErrorBody } from './error-shape';

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;
const MAX_JSON_DEPTH = 32;

type WithId = Request & { id?: string };

/** First middleware of all: every answer, even one refused before routing, carries a request id. */
export function assignRequestId(req: WithId, res: Response, next: NextFunction): void {
  const given = req.headers['x-request-id'];
  req.id = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
  res.setHeader('X-Request-Id', req.id);
  next();
}

function answer(req: WithId, res: Response, statusCode: number, error: string, message: string, details?: ErrorBody['details']): void {
  const body: ErrorBody = { statusCode, error, message, ...(details ? { details } : {}), requestId: req.id };
  res.status(statusCode).json(body);
}

/**
 * Body-parser failures in the one error shape, without echoing the body back
 * (JSON.parse's message quotes it).
 */
export function bodyParserErrors(err: unknown, req: WithId, res: Response, next: NextFunction): void {
  const e = err as { type?: string; status?: number; statusCode?: number };
  const status = e?.status ?? e?.statusCode;
  if (!e?.type || typeof status !== 'number') return next(err);
  if (e.type === 'entity.parse.failed') return answer(req, res, 400, 'Bad Request', 'Malformed JSON in request body');
  if (e.type === 'entity.too.large') return answer(req, res, 413, 'Payload Too Large', 'Request body is too large (256 kB at most)');
  if (e.type === 'encoding.unsupported' || e.type === 'charset.unsupported') {
    return answer(req, res, 415, 'Unsupported Media Type', 'Send JSON in UTF-8, without Content-Encoding');
  }
  return answer(req, res, status >= 400 && status < 500 ? status : 400, 'Bad Request', 'The request body could not be read');
}

/**
 * Refuses JSON that validation cannot handle safely: nesting deeper than any of our bodies
 * (class-transformer recurses and would overflow the stack), `__proto__` keys (class-transformer
 * drops them silently, so they would slip past the unknown-field check), and NUL characters,
 * which PostgreSQL cannot store in text.
 */
export function refuseHostileJson(req: WithId, res: Response, next: NextFunction): void {
  const problem = hostility(req.body);
  if (!problem) return next();
  answer(req, res, 400, 'Bad Request', `${problem.field}: ${problem.message}`, [problem]);
}

function hostility(body: unknown): { field: string; message: string } | null {
  if (body === null || typeof body !== 'object') return null;
  const stack: { value: unknown; path: string; depth: number }[] = [{ value: body, path: '', depth: 1 }];
  while (stack.length) {
    const { value, path, depth } = stack.pop()!;
    if (typeof value === 'string') {
      if (value.includes('\u0000')) return { field: path || 'body', message: 'must not contain the NUL character (\\u0000)' };
      continue;
    }
    if (value === null || typeof value !== 'object') continue;
    if (depth > MAX_JSON_DEPTH) return { field: path || 'body', message: `nests deeper than ${MAX_JSON_DEPTH} levels` };
    for (const key of Object.keys(value)) {
      const field = Array.isArray(value) ? `${path}[${key}]` : path ? `${path}.${key}` : key;
      if (key === '__proto__' || key === 'constructor' || key === 'prototype') return { field, message: 'is not allowed' };
      if (key.includes('\u0000')) return { field: path || 'body', message: 'must not contain the NUL character (\\u0000)' };
      stack.push({ value: (value as Record<string, unknown>)[key], path: field, depth: depth + 1 });
    }
  }
  return null;
}
