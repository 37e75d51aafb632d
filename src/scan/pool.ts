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
  const budgetBuffer = new SharedArrayBuffer(4);
  const budget = new Int32Array(budgetBuffer);
  const workerLimit = Math.max(1, options.workers);
  const slots: Slot[] = [];
  /** Pulled from the source, not yet sent (a FIFO: `queue[head]` is next). */
  let queue: string[] = [];
  let head = 0;
  let sourceDone = false;
  /** Resolves the pull loop's wait for room in the queue. */
  let wakePull: (() => void) | undefined;
  let chunkIds = 0;
  let outstanding = 0;
  let finished = false;
  let startFailures = 0;
  /** Unreported paths of a crashed Worker, re-sent one per chunk. */
  const retry: string[] = [];
  const stats = options.stats;
  const queueHigh = Math.max(MAX_CHUNK, options.queueLimit ?? QUEUE_HIGH);
  const queueLow = Math.floor(queueHigh / 2);

  return new Promise<void>((resolve, reject) => {
    const finish = (error?: unknown) => {
      if (finished) return;
      finished = true;
      for (const s of slots) s.worker.terminate();
      options.signal?.removeEventListener("abort", onAbort);
      wakePull?.();
      if (error === undefined) resolve();
      else reject(error);
    };
    const onAbort = () => finish(new ProbeAborted());
    if (options.signal?.aborted) return finish(new ProbeAborted());
    options.signal?.addEventListener("abort", onAbort);

    const queued = () => queue.length - head;

    /** Next chunk's size, or 0 to wait for more paths (full chunks while the source runs). */
    const chunkSize = () => {
      const waiting = queued();
      if (!sourceDone) return waiting >= MAX_CHUNK ? MAX_CHUNK : 0;
      if (waiting === 0) return 0;
      return Math.max(1, Math.min(MAX_CHUNK, Math.ceil(waiting / (workerLimit * 4))));
    };

    const remaining = () => retry.length > 0 || queued() > 0 || !sourceDone;

    const take = (size: number): string[] => {
      const paths = queue.slice(head, head + size);
      head += size;
      if (head >= 1024 && head * 2 >= queue.length) {
        queue = queue.slice(head);
        head = 0;
      }
      if (queued() <= queueLow && wakePull) {
        const wake = wakePull;
        wakePull = undefined;
        wake();
      }
      return paths;
    };

    const feed = (slot: Slot) => {
      while (slot.chunks.size < OUTSTANDING_PER_WORKER) {
        let chunk: Chunk;
        if (retry.length > 0) {
          chunk = { id: ++chunkIds, paths: [retry.shift()!], reported: 0, isolated: true };
        } else {
          const size = chunkSize();
          if (size === 0) return;
          chunk = { id: ++chunkIds, paths: take(size), reported: 0, isolated: false };
        }
        slot.chunks.set(chunk.id, chunk);
        outstanding++;
        const m: ToWorker = { type: "chunk", id: chunk.id, paths: chunk.paths };
        slot.worker.postMessage(m);
      }
    };

    /** Whether a chunk could be sent now. */
    const sendable = () => retry.length > 0 || chunkSize() > 0;

    /** Hand work to every Worker with room; start Workers (up to the limit) while work is left. */
    const feedAll = () => {
      if (finished) return;
      for (const s of slots) {
        if (!sendable()) return;
        feed(s);
      }
      while (sendable() && slots.length < workerLimit) {
        const slot = spawn();
        slots.push(slot);
        feed(slot);
      }
    };

    const consume = (outcome: ProbeOutcome) => {
      options.onOutcome(outcome);
    };

    const checkDone = () => {
      if (outstanding === 0 && !remaining()) finish();
    };

    const spawn = (): Slot => {
      const worker = new Worker(probeWorkerModule, {
        type: "module",
      });
      const slot: Slot = { worker, chunks: new Map(), alive: false };
      const init: ToWorker = {
        type: "init",
        tier: options.tier,
        budget: budgetBuffer,
      };
      worker.postMessage(init);
      worker.onmessage = (event: MessageEvent<FromWorker>) => {
        if (finished) return;
        const m = event.data;
        if (m.type === "ready") {
          slot.alive = true;
          startFailures = 0;
          return;
        }
        const chunk = slot.chunks.get(m.chunkId);
        try {
          for (const o of m.outcomes) {
            if (chunk) chunk.reported++;
            consume(o);
          }
        } catch (e) {
          return finish(e);
        } finally {
          releaseBudget(budget, m.budgetKiB);
        }
        if (m.last) {
          slot.chunks.delete(m.chunkId);
          outstanding--;
          feed(slot);
          // The tail of the source may be waiting for a Worker with room.
          if (sourceDone) feedAll();
        }
        try {
          // Idle only when no more work can come: Workers starved by a slow
          // walk leave the open batch to the size and time limits.
          options.onDrained?.(outstanding === 0 && sourceDone);
        } catch (e) {
          return finish(e);
        }
        checkDone();
      };
      worker.onerror = (event: ErrorEvent) => {
        event.preventDefault();
        if (finished) return;
        worker.terminate();
        if (!slot.alive && ++startFailures >= MAX_START_FAILURES) {
          return finish(new Error(`probe workers fail to start: ${event.message}`));
        }
        slots.splice(slots.indexOf(slot), 1);
        try {
          // Chunks run in the order sent, so the crash happened in the first
          // one with unreported files; which of its files is unknown (outcomes
          // are posted in groups). A lone file there is the culprit and fails;
          // every other unreported file is retried, alone.
          let crashedIn: Chunk | undefined;
          for (const chunk of slot.chunks.values()) {
            const unreported = chunk.paths.slice(chunk.reported);
            outstanding--;
            if (unreported.length === 0) continue;
            crashedIn ??= chunk;
            if (chunk === crashedIn && chunk.isolated) {
              consume({
                kind: "failed",
                path: unreported[0],
                message: `the probe crashed: ${event.message}`,
                counters: { probeBytes: 0, preads: 0, hashBytes: 0 },
              });
            } else {
              retry.push(...unreported);
            }
          }
        } catch (e) {
          return finish(e);
        }
        feedAll(); // replaces the Worker while work is left
        checkDone();
      };
      return slot;
    };

    /** Pull paths from the source while the queue has room; feed the Workers as chunks fill. */
    const pull = async () => {
      const iterator = Symbol.asyncIterator in source
        ? (source as AsyncIterable<string>)[Symbol.asyncIterator]()
        : (source as Iterable<string>)[Symbol.iterator]();
      try {
        while (!finished) {
          if (queued() >= queueHigh) {
            await new Promise<void>((wake) => wakePull = wake);
            continue;
          }
          const step = await iterator.next();
          if (finished) break;
          if (step.done) break;
          queue.push(step.value);
          if (stats) {
            stats.pulled++;
            stats.maxQueued = Math.max(stats.maxQueued, queued());
          }
          if (queued() % MAX_CHUNK === 0) feedAll();
        }
      } catch (e) {
        return finish(e);
      }
      if (finished) {
        // Stopped early (abort, fatal error): let the source clean up.
        try {
          await iterator.return?.();
        } catch { /* the run already has its outcome */ }
        return;
      }
      sourceDone = true;
      feedAll();
      checkDone();
    };
    void pull();
  });
}
