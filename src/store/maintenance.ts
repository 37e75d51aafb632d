// Whole-store maintenance for `musefs vacuum`.

import { StoreError } from "./errors.ts";
import type { Store } from "./open.ts";

/**
 * VACUUM, then truncate the WAL. A store in use by another connection (a
 * mount or a scan) fails with a "busy" StoreError.
 */
export function vacuumStore(store: Store): void {
  if (store.mode !== "rw") {
    throw new StoreError("readonly", "vacuum needs a read-write connection", store.path);
  }
  store.exec("VACUUM");
  const r = store.get<{ busy: number }>("PRAGMA wal_checkpoint(TRUNCATE)");
  if (r && r.busy !== 0) {
    throw new StoreError(
      "busy",
      "the WAL could not be checkpointed: database is locked",
      store.path,
    );
  }
}

/** Bytes on disk of the store: the database file plus its -wal and -shm files. */
export function storeFilesBytes(path: string): number {
  let total = 0;
  for (const suffix of ["", "-wal", "-shm"]) {
    try {
      total += Deno.statSync(path + suffix).size;
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  }
  return total;
}
