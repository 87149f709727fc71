import { createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';
import type { Actor } from './actor';
import type { UserRole } from './user.entity';

export const PUBLIC_ROUTE = 'handoff:public';
export const ROLES_ALLOWED = 'handoff:roles';

/** No token needed (login, health, metrics, docs). */
export const Public = () => SetMetadata(PUBLIC_ROUTE, true);
/** Only these roles may call the route; finer rules (the provider's head) live in the services. */
export const Roles = (...roles: UserRole[]) => SetMetadata(ROLES_ALLOWED, roles);

export const CurrentActor = createParamDecorator((_: unknown, ctx: ExecutionContext): Actor => {
  return ctx.switchToHttp().getRequest<{ actor: Actor }>().actor;
});
