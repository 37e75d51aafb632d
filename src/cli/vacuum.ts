// `musefs vacuum --db PATH`: compact the store (VACUUM, then the WAL folded
// back in and truncated) and report the space reclaimed. Sizes count the
// database with its -wal and -shm files, before opening and after closing
// (SQLite removes the companions when the last connection closes cleanly).

import { openStore, type Store, StoreError, storeFilesBytes, vacuumStore } from "../store/mod.ts";
import { humanBytes } from "./human.ts";
import type { Io } from "./io.ts";
import type { VacuumOptions } from "./options.ts";
import { CliError, EXIT_OK } from "./errors.ts";
import { otherStoreUser } from "./store_users.ts";

export const IN_USE_MESSAGE =
  "the store is in use — unmount the filesystem or stop any scan before vacuuming";

/** The result line: `vacuumed <path>: <before> → <after> (reclaimed <delta>)`. */
export function vacuumSummary(path: string, before: number, after: number): string {
  if (after >= before) return `vacuumed ${path}: ${humanBytes(after)} (already compact)`;
  return `vacuumed ${path}: ${humanBytes(before)} → ${humanBytes(after)} ` +
    `(reclaimed ${humanBytes(before - after)})`;
}

/** A lock held by another connection (a mount mid-read, a scan) is "in use"; the rest passes. */
function inUse(e: unknown): unknown {
  if (e instanceof StoreError && e.kind === "busy") {
    return new CliError(IN_USE_MESSAGE, { cause: e });
  }
  return e;
}

/**
 * Refuse while another process has the store open — a mount holds its
 * connections between reads, when SQLite's own locks would not show it, and
 * VACUUM under a mount's snapshot reclaims nothing (or waits on it).
 */
function refuseIfInUse(path: string): void {
  const user = otherStoreUser(path);
  if (user === null) return;
  const who = user.command === "" ? `process ${user.pid}` : `process ${user.pid}: ${user.command}`;
  throw new CliError(`${IN_USE_MESSAGE} (open in ${who})`);
}

export function runVacuum(options: VacuumOptions, io: Io): Promise<number> {
  const path = options.db;
  try {
    Deno.statSync(path);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
    throw new CliError(`database not found: ${path} (nothing to vacuum)`);
  }
  refuseIfInUse(path);
  const before = storeFilesBytes(path);
  let store: Store;
  try {
    store = openStore(path, { mode: "rw" });
  } catch (e) {
    throw inUse(e);
  }
  try {
    vacuumStore(store);
  } catch (e) {
    throw inUse(e);
  } finally {
    store.close();
  }
  io.out(vacuumSummary(path, before, storeFilesBytes(path)));
  return Promise.resolve(EXIT_OK);
}
