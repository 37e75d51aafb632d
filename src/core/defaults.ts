// The library's defaults and choices, stated once. Constants only and no
// imports: the command line's flag table shows them without loading the core.

/** How file contents are served. */
export const SERVE_MODES = ["synthesis", "structure-only"] as const;
export type ServeMode = (typeof SERVE_MODES)[number];

/** Served extensions by content (.ogg, .oga, .m4b …), or the store's format names. */
export const EXTENSION_STYLES = ["served", "original"] as const;
export type ExtensionMode = (typeof EXTENSION_STYLES)[number];

export const LIBRARY_DEFAULTS = {
  template: "$albumartist/$album/$title",
  defaultFallback: "Unknown",
  mode: "synthesis" as ServeMode,
  extensions: "served" as ExtensionMode,
  fileMode: 0o444,
  dirMode: 0o555,
  /** Minimum time between store polls. */
  pollIntervalMs: 1000,
  /** Read-ahead memory shared by all open streams (0 disables read-ahead). */
  readAheadBudgetMib: 32,
  keepCache: true,
  /** ID3v2 major version written into MP3s and WAV id3 chunks (3 for old players). */
  id3Version: 4 as 3 | 4,
  /** Synthesized layouts kept in memory (the five budgets add up to 64 MiB). */
  headerCacheBytes: 8 * 1024 * 1024,
  /**
   * SQLite's page cache for the serving connection: the index and table pages
   * a directory listing's batch reads; at 200 000 tracks 8 MiB made the
   * first walk's getattr about a fifth cheaper than 512 KiB.
   */
  storeCacheBytes: 8 * 1024 * 1024,
  /** Sizes and mtimes of files already stat'ed. */
  attrCacheBytes: 8 * 1024 * 1024,
  /** Build the layouts of files a walker opens next on a worker thread (`--build-ahead`). */
  // On by default: a media server's first read of every file took a
  // quarter to a third less time at 20 000 and at 200 000 tracks
  // (docs/tuning.md), for some 20 MiB while the worker runs.
  buildAhead: true,
  /** Whole art images kept in memory, one copy per image. */
  artCacheBytes: 8 * 1024 * 1024,
} as const;

/**
 * SQLite's page cache of the store's other connections, in KiB: the one that
 * polls for edits and the build-ahead worker's. They read a file's rows
 * once, so pages kept for them are not read again; SQLite's own default
 * (2 MiB each) filled with cover images' pages during a scan, memory no
 * budget counted.
 */
export const SIDE_STORE_CACHE_KIB = 256;
