import { randomUUID } from 'node:crypto';
import { Injectable, UnauthorizedException } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { PasswordHasher } from './password-hasher';
import { LoginAnswer } from './user.dto';
import { toActor, UsersRepository } from './users.repository';

export const ACCESS_TOKEN_TTL_SECONDS = 8 * 3600;

@Injectable()
export class AuthService {
  // Verified against when the email is unknown, so both answers take as long.
  private unknownUserHash?: Promise<string>;

  constructor(
    private readonly users: UsersRepository,
    private readonly hasher: PasswordHasher,
    private readonly jwt: JwtService,
  ) {}

  async login(email: string, password: string): Promise<LoginAnswer> {
    const user = await this.users.findByEmailWithHash(email);
    this.unknownUserHash ??= this.hasher.hash(randomUUID());
    const ok = await this.hasher.verify(user?.passwordHash ?? (await this.unknownUserHash), password);
    if (!user || !ok || !user.active) throw new UnauthorizedException('Wrong email or password');
    const accessToken = await this.jwt.signAsync(
      { sub: user.id, role: user.role },
      { algorithm: 'HS256', expiresIn: ACCESS_TOKEN_TTL_SECONDS },
    );
    const { passwordHash: _hash, ...rest } = user;
    return { accessToken, expiresIn: ACCESS_TOKEN_TTL_SECONDS, user: viewOfUser({ ...rest, passwordHash: '' }) };
  }
}

export function viewOfUser(user: Parameters<typeof toActor>[0]) {
  const actor = toActor(user);
  return { id: actor.id, email: actor.email, name: actor.name, role: actor.role, departmentId: actor.departmentId, active: user.active };
}
