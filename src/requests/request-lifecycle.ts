/**
 * The request state machine, as the SPEC draws it:
 * open → acknowledged → in_progress ⇄ waiting_on_customer → resolved → closed;
 * resolved → in_progress on reopen; anything before resolved → cancelled.
 * Provider-side users move provider steps; the requester's department closes, reopens or cancels.
 */
export const REQUEST_STATUSES = [
  'open',
  'acknowledged',
  'in_progress',
  'waiting_on_customer',
  'resolved',
  'closed',
  'cancelled',
] as const;
export type RequestStatus = (typeof REQUEST_STATUSES)[number];
export type Side = 'provider' | 'customer';
/** Who wrote a comment: a side, or an admin who belongs to neither department and speaks for neither. */
export type CommentSide = Side | 'admin';

const MOVES: Record<RequestStatus, Partial<Record<RequestStatus, readonly Side[]>>> = {
  open: { acknowledged: ['provider'], in_progress: ['provider'], resolved: ['provider'], cancelled: ['customer'] },
  acknowledged: { in_progress: ['provider'], resolved: ['provider'], cancelled: ['customer'] },
  in_progress: { waiting_on_customer: ['provider'], resolved: ['provider'], cancelled: ['customer'] },
  // The customer answering (or either side) puts the request back in progress.
  waiting_on_customer: { in_progress: ['provider', 'customer'], resolved: ['provider'], cancelled: ['customer'] },
  resolved: { closed: ['customer'], in_progress: ['customer'] },
  closed: {},
  cancelled: {},
};

export type TransitionVerdict = { allowed: true } | { allowed: false; reason: 'illegal' | 'wrong_side'; sides?: readonly Side[] };

export function judgeTransition(from: RequestStatus, to: RequestStatus, callerSides: ReadonlySet<Side>): TransitionVerdict {
  const sides = MOVES[from][to];
  if (!sides) return { allowed: false, reason: 'illegal' };
  if (!sides.some((side) => callerSides.has(side))) return { allowed: false, reason: 'wrong_side', sides };
  return { allowed: true };
}

export function nextStatuses(from: RequestStatus): RequestStatus[] {
  return Object.keys(MOVES[from]) as RequestStatus[];
}

export const isFinished = (status: RequestStatus) => status === 'resolved' || status === 'closed' || status === 'cancelled';
/** A provider moving a request out of `open` (or resolving it) is its first response. */
export const countsAsResponse = (from: RequestStatus, to: RequestStatus) => from === 'open' && to !== 'cancelled';
export const isReopen = (from: RequestStatus, to: RequestStatus) => from === 'resolved' && to === 'in_progress';
