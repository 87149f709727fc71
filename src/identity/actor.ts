import type { UserRole } from './user.entity';

/** Who is calling: what guards and services need to know of the signed-in user. */
export interface Actor {
  id: string;
  email: string;
  name: string;
  role: UserRole;
  departmentId: string | null;
}

export const isOpsOrAdmin = (actor: Actor) => actor.role === 'ops' || actor.role === 'admin';
