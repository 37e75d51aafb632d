// The request loop (DESIGN "The request loop"): take requests from the
// device synchronously while any are ready (a nonblocking read), and only
// when it is idle await a poll on a helper thread, so
// timers and signals run while a busy mount pays no thread hop. Before that
// async wait it spins ~50 µs, then blocks ≤ 2 ms, for the next request: a
// synchronous caller's next request comes within microseconds, and catching
// it without a sleep/wake-up and a thread hop cut a GETATTR round trip from
// ~44 to ~19 µs here (fuse_bench stat: 430 → 160 µs, 1.08× → 0.40× bindfs).
// Also the refresh timer, the stop signals, and the mount → serve → unmount
// sequence.

import * as libc from "../../ffi/libc.ts";
import { FUSE_MIN_READ_BUFFER, IN_HEADER_SIZE } from "../../ffi/fuse_abi.ts";
import { type Library, LIBRARY_DEFAULTS } from "../core/mod.ts";

const LIBRARY_POLL_MS = LIBRARY_DEFAULTS.pollIntervalMs;
import { SERVE_DEFAULTS } from "./defaults.ts";
import { Dispatcher } from "./dispatch.ts";
import { type ServerLog, silentLog } from "./log.ts";
import type { Negotiated } from "./init.ts";
import { IoPool } from "./io_pool.ts";
import { MetricsLibrary } from "./metrics.ts";
import { ServerStats } from "./stats.ts";
import { raiseReadAhead } from "./bdi.ts";
import { hasCapSysAdmin } from "./privileges.ts";
import { type FuseMount, mountFuse } from "./session.ts";

export interface ServeOptions {
  /** Entry and attribute TTL (--attr-ttl-ms). Default 1000. */
  attrTtlMs?: number;
  /** INIT max_readahead in KiB (--max-readahead-kib). Default 512. */
  maxReadaheadKib?: number;
  /** INIT max_background (--max-background). Default 64. */
  maxBackground?: number;
  /** Timer for library.poll() (--poll-interval-ms; 0 → every 100 ms). Default 1000. */
  pollIntervalMs?: number;
  /** I/O workers for reads that would block (--workers; 0 → 2 × CPUs). Default 0. */
  workers?: number;
  /**
   * Structure-only mode: use kernel passthrough for opens that return a
   * passthroughFd, when the kernel offers it and we hold CAP_SYS_ADMIN.
   */
  passthrough?: boolean;
  /** Add `.musefs-metrics/metrics` to the root (--expose-metrics). */
  exposeMetrics?: boolean;
  /** Permission bits of the metrics file, as of every file (--file-mode). Default 0o444. */
  fileMode?: number;
  /** bdi read_ahead_kb after INIT (root only, best effort); 0 leaves it. Default 1024. */
  readAheadKib?: number;
  /** First SIGINT/SIGTERM unmounts; a second calls `onSecondSignal`. Default true. */
  handleSignals?: boolean;
  /** Default: Deno.exit(130). */
  onSecondSignal?: () => void;
  /** After an unmount that leaves the mount busy, stop serving after this long. Default 5000. */
  graceMs?: number;
  /** Aborting it stops serving like a first signal (unmount, then the loop ends). */
  signal?: AbortSignal;
  /** Extra fields of the root's `user.musefs.status` attribute (version, store, mode …). */
  status?: () => Record<string, unknown>;
  /** Called once INIT is answered: the mount is usable. */
  onReady?: (info: ReadyInfo) => void;
  /** Called once when serving starts to end: a stop (signal, abort) or the mount went away. */
  onStopping?: () => void;
  log?: ServerLog;
}

export interface ReadyInfo {
  /** Kernel passthrough negotiated (structure-only opens will use it). */
  passthrough: boolean;
  /** Negotiated protocol minor version. */
  minor: number;
  /** read_ahead_kb raised (false when not permitted or disabled). */
  readAheadRaised: boolean;
}

export interface ServeResult {
  /** "unmounted": the mount went away (our unmount or someone else's). "destroy": the kernel said so. */
  reason: "unmounted" | "destroy" | "grace-expired";
}

/** Yield to timers and signals at least this often while busy. */
const YIELD_EVERY_MS = 50;
const IDLE_POLL_MS = 1000;
/**
 * At most this often, after requests were answered, the C allocator's free
 * pages go back to the system (docs/tuning.md, "Memory").
 */
const TRIM_EVERY_MS = 1000;
/**
 * Before the async wait, spin on a zero-timeout poll this long, then block
 * in poll this long (see `requestReady`).
 */
const BUSY_POLL_MS = 0.05;
const IDLE_BLOCK_MS = 2;

/**
 * Wait briefly for the next request on the serving thread. A synchronous
 * caller (stat, ls, a reader waiting for its read) sends its next request
 * within microseconds of our reply: spinning catches it without the
 * sleep/wake-up of a blocking wait (on this 2-core VM that halved a stat's
 * latency, 68 → 24 µs per GETATTR, and the daemon used no more CPU), then a
 * short blocking poll catches it without the async wait's thread hop. Both
 * are bounded, so timers and signals wait at most ~2 ms; an idle mount
 * costs one 50 µs spin per idle transition. Not while workers hold reads:
 * their replies to us need the event loop.
 */
function requestReady(fd: number): boolean {
  if (libc.pollOne(fd, libc.POLLIN, 0) !== 0) return true;
  const until = performance.now() + BUSY_POLL_MS;
  while (performance.now() < until) {
    if (libc.pollOne(fd, libc.POLLIN, 0) !== 0) return true;
  }
  return libc.pollOne(fd, libc.POLLIN, IDLE_BLOCK_MS) !== 0;
}

function defaultWorkers(): number {
  const cpus = navigator.hardwareConcurrency || 4;
  return Math.min(2 * cpus, 32);
}

/**
 * Serve `library` on a mounted FUSE device until the mount goes away. A
 * first SIGINT/SIGTERM unmounts (lazily if busy) and the loop ends; resolves
 * when serving is over. The device fd is closed at the end; the library is
 * not (the caller owns it).
 */
export async function serve(
  mount: FuseMount,
  library: Library,
  options: ServeOptions = {},
): Promise<ServeResult> {
  const log = options.log ?? silentLog;
  const fd = mount.fd;
  const stats = new ServerStats();
  const served = options.exposeMetrics
    ? new MetricsLibrary(library, stats, options.fileMode ?? 0o444)
    : library;
  const workers = options.workers && options.workers > 0 ? options.workers : defaultWorkers();
  let dispatcher: Dispatcher | null = null;
  const pool = new IoPool(fd, workers, log, (unique, message) => {
    dispatcher?.failRead(unique, message);
  });
  stats.pool = () => pool.stats();
  const wantPassthrough = options.passthrough === true && hasCapSysAdmin();
  const readAheadKib = options.readAheadKib ?? SERVE_DEFAULTS.readAheadKib;
  dispatcher = new Dispatcher(fd, served, pool, stats, {
    attrTtlMs: options.attrTtlMs ?? SERVE_DEFAULTS.attrTtlMs,
    maxReadaheadKib: options.maxReadaheadKib ?? SERVE_DEFAULTS.maxReadaheadKib,
    maxBackground: options.maxBackground ?? SERVE_DEFAULTS.maxBackground,
    passthrough: wantPassthrough,
    log,
    status: options.status,
    onInit: (n: Negotiated) => {
      const raised = readAheadKib > 0 && raiseReadAhead(mount.mountpoint, readAheadKib, log);
      options.onReady?.({ passthrough: n.passthrough, minor: n.minor, readAheadRaised: raised });
    },
  });
  const d = dispatcher;

  // Stop: unmount (the loop then sees ENODEV); if the mount stays busy, give
  // open files a grace period, then stop serving anyway.
  let stopping = false;
  let stoppingSaid = false;
  const sayStopping = () => {
    if (stoppingSaid) return;
    stoppingSaid = true;
    options.onStopping?.();
  };
  let graceExpired = false;
  let graceTimer: ReturnType<typeof setTimeout> | undefined;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    sayStopping();
    log.info(`unmounting ${mount.mountpoint}`);
    mount.unmount(true, log).finally(() => {
      graceTimer = setTimeout(() => graceExpired = true, options.graceMs ?? 5000);
    });
  };
  const onSignal = () => {
    if (stopping) (options.onSecondSignal ?? (() => Deno.exit(130)))();
    else stop();
  };
  const handleSignals = options.handleSignals ?? true;
  if (handleSignals) {
    Deno.addSignalListener("SIGINT", onSignal);
    Deno.addSignalListener("SIGTERM", onSignal);
  }
  if (options.signal?.aborted) stop();
  options.signal?.addEventListener("abort", stop, { once: true });
  const pollEvery = Math.max(options.pollIntervalMs ?? LIBRARY_POLL_MS, 100);
  let handled = 0;
  let handledAtTrim = 0;
  let trimmedAt = performance.now();
  const pollTimer = setInterval(() => {
    d.poll();
    const now = performance.now();
    if (handled === handledAtTrim || now - trimmedAt < TRIM_EVERY_MS) return;
    handledAtTrim = handled;
    libc.trimMalloc();
    trimmedAt = performance.now();
    d.stats.mallocTrims++;
    d.stats.mallocTrimSeconds += (trimmedAt - now) / 1000;
  }, pollEvery);

  libc.fcntl(fd, libc.F_SETFL, libc.fcntl(fd, libc.F_GETFL, 0) | libc.O_NONBLOCK);
  const buf = new Uint8Array(Math.max(FUSE_MIN_READ_BUFFER, 256 * 1024));
  const view = new DataView(buf.buffer);
  const bufSize = BigInt(buf.length);
  let reason: ServeResult["reason"] = "unmounted";
  let lastYield = Date.now();
  try {
    for (;;) {
      if (d.ended) {
        reason = "destroy";
        break;
      }
      if (d.deviceGone) break;
      if (graceExpired) {
        reason = "grace-expired";
        break;
      }
      // Read first: while the mount is busy the next request is usually
      // queued already, and a poll before each read would be one more
      // syscall per request. Only when the device is empty: spin briefly for
      // the next one, then wait in the event loop. Only with nothing on the
      // workers: their "done" messages (in-flight accounting, EIO for a
      // failed read) arrive through the event loop.
      const n = libc.readNow(fd, buf, bufSize);
      if (n < 0) {
        if (n === -libc.E.EAGAIN) {
          const quiet = pool.inflightReads === 0 && pool.notifyPending === 0;
          if (!quiet || !requestReady(fd)) {
            await libc.pollOneAsync(fd, libc.POLLIN, IDLE_POLL_MS);
            lastYield = Date.now();
          }
          continue;
        }
        if (n === -libc.E.ENODEV) break; // unmounted
        if (n === -libc.E.ENOENT) continue; // the request was interrupted away
        throw new libc.ErrnoError("read", -n);
      }
      if (n < IN_HEADER_SIZE) continue;
      d.handle(buf, view, n);
      handled++;
      if (Date.now() - lastYield >= YIELD_EVERY_MS) {
        await new Promise((r) => setTimeout(r, 0));
        lastYield = Date.now();
      }
    }
  } finally {
    sayStopping();
    clearInterval(pollTimer);
    if (graceTimer !== undefined) clearTimeout(graceTimer);
    options.signal?.removeEventListener("abort", stop);
    if (handleSignals) {
      Deno.removeSignalListener("SIGINT", onSignal);
      Deno.removeSignalListener("SIGTERM", onSignal);
    }
    // A notification write still pending must not land on a reused fd number.
    await pool.settleNotifications();
    pool.close();
    d.close();
    mount.close();
  }
  return { reason };
}

export interface MountAndServeOptions extends ServeOptions {
  mountpoint: string;
  /** allow_other + default_permissions (--allow-other, implied by --owner/--group). */
  allowOther?: boolean;
  /** Mount through fusermount3 even as root (tests the unprivileged path). */
  forceFusermount?: boolean;
}

/** Mount, serve until unmounted or signalled, and clean up. */
export function mountAndServe(
  library: Library,
  options: MountAndServeOptions,
): Promise<ServeResult> {
  const mount = mountFuse({
    mountpoint: options.mountpoint,
    allowOther: options.allowOther ?? false,
    log: options.log,
    forceFusermount: options.forceFusermount,
  });
  return serve(mount, library, options);
}
