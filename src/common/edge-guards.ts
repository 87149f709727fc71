import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { BadRequestException, UnsupportedMediaTypeException } from '@nestjs/common';
import type { ErrorBody } from './error-shape';

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;
const MAX_JSON_DEPTH = 32;
export const MAX_BODY_BYTES = 256 * 1024;

/** Fastify's `genReqId`: the caller's X-Request-Id when it is a sane token, else a new UUID. */
export function requestIdOf(raw: IncomingMessage): string {
  const given = raw.headers['x-request-id'];
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
}

/** Fastify's `frameworkErrors`: a URL the router cannot decode (`%ZZ`), in the one error shape. */
export function answerFrameworkError(error: Error, request: FastifyRequest, reply: FastifyReply): void {
  const body: ErrorBody = { statusCode: 400, error: 'Bad Request', message: 'The URL is malformed (a bad %-escape or character)', requestId: request.id };
  void reply.status(400).header('X-Request-Id', request.id).send(body);
}

/**
 * Fastify's `clientErrorHandler`: bytes Node's HTTP parser refuses (control characters in a header,
 * a header too large) never reach a route; they still get the one error shape and a request id.
 */
export function answerClientError(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || !socket.writable) return void socket.destroy();
  const [statusCode, reason] = error.code === 'HPE_HEADER_OVERFLOW' ? [431, 'Request Header Fields Too Large'] : [400, 'Bad Request'];
  const requestId = randomUUID();
  const body = JSON.stringify({ statusCode, error: reason, message: 'The request is not valid HTTP (a forbidden character, or headers too large)', requestId } satisfies ErrorBody);
  socket.end(
    `HTTP/1.1 ${statusCode} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
      `X-Request-Id: ${requestId}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/**
 * Every answer carries its request id, even one refused before routing. Bodies are JSON only
 * (anything else answers 415), and a parsed body is checked for what validation cannot handle
 * before any handler sees it. Refusals reach HttpExceptionFilter, which answers them in the one
 * error shape. Register before Nest's init, with Nest's own body parsers off (`bodyParser: false`).
 */
export function installEdgeGuards(fastify: FastifyInstance): void {
  fastify.addHook('onRequest', (request, reply, done) => {
    void reply.header('X-Request-Id', request.id);
    done();
  });
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser('application/json', { parseAs: 'string' }, parseJsonBody);
  fastify.addHook('preValidation', refuseHostileJson);
}

/**
 * Strict JSON in UTF-8: an object or an array at the top (a bare `null`, number or string is refused,
 * as Express's body parser did), an empty body read as `{}`. Compressed bodies and other charsets
 * are refused rather than read wrongly.
 */
function parseJsonBody(request: FastifyRequest, body: string | Buffer, done: (error: Error | null, body?: unknown) => void): void {
  const encoding = request.headers['content-encoding']?.trim().toLowerCase();
  const charset = /;\s*charset\s*=\s*"?([^";\s]*)/i.exec(request.headers['content-type'] ?? '')?.[1]?.toLowerCase();
  // HttpExceptionFilter words the 415.
  if ((encoding !== undefined && encoding !== 'identity') || (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8')) {
    return done(new UnsupportedMediaTypeException());
  }
  const text = typeof body === 'string' ? body : body.toString('utf8');
  if (text.trim() === '') return done(null, {});
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // JSON.parse's own message would quote the body back.
    return done(new BadRequestException('Malformed JSON in request body'));
  }
  if (parsed === null || typeof parsed !== 'object') return done(new BadRequestException('Malformed JSON in request body: the top level must be an object'));
  done(null, parsed);
}

/**
 * Refuses JSON that validation cannot handle safely: nesting deeper than any of our bodies
 * (class-transformer recurses and would overflow the stack), `__proto__` keys (class-transformer
 * drops them silently, so they would slip past the unknown-field check), NUL characters, which
 * PostgreSQL cannot store in text, and lone surrogates (`"\ud800"` is valid JSON but not Unicode
 * text: validator's isEmail throws on it, and PostgreSQL cannot store it either).
 */
function refuseHostileJson(request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void {
  const problem = hostility(request.body);
  if (!problem) return done();
  const body: ErrorBody = { statusCode: 400, error: 'Bad Request', message: `${problem.field}: ${problem.message}`, details: [problem], requestId: request.id };
  void reply.status(400).send(body);
}

function hostility(body: unknown): { field: string; message: string } | null {
  if (body === null || typeof body !== 'object') return null;
  const stack: { value: unknown; path: string; depth: number }[] = [{ value: body, path: '', depth: 1 }];
  while (stack.length) {
    const { value, path, depth } = stack.pop()!;
    if (typeof value === 'string') {
      const problem = textProblem(value);
      if (problem) return { field: path || 'body', message: problem };
      continue;
    }
    if (value === null || typeof value !== 'object') continue;
    if (depth > MAX_JSON_DEPTH) return { field: path || 'body', message: `nests deeper than ${MAX_JSON_DEPTH} levels` };
    for (const key of Object.keys(value)) {
      const field = Array.isArray(value) ? `${path}[${key}]` : path ? `${path}.${key}` : key;
      if (key === '__proto__' || key === 'constructor' || key === 'prototype') return { field, message: 'is not allowed' };
      const problem = textProblem(key);
      if (problem) return { field: path || 'body', message: `a key ${problem}` };
      stack.push({ value: (value as Record<string, unknown>)[key], path: field, depth: depth + 1 });
    }
  }
  return null;
}

/** A lone surrogate is a surrogate code point when the string is read by code points; a proper pair is one astral one. */
const LONE_SURROGATE = /\p{Cs}/u;

function textProblem(text: string): string | null {
  if (text.includes('\u0000')) return 'must not contain the NUL character (\\u0000)';
  if (LONE_SURROGATE.test(text)) return 'must be valid Unicode text (a lone surrogate such as \\ud800 is not)';
  return null;
}
