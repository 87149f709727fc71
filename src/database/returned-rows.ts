/**
 * TypeORM's `query()` answers an UPDATE or DELETE as `[rows, affected]`, not as the rows (an INSERT
 * or SELECT answers the rows). Until 2026-12-07 the reconciler read the pair as rows: the ids of
 * released claims came out undefined, so their takeover jobs were never added.
 */
export function returnedRows<T>(result: unknown): T[] {
  return Array.isArray(result) && result.length === 2 && Array.isArray(result[0]) && typeof result[1] === 'number' ? (result[0] as T[]) : (result as T[]);
}
