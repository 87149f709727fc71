import { registerDecorator, ValidateIf, ValidationOptions } from 'class-validator';
import { isValidTimeZone, parseIsoDuration } from '../business-time';

export function IsIanaTimeZone(options?: ValidationOptions) {
  return (target: object, propertyName: string) =>
    registerDecorator({
      name: 'isIanaTimeZone',
      target: target.constructor,
      propertyName,
      options: { message: 'must be an IANA time zone such as Europe/Amsterdam', ...options },
      validator: { validate: (value: unknown) => typeof value === 'string' && value.length <= 64 && isValidTimeZone(value) },
    });
}

/** ISO-8601 duration in weeks, days, hours, minutes and whole seconds (D = 24 h; years and months refused). */
export function IsIsoDuration(options?: ValidationOptions & { minSeconds?: number }) {
  const minSeconds = options?.minSeconds ?? 1;
  return (target: object, propertyName: string) =>
    registerDecorator({
      name: 'isIsoDuration',
      target: target.constructor,
      propertyName,
      options: {
        message: `must be an ISO-8601 duration of at least ${minSeconds} s such as PT4H, P2D or PT90S (no years or months)`,
        ...options,
      },
      validator: {
        validate: (value: unknown) => {
          if (typeof value !== 'string' || value.length > 40) return false;
          const seconds = parseIsoDuration(value);
          return seconds !== null && seconds >= minSeconds;
        },
      },
    });
}

/**
 * For PATCH fields that can be left out but not cleared: absent skips validation, while null
 * is validated (and refused) like any other wrong value. @IsOptional() would let null through.
 */
export const IsOmittable = () => ValidateIf((_object: object, value: unknown) => value !== undefined);
