// `scan` of one target: walk, skip what the store already has (unless
// forced), probe the rest in the Worker pool, write each file with the full
// ingest policy (moved files re-identified), and count the outcome. The walk
// streams into the pool (the pool pulls paths as its Workers need them), so
// memory stays flat however many files the target holds; the number to probe
// is known, and reported, only when the walk ends.

import { hasTrackAt, type Store } from "../store/mod.ts";
import type { MatchStrictness } from "./moves.ts";
import { type PoolProbe, probeAndWrite } from "./pipeline.ts";
import type { ChecksumTier } from "./probe_file.ts";
import type { IoTotals, ScanReporter } from "./report.ts";
import { skippedSummary, streamTarget } from "./walk.ts";

export interface ScanRequest {
  target: string;
  force: boolean;
  /** 0 = the machine's parallelism. */
  jobs: number;
  followSymlinks: boolean;
  checksum: ChecksumTier;
  strictness: MatchStrictness;
  signal?: AbortSignal;
  /** Tests: the probe pool's counters (how many walked paths waited at once) and bound. */
  pool?: PoolProbe;
}

export interface ScanStats {
  /** Canonical root. */
  root: string;
  /** Files written (new, updated or re-identified moves). */
  scanned: number;
  alreadyPresent: number;
  /** Non-music entries. */
  skipped: number;
  failed: number;
  /** Changed during their probe: neither written nor failed. */
  raced: number;
  moved: number;
  durationMs: number;
  io: IoTotals;
}

export async function scanTarget(
  store: Store,
  request: ScanRequest,
  reporter: ScanReporter,
): Promise<ScanStats> {
  const started = performance.now();
  const walk = streamTarget(request, reporter);
  const walked = walk.summary;
  let reportedUnreadable = 0;
  /** Warn about names found unreadable since the last call (as the walk finds them). */
  const warnUnreadable = () => {
    for (; reportedUnreadable < walked.unreadableNames.length; reportedUnreadable++) {
      const shown = walked.unreadableShown[reportedUnreadable];
      reporter.warn(
        `skipping ${shown}: another name in its directory differs only in bytes that are ` +
          "not valid UTF-8, so they cannot be told apart (rename them)",
      );
    }
  };
  let alreadyPresent = 0;
  let toProbe = 0;
  let total: number | null = null;
  async function* pathsToProbe(): AsyncGenerator<string, void, undefined> {
    for await (const path of walk.paths) {
      warnUnreadable();
      if (!request.force && hasTrackAt(store, path)) {
        alreadyPresent++;
        continue;
      }
      toProbe++;
      yield path;
    }
    warnUnreadable();
    total = toProbe;
    reporter.walked?.(toProbe);
  }

  const result = await probeAndWrite(store, { paths: pathsToProbe(), total: () => total }, {
    jobs: request.jobs,
    tier: request.checksum,
    policy: "full",
    strictness: request.strictness,
    signal: request.signal,
    pool: request.pool,
  }, reporter);
  // Names that cannot be addressed are skipped, not failed: one odd name must
  // not make the whole scan report failure (exit 2) to the plugins.
  const unaddressable = walked.unreadableNames.length;
  const summary = skippedSummary(walked.skipped, walked.skippedTotal);
  if (summary) reporter.warn(summary);
  if (walked.symlinksSkipped > 0) {
    reporter.info(
      `skipped ${walked.symlinksSkipped} symlink(s) (pass --follow-symlinks to scan them)`,
    );
  }
  return {
    root: walked.root,
    scanned: result.written,
    alreadyPresent,
    skipped: walked.skippedTotal + unaddressable,
    failed: result.failed,
    raced: result.raced,
    moved: result.moved,
    durationMs: performance.now() - started,
    io: result.io,
  };
}
