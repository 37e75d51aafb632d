// `revalidate` of one target: for every music file under the target
// that the store already holds, re-probe it — structural-only, so curated
// tags and art stay — when its stamp changed, when it is a FLAC without
// structural rows (a store from before they existed), or when the chosen
// checksum tier has values to backfill. Files the store does not know are
// ignored. `--prune` then deletes tracks under the target whose file is
// gone, and art no track references any more.

import {
  deleteTrack,
  deleteUnreferencedArt,
  getTrackByPath,
  hasStructuralBlocks,
  type Store,
  tracksAtOrUnder,
} from "../store/mod.ts";
import { probeAndWrite } from "./pipeline.ts";
import type { ChecksumTier } from "./probe_file.ts";
import type { IoTotals, ScanReporter } from "./report.ts";
import { isGone, stampOfPath, stampsMatch } from "./stamp.ts";
import { walkTarget } from "./walk.ts";

export interface RevalidateRequest {
  target: string;
  prune: boolean;
  jobs: number;
  followSymlinks: boolean;
  checksum: ChecksumTier;
  signal?: AbortSignal;
}

export interface RevalidateStats {
  root: string;
  updated: number;
  unchanged: number;
  pruned: number;
  /** Art rows removed after pruning. */
  artRemoved: number;
  failed: number;
  raced: number;
  durationMs: number;
  io: IoTotals;
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export async function revalidateTarget(
  store: Store,
  request: RevalidateRequest,
  reporter: ScanReporter,
): Promise<RevalidateStats> {
  const started = performance.now();
  const walked = await walkTarget(request, reporter);
  if (walked.symlinksSkipped > 0) {
    reporter.info(
      `skipped ${walked.symlinksSkipped} symlink(s) (pass --follow-symlinks to follow them)`,
    );
  }
  let failed = 0;
  let unchanged = 0;
  const changed: string[] = [];
  walked.unreadableNames.forEach((path, i) => {
    if (getTrackByPath(store, path) === null) return;
    // Skipped, not failed (as scan does): the row stays as it is.
    reporter.warn(
      `skipping ${walked.unreadableShown[i]}: another name in its directory differs only in ` +
        "bytes that are not valid UTF-8, so they cannot be told apart (rename them)",
    );
  });
  for (const path of walked.files) {
    const track = getTrackByPath(store, path);
    if (track === null) continue;
    let stamp;
    try {
      stamp = stampOfPath(path);
    } catch (e) {
      reporter.warn(`skipping ${path}: ${message(e)}`);
      failed++;
      continue;
    }
    const needsStructural = track.format === "flac" && !hasStructuralBlocks(store, track.id);
    const needsChecksum = (request.checksum !== "none" && track.fingerprint === null) ||
      (request.checksum === "full" && track.contentHash === null);
    const same = stampsMatch(stamp, {
      size: track.backingSize,
      mtimeNs: track.backingMtimeNs,
      ctimeNs: track.backingCtimeNs,
    });
    if (same && !needsStructural && !needsChecksum) unchanged++;
    else changed.push(path);
  }
  reporter.walked?.(changed.length);

  const result = await probeAndWrite(store, changed, {
    jobs: request.jobs,
    tier: request.checksum,
    policy: "structural",
    strictness: "auto",
    signal: request.signal,
  }, reporter);

  let pruned = 0;
  let artRemoved = 0;
  if (request.prune) {
    ({ pruned, artRemoved } = prune(store, walked.root, walked.rootIsFile, reporter));
  }
  return {
    root: walked.root,
    updated: result.written,
    unchanged,
    pruned,
    artRemoved,
    failed: failed + result.failed,
    raced: result.raced,
    durationMs: performance.now() - started,
    io: result.io,
  };
}

/**
 * Delete tracks at or under `root` (a path prefix ending at a separator)
 * whose backing file no longer exists, then art nothing references.
 */
export function prune(
  store: Store,
  root: string,
  rootIsFile: boolean,
  reporter: Pick<ScanReporter, "warn" | "debug">,
): { pruned: number; artRemoved: number } {
  const rows = tracksAtOrUnder(store, root, rootIsFile).map((t) => ({
    id: t.id,
    p: t.backingPath,
  }));
  return store.transaction(() => {
    let pruned = 0;
    for (const r of rows) {
      try {
        stampOfPath(r.p);
        continue;
      } catch (e) {
        if (!isGone(e)) {
          reporter.warn(`not pruning ${r.p}: ${message(e)}`);
          continue;
        }
      }
      if (deleteTrack(store, r.id)) pruned++;
    }
    return { pruned, artRemoved: deleteUnreferencedArt(store) };
  });
}
