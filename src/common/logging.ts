import { LogController, type FastifyReply, type FastifyRequest } from 'fastify';
import pino, { type DestinationStream, type Logger } from 'pino';
import type { AppConfig } from './app-config';

/** Query parameters whose values never reach a log line, whoever put them in a URL (`?access_token=…`). */
const SECRET_PARAMETER = /token|pass|secret|auth|key|signature|session|cookie/i;

/** The URL as logged: a secret-looking query parameter keeps its name, its value becomes `[redacted]`. */
export function loggableUrl(url: string): string {
  const query = url.indexOf('?');
  if (query < 0) return url;
  const parts = url.slice(query + 1).split('&').map((part) => {
    const equals = part.indexOf('=');
    const name = equals < 0 ? part : part.slice(0, equals);
    let decoded = name;
    try {
      decoded = decodeURIComponent(name.replace(/\+/g, ' '));
    } catch {
      // A malformed escape: judge the name as written.
    }
    return equals >= 0 && SECRET_PARAMETER.test(decoded) ? `${name}=[redacted]` : part;
  });
  return `${url.slice(0, query)}?${parts.join('&')}`;
}

/** Probes and scrapes, called every few seconds, get no request line. */
const QUIET_PATHS = new Set(['/health', '/metrics']);

/**
 * The one pino logger of a process. Over HTTP it is Fastify's logger, so each call's child
 * (Fastify's `request.log`, bound to `reqId`) is what nestjs-pino hands to every Nest `Logger`
 * in that call; outside a call nestjs-pino logs through it directly.
 * Passwords and tokens never reach a log line.
 */
export function createLogger(config: AppConfig, level?: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level: level ?? process.env.LOG_LEVEL ?? (config.isTest ? 'silent' : 'info'),
      redact: { paths: ['req.headers.authorization', 'req.headers.cookie', '*.password', '*.passwordHash'], censor: '[redacted]' },
    },
    destination,
  );
}

/** Fastify's request lines: one per answered call, at its end, on the call's own logger (so with its `reqId`). */
export class RequestLog extends LogController {
  override isLogDisabled(request: FastifyRequest): boolean {
    return QUIET_PATHS.has(request.url);
  }

  override incomingRequest(): void {
    // The completed line says all of it.
  }

  override requestCompleted(error: Error | null, request: FastifyRequest, reply: FastifyReply): void {
    if (this.isLogDisabled(request)) return;
    const line = { req: { method: request.method, url: loggableUrl(request.url) }, res: { statusCode: reply.statusCode }, responseTime: reply.elapsedTime };
    if (error || reply.statusCode >= 500) request.log.error({ ...line, err: error ?? undefined }, 'request errored');
    else request.log.info(line, 'request completed');
  }
}
