import { Injectable } from '@nestjs/common';
import { validateCalendarDefinition, type CalendarDefinition } from '../business-time';
import { decodeCursor, Page, pageOf } from '../common/cursor';
import { invalid, notFound } from '../common/domain-error';
import { Calendar } from './calendar.entity';
import { CalendarView, CreateCalendarDto, UpdateCalendarDto } from './calendar.dto';
import { CalendarsRepository } from './calendars.repository';

@Injectable()
export class CalendarsService {
  constructor(private readonly calendars: CalendarsRepository) {}

  async create(dto: CreateCalendarDto): Promise<CalendarView> {
    const definition = normalise(dto);
    checkDefinition(definition);
    return viewOfCalendar(await this.calendars.save({ name: dto.name, ...definition }));
  }

  async get(id: string): Promise<CalendarView> {
    const calendar = await this.calendars.findById(id);
    if (!calendar) throw notFound('Calendar');
    return viewOfCalendar(calendar);
  }

  async list(cursor: string | undefined, limit = 50): Promise<Page<CalendarView>> {
    const after = cursor ? decodeCursor(cursor, ['uuid'])[0] : undefined;
    const rows = await this.calendars.list(after, limit + 1);
    return pageOf(rows.map(viewOfCalendar), limit, (c) => [c.id]);
  }

  async update(id: string, dto: UpdateCalendarDto): Promise<CalendarView> {
    const calendar = await this.calendars.findById(id);
    if (!calendar) throw notFound('Calendar');
    const definition = normalise({
      timezone: dto.timezone ?? calendar.timezone,
      alwaysOpen: dto.alwaysOpen ?? calendar.alwaysOpen,
      weeklyHours: dto.weeklyHours ?? calendar.weeklyHours,
      holidays: dto.holidays ?? calendar.holidays,
    });
    checkDefinition(definition);
    return viewOfCalendar(await this.calendars.save({ ...calendar, name: dto.name ?? calendar.name, ...definition }));
  }
}

function normalise(dto: CalendarDefinition): Required<CalendarDefinition> {
  return {
    timezone: dto.timezone,
    alwaysOpen: dto.alwaysOpen ?? false,
    weeklyHours: (dto.weeklyHours ?? []).map(({ weekday, start, end }) => ({ weekday, start, end })),
    holidays: (dto.holidays ?? []).map(({ date, start, end }) => (start || end ? { date, start, end } : { date })),
  };
}

function checkDefinition(definition: CalendarDefinition): void {
  const problems = validateCalendarDefinition(definition);
  if (problems.length) throw invalid(problems);
}

export function viewOfCalendar(c: Calendar): CalendarView {
  return {
    id: c.id,
    name: c.name,
    timezone: c.timezone,
    alwaysOpen: c.alwaysOpen,
    weeklyHours: c.weeklyHours,
    holidays: c.holidays,
    revision: c.revision,
  };
}
