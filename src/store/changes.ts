// The track_changes ring, read by mounts for O(changed) refresh.

import type { Store } from "./open.ts";

export interface ChangelogRead {
  /** Distinct track ids with a change after the given seq, ascending. */
  changedIds: number[];
  /** Lowest and highest retained seq (0 and 0 when the ring is empty). */
  minSeq: number;
  maxSeq: number;
}

export function changelogBounds(store: Store): { minSeq: number; maxSeq: number } {
  const r = store.get<{ lo: number; hi: number }>(
    "SELECT COALESCE(MIN(seq), 0) AS lo, COALESCE(MAX(seq), 0) AS hi FROM track_changes",
  )!;
  return { minSeq: r.lo, maxSeq: r.hi };
}

/**
 * Changes after `lastSeq` plus the ring's bounds, read in one snapshot so a
 * concurrent prune cannot pair new ids with stale bounds. A gap (ring empty
 * while lastSeq > 0, or minSeq > lastSeq + 1) means the caller must rebuild.
 */
export function changelogSince(store: Store, lastSeq: number): ChangelogRead {
  return store.readTransaction(() => {
    const { minSeq, maxSeq } = changelogBounds(store);
    const changedIds = store.all<{ id: number }>(
      "SELECT DISTINCT track_id AS id FROM track_changes WHERE seq > ? ORDER BY track_id",
      lastSeq,
    ).map((r) => r.id);
    return { changedIds, minSeq, maxSeq };
  });
}

/** True when changes after `lastSeq` were pruned away (the ring no longer covers them). */
export function changelogHasGap(read: ChangelogRead, lastSeq: number): boolean {
  if (read.maxSeq === 0) return lastSeq > 0;
  return read.minSeq > lastSeq + 1;
}
