// Deadline computations per second: BusinessCalendar.addBusinessSeconds against the minute-stepping
// reference, on random starts over two years and targets up to 30 business days of 8 hours.
import { BusinessCalendar, CalendarDefinition } from '../src/business-time';
import { refAddBusinessSeconds } from '../test/support/reference-business-time';

const COMMAND = 'npm run bench:business-time   (= npm run build && node dist/bench/business-time.bench.js)';
const TARGET_PER_SECOND = 200_000;
const COLD_ITERATIONS = 20_000;
const WARMUP_ITERATIONS = 200_000;
const FAST_ITERATIONS = 2_000_000;
const REFERENCE_ITERATIONS = 12;
const MINUTE_MS = 60_000;
const RANGE_START = Date.UTC(2025, 0, 1);
const RANGE_END = Date.UTC(2027, 0, 1);
const MAX_TARGET_SECONDS = 30 * 8 * 3600;

const WORKDAYS = [1, 2, 3, 4, 5];
const amsterdam: CalendarDefinition = {
  timezone: 'Europe/Amsterdam',
  weeklyHours: WORKDAYS.flatMap((weekday) => [
    { weekday, start: '08:00', end: '12:00' },
    { weekday, start: '13:00', end: '17:00' },
  ]),
  holidays: [
    ...[
      '2025-01-01', '2025-04-18', '2025-04-21', '2025-05-05', '2025-05-29', '2025-06-09', '2025-12-25', '2025-12-26',
      '2026-01-01', '2026-04-03', '2026-04-06', '2026-04-27', '2026-05-14', '2026-05-25', '2026-12-25',
    ].map((date) => ({ date })),
    { date: '2025-12-24', start: '13:00', end: '17:00' },
  ],
};
const chatham: CalendarDefinition = {
  timezone: 'Pacific/Chatham',
  weeklyHours: WORKDAYS.map((weekday) => ({ weekday, start: '09:00', end: '17:00' })),
  holidays: [{ date: '2025-12-25' }, { date: '2026-01-01' }],
};
const definitions = [amsterdam, chatham];

/** Small seeded generator so every run measures the same inputs. */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Job {
  calendar: number;
  start: number;
  seconds: number;
}

function makeJobs(count: number, seed: number): Job[] {
  const random = mulberry32(seed);
  const minutes = (RANGE_END - RANGE_START) / MINUTE_MS;
  return Array.from({ length: count }, () => ({
    calendar: random() < 0.5 ? 0 : 1,
    start: RANGE_START + Math.floor(random() * minutes) * MINUTE_MS,
    seconds: Math.floor(random() * (MAX_TARGET_SECONDS / 60 + 1)) * 60,
  }));
}

function measureFast(calendars: BusinessCalendar[], jobs: Job[], iterations: number): { rate: number; checksum: number } {
  let checksum = 0;
  const began = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) {
    const job = jobs[i % jobs.length];
    checksum += calendars[job.calendar].addBusinessSeconds(job.start, job.seconds) % 1_000_003;
  }
  const seconds = Number(process.hrtime.bigint() - began) / 1e9;
  return { rate: iterations / seconds, checksum };
}

function main(): void {
  console.log(`command: ${COMMAND}`);
  console.log(`node ${process.version}, ${FAST_ITERATIONS} fast / ${REFERENCE_ITERATIONS} reference deadline computations`);

  const jobs = makeJobs(100_000, 20250101);
  // The first computations pay for filling the day caches (Luxon offset look-ups); report them apart.
  const calendars = definitions.map((def) => BusinessCalendar.compile(def));
  const cold = measureFast(calendars, jobs, COLD_ITERATIONS);
  measureFast(calendars, jobs, WARMUP_ITERATIONS);

  const fast = measureFast(calendars, jobs, FAST_ITERATIONS);

  const referenceJobs = makeJobs(REFERENCE_ITERATIONS, 7);
  let agreements = 0;
  const referenceBegan = process.hrtime.bigint();
  const referenceResults = referenceJobs.map((job) => refAddBusinessSeconds(definitions[job.calendar], job.start, job.seconds));
  const referenceSeconds = Number(process.hrtime.bigint() - referenceBegan) / 1e9;
  referenceJobs.forEach((job, i) => {
    if (calendars[job.calendar].addBusinessSeconds(job.start, job.seconds) === referenceResults[i]) agreements++;
  });
  const referenceRate = REFERENCE_ITERATIONS / referenceSeconds;

  const verdict = fast.rate >= TARGET_PER_SECOND && agreements === REFERENCE_ITERATIONS ? 'PASS' : 'FAIL';
  const rows: Array<[string, string]> = [
    ['fast (BusinessCalendar, warm), per second', Math.round(fast.rate).toLocaleString('en-US')],
    ['reference (minute stepping), per second', referenceRate.toFixed(2)],
    ['ratio fast / reference', `${Math.round(fast.rate / referenceRate).toLocaleString('en-US')}x`],
    [`first ${COLD_ITERATIONS.toLocaleString('en-US')} after compile (cold caches), per second`, Math.round(cold.rate).toLocaleString('en-US')],
    ['fast agrees with reference', `${agreements}/${REFERENCE_ITERATIONS}`],
    [`target >= ${TARGET_PER_SECOND.toLocaleString('en-US')}/s`, verdict],
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  console.log('');
  for (const [label, value] of rows) console.log(`${label.padEnd(width)}  ${value}`);
  console.log(`(checksum ${fast.checksum})`);
  if (verdict === 'FAIL') process.exitCode = 1;
}

main();
