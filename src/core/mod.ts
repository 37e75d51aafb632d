// Public API of the library core: open a library for the FUSE server, or
// walk it for `mount --dry-run`.
export { MAX_DIR_SNAPSHOTS, MusefsLibrary, openLibrary, READ_ATTEMPTS } from "./library.ts";
export type { LibraryOptions, ResolvedLibraryOptions } from "./options.ts";
export { resolveOptions } from "./options.ts";
export { DRY_RUN_SAMPLES, dryRun, dryRunLines, type DryRunSummary, walkTree } from "./dry_run.ts";
export * from "./defaults.ts";
export { BackingChangedError, ReadRaceError, toFsError, TrackGoneError } from "./errors.ts";
export { type BackingStamp, fstatStamp, nativeStamps, stampsMatch, statStamp } from "./stamp.ts";
export * from "./api.ts";
// The one non-blocking read of backing bytes, and the holds the I/O pool takes on fds it reads.
export { holdBacking, readNow, releaseBacking } from "./backing.ts";
export { RESERVED_ROOT_NAME } from "./names.ts";
