import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import { DomainError } from './domain-error';
import { isUuid } from './uuid';

/** Opaque keyset cursor: the sort key of the last item, base64url-encoded. */
export function encodeCursor(key: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

/** What each position of a cursor must be; anything else is a cursor we never gave out. */
export type CursorPart = 'text' | 'uuid' | 'instant' | 'digits';

const fits: Record<CursorPart, (v: unknown) => boolean> = {
  text: (v) => typeof v === 'string' && v.length <= 400 && !v.includes('\u0000'),
  uuid: isUuid,
  instant: (v) => {
    if (typeof v !== 'string' || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/.test(v)) return false;
    const year = new Date(v).getUTCFullYear();
    return year >= 1970 && year <= 9999;
  },
  digits: (v) => typeof v === 'string' && /^\d{1,18}$/.test(v),
};

export function decodeCursor(cursor: string, shape: readonly CursorPart[]): string[] {
  try {
    const key: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(key) && key.length === shape.length && key.every((v, i) => fits[shape[i]](v))) return key as string[];
  } catch {
    /* falls through to the 400 below */
  }
  throw new DomainError('invalid', 'cursor: is not a cursor this list gave out', [
    { field: 'cursor', message: 'is not a cursor this list gave out' },
  ]);
}

/** A keyset list's `cursor` parameter; PageQuery adds the usual `limit`. */
export class CursorQuery {
  @ApiPropertyOptional({ description: 'nextCursor of the previous page' })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  @Matches(/^[A-Za-z0-9_-]+$/, { message: 'must be a cursor this list gave out' })
  cursor?: string;
}

export class PageQuery extends CursorQuery {
  @ApiPropertyOptional({ minimum: 1, maximum: 100, default: 50 })
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'must be a whole number from 1 to 100' })
  @Min(1, { message: 'must be a whole number from 1 to 100' })
  @Max(100, { message: 'must be a whole number from 1 to 100' })
  limit?: number;
}

export class Page<T> {
  @ApiProperty({ isArray: true }) items: T[];
  @ApiProperty({ nullable: true, type: String }) nextCursor: string | null;
}

export function pageOf<T>(rows: T[], limit: number, keyOf: (row: T) => (string | number)[]): Page<T> {
  const items = rows.slice(0, limit);
  const nextCursor = rows.length > limit ? encodeCursor(keyOf(items[items.length - 1])) : null;
  return { items, nextCursor };
}
