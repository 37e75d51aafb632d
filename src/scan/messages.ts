// Messages between the scan's main thread and its probe Workers, and the
// shared in-flight payload budget (64 MiB) both sides count against.

import type { ChecksumTier, ProbeOutcome } from "./probe_file.ts";

export type ToWorker =
  | { type: "init"; tier: ChecksumTier; budget: SharedArrayBuffer }
  | { type: "chunk"; id: number; paths: string[] };

export type FromWorker = { type: "ready" } | {
  type: "results";
  chunkId: number;
  outcomes: ProbeOutcome[];
  /** Budget units (KiB) these outcomes hold; the main thread releases them once written. */
  budgetKiB: number;
  /** The last message for this chunk. */
  last: boolean;
};

/** In-flight payload budget: probed bytes handed to the writer but not yet written. */
export const BUDGET_KIB = 64 * 1024;

/**
 * Take `kib` units, waiting while the budget is exhausted (a single outcome
 * larger than the whole budget still passes once nothing else is in flight).
 * Worker side: Atomics.wait blocks, which only Workers may do.
 */
export function acquireBudget(cells: Int32Array, kib: number): void {
  if (kib <= 0) return;
  for (;;) {
    const cur = Atomics.load(cells, 0);
    if (cur === 0 || cur + kib <= BUDGET_KIB) {
      if (Atomics.compareExchange(cells, 0, cur, cur + kib) === cur) return;
      continue;
    }
    Atomics.wait(cells, 0, cur, 200);
  }
}

/** Return `kib` units and wake waiting Workers (main thread side). */
export function releaseBudget(cells: Int32Array, kib: number): void {
  if (kib <= 0) return;
  Atomics.sub(cells, 0, kib);
  Atomics.notify(cells, 0);
}
