import { ArgumentMetadata, BadRequestException, Injectable, PipeTransform, ValidationError, ValidationPipe } from '@nestjs/common';
import type { FieldProblem } from './domain-error';
import { isUuid } from './uuid';

/**
 * One message per offending field: the topmost decorator that failed. Decorators apply bottom-up,
 * so class-validator lists a field's constraints in reverse source order, and a DTO states the
 * kind first (`must be a string`) and the limits after it (`at most 200 characters`). The nested
 * check of a list (`ValidateNested`) runs after the rest and says least.
 */
function messageFor(property: string, constraints: Record<string, string>): string {
  if (constraints.whitelistValidation) return 'is not allowed';
  const keys = Object.keys(constraints).filter((key) => key !== 'nestedValidation');
  const raw = keys.length ? constraints[keys[keys.length - 1]] : constraints.nestedValidation;
  return raw.startsWith(`${property} `) ? raw.slice(property.length + 1) : raw;
}

function flatten(errors: ValidationError[], parent = ''): FieldProblem[] {
  const problems: FieldProblem[] = [];
  for (const error of errors) {
    const field = parent
      ? /^\d+$/.test(error.property)
        ? `${parent}[${error.property}]`
        : `${parent}.${error.property}`
      : error.property;
    if (error.constraints) {
      // Left out altogether: the first thing to say is that it is needed, not what kind it must be.
      const missing = error.value === undefined && !error.constraints.whitelistValidation;
      problems.push({ field, message: missing ? 'is required' : messageFor(error.property, error.constraints) });
    }
    if (error.children?.length) problems.push(...flatten(error.children, field));
  }
  return problems;
}

export function fieldProblemsException(problems: FieldProblem[]): BadRequestException {
  return new BadRequestException({ message: problems.map((p) => `${p.field}: ${p.message}`).join('; '), details: problems });
}

/** whitelist + forbidNonWhitelisted: unknown fields are refused, never silently dropped. */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    transformOptions: { enableImplicitConversion: false },
    stopAtFirstError: false,
    exceptionFactory: (errors) => fieldProblemsException(flatten(errors)),
  });
}

/** Ids in the path: a malformed one answers 400 naming the parameter, in the same details as a body field. */
@Injectable()
export class ParseIdPipe implements PipeTransform<unknown, string> {
  transform(value: unknown, metadata: ArgumentMetadata): string {
    if (!isUuid(value)) {
      throw fieldProblemsException([{ field: metadata.data ?? 'id', message: 'must be a UUID' }]);
    }
    return value;
  }
}
