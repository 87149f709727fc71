import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { BusinessCalendar } from '../business-time';
import { Calendar } from './calendar.entity';

const COMPILED_TTL_MS = 10_000;

@Injectable()
export class CalendarsRepository {
  // Compiled calendars keep their per-day caches warm; another process's edit shows within the TTL.
  private readonly compiled = new Map<string, { calendar: BusinessCalendar; until: number }>();
  private readonly aroundTheClock = new Map<string, BusinessCalendar>();

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  private get repo() {
    return this.dataSource.getRepository(Calendar);
  }

  findById(id: string): Promise<Calendar | null> {
    return this.repo.findOne({ where: { id } });
  }

  list(after: string | undefined, limit: number): Promise<Calendar[]> {
    const q = this.repo.createQueryBuilder('c').orderBy('c.id', 'ASC').limit(limit);
    if (after) q.where('c.id > :after', { after });
    return q.getMany();
  }

  async save(calendar: Partial<Calendar>, manager?: EntityManager): Promise<Calendar> {
    const saved = await (manager ? manager.getRepository(Calendar) : this.repo).save(calendar as Calendar);
    this.compiled.delete(saved.id);
    return saved;
  }

  /** Row-locks the calendar for the rest of the transaction, so two edits of it queue up. */
  findForUpdate(manager: EntityManager, id: string): Promise<Calendar | null> {
    return manager.getRepository(Calendar).createQueryBuilder('c').setLock('pessimistic_write').where('c.id = :id', { id }).getOne();
  }

  transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }

  /** The business calendar that counts for a request: a stored calendar, or around the clock in a zone. */
  async businessCalendar(calendarId: string | null, fallbackZone: string): Promise<BusinessCalendar> {
    if (!calendarId) return this.alwaysOpen(fallbackZone);
    const cached = this.compiled.get(calendarId);
    if (cached && cached.until > Date.now()) return cached.calendar;
    const row = await this.findById(calendarId);
    if (!row) return this.alwaysOpen(fallbackZone);
    const calendar = BusinessCalendar.compile({
      timezone: row.timezone,
      alwaysOpen: row.alwaysOpen,
      weeklyHours: row.weeklyHours,
      holidays: row.holidays,
    });
    this.compiled.set(calendarId, { calendar, until: Date.now() + COMPILED_TTL_MS });
    return calendar;
  }

  private alwaysOpen(zone: string): BusinessCalendar {
    let calendar = this.aroundTheClock.get(zone);
    if (!calendar) {
      calendar = BusinessCalendar.compile({ timezone: zone, alwaysOpen: true });
      this.aroundTheClock.set(zone, calendar);
    }
    return calendar;
  }
}
