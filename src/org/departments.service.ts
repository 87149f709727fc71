import { Injectable } from '@nestjs/common';
import { decodeCursor, Page, pageOf } from '../common/cursor';
import { conflict, invalid, notFound, type FieldProblem } from '../common/domain-error';
import { UsersRepository } from '../identity/users.repository';
import { CalendarsRepository } from './calendars.repository';
import { Department } from './department.entity';
import { CreateDepartmentDto, DepartmentView, UpdateDepartmentDto } from './department.dto';
import { DepartmentsRepository } from './departments.repository';

@Injectable()
export class DepartmentsService {
  constructor(
    private readonly departments: DepartmentsRepository,
    private readonly calendars: CalendarsRepository,
    private readonly users: UsersRepository,
  ) {}

  async create(dto: CreateDepartmentDto): Promise<DepartmentView> {
    await this.checkReferences(dto);
    const clash = await this.departments.findByCode(dto.code);
    if (clash) throw conflict(`A department with code ${clash.code} already exists`);
    const saved = await this.departments.save({
      name: dto.name,
      code: dto.code,
      timezone: dto.timezone,
      calendarId: dto.calendarId ?? null,
      headUserId: dto.headUserId ?? null,
      escalationEmail: dto.escalationEmail?.toLowerCase() ?? null,
    });
    return viewOfDepartment(saved);
  }

  async get(id: string): Promise<DepartmentView> {
    const department = await this.departments.findById(id);
    if (!department) throw notFound('Department');
    return viewOfDepartment(department);
  }

  async list(cursor: string | undefined, limit = 50): Promise<Page<DepartmentView>> {
    const after = cursor ? decodeCursor(cursor, ['text'])[0] : undefined;
    const rows = await this.departments.list(after, limit + 1);
    return pageOf(rows.map(viewOfDepartment), limit, (d) => [d.code]);
  }

  async update(id: string, dto: UpdateDepartmentDto): Promise<DepartmentView> {
    const department = await this.departments.findById(id);
    if (!department) throw notFound('Department');
    await this.checkReferences(dto);
    const clash = dto.code && dto.code !== department.code ? await this.departments.findByCode(dto.code) : null;
    if (clash && clash.id !== id) throw conflict(`A department with code ${clash.code} already exists`);
    const changes: Partial<Department> = { id };
    for (const key of ['name', 'code', 'timezone', 'calendarId', 'headUserId'] as const) {
      if (dto[key] !== undefined) (changes as Record<string, unknown>)[key] = dto[key];
    }
    if (dto.escalationEmail !== undefined) changes.escalationEmail = dto.escalationEmail?.toLowerCase() ?? null;
    await this.departments.save(changes);
    return this.get(id);
  }

  private async checkReferences(dto: { calendarId?: string | null; headUserId?: string | null }): Promise<void> {
    const problems: FieldProblem[] = [];
    if (dto.calendarId && !(await this.calendars.findById(dto.calendarId))) {
      problems.push({ field: 'calendarId', message: 'no calendar has this id' });
    }
    if (dto.headUserId && !(await this.users.findById(dto.headUserId))) {
      problems.push({ field: 'headUserId', message: 'no user has this id' });
    }
    if (problems.length) throw invalid(problems);
  }
}

export function viewOfDepartment(d: Department): DepartmentView {
  return {
    id: d.id,
    name: d.name,
    code: d.code,
    timezone: d.timezone,
    calendarId: d.calendarId,
    headUserId: d.headUserId,
    escalationEmail: d.escalationEmail,
  };
}
