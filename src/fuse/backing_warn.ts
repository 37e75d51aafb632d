// Warnings about served files that cannot be served (backing file changed,
// missing or unreadable), bounded so that a walk over a library of broken
// files cannot flood the log: each backing path is named at most once per
// `perPathMs`, and at most `limit` paths are named per `windowMs`; what the
// cap held back is counted and reported in one "N more … suppressed" line
// when the window ends (or when the mount stops, whichever comes first).

import type { ServerLog } from "./log.ts";

export interface BackingWarnOptions {
  /** Name the same path again only after this long. */
  perPathMs?: number;
  /** Paths named per window; later ones are counted, shown at debug level. */
  limit?: number;
  windowMs?: number;
  now?: () => number;
}

export class BackingWarnings {
  private readonly perPathMs: number;
  private readonly limit: number;
  private readonly windowMs: number;
  private readonly now: () => number;
  /** Path → when it was last named; insertion order is age order (re-naming re-inserts). */
  private readonly named = new Map<string, number>();
  private windowStart = -Infinity;
  private inWindow = 0;
  private suppressed = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly log: ServerLog, options: BackingWarnOptions = {}) {
    this.perPathMs = options.perPathMs ?? 60_000;
    this.limit = options.limit ?? 10;
    this.windowMs = options.windowMs ?? 60_000;
    this.now = options.now ?? Date.now;
  }

  /** `message` names `path` and why it cannot be served. */
  warn(path: string, message: string): void {
    const t = this.now();
    if (t - this.windowStart >= this.windowMs) {
      this.flush();
      this.windowStart = t;
    }
    for (const [p, at] of this.named) {
      if (t - at < this.perPathMs) break;
      this.named.delete(p);
    }
    if (this.named.has(path)) {
      this.log.debug(message); // named recently: the warning stands
      return;
    }
    if (this.inWindow >= this.limit) {
      this.suppressed++;
      this.log.debug(message);
      this.scheduleFlush(t);
      return;
    }
    this.inWindow++;
    this.named.set(path, t);
    this.log.warn(message);
  }

  /** Report what the cap held back (the window ended, or the mount is stopping). */
  flush(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.suppressed > 0) {
      const per = this.windowMs % 1000 === 0 ? `${this.windowMs / 1000} s` : `${this.windowMs} ms`;
      this.log.warn(
        `${this.suppressed} more file(s) that cannot be served: warnings suppressed ` +
          `(at most ${this.limit} per ${per}; -vv shows each)`,
      );
    }
    this.suppressed = 0;
    this.inWindow = 0;
  }

  private scheduleFlush(t: number): void {
    if (this.timer !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush();
      this.windowStart = -Infinity;
    }, Math.max(0, this.windowStart + this.windowMs - t));
    // Never keep the process alive just to report a count.
    Deno.unrefTimer(this.timer as unknown as number);
  }
}
