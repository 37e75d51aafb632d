// The server's defaults and protocol limits, stated once. Constants only and
// no imports: the command line's flag table shows them without loading the
// server.

export const SERVE_DEFAULTS = {
  /** Entry and attribute TTL the kernel may cache for. */
  attrTtlMs: 1000,
  /** INIT max_readahead, KiB. */
  maxReadaheadKib: 512,
  /** INIT max_background. */
  maxBackground: 64,
  /** The connection's read_ahead_kb when root may raise it (0 leaves it). */
  readAheadKib: 1024,
} as const;

/** The largest read we negotiate and serve: 1 MiB (max_read and max_pages 256). */
export const MAX_READ = 1 << 20;

/** Reads handed to I/O workers at once at most; more are answered EAGAIN. */
export const INFLIGHT_MAX = 1024;
