// `scan` of one target (F§7): walk, skip what the store already has (unless
// forced), probe the rest in the Worker pool, write each file with the full
// ingest policy (moved files re-identified), and count the outcome.

import { type Store } from "../store/mod.ts";
import type { MatchStrictness } from "./moves.ts";
import { probeAndWrite } from "./pipeline.ts";
import type { ChecksumTier, ProbeHooks } from "./probe_file.ts";
import type { IoTotals, ScanReporter } from "./report.ts";
import { skippedSummary, walkTarget } from "./walk.ts";

export interface ScanRequest {
  target: string;
  force: boolean;
  /** 0 = the machine's parallelism. */
  jobs: number;
  followSymlinks: boolean;
  checksum: ChecksumTier;
  strictness: MatchStrictness;
  hooks?: ProbeHooks;
  signal?: AbortSignal;
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

function pathInStore(store: Store, path: string): boolean {
  return store.get("SELECT 1 FROM tracks WHERE backing_path = ?", path) !== undefined;
}

export async function scanTarget(
  store: Store,
  request: ScanRequest,
  reporter: ScanReporter,
): Promise<ScanStats> {
  const started = performance.now();
  const walked = await walkTarget(request, reporter);
  let failed = 0;
  for (const path of walked.unreadableNames) {
    reporter.warn(`skipping ${path}: its name is not valid UTF-8 (cannot be opened)`);
    failed++;
  }
  const toProbe = request.force ? walked.files : walked.files.filter((p) => !pathInStore(store, p));
  const alreadyPresent = walked.files.length - toProbe.length;
  reporter.walked?.(toProbe.length);

  const result = await probeAndWrite(store, toProbe, {
    jobs: request.jobs,
    tier: request.checksum,
    policy: "full",
    strictness: request.strictness,
    hooks: request.hooks,
    signal: request.signal,
  }, reporter);
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
    skipped: walked.skippedTotal,
    failed: failed + result.failed,
    raced: result.raced,
    moved: result.moved,
    durationMs: performance.now() - started,
    io: result.io,
  };
}
