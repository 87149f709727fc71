import fc from 'fast-check';
import { BusinessCalendar } from '../../src/business-time';
import { planChain, type ChainLink, type ChainNode } from '../../src/chains/chain-plan';

const AROUND_THE_CLOCK = BusinessCalendar.compile({ timezone: 'UTC', alwaysOpen: true });
const OFFICE = BusinessCalendar.compile({
  timezone: 'Europe/Amsterdam',
  weeklyHours: [1, 2, 3, 4, 5].flatMap((weekday) => [
    { weekday, start: '08:00', end: '12:00' },
    { weekday, start: '13:00', end: '17:00' },
  ]),
});
const NOW = Date.parse('2026-12-01T09:00:00Z');
const H = 3600;

/** Random DAGs: node i may depend only on nodes before it, so there is never a cycle. */
const dags = fc.integer({ min: 1, max: 14 }).chain((size) =>
  fc.record({
    nodes: fc.array(
      fc.record({
        finished: fc.boolean().map((b) => b && Math.random() < 0.3),
        resolveInH: fc.integer({ min: 1, max: 200 }),
        neededInH: fc.option(fc.integer({ min: 1, max: 200 })),
        externalInH: fc.option(fc.integer({ min: 1, max: 200 })),
        leadH: fc.integer({ min: 0, max: 40 }),
        workedH: fc.integer({ min: 0, max: 40 }),
        paused: fc.boolean(),
        office: fc.boolean(),
      }),
      { minLength: size, maxLength: size },
    ),
    links:
      size < 2
        ? fc.constant([] as [number, number][])
        : fc.uniqueArray(
            fc.tuple(fc.integer({ min: 1, max: size - 1 }), fc.nat()).map(([a, r]): [number, number] => [a, r % a]),
            { maxLength: size * 2, selector: ([a, b]) => `${a}-${b}` },
          ),
  }),
);

type Dag = { nodes: { finished: boolean; resolveInH: number; neededInH: number | null; externalInH: number | null; leadH: number; workedH: number; paused: boolean; office: boolean }[]; links: [number, number][] };

function build(dag: Dag): { nodes: ChainNode[]; links: ChainLink[] } {
  const nodes = dag.nodes.map((n, i) => ({
    id: `r${String(i).padStart(2, '0')}`,
    finished: n.finished,
    finishedAt: n.finished ? NOW - H * 1000 : null,
    resolveBy: NOW + n.resolveInH * H * 1000,
    neededBy: n.neededInH === null ? null : NOW + n.neededInH * H * 1000,
    externalDueAt: n.externalInH === null ? null : NOW + n.externalInH * H * 1000,
    leadSeconds: n.leadH * H,
    workedSeconds: n.workedH * H,
    paused: n.paused,
    calendar: n.office ? OFFICE : AROUND_THE_CLOCK,
  }));
  const links = dag.links.map(([a, b]) => ({ requestId: nodes[a].id, dependsOnId: nodes[b].id }));
  return { nodes, links };
}

describe('chain slack on random DAGs', () => {
  it("an upstream request's slack never exceeds that of an unfinished request depending on it", () => {
    fc.assert(
      fc.property(dags, (dag) => {
        const { nodes, links } = build(dag);
        const plans = planChain(nodes, links, NOW);
        for (const link of links) {
          const up = nodes.find((n) => n.id === link.dependsOnId)!;
          const down = nodes.find((n) => n.id === link.requestId)!;
          if (up.finished || down.finished) continue;
          expect(plans.get(up.id)!.slackSeconds!).toBeLessThanOrEqual(plans.get(down.id)!.slackSeconds!);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('adding slack upstream (less work left there, or a later deadline) never lowers slack downstream', () => {
    fc.assert(
      fc.property(dags, fc.nat(), fc.integer({ min: 1, max: 30 }), fc.boolean(), (dag, pick, hours, byWork) => {
        const { nodes, links } = build(dag);
        const target = nodes[pick % nodes.length];
        const before = planChain(nodes, links, NOW);
        const eased = nodes.map((n) =>
          n.id !== target.id ? n : byWork ? { ...n, workedSeconds: n.workedSeconds + hours * H } : { ...n, resolveBy: n.resolveBy + hours * H * 1000 },
        );
        const after = planChain(eased, links, NOW);
        const downstreamOfTarget = new Set<string>();
        const stack = [target.id];
        while (stack.length) {
          const current = stack.pop()!;
          for (const l of links) if (l.dependsOnId === current && !downstreamOfTarget.has(l.requestId)) stack.push((downstreamOfTarget.add(l.requestId), l.requestId));
        }
        for (const id of downstreamOfTarget) {
          const was = before.get(id)!.slackSeconds;
          const is = after.get(id)!.slackSeconds;
          if (was !== null && is !== null) expect(is).toBeGreaterThanOrEqual(was);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('the projected finish of a request is never earlier than that of an unfinished dependency', () => {
    fc.assert(
      fc.property(dags, (dag) => {
        const { nodes, links } = build(dag);
        const plans = planChain(nodes, links, NOW);
        for (const l of links) {
          const up = nodes.find((n) => n.id === l.dependsOnId)!;
          if (up.finished || nodes.find((n) => n.id === l.requestId)!.finished) continue;
          expect(plans.get(l.requestId)!.projectedFinishAt).toBeGreaterThanOrEqual(plans.get(up.id)!.projectedFinishAt);
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe('work a downstream request has done already', () => {
  // Found from outside: the courier had worked half his hour before the bouquet request was
  // linked; the forward pass counted only his remaining half hour, the backward pass subtracted
  // the whole hour, and the chain went "at risk" (and mailed) while the promise was being kept.
  const two = (leadU: number, workedU: number, leadD: number, workedD: number, promise: number): ChainNode[] => [
    { id: 'up', finished: false, finishedAt: null, resolveBy: NOW + 1000 * H * 1000, neededBy: null, externalDueAt: null, leadSeconds: leadU, workedSeconds: workedU, paused: false, calendar: AROUND_THE_CLOCK },
    { id: 'down', finished: false, finishedAt: null, resolveBy: NOW + 1000 * H * 1000, neededBy: null, externalDueAt: NOW + promise * 1000, leadSeconds: leadD, workedSeconds: workedD, paused: false, calendar: AROUND_THE_CLOCK },
  ];
  const link = [{ requestId: 'down', dependsOnId: 'up' }];

  it('the worked example: half the courier hour done, the promise kept, nothing at risk', () => {
    const plans = planChain(two(3600, 0, 3600, 1800, 6000), link, NOW);
    expect(plans.get('down')).toMatchObject({ projectedFinishAt: NOW + 5400 * 1000, ownSlackSeconds: 600, atRisk: false });
    expect(plans.get('up')).toMatchObject({ projectedFinishAt: NOW + 3600 * 1000, latestFinishAt: NOW + 4200 * 1000, ownSlackSeconds: 600, atRisk: false });
  });

  it('on a two-request chain around the clock, both have the same own slack, whatever either has worked', () => {
    fc.assert(
      fc.property(fc.nat(40 * H), fc.nat(40 * H), fc.nat(40 * H), fc.nat(40 * H), fc.integer({ min: 1, max: 100 * H }), (leadU, workedU, leadD, workedD, promise) => {
        const plans = planChain(two(leadU, workedU, leadD, workedD, promise), link, NOW);
        expect(plans.get('up')!.ownSlackSeconds).toBe(plans.get('down')!.ownSlackSeconds);
      }),
      { numRuns: 500 },
    );
  });
});

describe('the flower shop, worked by hand (around-the-clock calendars, times in UTC)', () => {
  // Delivery promised to the customer at 16:00; the courier needs 1 h, the designer 2 h, the buyer 3 h.
  const node = (id: string, leadH: number, extra: Partial<ChainNode> = {}): ChainNode => ({
    id,
    finished: false,
    finishedAt: null,
    resolveBy: Date.parse('2026-12-01T23:00:00Z'),
    neededBy: null,
    externalDueAt: null,
    leadSeconds: leadH * H,
    workedSeconds: 0,
    paused: false,
    calendar: AROUND_THE_CLOCK,
    ...extra,
  });
  const links = [
    { requestId: 'bouquet', dependsOnId: 'roses' },
    { requestId: 'delivery', dependsOnId: 'bouquet' },
  ];

  it('at 09:00 with six hours of work before 16:00: an hour of slack everywhere, nothing at risk', () => {
    const plans = planChain(
      [node('roses', 3), node('bouquet', 2), node('delivery', 1, { externalDueAt: Date.parse('2026-12-01T16:00:00Z') })],
      links,
      Date.parse('2026-12-01T09:00:00Z'),
    );
    expect(new Date(plans.get('delivery')!.latestFinishAt!).toISOString()).toBe('2026-12-01T16:00:00.000Z');
    expect(new Date(plans.get('bouquet')!.latestFinishAt!).toISOString()).toBe('2026-12-01T15:00:00.000Z');
    expect(new Date(plans.get('roses')!.latestFinishAt!).toISOString()).toBe('2026-12-01T13:00:00.000Z');
    expect(new Date(plans.get('roses')!.projectedFinishAt).toISOString()).toBe('2026-12-01T12:00:00.000Z');
    expect(new Date(plans.get('delivery')!.projectedFinishAt).toISOString()).toBe('2026-12-01T15:00:00.000Z');
    expect([...plans.values()].map((p) => p.slackSeconds)).toEqual([3600, 3600, 3600]);
    expect([...plans.values()].some((p) => p.atRisk)).toBe(false);
    // The buyer is working: it slips only if still unfinished at its latest finish, 13:00.
    expect(new Date(plans.get('roses')!.crossesZeroAt!).toISOString()).toBe('2026-12-01T13:00:01.000Z');
  });

  it('at 10:30 with the roses not started (paused): the chain is at risk and the buyer is the bottleneck', () => {
    const plans = planChain(
      [node('roses', 3, { paused: true }), node('bouquet', 2), node('delivery', 1, { externalDueAt: Date.parse('2026-12-01T16:00:00Z') })],
      links,
      Date.parse('2026-12-01T10:30:00Z'),
    );
    expect(plans.get('roses')!.ownSlackSeconds).toBe(-1800);
    expect(plans.get('delivery')!.slackSeconds).toBe(-1800);
    expect(plans.get('delivery')!.atRisk).toBe(true);
    expect(plans.get('delivery')!.bottleneckRequestId).toBe('roses');
    expect(plans.get('bouquet')!.bottleneckRequestId).toBe('roses');
  });
});
