// `musefs mount` (and the bare `musefs … MOUNTPOINT` form): the pre-mount
// checks (store, mountpoint, guards), then the library core served by the FUSE server until
// unmounted or signalled. `--dry-run` builds the tree and prints a sample.

import type { LibraryOptions } from "../core/mod.ts";
import { SERVE_DEFAULTS } from "../fuse/defaults.ts";
import { CliError, EXIT_OK } from "./errors.ts";
import denoJson from "../../deno.json" with { type: "json" };
import { log } from "./log.ts";
import type { Io } from "./io.ts";
import type { MountOptions } from "./options.ts";
import { templateWarnings } from "./template_lint.ts";

const MIB = 1024 * 1024;
/** malloc arenas a mount lets its threads use (see runMount). */
const MALLOC_ARENAS = 1;

function statOrNull(path: string): Deno.FileInfo | null {
  try {
    return Deno.statSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
}

/** True when `dir` has at least one entry; unreadable counts as empty (advisory only). */
function isNonEmptyDir(dir: string): boolean {
  try {
    for (const _ of Deno.readDirSync(dir)) return true;
  } catch { /* the mount reports real access errors itself */ }
  return false;
}

/** The warning for a mode with write bits, or null. */
export function writeBitWarning(flag: string, mode: number): string | null {
  if ((mode & 0o222) === 0) return null;
  return `warning: --${flag} ${mode.toString(8)} sets write bits, but the mount is read-only; ` +
    "writes will fail with EROFS";
}

/**
 * Checks before any FUSE work (exit 1 on failure): the store must exist
 * (mount never creates one); the mountpoint must be an existing directory
 * (not needed for --dry-run); a non-empty mountpoint, template text in
 * another tool's syntax and modes with write bits only warn.
 */
export function preMountChecks(options: MountOptions, io: Io): void {
  if (statOrNull(options.db) === null) {
    throw new CliError(`database does not exist: ${options.db}`);
  }
  if (!options.dryRun && options.mountpoint !== null) {
    const mp = options.mountpoint;
    const info = statOrNull(mp);
    if (info === null) throw new CliError(`mountpoint does not exist (create it first): ${mp}`);
    if (!info.isDirectory) throw new CliError(`mountpoint is not a directory: ${mp}`);
    if (isNonEmptyDir(mp)) {
      io.err(
        `warning: mountpoint ${mp} is not empty; its existing contents will be hidden ` +
          "behind the virtual tree until you unmount",
      );
    }
  }
  for (const warning of templateWarnings(options.template)) io.err(warning);
  for (const root of options.libraryRoots) {
    if (!statOrNull(root)?.isDirectory) {
      throw new CliError(`--library-root ${root} is not an existing directory`);
    }
  }
  const index = options.sizeIndex;
  if (index) {
    if (statOrNull(index)?.isDirectory) {
      throw new CliError(`--size-index ${index} is a directory; give a file path, or off`);
    }
    const dir = index.includes("/") ? index.slice(0, index.lastIndexOf("/")) || "/" : ".";
    if (!statOrNull(dir)?.isDirectory) {
      throw new CliError(
        `--size-index ${index}: directory ${dir} does not exist (create it, or give --size-index off)`,
      );
    }
  }
  for (
    const [flag, mode] of [["file-mode", options.fileMode], ["dir-mode", options.dirMode]] as const
  ) {
    const warning = writeBitWarning(flag, mode);
    if (warning) io.err(warning);
  }
}

/** The library options of a mount, from the validated command line. */
function libraryOptions(o: MountOptions): LibraryOptions {
  return {
    template: o.template,
    fallbacks: o.fallbacks,
    defaultFallback: o.defaultFallback,
    skipOnMissing: o.skipOnMissing,
    mode: o.mode,
    caseInsensitive: o.caseInsensitive,
    extensions: o.extensions,
    id3Version: o.id3Version,
    uid: o.uid,
    gid: o.gid,
    fileMode: o.fileMode,
    dirMode: o.dirMode,
    pollIntervalMs: o.pollIntervalMs,
    readAheadBudgetMib: o.readAheadBudgetMib,
    headerCacheBytes: o.headerCacheMib * MIB,
    attrCacheBytes: o.attrCacheMib * MIB,
    storeCacheBytes: o.storeCacheMib * MIB,
    artCacheBytes: o.artCacheMib * MIB,
    sizeIndex: o.sizeIndex,
    speculate: o.buildAhead,
    keepCache: o.keepCache,
    libraryRoots: o.libraryRoots,
    log,
  };
}

/**
 * Serving uses read-only connections, which cannot migrate. A store of an
 * older schema version (written by an older musefs) is upgraded once through
 * a read-write open first, as the original's mount did.
 *
 * The read-only opens before the library's own skip PRAGMA foreign_key_check:
 * it reads every tag row (a few hundred ms at 200 000 tracks), and opening the
 * library runs it once anyway, before anything is served.
 */
async function upgradeIfOld(db: string): Promise<void> {
  const { openStore, StoreError } = await import("../store/mod.ts");
  try {
    openStore(db, { mode: "ro", foreignKeyCheck: false }).close();
  } catch (e) {
    if (!(e instanceof StoreError) || e.kind !== "old-version") throw e;
    log.info(`upgrading the store schema of ${db}`);
    openStore(db, { mode: "rw" }).close();
  }
}

export interface MountHooks {
  /** The mount answers (INIT done); the background copy of the mount(8) form reports here. */
  onReady?: () => void;
}

export async function runMount(
  options: MountOptions,
  io: Io,
  hooks: MountHooks = {},
): Promise<number> {
  const mountpoint = options.dryRun ? null : options.mountpoint;
  // The store first (as the checks below would): a missing store is the more basic mistake.
  if (statOrNull(options.db) === null) throw new CliError(`database does not exist: ${options.db}`);
  const guards = mountpoint === null ? null : await import("./mount_guards.ts");
  if (mountpoint !== null) {
    // Before any stat of the mountpoint: a live musefs mount there may not answer.
    await guards!.refuseStackedMount(mountpoint);
    // Before the checks: a dead mount left by a killed process fails stat(2).
    const { prepareMountpoint } = await import("../fuse/mod.ts");
    prepareMountpoint(mountpoint, log);
  }
  await upgradeIfOld(options.db);
  if (mountpoint !== null) {
    const { openStore } = await import("../store/mod.ts");
    const store = openStore(options.db, { mode: "ro", foreignKeyCheck: false });
    try {
      const realPath = Deno.realPathSync(mountpoint);
      guards!.refuseStackedRealPath(mountpoint, realPath);
      guards!.refuseLibraryOverlap(store, realPath);
    } finally {
      store.close();
    }
  }
  preMountChecks(options, io);
  if (options.readAheadPrefetch) {
    log.warn(
      "--read-ahead-prefetch has no effect in this musefs (accepted for compatibility): " +
        "the kernel reads ahead in 1 MiB requests and the read-ahead window follows them",
    );
  }
  const core = await import("../core/mod.ts");
  if (mountpoint === null) {
    for (const line of core.dryRunLines(core.dryRun(options.db, libraryOptions(options)))) {
      io.out(line);
    }
    return EXIT_OK;
  }
  // The build-ahead worker starts with the mount and stays: it loads while
  // the tree is built, and the mount is ready once it is (docs/tuning.md).
  const library = core.openLibrary(options.db, { ...libraryOptions(options), startWorker: true });
  try {
    await library.ready();
    // The worker has an allocator arena of its own by now: it allocates as
    // busily as the serving thread, and the two contending for one arena's
    // lock made a first read pass cost more CPU. The threads started from
    // here on (I/O workers) share an arena, so their garbage goes back to
    // one the next allocation of any of them reuses (docs/tuning.md, "Memory").
    const { limitMallocArenas } = await import("../../ffi/libc.ts");
    limitMallocArenas(MALLOC_ARENAS);
    log.info(`serving ${library.resolver.access?.description ?? "any backing file"}`);
    const { mountAndServe, notifyServiceManager } = await import("../fuse/mod.ts");
    const structureOnly = options.mode === "structure-only";
    await mountAndServe(library, {
      mountpoint,
      allowOther: options.allowOther,
      attrTtlMs: options.attrTtlMs,
      maxReadaheadKib: options.maxReadaheadKib,
      // Raise the connection's read_ahead_kb so reads arrive 1 MiB at a time (DESIGN).
      readAheadKib: Math.max(SERVE_DEFAULTS.readAheadKib, options.maxReadaheadKib),
      maxBackground: options.maxBackground,
      pollIntervalMs: options.pollIntervalMs,
      workers: options.workers,
      passthrough: structureOnly,
      exposeMetrics: options.exposeMetrics,
      fileMode: options.fileMode,
      log,
      status: () => ({
        version: denoJson.version,
        store: library.storePath,
        mode: options.mode,
        template: options.template,
        mountpoint: Deno.realPathSync(mountpoint),
      }),
      onReady: (info) => {
        const { files, dirs } = library.counts();
        log.info(
          `musefs mounted at ${mountpoint}: ${files} files in ${dirs} directories ` +
            `(${structureOnly ? "StructureOnly" : "Synthesis"}), passthrough ` +
            (info.passthrough ? "on" : "off"),
        );
        notifyServiceManager(
          `READY=1\nSTATUS=serving ${files} files at ${mountpoint}\nMAINPID=${Deno.pid}`,
          log,
        );
        hooks.onReady?.();
      },
      onStopping: () => notifyServiceManager(`STOPPING=1\nSTATUS=unmounting ${mountpoint}`, log),
    });
  } finally {
    library.close();
  }
  return EXIT_OK;
}
