// The track_changes ring, read by mounts for O(changed) refresh.

import type { Store } from "./open.ts";

// Seqs are read as bigint: any 64-bit value is legal in SQLite, and a writer
// may push the AUTOINCREMENT counter past 2^53, after which every later seq is
// there too. Track ids beyond 2^53 are left out (the catalog hides those
// tracks and reports them).

export interface ChangelogRead {
  /** Distinct track ids with a change after the given seq, ascending (ids within ±(2^53 − 1)). */
  changedIds: number[];
  /** Lowest and highest retained seq (0 and 0 when the ring is empty). */
  minSeq: bigint;
  maxSeq: bigint;
}

const SAFE = Number.MAX_SAFE_INTEGER;

export function changelogBounds(store: Store): { minSeq: bigint; maxSeq: bigint } {
  const r = store.getBig<{ lo: bigint; hi: bigint }>(
    // Two subqueries: SQLite answers a lone MIN or MAX of the key from the
    // b-tree's ends, but MIN and MAX in one select scan the whole ring.
    "SELECT COALESCE((SELECT MIN(seq) FROM track_changes), 0) AS lo, " +
      "COALESCE((SELECT MAX(seq) FROM track_changes), 0) AS hi",
  )!;
  return { minSeq: BigInt(r.lo), maxSeq: BigInt(r.hi) };
}

/**
 * Changes after `lastSeq` plus the ring's bounds, read in one snapshot so a
 * concurrent prune cannot pair new ids with stale bounds. A gap (ring empty
 * while lastSeq > 0, or minSeq > lastSeq + 1) means the caller must rebuild.
 */
export function changelogSince(store: Store, lastSeq: bigint): ChangelogRead {
  return store.readTransaction(() => {
    const { minSeq, maxSeq } = changelogBounds(store);
    const changedIds = store.all<{ id: number }>(
      "SELECT DISTINCT track_id AS id FROM track_changes WHERE seq > ? " +
        `AND track_id BETWEEN -${SAFE} AND ${SAFE} ORDER BY track_id`,
      lastSeq,
    ).map((r) => r.id);
    return { changedIds, minSeq, maxSeq };
  });
}

/** True when changes after `lastSeq` were pruned away (the ring no longer covers them). */
export function changelogHasGap(read: ChangelogRead, lastSeq: bigint): boolean {
  if (read.maxSeq === 0n) return lastSeq > 0n;
  // A ring that went backwards (rows rewritten below what we saw) is a gap too.
  return read.minSeq > lastSeq + 1n || read.maxSeq < lastSeq;
}
