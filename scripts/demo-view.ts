// The demo's terminal view: a live timeline redrawn in place on a terminal (ANSI, alternate
// screen), or plain lines appended as things happen when stdout is not a terminal (CI, a pipe).
import type { ChainNodeView, ChainView } from './demo-api';

/** Story time: real seconds since the story began, scaled, from 09:00. */
export class StoryClock {
  static readonly START_MINUTE = 9 * 60;

  constructor(
    /** The real instant that is 09:00 in the story (a whole second, so Handoff's clock agrees). */
    readonly startMs: number,
    readonly msPerStoryMinute: number,
  ) {}

  minuteAt(ms: number): number {
    return StoryClock.START_MINUTE + (ms - this.startMs) / this.msPerStoryMinute;
  }
  at(storyMinute: number): number {
    return this.startMs + (storyMinute - StoryClock.START_MINUTE) * this.msPerStoryMinute;
  }
  /** HH:MM of a real instant. */
  label(ms: number): string {
    const minute = Math.round(this.minuteAt(ms));
    return `${String(Math.floor(minute / 60)).padStart(2, '0')}:${String(((minute % 60) + 60) % 60).padStart(2, '0')}`;
  }
  /** Real seconds since the story began: "+12.3s". */
  real(ms: number): string {
    const s = (ms - this.startMs) / 1000;
    return `${s < 0 ? '−' : '+'}${Math.abs(s).toFixed(1)}s`;
  }
  /** Real seconds of slack as story time: "+40 min", "−1 h 10 min". */
  slack(seconds: number | null): string {
    if (seconds === null) return '—';
    const minutes = Math.round((seconds * 1000) / this.msPerStoryMinute);
    return `${minutes < 0 ? '−' : '+'}${storyDuration(Math.abs(minutes))}`;
  }
  storyMinutes(seconds: number): number {
    return Math.round((seconds * 1000) / this.msPerStoryMinute);
  }
}

export const storyDuration = (minutes: number): string => {
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return h === 0 ? `${m} min` : m === 0 ? `${h} h` : `${h} h ${m} min`;
};

// --- text with colours -------------------------------------------------------------------------

// eslint-disable-next-line no-control-regex -- colour codes are what it matches
const ANSI = /\x1b\[[0-9;?]*[A-Za-z]/g;
const visible = (s: string) => s.replace(ANSI, '');
const widthOf = (s: string) => [...visible(s)].length;

/** Cut a line with colour codes to `width` visible characters. */
function fit(line: string, width: number): string {
  let out = '';
  let shown = 0;
  for (let i = 0; i < line.length; ) {
    if (line[i] === '\x1b') {
      // eslint-disable-next-line no-control-regex -- colour codes are what it matches
      const m = /^\x1b\[[0-9;?]*[A-Za-z]/.exec(line.slice(i));
      if (m) {
        out += m[0];
        i += m[0].length;
        continue;
      }
    }
    const ch = String.fromCodePoint(line.codePointAt(i)!);
    if (shown >= width) {
      i += ch.length;
      continue;
    }
    out += ch;
    shown++;
    i += ch.length;
  }
  return out;
}

const pad = (s: string, width: number) => s + ' '.repeat(Math.max(0, width - widthOf(s)));

type Paint = (s: string) => string;
interface Palette {
  bold: Paint;
  dim: Paint;
  red: Paint;
  green: Paint;
  yellow: Paint;
  cyan: Paint;
  magenta: Paint;
  blue: Paint;
  inverseRed: Paint;
  inverseGreen: Paint;
}
function palette(on: boolean): Palette {
  const p = (code: string): Paint => (s) => (on && s ? `\x1b[${code}m${s}\x1b[0m` : s);
  return {
    bold: p('1'),
    dim: p('2'),
    red: p('31'),
    green: p('32'),
    yellow: p('33'),
    cyan: p('36'),
    magenta: p('35'),
    blue: p('34'),
    inverseRed: p('1;97;41'),
    inverseGreen: p('1;30;42'),
  };
}

// --- what is shown -----------------------------------------------------------------------------

export type LogKind = 'handoff' | 'move' | 'pause' | 'done' | 'chain' | 'risk' | 'recover' | 'escalation' | 'breach' | 'note';

interface LogLine {
  at: number;
  kind: LogKind;
  tag: string;
  text: string;
}

export interface ShownMail {
  at: number;
  kind: string;
  to: string;
  subject: string;
  /** What it says, in a line. */
  gist: string;
}

export interface HopSpec {
  key: string;
  label: string;
  department: string;
}

/** What a hop was doing, per story column, as the demo watched it. */
type Doing = 'work' | 'paused' | 'blocked';

interface Hop extends HopSpec {
  id: string | null;
  node: ChainNodeView | null;
  history: Map<number, Doing>;
  finishedAt: number | null;
}

const STATUS_TEXT: Record<string, string> = {
  open: 'open',
  acknowledged: 'acknowledged',
  in_progress: 'in progress',
  waiting_on_customer: 'waiting on customer',
  resolved: 'resolved',
  closed: 'closed',
  cancelled: 'cancelled',
};

const FIRST_HOUR = 9;
const LAST_HOUR = 17;

export interface ViewOptions {
  plain: boolean;
  color: boolean;
  clock: StoryClock;
  title: string;
  subtitle: string;
  promiseMs: number;
  mailNote: string;
}

export class TimelineView {
  private readonly c: Palette;
  private readonly hops: Hop[];
  private readonly lines: LogLine[] = [];
  private readonly mails: ShownMail[] = [];
  private chain: ChainView | null = null;
  private atRiskSince: number | null = null;
  private flaggedAt: number | null = null;
  private timer: NodeJS.Timeout | null = null;
  private onScreen = false;
  private lastPlainTable = '';
  private lastPlainKey = '';
  private started = false;
  private footer: string[] = [];

  constructor(
    private readonly o: ViewOptions,
    hops: HopSpec[],
  ) {
    this.c = palette(o.color);
    this.hops = hops.map((h) => ({ ...h, id: null, node: null, history: new Map(), finishedAt: null }));
  }

  /** Setup lines before the story begins: printed as they come in both modes. */
  setup(text: string): void {
    process.stdout.write(`${this.c.dim('  setup ')} ${text}\n`);
  }

  begin(): void {
    this.started = true;
    if (this.o.plain) {
      process.stdout.write(`\n${this.o.title}\n${this.o.subtitle}\n\n`);
      return;
    }
    process.stdout.write('\x1b[?1049h\x1b[?25l'); // alternate screen, no cursor
    this.onScreen = true;
    this.timer = setInterval(() => this.draw(), 100);
    process.stdout.on('resize', this.redraw);
    this.draw();
  }

  private readonly redraw = () => this.draw();

  /** Leaves the live screen and prints the final frame where it stays (scrollback, logs). */
  end(footer: string[]): void {
    this.footer = footer;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.onScreen) {
      process.stdout.removeListener('resize', this.redraw);
      process.stdout.write('\x1b[?25h\x1b[?1049l');
      this.onScreen = false;
      const width = Math.max(60, process.stdout.columns ?? 120);
      process.stdout.write(this.frame(width, Number.MAX_SAFE_INTEGER, Date.now()).map((l) => fit(l, width)).join('\n') + '\n');
    } else if (this.started) {
      process.stdout.write(['', ...footer, ''].join('\n'));
    } else {
      process.stdout.write(footer.join('\n') + '\n');
    }
  }

  /** Restores the terminal if the process must leave in a hurry. */
  restoreTerminal(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.onScreen) process.stdout.write('\x1b[?25h\x1b[?1049l');
    this.onScreen = false;
  }

  setHopId(key: string, id: string): void {
    this.hops.find((h) => h.key === key)!.id = id;
  }

  log(at: number, kind: LogKind, tag: string, text: string): void {
    const line = { at, kind, tag, text };
    this.lines.push(line);
    if (this.o.plain && this.started) process.stdout.write(this.logLine(line, Number.MAX_SAFE_INTEGER) + '\n');
  }

  mail(mail: ShownMail): void {
    this.mails.push(mail);
    if (this.o.plain && this.started) process.stdout.write(this.mailLines(mail, Number.MAX_SAFE_INTEGER).join('\n') + '\n');
  }

  /** Handoff recorded a chain_at_risk escalation at this instant: the episode began then. */
  flagged(at: number): void {
    this.flaggedAt = at;
  }

  /** The chain as Handoff reports it now. */
  update(chain: ChainView, now: number): void {
    this.chain = chain;
    if (chain.atRisk && this.atRiskSince === null) this.atRiskSince = this.flaggedAt !== null && this.flaggedAt <= now && now - this.flaggedAt < 5000 ? this.flaggedAt : now;
    if (chain.atRisk && this.flaggedAt !== null && this.atRiskSince !== null && this.flaggedAt < this.atRiskSince && this.atRiskSince - this.flaggedAt < 5000) this.atRiskSince = this.flaggedAt;
    if (!chain.atRisk) this.atRiskSince = null;
    for (const hop of this.hops) {
      hop.node = chain.nodes.find((n) => n.id === hop.id) ?? hop.node;
      if (!hop.node) continue;
      const finished = ['resolved', 'closed', 'cancelled'].includes(hop.node.status);
      if (finished) {
        hop.finishedAt ??= now;
        continue;
      }
      const doing: Doing = hop.node.status === 'waiting_on_customer' ? 'paused' : hop.node.blocked ? 'blocked' : 'work';
      const column = this.columnAt(now, 1);
      if (column !== null) hop.history.set(column, doing);
    }
    if (this.o.plain && this.started) {
      const table = this.plainTable();
      if (table !== this.lastPlainTable) {
        this.lastPlainTable = table;
        process.stdout.write(table);
      }
    }
  }

  // --- drawing ---------------------------------------------------------------------------------

  private draw(): void {
    if (!this.onScreen) return;
    const width = process.stdout.columns ?? 120;
    const height = process.stdout.rows ?? 40;
    const frame = this.frame(width, height - 1, Date.now()).slice(0, height - 1);
    process.stdout.write('\x1b[H' + frame.map((l) => fit(l, width - 1) + '\x1b[K').join('\n') + '\x1b[J');
  }

  /** Minutes of story per Gantt column, and how many columns, for a width. */
  private gantt(width: number): { perColumn: number; columns: number } | null {
    const room = width - TABLE_WIDTH - 2;
    const hours = LAST_HOUR - FIRST_HOUR;
    const perHour = Math.min(12, Math.floor(room / hours));
    if (perHour < 2) return null;
    // Whole minutes per column, so hour marks land on columns.
    const options = [5, 6, 10, 12, 15, 20, 30];
    const perColumn = options.find((m) => 60 / m <= perHour) ?? 30;
    return { perColumn, columns: (hours * 60) / perColumn };
  }

  private columnAt(ms: number, perColumnOverride?: number): number | null {
    const perColumn = perColumnOverride ?? this.gantt(process.stdout.columns ?? 120)?.perColumn ?? 10;
    const minute = this.o.clock.minuteAt(ms) - FIRST_HOUR * 60;
    if (minute < 0) return null;
    return Math.floor(minute / perColumn);
  }

  private frame(width: number, height: number, now: number): string[] {
    const { c, o } = this;
    const out: string[] = [];
    const storyNow = this.started ? o.clock.label(now) : '--:--';
    const left = ` ${c.bold(c.magenta('Handoff'))} ${c.dim('·')} ${c.bold(o.title)}`;
    let right = `story ${c.bold(storyNow)}   real ${o.clock.real(now)}   ${c.dim(`1 real s = ${storyDuration(Math.round(1000 / o.clock.msPerStoryMinute))} of story`)}`;
    if (widthOf(left) + widthOf(right) + 4 > width) right = `story ${c.bold(storyNow)}  ${c.dim(o.clock.real(now))}`;
    out.push(pad(left, Math.max(widthOf(left) + 2, width - widthOf(right) - 2)) + right);
    out.push(` ${o.subtitle}`);
    out.push(c.dim(' ' + '─'.repeat(Math.max(10, width - 2))));

    const g = this.gantt(width);
    const head = ` ${pad('HOP', 10)}${pad('PROVIDER', 12)}${pad('STATUS', 24)}${pad('PROJECTED', 11)}${pad('LATEST', 8)}${pad('SLACK', 13)}`;
    out.push(c.dim(head) + (g ? '  ' + this.ruler(g) : ''));
    for (const hop of this.hops) out.push(this.hopRow(hop, g, now));
    if (g) out.push(' '.repeat(TABLE_WIDTH + 2) + this.markers(g, now));
    out.push('');
    out.push(this.chainLine(now));
    out.push('');

    // The log takes what room is left; mail always shows.
    const mailLines = [` ${c.bold('MAIL')}  ${c.dim(o.mailNote)}`, ...(this.mails.length ? this.mails.flatMap((m) => this.mailLines(m, width)) : [c.dim('   (none yet)')])];
    const legend = g
      ? [``, c.dim(` ${c.cyan('█')} working   ${c.yellow('░')} waiting on customer   · blocked on the hop above   ${c.green('▒')}${c.red('▒')} projected (on time / late)   ┃ latest finish   ◆ promise   ▲ now`)]
      : [];
    const footer = this.footer.length ? ['', ...this.footer] : [];
    const room = height - out.length - mailLines.length - legend.length - footer.length - 2;
    // Handoff's own entries carry its timestamps, which may precede when the demo saw them.
    const shown = [...this.lines].sort((a, b) => a.at - b.at).slice(-Math.max(3, room));
    out.push(` ${c.bold('HAND-OFFS AND ESCALATIONS')}${shown.length < this.lines.length ? c.dim(`  (${this.lines.length - shown.length} earlier not shown)`) : ''}`);
    for (const line of shown) out.push(this.logLine(line, width));
    out.push('');
    out.push(...mailLines, ...legend, ...footer);
    return out;
  }

  private ruler(g: { perColumn: number; columns: number }): string {
    const cells = Array.from({ length: g.columns }, () => ' ');
    const perHour = 60 / g.perColumn;
    for (let h = FIRST_HOUR; h < LAST_HOUR; h++) {
      const col = (h - FIRST_HOUR) * perHour;
      const label = String(h).padStart(2, '0');
      if (perHour >= 3) [...label].forEach((ch, i) => (cells[col + i] = ch));
      else if ((h - FIRST_HOUR) % 2 === 0) [...label].forEach((ch, i) => col + i < g.columns && (cells[col + i] = ch));
    }
    return this.c.dim(cells.join(''));
  }

  private markers(g: { perColumn: number; columns: number }, now: number): string {
    const cells = Array.from({ length: g.columns + 1 }, () => ' ');
    const promise = this.columnAt(this.o.promiseMs, g.perColumn);
    const nowCol = this.started ? this.columnAt(now, g.perColumn) : null;
    let line = '';
    for (let i = 0; i < cells.length; i++) {
      if (i === nowCol) line += this.c.bold('▲');
      else if (i === promise) line += this.c.bold(this.c.magenta('◆'));
      else line += this.c.dim(i % (60 / g.perColumn) === 0 ? '╵' : ' ');
    }
    return line + this.c.dim(` ${this.o.clock.label(this.o.promiseMs)} promise`);
  }

  private hopRow(hop: Hop, g: { perColumn: number; columns: number } | null, now: number): string {
    const { c, o } = this;
    const n = hop.node;
    const slack = n?.slackSeconds ?? null;
    const finished = n ? ['resolved', 'closed', 'cancelled'].includes(n.status) : false;
    const bottleneck = this.chain?.atRisk && n && this.chain.nodes.some((x) => x.bottleneckRequestId === n.id);
    let status = n ? (STATUS_TEXT[n.status] ?? n.status) : 'not raised yet';
    if (n?.blocked && !finished) status += ', blocked';
    const statusCell = !n ? c.dim(pad(status, 24)) : finished ? c.green(pad(`✔ ${status}`, 24)) : n.status === 'waiting_on_customer' ? c.yellow(pad(status, 24)) : pad(status, 24);
    const projected = n?.projectedFinishAt ? o.clock.label(Date.parse(n.projectedFinishAt)) : '—';
    const latest = n?.latestFinishAt ? o.clock.label(Date.parse(n.latestFinishAt)) : '—';
    const slackText = finished ? '' : o.clock.slack(slack);
    const slackCell = slack === null || finished ? pad(slackText, 13) : slack < 0 ? c.bold(c.red(pad(slackText, 13))) : c.green(pad(slackText, 13));
    const projCell = finished ? c.green(pad(projected, 11)) : slack !== null && slack < 0 ? c.red(pad(projected, 11)) : pad(projected, 11);
    const row = ` ${c.bold(pad(hop.label, 10))}${pad(hop.department, 12)}${statusCell}${projCell}${pad(finished ? '' : latest, 8)}${slackCell}`;
    const mark = bottleneck ? c.inverseRed('◀ bottleneck') : '';
    if (!g) return row + mark;
    return row + '  ' + this.bar(hop, g, now) + (mark ? ' ' + mark : '');
  }

  /** One hop across the day: what it did (as watched), what Handoff projects, its latest finish. */
  private bar(hop: Hop, g: { perColumn: number; columns: number }, now: number): string {
    const { c } = this;
    const n = hop.node;
    const col = (ms: number) => this.columnAt(ms, g.perColumn) ?? 0;
    const nowCol = this.started ? col(now) : -1;
    // History is recorded at the finest grain (1 story minute); a column shows what filled most of it.
    const cells: string[] = [];
    const finished = n ? ['resolved', 'closed', 'cancelled'].includes(n.status) : false;
    const late = (n?.slackSeconds ?? 0) < 0;
    const projectedCol = n?.projectedFinishAt && !finished ? col(Date.parse(n.projectedFinishAt)) : null;
    const latestCol = n?.latestFinishAt && !finished ? col(Date.parse(n.latestFinishAt)) : null;
    const upstream = n && this.chain ? this.chain.links.filter((l) => l.requestId === n.id).map((l) => this.chain!.nodes.find((x) => x.id === l.dependsOnId)) : [];
    const startMs = Math.max(now, ...upstream.filter((u) => u && !['resolved', 'closed', 'cancelled'].includes(u.status)).map((u) => Date.parse(u!.projectedFinishAt ?? '0')));
    const startCol = col(startMs);
    for (let i = 0; i < g.columns; i++) {
      let cell = ' ';
      if (i < nowCol || (i === nowCol && finished)) {
        const counts = new Map<Doing, number>();
        for (let m = i * g.perColumn; m < (i + 1) * g.perColumn; m++) {
          const d = hop.history.get(m);
          if (d) counts.set(d, (counts.get(d) ?? 0) + 1);
        }
        const top = [...counts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
        cell = top === 'work' ? c.cyan('█') : top === 'paused' ? c.yellow('░') : top === 'blocked' ? c.dim('·') : ' ';
        if (hop.finishedAt !== null && i === col(hop.finishedAt)) cell = c.green('✔');
      } else if (n && !finished && projectedCol !== null) {
        const isLatest = i === latestCol;
        if (i < startCol) cell = c.dim('·');
        else if (i < projectedCol || (i === projectedCol && projectedCol === startCol)) cell = late && (latestCol === null || i >= latestCol) ? c.red('▒') : c.green('▒'); // green up to the latest finish, red beyond
        if (isLatest) cell = late ? c.bold(c.red('┃')) : c.bold('┃');
      }
      cells.push(cell);
    }
    return cells.join('');
  }

  private chainLine(now: number): string {
    const { c, o } = this;
    const chain = this.chain;
    if (!chain) return ` ${c.bold('CHAIN')}  ${c.dim('not started yet')}`;
    const open = chain.nodes.filter((n) => !['resolved', 'closed', 'cancelled'].includes(n.status));
    if (open.length === 0) {
      const last = this.hops[this.hops.length - 1];
      const done = last.finishedAt ?? now;
      return ` ${c.bold('CHAIN')}  ${c.inverseGreen(' ✔ DONE ')}  ${c.green(`the customer was served at ${o.clock.label(Date.parse(last.node?.projectedFinishAt ?? new Date(done).toISOString()))}, promise ${o.clock.label(o.promiseMs)}`)}`;
    }
    const slack = o.clock.slack(chain.slackSeconds);
    if (chain.atRisk) {
      const b = chain.nodes.find((n) => n.id === chain.bottleneckRequestId);
      const hop = this.hops.find((h) => h.id === b?.id);
      const since = this.atRiskSince !== null ? ` since ${o.clock.label(this.atRiskSince)}` : '';
      return ` ${c.bold('CHAIN')}  ${c.inverseRed(' ● AT RISK ')}  ${c.red(`slack ${slack}${since}`)}${hop ? `  ·  held up by ${c.bold(hop.label)} at ${c.bold(hop.department)}` : ''}`;
    }
    return ` ${c.bold('CHAIN')}  ${c.inverseGreen(' ● ON TRACK ')}  ${c.green(`slack ${slack}`)}`;
  }

  private logLine(line: LogLine, width: number): string {
    const { c, o } = this;
    const tagColour: Record<LogKind, Paint> = {
      handoff: c.cyan,
      move: (s) => s,
      pause: c.yellow,
      done: c.green,
      chain: c.dim,
      risk: (s) => c.bold(c.red(s)),
      recover: c.green,
      escalation: (s) => c.bold(c.magenta(s)),
      breach: (s) => c.bold(c.red(s)),
      note: c.dim,
    };
    const text = line.kind === 'risk' ? c.red(line.text) : line.kind === 'note' ? c.dim(line.text) : line.text;
    const s = ` ${c.bold(o.clock.label(line.at))} ${c.dim(pad(o.clock.real(line.at), 7))} ${tagColour[line.kind](pad(line.tag, 22))} ${text}`;
    return width === Number.MAX_SAFE_INTEGER ? s : fit(s, width - 1);
  }

  private mailLines(m: ShownMail, width: number): string[] {
    const { c, o } = this;
    const kind = m.kind.includes('breach') ? c.bold(c.red(pad(m.kind, 14))) : m.kind === 'chain_at_risk' ? c.bold(c.magenta(pad(m.kind, 14))) : c.yellow(pad(m.kind, 14));
    // Request ids in subjects are long; eight characters tell them apart here.
    const subject = m.subject.replace(/\(([0-9a-f]{8})-[0-9a-f-]{27}\)/gi, '($1…)');
    const lines = [` ${c.bold(o.clock.label(m.at))} ${c.dim(pad(o.clock.real(m.at), 7))} ${c.bold('✉')} ${kind} to ${c.bold(m.to)}`, `${' '.repeat(15)}${c.dim('│')} ${subject}`];
    if (m.gist) lines.push(`${' '.repeat(15)}${c.dim('│')} ${c.dim(m.gist)}`);
    return width === Number.MAX_SAFE_INTEGER ? lines : lines.map((l) => fit(l, width - 1));
  }

  /** The hops' figures, printed when they change (not on every move: the story lines say those). */
  private plainTable(): string {
    const { o } = this;
    const hops = this.hops.filter((h) => h.node);
    const open = hops.filter((h) => !['resolved', 'closed', 'cancelled'].includes(h.node!.status));
    if (open.some((h) => !h.node!.projectedFinishAt)) return this.lastPlainTable; // a hop just raised, not yet planned
    const key = hops.map((h) => `${h.node!.status === 'closed' ? 'resolved' : h.node!.status}|${h.node!.projectedFinishAt}|${h.node!.latestFinishAt}|${h.node!.slackSeconds}`).join(';');
    if (key === this.lastPlainKey) return this.lastPlainTable;
    this.lastPlainKey = key;
    const chain = this.chain!;
    const rows = hops.map((h) => {
      const n = h.node!;
      const finished = !open.includes(h);
      const figures = finished
        ? `finished ${n.projectedFinishAt ? o.clock.label(Date.parse(n.projectedFinishAt)) : ''}`
        : `projected ${o.clock.label(Date.parse(n.projectedFinishAt!))}  latest ${n.latestFinishAt ? o.clock.label(Date.parse(n.latestFinishAt)) : '—'}  slack ${o.clock.slack(n.slackSeconds)}`;
      const mark = chain.atRisk && chain.bottleneckRequestId === n.id ? '  <- bottleneck' : '';
      return `${' '.repeat(15)}|   ${pad(h.label, 9)}${pad(h.department, 12)}${figures}${mark}`;
    });
    const state = open.length === 0 ? 'done' : chain.atRisk ? `AT RISK, slack ${o.clock.slack(chain.slackSeconds)}` : `on track, slack ${o.clock.slack(chain.slackSeconds)}`;
    return [`${' '.repeat(15)}| chain ${state}`, ...rows].join('\n') + '\n';
  }
}

const TABLE_WIDTH = 1 + 10 + 12 + 24 + 11 + 8 + 13;
