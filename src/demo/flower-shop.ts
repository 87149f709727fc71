import type { DataSource } from 'typeorm';
import { Agreement, AgreementVersion } from '../agreements/agreement.entity';
import type { EscalationLevel, Priority } from '../agreements/agreement-terms';
import { parseIsoDuration, type Holiday, type WeeklyInterval } from '../business-time';
import { User, type UserRole } from '../identity/user.entity';
import { Calendar } from '../org/calendar.entity';
import { Department } from '../org/department.entity';
import { ProviderService } from '../org/provider-service.entity';

export const DEMO_PASSWORD = 'handoff-demo';
export const DEMO_ZONE = 'Europe/Amsterdam';

const weekdays = (days: number[], ...spans: [string, string][]): WeeklyInterval[] =>
  days.flatMap((weekday) => spans.map(([start, end]) => ({ weekday, start, end })));
const MON_FRI = [1, 2, 3, 4, 5];
const MON_SAT = [1, 2, 3, 4, 5, 6];
const HOLIDAYS: Holiday[] = [
  { date: '2026-12-24', start: '16:00', end: '24:00' },
  { date: '2026-12-25' },
  { date: '2026-12-26' },
  { date: '2027-01-01' },
];

const DEPARTMENTS = [
  { code: 'PURCH', name: 'Purchasing', calendar: 'Auction hours', hours: weekdays(MON_FRI, ['05:30', '13:00']) },
  { code: 'SALES', name: 'Sales', calendar: 'Shop hours', hours: weekdays(MON_SAT, ['09:00', '18:00']) },
  { code: 'DESIGN', name: 'Design', calendar: 'Studio hours', hours: weekdays(MON_SAT, ['08:00', '12:00'], ['12:30', '17:00']) },
  { code: 'DELIV', name: 'Delivery', calendar: 'Delivery rounds', hours: weekdays(MON_SAT, ['08:00', '16:00']) },
] as const;

type DepartmentCode = (typeof DEPARTMENTS)[number]['code'];

const USERS: { key: string; email: string; name: string; role: UserRole; department: DepartmentCode | null; heads?: boolean }[] = [
  { key: 'admin', email: 'admin@flowers.example', name: 'Ada Admin', role: 'admin', department: null },
  { key: 'ops', email: 'ops@flowers.example', name: 'Olga Ops', role: 'ops', department: null },
  { key: 'purchasingHead', email: 'pia.head@flowers.example', name: 'Pia (head of Purchasing)', role: 'head', department: 'PURCH', heads: true },
  { key: 'buyer', email: 'bob.buyer@flowers.example', name: 'Bob the buyer', role: 'employee', department: 'PURCH' },
  { key: 'salesHead', email: 'sam.head@flowers.example', name: 'Sam (head of Sales)', role: 'head', department: 'SALES', heads: true },
  { key: 'clerk', email: 'clara.clerk@flowers.example', name: 'Clara the clerk', role: 'employee', department: 'SALES' },
  { key: 'designHead', email: 'dana.head@flowers.example', name: 'Dana (head of Design)', role: 'head', department: 'DESIGN', heads: true },
  { key: 'designer', email: 'dan.designer@flowers.example', name: 'Dan the designer', role: 'employee', department: 'DESIGN' },
  { key: 'deliveryHead', email: 'dirk.head@flowers.example', name: 'Dirk (head of Delivery)', role: 'head', department: 'DELIV', heads: true },
  { key: 'courier', email: 'cody.courier@flowers.example', name: 'Cody the courier', role: 'employee', department: 'DELIV' },
];

const SERVICES: { key: string; department: DepartmentCode; code: string; name: string; description: string; leadTime: string }[] = [
  { key: 'roses', department: 'PURCH', code: 'ROSES', name: 'Stock roses from the auction', description: 'Buy the flowers an order needs at the morning auction.', leadTime: 'PT3H' },
  { key: 'bouquet', department: 'DESIGN', code: 'BOUQUET', name: 'Bouquet for an order', description: 'Design and build the arrangement for a customer order.', leadTime: 'PT2H' },
  { key: 'delivery', department: 'DELIV', code: 'DELIVERY', name: 'Deliver an order', description: 'Take the finished order to the external customer.', leadTime: 'PT2H' },
  { key: 'orderInfo', department: 'SALES', code: 'ORDER-INFO', name: 'Answer a question about an order', description: "Check a customer's order details.", leadTime: 'PT1H' },
];

const LEVELS: EscalationLevel[] = [
  { atPercent: 100, notify: 'provider_head' },
  { atPercent: 150, notify: 'ladder' },
  { atPercent: 200, notify: 'ops' },
];

const AGREEMENTS: { service: string; priority?: Priority; response: string; resolution: string }[] = [
  { service: 'roses', response: 'PT30M', resolution: 'PT4H' },
  { service: 'roses', priority: 'urgent', response: 'PT10M', resolution: 'PT2H' },
  { service: 'bouquet', response: 'PT30M', resolution: 'PT3H' },
  { service: 'bouquet', priority: 'urgent', response: 'PT10M', resolution: 'PT90M' },
  { service: 'delivery', response: 'PT1H', resolution: 'PT4H' },
  { service: 'delivery', priority: 'urgent', response: 'PT15M', resolution: 'PT2H' },
  { service: 'orderInfo', response: 'PT1H', resolution: 'PT8H' },
];

export interface FlowerShop {
  departments: Record<DepartmentCode, Department>;
  users: Record<string, User>;
  services: Record<string, ProviderService>;
  calendars: Record<DepartmentCode, Calendar>;
}

/** The flower shop of the SPEC: four departments with real Amsterdam hours, heads, staff, ops, services and SLAs. */
export async function seedFlowerShop(dataSource: DataSource, passwordHash: string): Promise<FlowerShop> {
  return dataSource.transaction(async (manager) => {
    const calendars = {} as FlowerShop['calendars'];
    const departments = {} as FlowerShop['departments'];
    for (const d of DEPARTMENTS) {
      calendars[d.code] = await manager.getRepository(Calendar).save({ name: d.calendar, timezone: DEMO_ZONE, alwaysOpen: false, weeklyHours: [...d.hours], holidays: HOLIDAYS });
      departments[d.code] = await manager.getRepository(Department).save({
        name: d.name,
        code: d.code,
        timezone: DEMO_ZONE,
        calendarId: calendars[d.code].id,
        escalationEmail: 'owner@flowers.example',
      });
    }
    const users: FlowerShop['users'] = {};
    for (const u of USERS) {
      users[u.key] = await manager.getRepository(User).save({
        email: u.email,
        name: u.name,
        passwordHash,
        role: u.role,
        departmentId: u.department ? departments[u.department].id : null,
        active: true,
      });
      if (u.heads && u.department) {
        departments[u.department].headUserId = users[u.key].id;
        await manager.getRepository(Department).update(departments[u.department].id, { headUserId: users[u.key].id });
      }
    }
    const services: FlowerShop['services'] = {};
    for (const s of SERVICES) {
      services[s.key] = await manager.getRepository(ProviderService).save({
        departmentId: departments[s.department].id,
        code: s.code,
        name: s.name,
        description: s.description,
        leadTime: s.leadTime,
        leadTimeSeconds: parseIsoDuration(s.leadTime),
        active: true,
      });
    }
    for (const a of AGREEMENTS) {
      const saved = await manager.getRepository(Agreement).save({
        serviceId: services[a.service].id,
        customerDepartmentId: null,
        priority: a.priority ?? null,
        version: 1,
        responseTarget: a.response,
        responseTargetSeconds: parseIsoDuration(a.response)!,
        resolutionTarget: a.resolution,
        resolutionTargetSeconds: parseIsoDuration(a.resolution)!,
        calendarId: null,
        warnAtPercent: 75,
        pauseWhileBlocked: true,
        escalations: LEVELS,
        active: true,
      });
      const { id, version, createdAt: _c, updatedAt: _u, ...terms } = saved;
      await manager.getRepository(AgreementVersion).insert({ agreementId: id, version, terms, changedBy: null });
    }
    return { departments, users, services, calendars };
  });
}

export async function organisationIsEmpty(dataSource: DataSource): Promise<boolean> {
  return (await dataSource.getRepository(Department).count()) === 0;
}
