// The walk: what a scan target holds. A target is a file or a
// directory; paths come out canonical and absolute (the root is resolved
// once, and without --follow-symlinks nothing below it can be a link).
// Symlinks are skipped unless followed; followed ones are resolved to their
// canonical target, and directories and files are de-duplicated by device +
// inode, so loops end and a file reached twice is scanned once. Broken links,
// loops and unreadable directories are warnings, never fatal. Files that are
// not music are tallied by lowercase extension for the summary.
//
// musefs mounts (type fuse.musefs in /proc/self/mountinfo) are never
// entered: they show a store's view, not a library, and a scan that reads a
// mount's files while writing its store would feed the view back into
// itself. A target inside one is skipped whole with a warning.
//
// Names that are not valid UTF-8: Deno hands directory entries to us as
// strings with such bytes replaced by U+FFFD. Files and directories with such
// names are walked, probed and served under that lossy path (the form the
// original stored and python-musefs expects); ffi/lossy_path.ts maps it back
// to the real bytes. When two names in one directory differ only in their
// invalid bytes, the lossy path cannot tell them apart: such music files are
// reported in `unreadableNames` (the scan warns and counts them skipped),
// such directories are warned about and skipped. A symlink with such a name
// is not followed (warned about).

import { escapedTwins, exists, maybeLossy, readDirLossy } from "../../ffi/lossy_path.ts";
import { musefsMountAt, musefsMountpoints } from "../../ffi/mountinfo.ts";
import { MusefsError } from "../model/mod.ts";
import { extensionOf, probeKindForPath } from "../format/mod.ts";
import { ProbeAborted } from "./pool.ts";
import type { ScanReporter } from "./report.ts";

export interface WalkOptions {
  followSymlinks: boolean;
  warn(message: string): void;
  /** Shown at -v (a musefs mount not entered). */
  info?(message: string): void;
  debug?(message: string): void;
  /** Called as music files are found (count so far). */
  onFound?(found: number): void;
  /** Stops the walk (it throws ProbeAborted) — Ctrl-C during discovery. */
  signal?: AbortSignal;
}

/** Directories read between yields to the event loop (signals, the spinner). */
const YIELD_EVERY_DIRS = 64;

/** What a walk found besides the music paths (filled in as the walk runs). */
export interface WalkSummary {
  /** The canonical absolute target. */
  root: string;
  rootIsFile: boolean;
  /** Music files found so far. */
  found: number;
  /**
   * Music files whose names cannot be addressed: not valid UTF-8, and another
   * name in the same directory reads the same once invalid bytes are replaced.
   */
  unreadableNames: string[];
  /** The same files, their real names with invalid bytes escaped as \xNN (for messages). */
  unreadableShown: string[];
  /** Non-music entries by lowercase extension (`<none>` when absent). */
  skipped: Map<string, number>;
  skippedTotal: number;
  /** Symlinks not followed (no --follow-symlinks). */
  symlinksSkipped: number;
}

export interface WalkResult extends WalkSummary {
  /** Canonical absolute paths of music files, in walk order (names sorted per directory). */
  files: string[];
}

/** A walk in progress: music paths come out as they are found, pulled by the consumer. */
export interface WalkStream {
  summary: WalkSummary;
  /** Canonical absolute paths of music files, in walk order (names sorted per directory). */
  paths: AsyncGenerator<string, void, undefined>;
}

export class WalkError extends MusefsError {
  override readonly name = "WalkError";
  constructor(message: string, readonly target: string, options?: { cause?: unknown }) {
    super("walk", message, target, options);
  }
}

function join(dir: string, name: string): string {
  return dir.endsWith("/") ? dir + name : `${dir}/${name}`;
}

function identity(info: Deno.FileInfo): string {
  return `${info.dev}:${info.ino}`;
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Resolve a target to its canonical path; a missing target is a hard error. */
export function canonicalTarget(target: string): string {
  try {
    return Deno.realPathSync(target);
  } catch (e) {
    throw new WalkError(`cannot read ${target}: ${message(e)}`, target, { cause: e });
  }
}

/** The ordered "skipped N: ext=n, …" summary, or null when nothing was skipped. */
export function skippedSummary(skipped: Map<string, number>, total: number): string | null {
  if (total === 0) return null;
  const parts = [...skipped.entries()]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map(([ext, n]) => `${ext}=${n}`);
  return `skipped ${total}: ${parts.join(", ")}`;
}

/**
 * Start walking a target: the target is resolved and stat'ed now (a missing
 * target throws here), its music paths come out of `paths` lazily — the walk
 * only advances while the consumer pulls, so a consumer that pulls as it
 * probes holds a bounded number of paths however large the library. The
 * generator also yields to the event loop every few directories: on a large
 * library, Ctrl-C and the discovery spinner must work while the walk runs.
 */
export function walkStream(target: string, options: WalkOptions): WalkStream {
  const root = canonicalTarget(target);
  let rootInfo: Deno.FileInfo;
  try {
    rootInfo = Deno.statSync(root);
  } catch (e) {
    throw new WalkError(`cannot read ${target}: ${message(e)}`, target, { cause: e });
  }
  const summary: WalkSummary = {
    root,
    rootIsFile: !rootInfo.isDirectory,
    found: 0,
    unreadableNames: [],
    unreadableShown: [],
    skipped: new Map(),
    skippedTotal: 0,
    symlinksSkipped: 0,
  };
  return { summary, paths: walkPaths(root, rootInfo, summary, options) };
}

/** Walk a target to the end, collecting every music path (revalidate needs the whole set). */
export async function walk(target: string, options: WalkOptions): Promise<WalkResult> {
  const { summary, paths } = walkStream(target, options);
  const files: string[] = [];
  for await (const path of paths) files.push(path);
  return { ...summary, files };
}

async function* walkPaths(
  root: string,
  rootInfo: Deno.FileInfo,
  result: WalkSummary,
  options: WalkOptions,
): AsyncGenerator<string, void, undefined> {
  const tally = (path: string) => {
    const ext = extensionOf(path);
    const key = ext === "" || ext.includes("\uFFFD") ? "<none>" : ext;
    result.skipped.set(key, (result.skipped.get(key) ?? 0) + 1);
    result.skippedTotal++;
  };
  /** Counts a found music file; the caller yields it. */
  const found = () => {
    result.found++;
    options.onFound?.(result.found);
  };

  const musefsMounts = musefsMountpoints();
  const inMount = musefsMountAt(root, musefsMounts);
  if (inMount !== null) {
    options.warn(
      `skipping ${root}: it is ${inMount === root ? "" : "inside "}the musefs mount at ` +
        `${inMount} (a view of a store); scan the library it shows instead`,
    );
    return;
  }
  /** False (and says so at -v) for a directory that is a musefs mount. */
  const enterable = (dir: string): boolean => {
    if (!musefsMounts.has(dir)) return true;
    options.info?.(`not descending into ${dir}: it is a musefs mount`);
    return false;
  };

  if (!rootInfo.isDirectory) {
    if (rootInfo.isFile && probeKindForPath(root) !== null) {
      found();
      yield root;
    } else tally(root);
    return;
  }

  const follow = options.followSymlinks;
  const seenDirs = new Set<string>();
  const seenFiles = new Set<string>();
  if (follow) seenDirs.add(identity(rootInfo));

  /** In follow mode, false when this file was already found (link or hardlink). */
  const firstVisit = (path: string, info?: Deno.FileInfo): boolean => {
    if (!follow) return true;
    try {
      const key = identity(info ?? Deno.statSync(path));
      if (seenFiles.has(key)) {
        options.debug?.(`skipping duplicate backing target ${path}`);
        return false;
      }
      seenFiles.add(key);
    } catch { /* let the probe report it */ }
    return true;
  };

  const stack: string[] = [root];
  let dirsRead = 0;
  while (stack.length > 0) {
    if (++dirsRead % YIELD_EVERY_DIRS === 0) {
      await new Promise((resolve) => setTimeout(resolve, 0));
      if (options.signal?.aborted) throw new ProbeAborted();
    }
    const dir = stack.pop()!;
    let entries: DirEntry[];
    try {
      entries = readDir(dir);
    } catch (e) {
      options.warn(`skipping directory ${dir}: ${message(e)}`);
      continue;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const subdirs: string[] = [];
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i];
      const path = join(dir, entry.name);
      const audio = probeKindForPath(path) !== null;
      if (maybeLossy(entry.name) && !exists(path)) {
        // The real name is not UTF-8: addressed by its lossy form, when that is unique.
        const twins = sameNameRun(entries, i);
        if (twins > 1 || entry.isSymlink) {
          i += twins - 1;
          const shown = escapedTwins(dir, entry.name).map((n) => join(dir, n));
          const why = entry.isSymlink
            ? "a symlink whose name is not valid UTF-8 is not followed"
            : `${twins} names here differ only in bytes that are not valid UTF-8 ` +
              `(${shown.join(", ")}; rename them)`;
          if (entry.isDirectory) options.warn(`skipping directory ${path}: ${why}`);
          else if (audio && !entry.isSymlink) {
            for (let k = 0; k < twins; k++) {
              result.unreadableNames.push(path);
              result.unreadableShown.push(shown[k] ?? path);
            }
          } else if (audio) options.warn(`skipping ${shown[0] ?? path}: ${why}`);
          else if (!entry.isSymlink) { for (let k = 0; k < twins; k++) tally(path); }
          continue;
        }
      }
      if (entry.isSymlink) {
        if (!follow) {
          result.symlinksSkipped++;
          options.debug?.(`skipping symlink ${path} (pass --follow-symlinks to scan it)`);
          continue;
        }
        let info: Deno.FileInfo;
        let real: string;
        try {
          info = Deno.statSync(path);
          real = Deno.realPathSync(path);
        } catch (e) {
          options.warn(`skipping broken symlink ${path}: ${message(e)}`);
          continue;
        }
        if (info.isDirectory) {
          const key = identity(info);
          if (seenDirs.has(key)) {
            options.warn(`skipping symlink loop at ${path} (${real} already visited)`);
            continue;
          }
          seenDirs.add(key);
          if (enterable(real)) subdirs.push(real);
        } else if (info.isFile && probeKindForPath(real) !== null) {
          if (firstVisit(real, info)) {
            found();
            yield real;
          }
        } else {
          tally(real);
        }
      } else if (entry.isDirectory) {
        if (!enterable(path)) continue;
        if (follow) {
          try {
            const key = identity(Deno.statSync(path));
            if (seenDirs.has(key)) continue;
            seenDirs.add(key);
          } catch (e) {
            // A lossy name cannot be stat'ed by Deno; it is no symlink, so no loop either.
            if (!maybeLossy(path)) {
              options.warn(`skipping directory ${path}: ${message(e)}`);
              continue;
            }
          }
        }
        subdirs.push(path);
      } else if (entry.isFile && audio) {
        if (firstVisit(path)) {
          found();
          yield path;
        }
      } else {
        tally(path); // non-music files, FIFOs, sockets, devices
      }
    }
    // Depth-first in name order: push in reverse so the first name pops first.
    for (let i = subdirs.length - 1; i >= 0; i--) stack.push(subdirs[i]);
  }
}

type DirEntry = Pick<Deno.DirEntry, "name" | "isFile" | "isDirectory" | "isSymlink">;

/** A directory's entries; a directory whose own path is lossy is listed through libc. */
function readDir(dir: string): DirEntry[] {
  try {
    return [...Deno.readDirSync(dir)];
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound) || !maybeLossy(dir)) throw e;
    return readDirLossy(dir);
  }
}

/** How many entries from `i` on (sorted) share entries[i]'s name. */
function sameNameRun(entries: DirEntry[], i: number): number {
  let n = 1;
  while (i + n < entries.length && entries[i + n].name === entries[i].name) n++;
  return n;
}

type TargetRequest = { target: string; followSymlinks: boolean; signal?: AbortSignal };

function targetOptions(request: TargetRequest, reporter: ScanReporter): WalkOptions {
  return {
    signal: request.signal,
    followSymlinks: request.followSymlinks,
    warn: reporter.warn,
    info: reporter.info,
    debug: reporter.debug,
    onFound: reporter.discovered,
  };
}

/** Walk a scan or revalidate target to the end, reporting through the run's reporter. */
export function walkTarget(request: TargetRequest, reporter: ScanReporter): Promise<WalkResult> {
  return walk(request.target, targetOptions(request, reporter));
}

/** Start a streaming walk of a scan target, reporting through the run's reporter. */
export function streamTarget(request: TargetRequest, reporter: ScanReporter): WalkStream {
  return walkStream(request.target, targetOptions(request, reporter));
}
