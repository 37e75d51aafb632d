// The probe → write pipeline shared by scan and revalidate: the Worker pool
// probes, the one writer applies each outcome as it arrives, and commits
// happen by size, when the probes go idle, and at least every second even
// while no outcome arrives (a slow probe must not keep the store's write
// lock held). Outcomes are counted: written, failed (with a warning), raced.

import type { Store } from "../store/mod.ts";
import type { MatchStrictness } from "./moves.ts";
import { type PoolStats, probeAll, resolveJobs } from "./pool.ts";
import type { ChecksumTier } from "./probe_file.ts";
import { type IoTotals, newIoTotals, type ScanReporter } from "./report.ts";
import { BATCH_MAX_MS, BatchWriter, type WritePolicy } from "./writer.ts";

export interface PipelineOptions {
  /** 0 = the machine's parallelism. */
  jobs: number;
  tier: ChecksumTier;
  policy: WritePolicy;
  strictness: MatchStrictness;
  signal?: AbortSignal;
  /** Tests: the pool's counters, and a smaller bound on paths pulled ahead. */
  pool?: PoolProbe;
}

export interface PoolProbe {
  stats?: PoolStats;
  queueLimit?: number;
}

/**
 * The paths to probe: a list, or a stream (the walk, as it runs) with the
 * number it will have produced — null until the stream has ended.
 */
export type PathSource = readonly string[] | {
  paths: AsyncIterable<string>;
  total(): number | null;
};

export interface PipelineResult {
  /** Files written and committed. */
  written: number;
  moved: number;
  failed: number;
  raced: number;
  io: IoTotals;
}

/** Probe `source`'s paths and write them; throws (after rolling back the open batch) if fatal. */
export async function probeAndWrite(
  store: Store,
  source: PathSource,
  options: PipelineOptions,
  reporter: ScanReporter,
): Promise<PipelineResult> {
  const io = newIoTotals();
  const paths = isList(source) ? source : source.paths;
  const total = isList(source) ? () => source.length : () => source.total();
  let failed = 0;
  let raced = 0;
  const writer = new BatchWriter(store, {
    policy: options.policy,
    strictness: options.strictness,
    warn: reporter.warn,
    info: reporter.info,
    // Progress counts every file dealt with (written, failed or raced), so it ends at 100%.
    onCommit: (_files, lastPath) => reporter.committed?.(io.probed, total(), lastPath),
  });
  // A commit from the timer that fails stops the pool; its error is the one reported.
  const stop = new AbortController();
  const onUserAbort = () => stop.abort();
  options.signal?.addEventListener("abort", onUserAbort);
  if (options.signal?.aborted) stop.abort();
  let timerError: unknown;
  const timer = setInterval(() => {
    try {
      writer.maybeCommit(false);
    } catch (e) {
      timerError ??= e;
      stop.abort();
    }
  }, BATCH_MAX_MS / 4);
  try {
    await probeAll(paths, {
      workers: resolveJobs(options.jobs),
      tier: options.tier,
      signal: stop.signal,
      stats: options.pool?.stats,
      queueLimit: options.pool?.queueLimit,
      onOutcome: (o) => {
        io.probeBytes += o.counters.probeBytes;
        io.preads += o.counters.preads;
        io.hashBytes += o.counters.hashBytes;
        io.probed++;
        if (o.kind === "failed") {
          reporter.warn(`skipping ${o.path}: ${o.message}`);
          failed++;
        } else if (o.kind === "raced") {
          reporter.warn(`skipping ${o.path}: ${o.message}`);
          raced++;
        } else {
          for (const w of o.probe.warnings ?? []) reporter.warn(`${o.path}: ${w}`);
          if (!writer.write(o)) failed++;
        }
      },
      onDrained: (idle) => writer.maybeCommit(idle),
    });
    writer.commit();
    const all = total() ?? io.probed;
    if (all > 0) reporter.committed?.(io.probed, all, "");
  } catch (e) {
    writer.rollback();
    throw timerError ?? e;
  } finally {
    clearInterval(timer);
    options.signal?.removeEventListener("abort", onUserAbort);
  }
  return { written: writer.committed, moved: writer.moved, failed, raced, io };
}

function isList(source: PathSource): source is readonly string[] {
  return Array.isArray(source);
}
