// What a file is, found without writing to it: opening a store read-write
// switches it to WAL and migrates it, which would turn another program's
// SQLite database (a beets library.db) into a half-musefs file. So every open
// first looks at the file through a read-only connection and refuses what is
// not a musefs store — unless the caller may create one and the file is new
// and empty.

import { DatabaseSync } from "node:sqlite";
import { StoreError, toStoreError } from "./errors.ts";
import { readSqliteHeader } from "./header.ts";
import { newerVersionError, SCHEMA_VERSION } from "./schema.ts";

/** Known foreign databases, by tables that together name them. */
const KNOWN: readonly { name: string; tables: readonly string[] }[] = [
  { name: "a beets library", tables: ["items", "albums"] },
  { name: "a Lidarr database", tables: ["artists", "albums", "versioninfo"] },
  { name: "a Navidrome database", tables: ["media_file", "album"] },
  { name: "a Jellyfin library", tables: ["typedbaseitems"] },
  { name: "a Firefox profile database", tables: ["moz_places"] },
];

export type FileKind = "absent" | "empty" | "store";

function listed(tables: readonly string[]): string {
  const shown = tables.slice(0, 6).join(", ");
  return tables.length > 6 ? `${shown} and ${tables.length - 6} more` : shown;
}

/** What a foreign database looks like, for the error message. */
export function describeForeign(tables: readonly string[]): string {
  const lower = new Set(tables.map((t) => t.toLowerCase()));
  const known = KNOWN.find((k) => k.tables.every((t) => lower.has(t)));
  const what = known?.name ?? "another application's SQLite database";
  return `it looks like ${what} (tables: ${listed(tables)})`;
}

function fileSize(path: string): number | null {
  try {
    return Deno.statSync(path).size;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw new StoreError("io", `cannot stat ${path}: ${(e as Error).message}`, path, {
      cause: e,
    });
  }
}

/**
 * Classify the file at `path` without modifying it: "absent" (no file),
 * "empty" (a 0-byte file or a SQLite database with no tables) or "store" (a
 * musefs store of version 1..SCHEMA_VERSION). Throws StoreError for anything
 * else: "newer-version", "not-a-store" (a foreign database, naming what it
 * looks like), "corrupt" (not SQLite at all).
 */
export function inspectStoreFile(path: string): FileKind {
  const size = fileSize(path);
  if (size === null) return "absent";
  if (size === 0) return "empty";
  const { version, tables } = describeFile(path);
  if (version > SCHEMA_VERSION) throw newerVersionError(version, path);
  if (tables.length === 0 && version === 0) return "empty";
  const lower = new Set(tables.map((t) => t.toLowerCase()));
  // A musefs store gets user_version 1 in the transaction that creates its
  // tables; the identity check then names whatever else is missing.
  if (version >= 1 && lower.has("tracks")) return "store";
  throw new StoreError(
    "not-a-store",
    `${path} is not a musefs store: ${describeForeign(tables)}` +
      (version > 0 ? `, user_version ${version}` : "") +
      `; point --db at a musefs store, or at a new file for \`musefs scan\` to create`,
    path,
  );
}

/**
 * user_version and table names: from the file's first page when it is the
 * whole truth (no -wal or -journal beside it, schema on one page), which
 * leaves no trace; otherwise through a read-only connection (its companion
 * files exist already).
 */
function describeFile(path: string): { version: number; tables: string[] } {
  let header;
  try {
    header = readSqliteHeader(path);
  } catch (e) {
    throw new StoreError("io", `cannot read ${path}: ${(e as Error).message}`, path, {
      cause: e,
    });
  }
  if (header === null) throw new StoreError("corrupt", "file is not a database", path);
  const settled = fileSize(`${path}-wal`) === null && fileSize(`${path}-journal`) === null;
  if (settled) {
    // A newer version is refused on the header alone; the tables are not needed.
    if (header.userVersion > SCHEMA_VERSION) throw newerVersionError(header.userVersion, path);
    if (header.tables !== null) return { version: header.userVersion, tables: header.tables };
  }
  let db: DatabaseSync;
  try {
    db = new DatabaseSync(path, { readOnly: true });
  } catch (e) {
    throw toStoreError(e, path, "cannot open the database");
  }
  try {
    const version =
      (db.prepare("PRAGMA user_version").get() as { user_version: number }).user_version;
    const tables = (db.prepare(
      "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' " +
        "ESCAPE '\\' ORDER BY name",
    ).all() as { name: string }[]).map((r) => r.name);
    return { version, tables };
  } catch (e) {
    throw toStoreError(e, path, "cannot read the database");
  } finally {
    try {
      db.close();
    } catch { /* nothing was written */ }
  }
}
