import { Injectable } from '@nestjs/common';
import { decodeCursor, Page, pageOf } from '../common/cursor';
import { conflict, invalid, notFound } from '../common/domain-error';
import { DepartmentsRepository } from '../org/departments.repository';
import { viewOfUser } from './auth.service';
import { PasswordHasher } from './password-hasher';
import { CreateUserDto, UpdateUserDto, UserView } from './user.dto';
import { UsersRepository } from './users.repository';

@Injectable()
export class UsersService {
  constructor(
    private readonly users: UsersRepository,
    private readonly departments: DepartmentsRepository,
    private readonly hasher: PasswordHasher,
  ) {}

  async create(dto: CreateUserDto): Promise<UserView> {
    await this.checkDepartment(dto.departmentId);
    if (await this.users.findByEmailWithHash(dto.email)) throw conflict(`A user with email ${dto.email} already exists`);
    const user = await this.users.save({
      email: dto.email,
      name: dto.name,
      passwordHash: await this.hasher.hash(dto.password),
      departmentId: dto.departmentId ?? null,
      role: dto.role,
      active: true,
    });
    return viewOfUser(user);
  }

  async get(id: string): Promise<UserView> {
    const user = await this.users.findById(id);
    if (!user) throw notFound('User');
    return viewOfUser(user);
  }

  async list(cursor: string | undefined, limit = 50): Promise<Page<UserView>> {
    const after = cursor ? decodeCursor(cursor, ['text'])[0] : undefined;
    const rows = await this.users.list(after, limit + 1);
    return pageOf(rows.map(viewOfUser), limit, (u) => [u.email]);
  }

  async update(id: string, dto: UpdateUserDto): Promise<UserView> {
    const user = await this.users.findById(id);
    if (!user) throw notFound('User');
    if (dto.departmentId) await this.checkDepartment(dto.departmentId);
    const role = dto.role ?? user.role;
    const departmentId = dto.departmentId === undefined ? user.departmentId : dto.departmentId;
    if (!departmentId && role !== 'ops' && role !== 'admin') {
      throw invalid([{ field: 'departmentId', message: `is required for the role ${role}` }]);
    }
    const changes: Record<string, unknown> = { id, role, departmentId };
    if (dto.name !== undefined) changes.name = dto.name;
    if (dto.active !== undefined) changes.active = dto.active;
    if (dto.password !== undefined) changes.passwordHash = await this.hasher.hash(dto.password);
    await this.users.save(changes);
    this.users.forget(id);
    return this.get(id);
  }

  private async checkDepartment(departmentId: string | undefined): Promise<void> {
    if (departmentId && !(await this.departments.findById(departmentId))) {
      throw invalid([{ field: 'departmentId', message: 'no department has this id' }]);
    }
  }
}
