/** The all-zero UUID: a valid uuid that no row has, for "nobody" and for statements that must match nothing. */
export const NIL_UUID = '00000000-0000-0000-0000-000000000000';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Any UUID in its canonical text form (any version, the nil one too): what PostgreSQL's uuid type takes. */
export const isUuid = (value: unknown): value is string => typeof value === 'string' && UUID.test(value);
