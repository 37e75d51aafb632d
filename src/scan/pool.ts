// The probe pool: N Workers probing files in chunks, results handed to one
// synchronous consumer (the batch writer) on the main thread as they arrive.
// At most two chunks are outstanding per Worker, and probed payload not yet
// written is bounded by the shared budget (messages.ts), so memory stays flat
// however many files there are. The paths themselves are pulled from their
// source (the walk, as it runs) only while fewer than QUEUE_HIGH wait to be
// sent, so a library of a million files never sits in memory as one list.
// Workers start as there is work for them. A Worker that dies fails the files
// it had not reported and is replaced.

import { type FromWorker, releaseBudget, type ToWorker } from "./messages.ts";
import type { ChecksumTier, ProbeOutcome } from "./probe_file.ts";

/** The module each probe Worker runs (see setProbeWorkerModule). */
let probeWorkerModule = new URL("./probe_worker.ts", import.meta.url).href;

/**
 * Run probe Workers from another module (one that calls serveProbes from
 * probe_serve.ts). For a test harness's own entry point: the shipped program
 * never calls this.
 */
export function setProbeWorkerModule(href: string): void {
  probeWorkerModule = href;
}

export interface PoolOptions {
  /** Worker count (already resolved: ≥ 1). */
  workers: number;
  tier: ChecksumTier;
  /** Called synchronously for every outcome, in arrival order. May throw to abort the run. */
  onOutcome: (outcome: ProbeOutcome) => void;
  /** Called after each message's outcomes were consumed (a good moment to commit). */
  onDrained?: (idle: boolean) => void;
  signal?: AbortSignal;
  /** Filled in as the run goes (for tests and the debug log). */
  stats?: PoolStats;
  /** Paths pulled ahead of the Workers at most (default QUEUE_HIGH; tests use a small one). */
  queueLimit?: number;
}

export interface PoolStats {
  /** Most paths pulled from the source and not yet sent to a Worker, at any moment. */
  maxQueued: number;
  /** Paths pulled from the source. */
  pulled: number;
}

const MAX_CHUNK = 32;
/** Paths pulled from the source ahead of the Workers: the pull pauses at this many… */
export const QUEUE_HIGH = 4096;
// …and resumes when sending chunks brought the queue down to half of it.
const OUTSTANDING_PER_WORKER = 2;

interface Chunk {
  id: number;
  paths: string[];
  reported: number;
  /** A single path re-sent after a crash: if it crashes again, it is the culprit. */
  isolated: boolean;
}

interface Slot {
  worker: Worker;
  chunks: Map<number, Chunk>;
  /** The Worker loaded and said so. */
  alive: boolean;
}

/** Workers that die before they finish loading, in a row, before the run gives up. */
const MAX_START_FAILURES = 3;

export class ProbeAborted extends Error {
  override readonly name = "ProbeAborted";
  constructor() {
    super("interrupted");
  }
}

/** The worker count for `--jobs` (0 = the machine's parallelism). */
export function resolveJobs(jobs: number): number {
  if (jobs > 0) return jobs;
  const n = typeof navigator !== "undefined" ? navigator.hardwareConcurrency : 0;
  return n > 0 ? n : 1;
}

/**
 * Probe every path of `source`, pulled as the Workers need them; resolves
 * when all outcomes were consumed. An error thrown by the source (e.g. the
 * walk's ProbeAborted) ends the run with that error.
 */
export function probeAll(
  source: Iterable<string> | AsyncIterable<string>,
  options: PoolOptions,
): Promise<void> {
  return new ProbePool(options).run(source);
}

/**
 * Paths pulled from the source and not yet sent, first in first out. Taken
 * paths are dropped from the front in batches, so a long run neither copies
 * the array on every take nor keeps what was sent.
 */
class PathQueue {
  private items: string[] = [];
  private head = 0;

  get size(): number {
    return this.items.length - this.head;
  }

  push(path: string): void {
    this.items.push(path);
  }

  take(count: number): string[] {
    const paths = this.items.slice(this.head, this.head + count);
    this.head += count;
    if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return paths;
  }
}

/**
 * One run of probe Workers over one source: `run` starts it and settles when
 * every outcome was consumed or the run failed; `close` (or disposing the
 * pool) ends it early, terminating the Workers. A pool runs once.
 */
export class ProbePool {
  private readonly budgetBuffer = new SharedArrayBuffer(4);
  private readonly budget = new Int32Array(this.budgetBuffer);
  private readonly workerLimit: number;
  private readonly queueHigh: number;
  private readonly queueLow: number;
  private readonly slots: Slot[] = [];
  private readonly queue = new PathQueue();
  /** Unreported paths of a crashed Worker, re-sent one per chunk. */
  private readonly retry: string[] = [];
  private sourceDone = false;
  /** Resolves the pull loop's wait for room in the queue. */
  private wakePull: (() => void) | undefined;
  private chunkIds = 0;
  /** Chunks sent and not yet fully reported. */
  private outstanding = 0;
  private startFailures = 0;
  private started = false;
  private finished = false;
  private settle: (error?: unknown) => void = () => {};
  private readonly onAbort = () => this.close(new ProbeAborted());

  constructor(private readonly options: PoolOptions) {
    this.workerLimit = Math.max(1, options.workers);
    this.queueHigh = Math.max(MAX_CHUNK, options.queueLimit ?? QUEUE_HIGH);
    this.queueLow = Math.floor(this.queueHigh / 2);
  }

  /** Probe every path of `source`; resolves when all outcomes were consumed. */
  run(source: Iterable<string> | AsyncIterable<string>): Promise<void> {
    if (this.started) throw new Error("a probe pool runs once");
    this.started = true;
    return new Promise<void>((resolve, reject) => {
      this.settle = (error) => error === undefined ? resolve() : reject(error);
      const signal = this.options.signal;
      if (signal?.aborted) return this.close(new ProbeAborted());
      signal?.addEventListener("abort", this.onAbort);
      void this.pull(source);
    });
  }

  /** End the run: with `error` it rejects, without it resolves. Later calls do nothing. */
  close(error?: unknown): void {
    if (this.finished) return;
    this.finished = true;
    for (const s of this.slots) s.worker.terminate();
    this.options.signal?.removeEventListener("abort", this.onAbort);
    this.wakePull?.();
    this.settle(error);
  }

  /** Disposing a pool whose run has not ended interrupts it. */
  [Symbol.dispose](): void {
    this.close(new ProbeAborted());
  }

  /** Next chunk's size, or 0 to wait for more paths (full chunks while the source runs). */
  private chunkSize(): number {
    const waiting = this.queue.size;
    if (!this.sourceDone) return waiting >= MAX_CHUNK ? MAX_CHUNK : 0;
    if (waiting === 0) return 0;
    return Math.max(1, Math.min(MAX_CHUNK, Math.ceil(waiting / (this.workerLimit * 4))));
  }

  /** Whether a chunk could be sent now. */
  private sendable(): boolean {
    return this.retry.length > 0 || this.chunkSize() > 0;
  }

  /** Whether any path is still to be sent (or pulled). */
  private remaining(): boolean {
    return this.retry.length > 0 || this.queue.size > 0 || !this.sourceDone;
  }

  /** Take paths off the queue, waking the pull loop once it drained to the low mark. */
  private take(size: number): string[] {
    const paths = this.queue.take(size);
    if (this.queue.size <= this.queueLow && this.wakePull) {
      const wake = this.wakePull;
      this.wakePull = undefined;
      wake();
    }
    return paths;
  }

  /** Send chunks to one Worker until it has OUTSTANDING_PER_WORKER or nothing is sendable. */
  private feed(slot: Slot): void {
    while (slot.chunks.size < OUTSTANDING_PER_WORKER) {
      let chunk: Chunk;
      if (this.retry.length > 0) {
        chunk = { id: ++this.chunkIds, paths: [this.retry.shift()!], reported: 0, isolated: true };
      } else {
        const size = this.chunkSize();
        if (size === 0) return;
        chunk = { id: ++this.chunkIds, paths: this.take(size), reported: 0, isolated: false };
      }
      slot.chunks.set(chunk.id, chunk);
      this.outstanding++;
      const m: ToWorker = { type: "chunk", id: chunk.id, paths: chunk.paths };
      slot.worker.postMessage(m);
    }
  }

  /** Hand work to every Worker with room; start Workers (up to the limit) while work is left. */
  private feedAll(): void {
    if (this.finished) return;
    for (const s of this.slots) {
      if (!this.sendable()) return;
      this.feed(s);
    }
    while (this.sendable() && this.slots.length < this.workerLimit) {
      const slot = this.spawn();
      this.slots.push(slot);
      this.feed(slot);
    }
  }

  private checkDone(): void {
    if (this.outstanding === 0 && !this.remaining()) this.close();
  }

  private spawn(): Slot {
    const worker = new Worker(probeWorkerModule, { type: "module" });
    const slot: Slot = { worker, chunks: new Map(), alive: false };
    const init: ToWorker = { type: "init", tier: this.options.tier, budget: this.budgetBuffer };
    worker.postMessage(init);
    worker.onmessage = (event: MessageEvent<FromWorker>) => this.onMessage(slot, event.data);
    worker.onerror = (event: ErrorEvent) => {
      event.preventDefault();
      this.onCrash(slot, event.message);
    };
    return slot;
  }

  /** A Worker loaded, or reported outcomes of one of its chunks. */
  private onMessage(slot: Slot, m: FromWorker): void {
    if (this.finished) return;
    if (m.type === "ready") {
      slot.alive = true;
      this.startFailures = 0;
      return;
    }
    const chunk = slot.chunks.get(m.chunkId);
    try {
      for (const o of m.outcomes) {
        if (chunk) chunk.reported++;
        this.options.onOutcome(o);
      }
    } catch (e) {
      return this.close(e);
    } finally {
      releaseBudget(this.budget, m.budgetKiB);
    }
    if (m.last) {
      slot.chunks.delete(m.chunkId);
      this.outstanding--;
      this.feed(slot);
      // The tail of the source may be waiting for a Worker with room.
      if (this.sourceDone) this.feedAll();
    }
    try {
      // Idle only when no more work can come: Workers starved by a slow
      // walk leave the open batch to the size and time limits.
      this.options.onDrained?.(this.outstanding === 0 && this.sourceDone);
    } catch (e) {
      return this.close(e);
    }
    this.checkDone();
  }

  /** A Worker died: fail the file it crashed on, retry its other unreported files, replace it. */
  private onCrash(slot: Slot, message: string): void {
    if (this.finished) return;
    slot.worker.terminate();
    if (!slot.alive && ++this.startFailures >= MAX_START_FAILURES) {
      return this.close(new Error(`probe workers fail to start: ${message}`));
    }
    this.slots.splice(this.slots.indexOf(slot), 1);
    try {
      // Chunks run in the order sent, so the crash happened in the first
      // one with unreported files; which of its files is unknown (outcomes
      // are posted in groups). A lone file there is the culprit and fails;
      // every other unreported file is retried, alone.
      let crashedIn: Chunk | undefined;
      for (const chunk of slot.chunks.values()) {
        const unreported = chunk.paths.slice(chunk.reported);
        this.outstanding--;
        if (unreported.length === 0) continue;
        crashedIn ??= chunk;
        if (chunk === crashedIn && chunk.isolated) {
          this.options.onOutcome({
            kind: "failed",
            path: unreported[0],
            message: `the probe crashed: ${message}`,
            counters: { probeBytes: 0, preads: 0, hashBytes: 0 },
          });
        } else {
          this.retry.push(...unreported);
        }
      }
    } catch (e) {
      return this.close(e);
    }
    this.feedAll(); // replaces the Worker while work is left
    this.checkDone();
  }

  /** Pull paths from the source while the queue has room; feed the Workers as chunks fill. */
  private async pull(source: Iterable<string> | AsyncIterable<string>): Promise<void> {
    const iterator = Symbol.asyncIterator in source
      ? (source as AsyncIterable<string>)[Symbol.asyncIterator]()
      : (source as Iterable<string>)[Symbol.iterator]();
    const stats = this.options.stats;
    try {
      while (!this.finished) {
        if (this.queue.size >= this.queueHigh) {
          await new Promise<void>((wake) => this.wakePull = wake);
          continue;
        }
        const step = await iterator.next();
        if (this.finished || step.done) break;
        this.queue.push(step.value);
        if (stats) {
          stats.pulled++;
          stats.maxQueued = Math.max(stats.maxQueued, this.queue.size);
        }
        if (this.queue.size % MAX_CHUNK === 0) this.feedAll();
      }
    } catch (e) {
      return this.close(e);
    }
    if (this.finished) {
      // Stopped early (abort, fatal error): let the source clean up.
      try {
        await iterator.return?.();
      } catch { /* the run already has its outcome */ }
      return;
    }
    this.sourceDone = true;
    this.feedAll();
    this.checkDone();
  }
}
