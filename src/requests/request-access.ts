import { notFound } from '../common/domain-error';
import type { Actor } from '../identity/actor';
import { isOpsOrAdmin } from '../identity/actor';
import type { CommentSide, Side } from './request-lifecycle';
import type { ServiceRequest } from './request.entity';

/** The sides the caller stands on; admin may act for either side. */
export function sidesOf(actor: Actor, request: Pick<ServiceRequest, 'providerDepartmentId' | 'customerDepartmentId'>): Set<Side> {
  const sides = new Set<Side>();
  if (actor.role === 'admin') return new Set<Side>(['provider', 'customer']);
  if (actor.departmentId && actor.departmentId === request.providerDepartmentId) sides.add('provider');
  if (actor.departmentId && actor.departmentId === request.customerDepartmentId) sides.add('customer');
  return sides;
}

/** The side an actor's own department puts them on (provider first); 'admin' for an admin of neither department. */
export function ownSideOf(actor: Actor, request: Pick<ServiceRequest, 'providerDepartmentId' | 'customerDepartmentId'>): CommentSide {
  if (actor.departmentId && actor.departmentId === request.providerDepartmentId) return 'provider';
  if (actor.departmentId && actor.departmentId === request.customerDepartmentId) return 'customer';
  return 'admin';
}

export function canSee(actor: Actor, request: Pick<ServiceRequest, 'providerDepartmentId' | 'customerDepartmentId'>): boolean {
  return isOpsOrAdmin(actor) || sidesOf(actor, request).size > 0;
}

/** Someone else's request answers exactly like a missing one: 404, never its data. */
export function assertVisible<T extends ServiceRequest | null>(actor: Actor, request: T): asserts request is NonNullable<T> {
  if (!request || !canSee(actor, request)) throw notFound('Request');
}
