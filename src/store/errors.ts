// The store's one error type. node:sqlite (in Deno) reports every SQLite
// failure as a plain Error with code ERR_SQLITE_ERROR and the SQLite message,
// without the numeric result code, so the kind is recovered from the message.

import { MusefsError } from "../model/mod.ts";

export type StoreErrorKind =
  | "missing" // the database file does not exist and creation was not requested
  | "newer-version" // user_version above what this build supports
  | "old-version" // a read-only open of a store that needs migrating
  | "schema-mismatch" // the store is not shaped as the contract requires
  | "not-a-store" // another program's database, or an empty file where a store must exist
  | "busy" // SQLITE_BUSY / SQLITE_LOCKED after the busy timeout
  | "constraint" // a CHECK / UNIQUE / FOREIGN KEY / NOT NULL / trigger abort
  | "corrupt" // not a database, or a malformed image
  | "readonly" // a write attempted on a read-only connection or file
  | "limit" // a read-time guard tripped (too many rows, over-long value)
  | "not-found" // a row the caller named does not exist
  | "io"; // anything else (open failure, disk error, …)

export class StoreError extends MusefsError {
  override readonly name = "StoreError";
  declare readonly kind: StoreErrorKind;
  constructor(
    kind: StoreErrorKind,
    message: string,
    /** The database file the error concerns. */
    readonly path: string,
    options?: { cause?: unknown },
  ) {
    super(kind, message, path, options);
  }
}

/** Classify a SQLite error message (as node:sqlite reports it). */
export function kindOfSqliteMessage(message: string): StoreErrorKind {
  const m = message.toLowerCase();
  if (m.includes("database is locked") || m.includes("database table is locked")) return "busy";
  if (m.includes("is locked") || m.includes("database is busy")) return "busy";
  if (m.includes("constraint failed") || m.includes("art rows are immutable")) return "constraint";
  if (m.includes("file is not a database") || m.includes("malformed")) return "corrupt";
  if (m.includes("readonly database") || m.includes("read-only")) return "readonly";
  return "io";
}

/**
 * The message of a node:sqlite error, without the statement text it appends
 * for preparation errors (" in <sql> at offset N").
 */
export function sqliteMessage(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  const cut = message.search(/ in \n|\n/);
  return cut >= 0 ? message.slice(0, cut) : message;
}

/** True for an error raised by node:sqlite (as opposed to one thrown by caller code). */
export function isSqliteError(e: unknown): boolean {
  return e instanceof Error && (e as { code?: unknown }).code === "ERR_SQLITE_ERROR";
}

/**
 * Map a node:sqlite error to a StoreError; StoreErrors and errors thrown by
 * caller code (inside a transaction callback) pass through unchanged.
 */
export function rethrowable(e: unknown, path: string): unknown {
  return isSqliteError(e) ? toStoreError(e, path) : e;
}

/** Wrap anything thrown by node:sqlite into a StoreError (StoreErrors pass through). */
export function toStoreError(e: unknown, path: string, context?: string): StoreError {
  if (e instanceof StoreError) return e;
  const message = sqliteMessage(e);
  const kind = kindOfSqliteMessage(message);
  const text = context ? `${context}: ${message}` : message;
  return new StoreError(kind, text, path, { cause: e });
}
