import { existsSync, mkdirSync, statSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { DEMO_PASSWORD, type FlowerShop } from '../../src/demo/flower-shop';
import { FlowerDesk, seedFlowerDay } from '../support/report-fixtures';
import { bearer, startTestApp, withFlowerShop, type TestApp } from '../support/test-app';

// Debian's chromium, driven headless; nothing is downloaded.
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = join(__dirname, '..', '..', 'test-artifacts');

// The page's globals, typed here because the test compiles without the DOM library.
interface CanvasLike {
  width: number;
  height: number;
  getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: ArrayLike<number> } } | null;
}
interface PageGlobals {
  document: { getElementById(id: string): (CanvasLike & { textContent: string | null }) | null };
  sessionStorage: { getItem(key: string): string | null };
  Chart: { getChart(canvas: CanvasLike): { data: { labels: string[]; datasets: { label: string; data: (number | null)[] }[] } } };
}
interface RowLike {
  querySelectorAll(selector: string): ArrayLike<{ textContent: string | null }>;
}

interface DrawnChart {
  labels: string[];
  datasets: { label: string; data: (number | null)[] }[];
  paintedPixels: number;
}

describe('the ops dashboard at /dashboard, in headless Chromium', () => {
  let t: TestApp;
  let shop: FlowerShop;
  let tokens: Record<string, string>;
  let browser: Browser;
  let base: string;
  const problems: string[] = [];

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`No Chromium at ${CHROMIUM}: apt-get install -y chromium (npm test's pretest does, as root on Debian)`);
    t = await startTestApp('dashboard');
    ({ shop, tokens } = await withFlowerShop(t));
    const desk = new FlowerDesk(t, shop, tokens);
    await seedHistory(desk);
    await seedFlowerDay(desk);
    // Wednesday: Design answers and finishes a bouquet in time; Purchasing buys roses late.
    const bouquet = await desk.at('2026-12-02T09:00:00Z').raise('clerk', 'bouquet');
    const roses = await desk.raise('designer', 'roses');
    await desk.at('2026-12-02T09:10:00Z').move('designer', bouquet, 'resolved');
    await desk.at('2026-12-02T10:00:00Z').move('buyer', roses, 'resolved');
    // Thursday: an order promised for 09:30Z whose chain cannot make it (two hours' lead time each).
    const order = await desk.at('2026-12-03T08:00:00Z').raise('clerk', 'bouquet');
    await desk.raise('clerk', 'delivery', { dependsOn: [order.id], externalRef: 'ORDER-1042', externalDueAt: '2026-12-03T09:30:00Z' });
    t.clock.set('2026-12-03T08:20:00Z');

    await t.app.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${(t.app.getHttpServer().address() as AddressInfo).port}`;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  async function openDashboard(): Promise<Page> {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 }, timezoneId: 'UTC' });
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console: ${message.text()}`);
    });
    await page.goto(`${base}/dashboard`);
    await page.waitForSelector('body[data-state="login"]');
    return page;
  }

  async function signIn(page: Page, email: string, state = 'ready'): Promise<void> {
    await page.fill('input[name="email"]', email);
    await page.fill('input[name="password"]', DEMO_PASSWORD);
    await page.click('button[type="submit"]');
    await page.waitForSelector(`body[data-state="${state}"]`, { timeout: 15_000 });
  }

  const chart = (page: Page, id: string) =>
    page.evaluate((canvasId): DrawnChart => {
      const page = globalThis as unknown as PageGlobals;
      const canvas = page.document.getElementById(canvasId)!;
      const drawn = page.Chart.getChart(canvas);
      const pixels = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
      let painted = 0;
      for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) painted++;
      return { labels: drawn.data.labels, datasets: drawn.data.datasets.map((d) => ({ label: d.label, data: d.data })), paintedPixels: painted };
    }, id);

  const tableTexts = (page: Page, id: string) =>
    page.$$eval(`#${id} tbody tr`, (rows) => (rows as unknown as RowLike[]).map((row) => Array.from(row.querySelectorAll('td')).map((td) => td.textContent ?? '')));

  it('signs ops in and draws compliance per department pair over time from the seeded requests', async () => {
    const page = await openDashboard();
    expect(await page.isVisible('#login-form')).toBe(true);
    expect(await page.isVisible('#board')).toBe(false);
    await signIn(page, shop.users.ops.email);
    expect(await page.isVisible('#login-form')).toBe(false);
    expect(await page.textContent('#who')).toBe('Olga Ops (ops)');

    const response = await chart(page, 'chart-response');
    // The last 30 days up to Thursday 3 December, one label a day.
    expect(response.labels).toHaveLength(30);
    expect(response.labels.slice(-3)).toEqual(['2026-12-01', '2026-12-02', '2026-12-03']);
    const series = Object.fromEntries(response.datasets.map((d) => [d.label, d.data.slice(-3)]));
    // Tuesday as worked out in reports.e2e.spec.ts, two days on: B5 is late now too, so Design has 2 of 5
    // responses and 3 of 5 resolutions in time; Purchasing 2 of 3. Wednesday: Design in time, Purchasing
    // answered late (by resolving after an hour) but resolved in time. Thursday: nothing is due yet.
    expect(series['DESIGN->SALES']).toEqual([40, 100, null]);
    expect(series['PURCH->DESIGN']).toEqual([66.7, 0, null]);
    expect(series['DELIV->SALES']).toEqual([null, null, null]);
    expect(response.paintedPixels).toBeGreaterThan(2000);

    const resolution = await chart(page, 'chart-resolution');
    const resolved = Object.fromEntries(resolution.datasets.map((d) => [d.label, d.data.slice(-3)]));
    expect(resolved['DESIGN->SALES']).toEqual([60, 100, null]);
    expect(resolved['PURCH->DESIGN']).toEqual([66.7, 100, null]);
    expect(resolution.paintedPixels).toBeGreaterThan(2000);

    // The table shows the SLA report of the whole window, as the API answers it.
    const report = await t.http.get(`/api/v1/reports/sla?groupBy=pair&from=2026-11-04&to=2026-12-03T08:20:00Z`).set(bearer(tokens.ops));
    const percent = (f: number | null) => (f === null ? '–' : `${(f * 100).toFixed(1)} %`);
    expect((await tableTexts(page, 'pairs')).map((row) => row.slice(0, 5))).toEqual(
      report.body.rows.map((r: { group: { name: string }; total: number; responseCompliance: number | null; resolutionCompliance: number | null; breaches: number }) => [
        r.group.name,
        String(r.total),
        percent(r.responseCompliance),
        percent(r.resolutionCompliance),
        String(r.breaches),
      ]),
    );
    expect(report.body.rows.map((r: { group: { name: string } }) => r.group.name)).toEqual(['Delivery → Sales', 'Design → Sales', 'Purchasing → Design']);
    const atRisk = await tableTexts(page, 'at-risk');
    expect(atRisk.some((row) => row[0] === 'delivery for clerk' && row[1] === 'DELIV → SALES' && row[4].includes('ORDER-1042'))).toBe(true);
    const chains = await tableTexts(page, 'chains');
    // Bouquet (2 h) then delivery (2 h) from 08:00Z: 12:00Z, two and a half hours past the promise.
    expect(chains).toEqual([['delivery for clerk', 'DELIV → SALES', '03/12/2026, 09:30 (ORDER-1042)', '2', '−2.5 h', '03/12/2026, 12:00', '03/12/2026, 08:00']]);
    const escalations = await tableTexts(page, 'escalations');
    expect(escalations.some((row) => row[1] === 'chain at risk' && row[3] === 'DELIV → SALES')).toBe(true);

    mkdirSync(ARTIFACTS, { recursive: true });
    const shot = join(ARTIFACTS, 'dashboard.png');
    await page.screenshot({ path: shot, fullPage: true });
    expect(statSync(shot).size).toBeGreaterThan(20_000);

    // Weekly buckets redraw from the API.
    await page.selectOption('#interval', 'week');
    await page.waitForSelector('body[data-state="ready"]');
    expect((await chart(page, 'chart-response')).labels).toHaveLength(12);

    await page.click('#sign-out');
    await page.waitForSelector('body[data-state="login"]');
    expect(await page.evaluate(() => (globalThis as unknown as PageGlobals).sessionStorage.getItem('handoff.token'))).toBeNull();
    await page.close();
    expect(problems).toEqual([]);
  });

  it('shows a head only the pairs of their department', async () => {
    const page = await openDashboard();
    await signIn(page, shop.users.purchasingHead.email);
    const pairs = await tableTexts(page, 'pairs');
    expect(pairs.map((row) => row[0])).toEqual(['Purchasing → Design']);
    expect((await chart(page, 'chart-response')).datasets.map((d) => d.label)).toEqual(['PURCH->DESIGN']);
    await page.close();
    expect(problems).toEqual([]);
  });

  it('turns an employee away at the door, and a wrong password too', async () => {
    const page = await openDashboard();
    await signIn(page, shop.users.clerk.email, 'login-failed');
    expect(await page.textContent('#login-error')).toBe('The dashboard is for ops, admins and department heads.');
    expect(await page.isVisible('#board')).toBe(false);
    await page.fill('input[name="email"]', shop.users.ops.email);
    await page.fill('input[name="password"]', 'not-the-password');
    await page.click('button[type="submit"]');
    await page.waitForFunction(() => (globalThis as unknown as PageGlobals).document.getElementById('login-error')?.textContent === 'Wrong email or password.');
    await page.close();
    expect(tokens.clerk).toBeDefined();
  });
});

/**
 * Two weeks before the worked-out Tuesday, Monday to Saturday: two bouquets a day for Sales and
 * roses for Design on weekdays, answered and finished sooner or later by a fixed pattern, so the
 * charts have a history to draw.
 */
async function seedHistory(desk: FlowerDesk): Promise<void> {
  for (let day = 16; day <= 30; day++) {
    const date = `2026-11-${String(day).padStart(2, '0')}`;
    const weekday = new Date(`${date}T12:00:00Z`).getUTCDay();
    if (weekday === 0) continue;
    desk.at(`${date}T09:00:00Z`);
    const first = await desk.raise('clerk', 'bouquet');
    const second = await desk.raise('clerk', 'bouquet');
    const roses = weekday <= 5 ? await desk.raise('designer', 'roses') : null;
    await desk.at(`${date}T09:${day % 3 === 0 ? '45' : '10'}:00Z`).move('designer', first, 'acknowledged');
    await desk.at(`${date}T09:${day % 4 === 0 ? '50' : '20'}:00Z`).move('designer', second, 'acknowledged');
    if (roses) await desk.at(`${date}T09:${day % 5 === 0 ? '55' : '15'}:00Z`).move('buyer', roses, 'acknowledged');
    await desk.at(`${date}T${day % 2 === 0 ? '11' : '13'}:00:00Z`).move('designer', first, 'resolved');
    await desk.at(`${date}T${day % 7 === 0 ? '15' : '10'}:30:00Z`).move('designer', second, 'resolved');
    if (roses) await desk.at(`${date}T${day % 3 === 1 ? '14' : '11'}:00:00Z`).move('buyer', roses, 'resolved');
  }
}
