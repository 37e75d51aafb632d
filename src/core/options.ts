// Options of a mounted library; every default comes from defaults.ts.

import type { Id3Version } from "../format/mod.ts";
import { type ExtensionMode, LIBRARY_DEFAULTS as D, type ServeMode } from "./defaults.ts";

export interface LibraryOptions {
  /** Path template (default `$albumartist/$album/$title`). */
  template?: string;
  /** Per-field fallbacks (`--fallback FIELD=VALUE`). */
  fallbacks?: ReadonlyMap<string, string>;
  /** For an unresolved top-level field (default "Unknown"). */
  defaultFallback?: string;
  /** Drop tracks with an unresolved top-level field. */
  skipOnMissing?: boolean;
  /** "synthesis" (default) or "structure-only". */
  mode?: ServeMode;
  /** Fold names for comparison (dirs merge, files disambiguate). Default false. */
  caseInsensitive?: boolean;
  /** "served" (default: .ogg, .oga, .m4b …) or "original" (the store's format names). */
  extensions?: ExtensionMode;
  /** Owner of every entry (default: the process uid / gid). */
  uid?: number;
  gid?: number;
  /** Permission bits of files (default 0o444) and directories (default 0o555). */
  fileMode?: number;
  dirMode?: number;
  /** Minimum time between store polls (default 1000 ms; 0 = every call). */
  pollIntervalMs?: number;
  /** Global read-ahead budget in MiB (default 32; 0 disables read-ahead). */
  readAheadBudgetMib?: number;
  /** Let the kernel keep page caches across opens (default true). */
  keepCache?: boolean;
  /** Header cache byte budget (default 16 MiB). */
  headerCacheBytes?: number;
  /** Size/mtime cache byte budget (default 8 MiB). */
  attrCacheBytes?: number;
  /** SQLite page cache of the serving connection. */
  storeCacheBytes?: number;
  /** Art image cache byte budget (default 8 MiB). */
  artCacheBytes?: number;
  /**
   * Serve only backing files under these directories (`--library-root`);
   * empty (default): only files every writer of the store could read.
   */
  libraryRoots?: readonly string[];
  /** Where refresh failures are reported (default: nowhere). */
  log?: { warn(message: string): void };
  /** ID3v2 version of the tags served for MP3 and WAV (default 4). */
  id3Version?: Id3Version;
  /**
   * The size index file (core/size_index.ts); null keeps sizes for the mount
   * only. Default: `<store>-sizes` beside a store file.
   */
  sizeIndex?: string | null;
  /**
   * Build the layouts of files a walker is about to open on a worker thread
   * (synthesis mode only; `--build-ahead`). Default: on.
   */
  speculate?: boolean;
  /**
   * Start that worker as the library opens, so it loads while the tree is
   * built and stays for the library's life (a mount; `ready` waits for it).
   * Otherwise it starts with the first job. Default: off.
   */
  startWorker?: boolean;
  /**
   * Sizes missing from the size index, at least, for the worker to size a
   * first scan ahead (with `speculate`). Default 256.
   */
  sizeAheadMin?: number;
}

/** Options with every default filled in. */
export interface ResolvedLibraryOptions {
  template: string;
  fallbacks: ReadonlyMap<string, string>;
  defaultFallback: string;
  skipOnMissing: boolean;
  mode: ServeMode;
  caseInsensitive: boolean;
  extensions: ExtensionMode;
  uid: number;
  gid: number;
  fileMode: number;
  dirMode: number;
  pollIntervalMs: number;
  readAheadBudgetBytes: number;
  keepCache: boolean;
  headerCacheBytes: number;
  attrCacheBytes: number;
  storeCacheBytes: number;
  artCacheBytes: number;
  libraryRoots: readonly string[];
  log: { warn(message: string): void } | null;
  id3Version: Id3Version;
  /** Undefined: the default beside the store. */
  sizeIndex: string | null | undefined;
  speculate: boolean;
  startWorker: boolean;
  sizeAheadMin: number;
}

function processId(which: "uid" | "gid"): number {
  try {
    return (which === "uid" ? Deno.uid() : Deno.gid()) ?? 0;
  } catch {
    return 0;
  }
}

export function resolveOptions(o: LibraryOptions): ResolvedLibraryOptions {
  return {
    template: o.template ?? D.template,
    fallbacks: o.fallbacks ?? new Map(),
    defaultFallback: o.defaultFallback ?? D.defaultFallback,
    skipOnMissing: o.skipOnMissing ?? false,
    mode: o.mode ?? D.mode,
    caseInsensitive: o.caseInsensitive ?? false,
    extensions: o.extensions ?? D.extensions,
    uid: o.uid ?? processId("uid"),
    gid: o.gid ?? processId("gid"),
    fileMode: (o.fileMode ?? D.fileMode) & 0o7777,
    dirMode: (o.dirMode ?? D.dirMode) & 0o7777,
    pollIntervalMs: Math.max(0, o.pollIntervalMs ?? D.pollIntervalMs),
    readAheadBudgetBytes: Math.max(0, o.readAheadBudgetMib ?? D.readAheadBudgetMib) * 1024 * 1024,
    keepCache: o.keepCache ?? D.keepCache,
    headerCacheBytes: o.headerCacheBytes ?? D.headerCacheBytes,
    attrCacheBytes: o.attrCacheBytes ?? D.attrCacheBytes,
    storeCacheBytes: o.storeCacheBytes ?? D.storeCacheBytes,
    artCacheBytes: o.artCacheBytes ?? D.artCacheBytes,
    libraryRoots: o.libraryRoots ?? [],
    log: o.log ?? null,
    id3Version: o.id3Version ?? D.id3Version,
    sizeIndex: o.sizeIndex,
    speculate: o.speculate ?? D.buildAhead,
    startWorker: o.startWorker ?? false,
    sizeAheadMin: o.sizeAheadMin ?? 256,
  };
}
