// `musefs vacuum`: rebuild the store file without free pages (VACUUM), then
// fold the write-ahead log back in and truncate it. Sizes are measured over
// the database file plus its -wal and -shm companions, before opening and
// after closing (SQLite removes the companions when the last connection
// closes cleanly).

import { openStore, type Store, StoreError } from "../store/mod.ts";

export type VacuumErrorKind =
  | "missing" // the database file does not exist
  | "in-use"; // another connection holds a lock (a mount, a scan)

export class VacuumError extends Error {
  override readonly name = "VacuumError";
  constructor(
    readonly kind: VacuumErrorKind,
    message: string,
    readonly path: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface VacuumResult {
  path: string;
  /** Bytes of .db + -wal + -shm before. */
  before: number;
  /** Bytes of .db + -wal + -shm after. */
  after: number;
}

export const IN_USE_MESSAGE =
  "the store is in use — unmount the filesystem or stop any scan before vacuuming";

function fileSize(path: string): number {
  try {
    return Deno.statSync(path).size;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return 0;
    throw e;
  }
}

/** Bytes the store occupies on disk: the file and its WAL and shared-memory files. */
export function storeFootprint(path: string): number {
  return fileSize(path) + fileSize(`${path}-wal`) + fileSize(`${path}-shm`);
}

function inUse(e: unknown, path: string): never {
  if (e instanceof StoreError && e.kind === "busy") {
    throw new VacuumError("in-use", IN_USE_MESSAGE, path, { cause: e });
  }
  throw e;
}

/** Compact the store at `path`. Throws VacuumError (missing, in-use) or StoreError. */
export function vacuumStore(path: string): VacuumResult {
  try {
    Deno.statSync(path);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
    throw new VacuumError("missing", `database not found: ${path} (nothing to vacuum)`, path);
  }
  const before = storeFootprint(path);
  let store: Store;
  try {
    store = openStore(path, { mode: "rw" });
  } catch (e) {
    inUse(e, path);
  }
  try {
    store.exec("VACUUM");
    // A reader that keeps its snapshot past the busy timeout (a mount mid-read)
    // stops the checkpoint: the compacted pages stay in the WAL and nothing is
    // reclaimed yet, so report the store as in use rather than "compact".
    const checkpoint = store.get<{ busy: number }>("PRAGMA wal_checkpoint(TRUNCATE)");
    if (checkpoint && checkpoint.busy !== 0) {
      throw new StoreError("busy", "the WAL checkpoint was blocked by a reader", path);
    }
  } catch (e) {
    inUse(e, path);
  } finally {
    store.close();
  }
  return { path, before, after: storeFootprint(path) };
}
