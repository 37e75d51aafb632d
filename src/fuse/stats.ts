// What the server measures, as metric samples. Each metric name has one
// owner: the server reports what it sees of every Library (the kernel's
// handles and requests, its I/O workers, passthrough, the process, refreshes
// and the tree's size through the Library contract); the library reports its
// own insides (caches, read-ahead, backing descriptors, refresh fallbacks)
// in Library.metrics. The exposition refuses a name reported twice.

import { counter, gauge, MAX_DIR_SNAPSHOTS, type MetricSample } from "../core/mod.ts";
import { INFLIGHT_MAX } from "./defaults.ts";
import type { IoPoolStats } from "./io_pool.ts";

/** What the server itself measures. */
export class ServerStats {
  readonly startedAt = Date.now();
  handlesOpen = 0;
  dirHandles = 0;
  readErrors = 0;
  refreshGeneration = 0;
  passthroughActive = false;
  passthroughDisabled = false;
  passthroughOpens = 0;
  inlineReads = 0;
  offloadedReads = 0;
  /** malloc_trim calls, and the seconds they held the serving thread. */
  mallocTrims = 0;
  mallocTrimSeconds = 0;
  pool: () => IoPoolStats = () => ({ workers: 0, active: 0, queued: 0, inflight: 0 });
}

function residentBytes(): number | null {
  try {
    const m = /^VmRSS:\s*(\d+)\s*kB/m.exec(Deno.readTextFileSync("/proc/self/status"));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** The samples the server can honestly measure; `tree` is the library's counts(). */
export function serverSamples(
  stats: ServerStats,
  tree: { files: number; dirs: number },
): MetricSample[] {
  const pool = stats.pool();
  const g = gauge;
  const c = counter;
  const out = [
    g(
      "musefs_uptime_seconds",
      "Seconds since the mount started.",
      (Date.now() - stats.startedAt) / 1000,
    ),
    g("musefs_handles_open", "Open file handles.", stats.handlesOpen),
    g("musefs_reads_inflight", "Reads being served by I/O workers.", pool.inflight),
    g("musefs_reads_inflight_max", "Cap on reads in flight.", INFLIGHT_MAX),
    g("musefs_dir_handles", "Open directory handles.", stats.dirHandles),
    g("musefs_dir_handles_max", "Cap on directory snapshots.", MAX_DIR_SNAPSHOTS),
    g("musefs_pool_workers", "I/O workers started.", pool.workers),
    g("musefs_pool_active", "I/O workers with a read in progress.", pool.active),
    g("musefs_pool_queued", "Reads waiting for a busy I/O worker.", pool.queued),
    g("musefs_refresh_generation", "Refreshes that changed the tree.", stats.refreshGeneration),
    g("musefs_tree_nodes", "Files and directories in the tree.", tree.files + tree.dirs),
    g(
      "musefs_passthrough_active",
      "1 when kernel passthrough was negotiated and is in use.",
      stats.passthroughActive && !stats.passthroughDisabled ? 1 : 0,
    ),
    g(
      "musefs_passthrough_disabled",
      "1 when a backing registration failed and passthrough was turned off.",
      stats.passthroughDisabled ? 1 : 0,
    ),
    c("musefs_read_errors_total", "Reads answered with an error.", stats.readErrors),
    c(
      "musefs_passthrough_opens_total",
      "Opens served by kernel passthrough.",
      stats.passthroughOpens,
    ),
    c("musefs_reads_inline_total", "Reads answered on the main thread.", stats.inlineReads),
    c("musefs_reads_offloaded_total", "Reads handed to an I/O worker.", stats.offloadedReads),
    c("musefs_malloc_trims_total", "Free allocator pages handed back.", stats.mallocTrims),
    c(
      "musefs_malloc_trim_seconds_total",
      "Seconds the serving thread spent handing them back.",
      stats.mallocTrimSeconds,
    ),
  ];
  const rss = residentBytes();
  if (rss !== null) out.push(g("musefs_process_resident_bytes", "Resident set size.", rss));
  // The serving thread's JavaScript heap: what is live and what the engine
  // holds, and the ArrayBuffer memory outside it (header bytes, read buffers).
  const heap = Deno.memoryUsage();
  out.push(
    g("musefs_js_heap_used_bytes", "JavaScript heap in use (serving thread).", heap.heapUsed),
    g("musefs_js_heap_total_bytes", "JavaScript heap reserved (serving thread).", heap.heapTotal),
    g("musefs_js_external_bytes", "Buffers outside the JavaScript heap.", heap.external),
  );
  return out;
}
