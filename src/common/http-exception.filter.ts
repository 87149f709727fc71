import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import { ThrottlerException } from '@nestjs/throttler';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { QueryFailedError } from 'typeorm';
import { BeyondHorizonError, NoOpenTimeError } from '../business-time';
import { DomainError, DomainErrorCode } from './domain-error';
import { MAX_BODY_BYTES } from './edge-guards';
import { ErrorBody } from './error-shape';

const STATUS_OF: Record<DomainErrorCode, number> = {
  not_found: 404,
  forbidden: 403,
  conflict: 409,
  stale_version: 409,
  illegal_transition: 409,
  cycle: 409,
  invalid: 400,
  unprocessable: 422,
  unauthenticated: 401,
};

const REASON: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Entity',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** Maps every thrown thing to `{statusCode, error, message, details?, requestId}`. */
@Catch()
export class HttpExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('HttpExceptionFilter');

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const reply = http.getResponse<FastifyReply>();
    const request = http.getRequest<FastifyRequest | undefined>();
    const body = this.toBody(exception);
    body.requestId = typeof request?.id === 'string' ? request.id : undefined;
    if (body.statusCode >= 500) {
      // On the call's own logger (Fastify's child, bound to its reqId) when there is one.
      if (request?.log) request.log.error({ context: 'HttpExceptionFilter', err: exception }, 'unhandled error');
      else this.logger.error({ err: exception, requestId: body.requestId }, 'unhandled error');
    }
    if (reply.sent) return;
    void reply.status(body.statusCode).send(body);
  }

  private toBody(exception: unknown): ErrorBody {
    if (exception instanceof DomainError) {
      const statusCode = STATUS_OF[exception.code];
      return { statusCode, error: REASON[statusCode], message: exception.message, details: exception.details };
    }
    // A calendar that opens too rarely for a target: the input is understood, no deadline exists to give.
    if (exception instanceof NoOpenTimeError) {
      return { statusCode: 422, error: REASON[422], message: `No deadline can be computed: the ${exception.message}` };
    }
    if (exception instanceof BeyondHorizonError) {
      const message = 'No deadline can be computed: it would lie more than a century away (the calendar opens too rarely for the target)';
      return { statusCode: 422, error: REASON[422], message };
    }
    if (exception instanceof ThrottlerException) {
      return { statusCode: 429, error: REASON[429], message: 'Too many attempts; wait a minute and try again' };
    }
    if (exception instanceof HttpException) {
      const statusCode = exception.getStatus();
      const answer = exception.getResponse();
      let message = exception.message;
      let details: unknown;
      if (typeof answer === 'object' && answer !== null) {
        const a = answer as { message?: unknown; details?: unknown };
        if (Array.isArray(a.message)) message = a.message.join('; ');
        else if (typeof a.message === 'string') message = a.message;
        details = a.details;
      }
      // Fastify's refusals of a body (too large, not JSON), which Nest hands over as HttpExceptions, in our words.
      if (statusCode === 413) message = `Request body is too large (${MAX_BODY_BYTES / 1024} kB at most)`;
      if (statusCode === 415) message = 'Send JSON in UTF-8 (Content-Type: application/json), without Content-Encoding';
      return { statusCode, error: REASON[statusCode] ?? 'Error', message, details };
    }
    if (exception instanceof QueryFailedError) {
      // Input that slipped past validation into PostgreSQL is still the caller's fault.
      const code = (exception as QueryFailedError & { code?: string }).code;
      // Class 22 (data exception) and NOT NULL: input that validation should have caught; still the caller's.
      if (code?.startsWith('22') || code === '23502') {
        return { statusCode: 400, error: REASON[400], message: 'A value in the request is out of range or malformed' };
      }
      if (code === '23505') return { statusCode: 409, error: REASON[409], message: 'That already exists' };
      if (code === '23503') return { statusCode: 400, error: REASON[400], message: 'A referenced record does not exist' };
    }
    return { statusCode: 500, error: REASON[500], message: 'Internal server error' };
  }
}
