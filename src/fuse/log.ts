// How the server logs: the interface it needs (the CLI's logger satisfies it
// structurally), a silent default, and the rate-limited warning that keeps a
// failing mount from flooding the log.

/** The logging the server needs; the CLI's logger satisfies it structurally. */
export interface ServerLog {
  error(message: string): void;
  warn(message: string): void;
  info(message: string): void;
  debug(message: string): void;
}

export const silentLog: ServerLog = {
  error() {},
  warn() {},
  info() {},
  debug() {},
};

/**
 * Warnings about failed requests: at most `limit` per `windowMs`, the rest at
 * debug level, with the suppressed count reported when the next window opens.
 */
export class RateLimitedWarn {
  private windowStart = 0;
  private inWindow = 0;
  private suppressed = 0;

  constructor(
    private readonly log: ServerLog,
    private readonly limit = 10,
    private readonly windowMs = 30_000,
    private readonly now: () => number = Date.now,
  ) {}

  warn(message: string): void {
    const t = this.now();
    if (t - this.windowStart >= this.windowMs) {
      if (this.suppressed > 0) {
        this.log.warn(`${this.suppressed} similar warning(s) suppressed in the last window`);
      }
      this.windowStart = t;
      this.inWindow = 0;
      this.suppressed = 0;
    }
    if (this.inWindow < this.limit) {
      this.inWindow++;
      this.log.warn(message);
    } else {
      this.suppressed++;
      this.log.debug(message);
    }
  }
}
