import { CanActivate, ExecutionContext, ForbiddenException, Injectable, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { JwtService } from '@nestjs/jwt';
import type { FastifyRequest } from 'fastify';
import type { Actor } from './actor';
import { PUBLIC_ROUTE, ROLES_ALLOWED } from './auth.decorators';
import type { UserRole } from './user.entity';
import { UsersRepository } from './users.repository';

interface AccessTokenClaims {
  sub: string;
  role: UserRole;
  exp: number;
}

const MAX_VERIFIED_TOKENS = 10_000;

/** Every route needs a valid HS256 bearer token unless marked @Public(); then @Roles() narrows it. */
@Injectable()
export class AuthGuard implements CanActivate {
  /**
   * Tokens whose signature this process has checked, kept until they expire: a session sends the
   * same bytes on every call, and checking the HMAC again was about 5 % of a create's CPU. Only an
   * exact match is trusted, and the user is still looked up (active, role) on every call.
   */
  private readonly verified = new Map<string, { claims: AccessTokenClaims; expiresAtMs: number }>();

  constructor(
    private readonly reflector: Reflector,
    private readonly jwt: JwtService,
    private readonly users: UsersRepository,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, targets)) return true;
    const request = context.switchToHttp().getRequest<FastifyRequest & { actor?: Actor }>();
    const header = request.headers.authorization ?? '';
    const match = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/.exec(header.trim());
    if (!match) throw new UnauthorizedException('A bearer token is required (POST /api/v1/auth/login)');
    let claims: AccessTokenClaims;
    try {
      claims = await this.claimsOf(match[1]);
    } catch {
      throw new UnauthorizedException('The token is invalid or has expired');
    }
    const actor = typeof claims.sub === 'string' ? await this.users.findActiveActor(claims.sub) : null;
    if (!actor) throw new UnauthorizedException('The token is invalid or has expired');
    request.actor = actor;
    const roles = this.reflector.getAllAndOverride<UserRole[] | undefined>(ROLES_ALLOWED, targets);
    if (roles && !roles.includes(actor.role)) {
      throw new ForbiddenException(`This needs one of the roles: ${roles.join(', ')}`);
    }
    return true;
  }

  private async claimsOf(token: string): Promise<AccessTokenClaims> {
    const known = this.verified.get(token);
    if (known && known.expiresAtMs > Date.now()) return known.claims;
    if (known) this.verified.delete(token);
    // Pinning the algorithm refuses `alg: none` and any key-confusion trick.
    const claims = await this.jwt.verifyAsync<AccessTokenClaims>(token, { algorithms: ['HS256'] });
    // Ours always end (8 h); a signed token that never expires was not made by login.
    if (typeof claims.exp !== 'number') throw new Error('token without exp');
    if (this.verified.size >= MAX_VERIFIED_TOKENS) this.verified.clear();
    this.verified.set(token, { claims, expiresAtMs: claims.exp * 1000 });
    return claims;
  }
}
