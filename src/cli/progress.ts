// Progress of scan and revalidate on stderr. On a terminal: a spinner
// while the walk discovers files (with the count committed and the rate once
// commits arrive — scan probes while it walks), then, once the walk is over
// and the total known, a live bar with count, percent, rate, ETA and the file
// last committed (relative to the scan target), redrawn at most every 100 ms
// and cleared at the end; log lines printed meanwhile clear the bar first.
// Elsewhere (a log file, a pipe, journald): `discovering… <n> files found`
// every few seconds while the walk runs, so a long walk shows signs of life;
// then `ingested <done>/<total> (<pct>%)` lines, one per 5% bucket crossed
// and one at completion, repeated every few seconds when no bucket is
// crossed. Nothing at all with --quiet.

import { humanDuration } from "./human.ts";
import { setLogSink } from "./log.ts";

export interface ProgressOptions {
  quiet: boolean;
  /** Draw the live bar (default: stderr is a terminal). */
  tty?: boolean;
  /** Where text goes (default: stderr, written whole). */
  write?: (text: string) => void;
  now?: () => number;
  /** Terminal width (default: the console's, else 100). */
  columns?: () => number;
  /** The scan target: the terminal bar shows the current file relative to it. */
  root?: string;
  /** Plain mode: the longest silence before a status line (default 5 s; 0 = never). */
  heartbeatMs?: number;
}

export interface Progress {
  discovered(found: number): void;
  walked(total: number): void;
  /** `total` is null while the walk still runs. */
  committed(done: number, total: number | null, lastPath: string): void;
  /** Print the final state (plain mode) or clear the bar (terminal); restore logging. */
  finish(): void;
}

const SPINNER = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
const BAR_WIDTH = 30;
const REDRAW_MS = 100;
const TICK_MS = 120;
/** Plain mode: at most this long without a line while work goes on. */
export const HEARTBEAT_MS = 5000;

const encoder = new TextEncoder();

function writeStderr(text: string): void {
  const bytes = encoder.encode(text);
  let off = 0;
  try {
    while (off < bytes.length) off += Deno.stderr.writeSync(bytes.subarray(off));
  } catch (e) {
    // Nobody reads stderr any more: nothing left to tell.
    if (!(e instanceof Deno.errors.BrokenPipe)) throw e;
  }
}

function consoleColumns(): number {
  try {
    return Deno.consoleSize().columns;
  } catch {
    return 100;
  }
}

const silent: Progress = {
  discovered() {},
  walked() {},
  committed() {},
  finish() {},
};

export function createProgress(options: ProgressOptions): Progress {
  if (options.quiet) return silent;
  const write = options.write ?? writeStderr;
  const tty = options.tty ?? Deno.stderr.isTerminal();
  const now = options.now ?? Date.now;
  return tty
    ? new BarProgress(write, now, options.columns ?? consoleColumns, options.root)
    : new LineProgress(write, { now, intervalMs: options.heartbeatMs ?? HEARTBEAT_MS });
}

/**
 * `ingested <done>/<total> (<pct>%)` each time a 5% bucket is crossed, and at
 * 100%; with a heartbeat, a status line whenever `intervalMs` passed without
 * one (`discovering… <n> files found` during the walk).
 */
export class LineProgress implements Progress {
  #bucket = 0;
  #total = 0;
  #done = 0;
  #found = 0;
  #walking = true;
  #printedDone = false;
  #lastWrite: number;
  #timer: ReturnType<typeof setInterval> | undefined;
  readonly #now: () => number;
  readonly #intervalMs: number;

  constructor(
    readonly write: (text: string) => void,
    heartbeat: { now?: () => number; intervalMs?: number } = {},
  ) {
    this.#now = heartbeat.now ?? Date.now;
    this.#intervalMs = heartbeat.intervalMs ?? 0;
    this.#lastWrite = this.#now();
    if (this.#intervalMs > 0) {
      // Checked a few times per interval, so the gap stays close to intervalMs.
      const timer = setInterval(() => this.tick(), Math.max(10, this.#intervalMs / 4));
      Deno.unrefTimer(timer as unknown as number);
      this.#timer = timer;
    }
  }

  discovered(found: number): void {
    this.#found = found;
  }

  walked(total: number): void {
    this.#walking = false;
    this.#total = total;
  }

  committed(done: number, total: number | null): void {
    this.#done = done;
    if (total === null) return; // no percentage before the walk ends
    this.#total = total;
    if (total === 0) return;
    const pct = Math.floor((done * 100) / total);
    const bucket = Math.floor(pct / 5);
    if (bucket > this.#bucket) {
      this.#bucket = bucket;
      this.#emit(`ingested ${done}/${total} (${pct}%)\n`);
      if (done >= total) this.#printedDone = true;
    }
  }

  /** The heartbeat: a status line if `intervalMs` passed since the last line (public for tests). */
  tick(): void {
    if (this.#intervalMs <= 0 || this.#printedDone) return;
    if (this.#now() - this.#lastWrite < this.#intervalMs) return;
    if (this.#walking) {
      const done = this.#done > 0 ? `, ${this.#done} done` : "";
      this.#emit(`discovering… ${this.#found} files found${done}\n`);
    } else if (this.#total > 0 && this.#done < this.#total) {
      const pct = Math.floor((this.#done * 100) / this.#total);
      this.#emit(`ingested ${this.#done}/${this.#total} (${pct}%)\n`);
    }
  }

  finish(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    if (this.#total > 0 && this.#done >= this.#total && !this.#printedDone) {
      this.write(`ingested ${this.#done}/${this.#total} (100%)\n`);
    }
    this.#printedDone = true;
  }

  #emit(text: string): void {
    this.#lastWrite = this.#now();
    this.write(text);
  }
}

function clock(ms: number): string {
  const s = Math.floor(ms / 1000);
  const two = (n: number) => String(n).padStart(2, "0");
  return `${two(Math.floor(s / 3600))}:${two(Math.floor(s / 60) % 60)}:${two(s % 60)}`;
}

function basename(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

/**
 * `path` as the bar shows it: relative to the scan target `root` (a
 * directory), so the album folder stays visible; the file name alone when
 * the target is the file itself, and the whole path when it lies elsewhere
 * (a followed symlink).
 */
export function displayPath(path: string, root: string | undefined): string {
  if (root === undefined || root === "") return basename(path);
  const prefix = root.endsWith("/") ? root : `${root}/`;
  if (path.startsWith(prefix)) return path.slice(prefix.length);
  return path === root ? basename(path) : path;
}

/** The live terminal bar. */
export class BarProgress implements Progress {
  readonly #started: number;
  #frame = 0;
  #found = 0;
  #total: number | null = null;
  #done = 0;
  #name = "";
  #lastDraw = 0;
  #drawn = false;
  #timer: ReturnType<typeof setInterval> | undefined;
  readonly #previousSink: (line: string) => void;

  constructor(
    readonly write: (text: string) => void,
    readonly now: () => number,
    readonly columns: () => number,
    readonly root?: string,
  ) {
    this.#started = now();
    this.#previousSink = setLogSink((line) => {
      this.#clear();
      this.write(line + "\n");
      this.#draw(true);
    });
    const timer = setInterval(() => {
      this.#frame++;
      this.#draw(true);
    }, TICK_MS);
    Deno.unrefTimer(timer as unknown as number);
    this.#timer = timer;
  }

  discovered(found: number): void {
    this.#found = found;
    this.#draw(false);
  }

  walked(total: number): void {
    this.#total = total;
    this.#draw(true);
  }

  committed(done: number, total: number | null, lastPath: string): void {
    this.#done = done;
    if (total !== null) this.#total = total;
    this.#name = lastPath === "" ? "" : displayPath(lastPath, this.root);
    this.#draw(false);
  }

  finish(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#clear();
    setLogSink(this.#previousSink);
  }

  /** The current line, without control characters (exposed for tests). */
  line(): string {
    const spin = SPINNER[this.#frame % SPINNER.length];
    const elapsed = this.now() - this.#started;
    const seconds = elapsed / 1000;
    if (this.#total === null) {
      const found = `${spin} discovering files… ${this.#found} found`;
      if (this.#done === 0) return found;
      // Probing began before the walk ended: count and rate, no percent or ETA yet.
      const rate = seconds > 0 ? this.#done / seconds : 0;
      return this.#withName(
        `${spin} [${clock(elapsed)}] ${this.#done} done, ${this.#found} found ` +
          `${rate.toFixed(rate < 10 ? 1 : 0)}/s`,
      );
    }
    const total = this.#total;
    const done = Math.min(this.#done, total);
    const filled = total === 0 ? BAR_WIDTH : Math.floor((done * BAR_WIDTH) / total);
    const bar = "#".repeat(filled) + "-".repeat(BAR_WIDTH - filled);
    const pct = total === 0 ? 100 : Math.floor((done * 100) / total);
    const rate = seconds > 0 ? done / seconds : 0;
    const eta = rate > 0 && done < total
      ? ` ETA ${humanDuration(((total - done) / rate) * 1000)}`
      : "";
    const head = `${spin} [${clock(elapsed)}] [${bar}] ${done}/${total} (${pct}%) ` +
      `${rate.toFixed(rate < 10 ? 1 : 0)}/s${eta}`;
    return this.#withName(head);
  }

  /** `head`, then as much of the last committed file's name as fits. */
  #withName(head: string): string {
    const room = this.columns() - head.length - 2;
    if (room <= 0 || this.#name === "") return head;
    const name = this.#name.length > room ? "…" + this.#name.slice(-(room - 1)) : this.#name;
    return `${head}  ${name}`;
  }

  #draw(force: boolean): void {
    if (this.#timer === undefined) return;
    const t = this.now();
    if (!force && t - this.#lastDraw < REDRAW_MS) return;
    this.#lastDraw = t;
    let text = this.line();
    const width = this.columns() - 1;
    if (text.length > width && width > 0) text = text.slice(0, width);
    this.write(`\r\x1b[2K${text}`);
    this.#drawn = true;
  }

  #clear(): void {
    if (!this.#drawn) return;
    this.write("\r\x1b[2K");
    this.#drawn = false;
  }
}
