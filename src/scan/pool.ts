// The probe pool: N Workers probing files in chunks, results handed to one
// synchronous consumer (the batch writer) on the main thread as they arrive.
// At most two chunks are outstanding per Worker, and probed payload not yet
// written is bounded by the shared budget (messages.ts), so memory stays flat
// however many files there are. A Worker that dies fails the files it had
// not reported and is replaced.

import { type FromWorker, releaseBudget, type ToWorker } from "./messages.ts";
import type { ChecksumTier, ProbeHooks, ProbeOutcome } from "./probe_file.ts";

export interface PoolOptions {
  /** Worker count (already resolved: ≥ 1). */
  workers: number;
  tier: ChecksumTier;
  hooks?: ProbeHooks;
  /** Called synchronously for every outcome, in arrival order. May throw to abort the run. */
  onOutcome: (outcome: ProbeOutcome) => void;
  /** Called after each message's outcomes were consumed (a good moment to commit). */
  onDrained?: (idle: boolean) => void;
  signal?: AbortSignal;
}

const MAX_CHUNK = 32;
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

/** Probe every path; resolves when all outcomes were consumed. */
export function probeAll(paths: readonly string[], options: PoolOptions): Promise<void> {
  if (paths.length === 0) return Promise.resolve();
  const budgetBuffer = new SharedArrayBuffer(4);
  const budget = new Int32Array(budgetBuffer);
  const workerCount = Math.max(1, Math.min(options.workers, paths.length));
  const slots: Slot[] = [];
  let next = 0;
  let chunkIds = 0;
  let outstanding = 0;
  let finished = false;
  let startFailures = 0;
  /** Unreported paths of a crashed Worker, re-sent one per chunk. */
  const retry: string[] = [];

  return new Promise<void>((resolve, reject) => {
    const finish = (error?: unknown) => {
      if (finished) return;
      finished = true;
      for (const s of slots) s.worker.terminate();
      options.signal?.removeEventListener("abort", onAbort);
      if (error === undefined) resolve();
      else reject(error);
    };
    const onAbort = () => finish(new ProbeAborted());
    if (options.signal?.aborted) return finish(new ProbeAborted());
    options.signal?.addEventListener("abort", onAbort);

    const chunkSize = () => {
      const remaining = paths.length - next;
      return Math.max(1, Math.min(MAX_CHUNK, Math.ceil(remaining / (workerCount * 4))));
    };

    const remaining = () => retry.length > 0 || next < paths.length;

    const feed = (slot: Slot) => {
      while (slot.chunks.size < OUTSTANDING_PER_WORKER && remaining()) {
        let chunk: Chunk;
        if (retry.length > 0) {
          chunk = { id: ++chunkIds, paths: [retry.shift()!], reported: 0, isolated: true };
        } else {
          const size = chunkSize();
          chunk = {
            id: ++chunkIds,
            paths: paths.slice(next, next + size),
            reported: 0,
            isolated: false,
          };
          next += size;
        }
        slot.chunks.set(chunk.id, chunk);
        outstanding++;
        const m: ToWorker = { type: "chunk", id: chunk.id, paths: chunk.paths };
        slot.worker.postMessage(m);
      }
    };

    const consume = (outcome: ProbeOutcome) => {
      options.onOutcome(outcome);
    };

    const checkDone = () => {
      if (outstanding === 0 && !remaining()) finish();
    };

    const spawn = (): Slot => {
      const worker = new Worker(new URL("./probe_worker.ts", import.meta.url).href, {
        type: "module",
      });
      const slot: Slot = { worker, chunks: new Map(), alive: false };
      const init: ToWorker = {
        type: "init",
        tier: options.tier,
        hooks: options.hooks ?? {},
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
        }
        try {
          options.onDrained?.(outstanding === 0);
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
        const index = slots.indexOf(slot);
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
        if (remaining()) {
          const replacement = spawn();
          slots[index] = replacement;
          feed(replacement);
        }
        checkDone();
      };
      return slot;
    };

    for (let i = 0; i < workerCount; i++) slots.push(spawn());
    for (const s of slots) feed(s);
  });
}
