import { applyDecorators } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiConflictResponse,
  ApiForbiddenResponse,
  ApiNotFoundResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { ErrorBody } from './error-shape';

/** The error answers every authenticated route can give, documented once. */
export const ApiSignedIn = () =>
  applyDecorators(
    ApiBearerAuth(),
    ApiUnauthorizedResponse({ type: ErrorBody, description: 'no valid bearer token' }),
    ApiForbiddenResponse({ type: ErrorBody, description: 'the role may not do this' }),
    ApiBadRequestResponse({ type: ErrorBody, description: 'bad input: one message per field in details' }),
  );

export const ApiMissing = (what: string) => ApiNotFoundResponse({ type: ErrorBody, description: `${what} not found or not visible to you` });
export const ApiConflict = (why: string) => ApiConflictResponse({ type: ErrorBody, description: why });
