// Public API of the scanner: scan and revalidate one target, vacuum a store.
export { type ScanRequest, type ScanStats, scanTarget } from "./scan.ts";
export {
  prune,
  type RevalidateRequest,
  type RevalidateStats,
  revalidateTarget,
} from "./revalidate.ts";
export type { IoTotals, ScanReporter } from "./report.ts";
export type { ChecksumTier } from "./probe_file.ts";
export type { MatchStrictness } from "./moves.ts";
export { ProbeAborted, resolveJobs } from "./pool.ts";
export { WalkError } from "./walk.ts";
