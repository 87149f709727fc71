/**
 * Domain errors carry a code; the exception filter maps each code to one HTTP status,
 * so services never import HTTP types.
 */
export type DomainErrorCode =
  | 'not_found'
  | 'forbidden'
  | 'conflict'
  | 'stale_version'
  | 'illegal_transition'
  | 'cycle'
  | 'invalid'
  | 'unprocessable'
  | 'unauthenticated';

export interface FieldProblem {
  field: string;
  message: string;
}

export class DomainError extends Error {
  constructor(
    readonly code: DomainErrorCode,
    message: string,
    readonly details?: FieldProblem[] | Record<string, unknown>,
  ) {
    super(message);
  }
}

export const notFound = (what: string) => new DomainError('not_found', `${what} not found`);
export const forbidden = (why: string) => new DomainError('forbidden', why);
export const conflict = (why: string, details?: Record<string, unknown>) => new DomainError('conflict', why, details);
export const invalid = (problems: FieldProblem[]) =>
  new DomainError('invalid', problems.map((p) => `${p.field}: ${p.message}`).join('; '), problems);
