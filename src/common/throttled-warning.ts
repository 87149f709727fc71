/**
 * A warning written at most once per interval while its cause lasts (SMTP down, Redis slow): what
 * happens in between is counted into the next line instead of flooding the log with one per event.
 */
export class ThrottledWarning {
  private count = 0;
  private last = '';
  private loggedAt = 0;

  constructor(
    private readonly logger: { warn(message: string): void },
    private readonly intervalMs: number,
    /** The line: how many occurrences since the last line, and the latest one's detail. */
    private readonly line: (count: number, lastDetail: string) => string,
  ) {}

  note(occurrences: number, detail: string): void {
    this.count += occurrences;
    this.last = detail;
    const now = Date.now();
    if (now - this.loggedAt < this.intervalMs) return;
    this.logger.warn(this.line(this.count, this.last));
    this.count = 0;
    this.last = '';
    this.loggedAt = now;
  }
}
