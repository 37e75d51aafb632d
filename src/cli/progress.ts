// Progress of scan and revalidate on stderr (F§1). On a terminal: a spinner
// while the walk discovers files (with the count committed and the rate once
// commits arrive — scan probes while it walks), then, once the walk is over
// and the total known, a live bar with count, percent, rate, ETA and the file
// last committed, redrawn at most every 100 ms and cleared at the end; log
// lines printed meanwhile clear the bar first. Elsewhere: plain
// `ingested <done>/<total> (<pct>%)` lines, one per 5% bucket crossed (only
// once the total is known) and one at completion. Nothing at all with --quiet.

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

const encoder = new TextEncoder();

function writeStderr(text: string): void {
  const bytes = encoder.encode(text);
  let off = 0;
  while (off < bytes.length) off += Deno.stderr.writeSync(bytes.subarray(off));
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
  return tty
    ? new BarProgress(write, options.now ?? Date.now, options.columns ?? consoleColumns)
    : new LineProgress(write);
}

/** `ingested <done>/<total> (<pct>%)` each time a 5% bucket is crossed, and at 100%. */
export class LineProgress implements Progress {
  #bucket = 0;
  #total = 0;
  #done = 0;
  #printedDone = false;

  constructor(readonly write: (text: string) => void) {}

  discovered(): void {}

  walked(total: number): void {
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
      this.write(`ingested ${done}/${total} (${pct}%)\n`);
      if (done >= total) this.#printedDone = true;
    }
  }

  finish(): void {
    if (this.#total > 0 && this.#done >= this.#total && !this.#printedDone) {
      this.write(`ingested ${this.#done}/${this.#total} (100%)\n`);
    }
    this.#printedDone = true;
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
    this.#name = basename(lastPath);
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
