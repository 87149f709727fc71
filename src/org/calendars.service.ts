import { Injectable } from '@nestjs/common';
import { BusinessCalendar, NoOpenTimeError, validateCalendarDefinition, type CalendarDefinition } from '../business-time';
import { Clock } from '../common/clock';
import { decodeCursor, Page, pageOf } from '../common/cursor';
import { invalid, notFound } from '../common/domain-error';
import type { Actor } from '../identity/actor';
import { CalendarReapplyService } from '../requests/calendar-reapply.service';
import { Calendar } from './calendar.entity';
import { CalendarView, CreateCalendarDto, UpdateCalendarDto } from './calendar.dto';
import { CalendarsRepository } from './calendars.repository';

@Injectable()
export class CalendarsService {
  constructor(
    private readonly calendars: CalendarsRepository,
    private readonly reapplier: CalendarReapplyService,
    private readonly clock: Clock,
  ) {}

  async create(dto: CreateCalendarDto): Promise<CalendarView> {
    const definition = normalise(dto);
    checkDefinition(definition, this.clock.now());
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

  /** An edit reaches the open requests counted in the calendar at once: their deadlines move with it (CalendarReapplyService). */
  async update(actor: Actor, id: string, dto: UpdateCalendarDto): Promise<CalendarView> {
    const now = this.clock.now();
    const { saved, reapplied } = await this.calendars.transaction(async (manager) => {
      const calendar = await this.calendars.findForUpdate(manager, id);
      if (!calendar) throw notFound('Calendar');
      const definition = normalise({
        timezone: dto.timezone ?? calendar.timezone,
        alwaysOpen: dto.alwaysOpen ?? calendar.alwaysOpen,
        weeklyHours: dto.weeklyHours ?? calendar.weeklyHours,
        holidays: dto.holidays ?? calendar.holidays,
      });
      const compiled = checkDefinition(definition, now);
      const saved = await this.calendars.save({ ...calendar, name: dto.name ?? calendar.name, ...definition }, manager);
      return { saved, reapplied: await this.reapplier.reapply(manager, id, compiled, actor.id, now) };
    });
    await this.reapplier.afterCommit(reapplied);
    return viewOfCalendar(saved);
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

/** A valid definition that opens within ten years of now, compiled; 400 otherwise. */
function checkDefinition(definition: CalendarDefinition, now: Date): BusinessCalendar {
  const problems = validateCalendarDefinition(definition);
  if (problems.length) throw invalid(problems);
  const compiled = BusinessCalendar.compile(definition);
  try {
    compiled.nextOpenInstant(now.getTime());
  } catch (error) {
    if (!(error instanceof NoOpenTimeError)) throw error;
    throw invalid([{ field: 'holidays', message: 'leave the calendar no open time in the next ten years; a calendar must open' }]);
  }
  return compiled;
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
