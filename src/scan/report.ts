// How scan and revalidate talk to their caller (the CLI): log lines and
// progress events. Keeps src/scan free of any display concern.

export interface ScanReporter {
  warn(message: string): void;
  info(message: string): void;
  debug(message: string): void;
  /** The walk found another music file (running count). */
  discovered?(found: number): void;
  /** The walk is over: `total` files will be probed (probing may have begun already). */
  walked?(total: number): void;
  /**
   * A batch committed: `done` of `total` files are in the store; `lastPath`
   * the latest. `total` is null while the walk still runs (scan probes as it
   * walks).
   */
  committed?(done: number, total: number | null, lastPath: string): void;
}

/** Reads and work done by the probes (for benchmarks and the debug log). */
export interface IoTotals {
  probeBytes: number;
  preads: number;
  hashBytes: number;
  probed: number;
}

export function newIoTotals(): IoTotals {
  return { probeBytes: 0, preads: 0, hashBytes: 0, probed: 0 };
}
