import { BadRequestException, ValidationError, ValidationPipe } from '@nestjs/common';
import type { FieldProblem } from './domain-error';

function flatten(errors: ValidationError[], parent = ''): FieldProblem[] {
  const problems: FieldProblem[] = [];
  for (const error of errors) {
    const field = parent
      ? /^\d+$/.test(error.property)
        ? `${parent}[${error.property}]`
        : `${parent}.${error.property}`
      : error.property;
    if (error.constraints) {
      // One message per offending field: the first constraint that failed says enough.
      const messages = Object.values(error.constraints);
      const raw = messages.find((m) => m.startsWith('property ')) ?? messages[0];
      const message = /^property \S+ should not exist$/.test(raw)
        ? 'is not allowed'
        : raw.startsWith(`${error.property} `)
          ? raw.slice(error.property.length + 1)
          : raw;
      problems.push({ field, message });
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
