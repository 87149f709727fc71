import type { FlowerShop } from '../../src/demo/flower-shop';
import { bearer, type TestApp } from './test-app';

export interface FastSla {
  serviceId: string;
  agreementId: string;
}

/**
 * A Design service with an around-the-clock calendar and targets of seconds, so real timers
 * fire within a test. Created through the API, as ops and the provider's head would.
 */
export async function createFastService(
  t: TestApp,
  shop: FlowerShop,
  tokens: Record<string, string>,
  terms: { code: string; responseTarget: string; resolutionTarget: string; warnAtPercent?: number; escalations?: { atPercent: number; notify: string }[] },
): Promise<FastSla> {
  const calendar = await t.http.post('/api/v1/calendars').set(bearer(tokens.ops)).send({ name: `Always ${terms.code}`, timezone: 'Europe/Amsterdam', alwaysOpen: true });
  const service = await t.http
    .post('/api/v1/services')
    .set(bearer(tokens.designHead))
    .send({ departmentId: shop.departments.DESIGN.id, code: terms.code, name: `Fast ${terms.code}` });
  const agreement = await t.http
    .post('/api/v1/agreements')
    .set(bearer(tokens.designHead))
    .send({
      serviceId: service.body.id,
      responseTarget: terms.responseTarget,
      resolutionTarget: terms.resolutionTarget,
      calendarId: calendar.body.id,
      warnAtPercent: terms.warnAtPercent ?? 50,
      escalations: terms.escalations ?? [],
    });
  if (calendar.status !== 201 || service.status !== 201 || agreement.status !== 201) {
    throw new Error(`fast SLA setup failed: ${calendar.status} ${service.status} ${JSON.stringify(agreement.body)}`);
  }
  return { serviceId: service.body.id, agreementId: agreement.body.id };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` every few milliseconds until it holds; fails with `what` after `timeoutMs`. */
export async function waitUntil(check: () => boolean | Promise<boolean>, timeoutMs: number, what: () => string): Promise<void> {
  for (const until = Date.now() + timeoutMs; !(await check()); await sleep(5)) {
    if (Date.now() > until) throw new Error(`timed out waiting: ${what()}`);
  }
}
