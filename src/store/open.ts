// Opening a store and the connection wrapper every query goes through:
// statements prepared once per connection, errors mapped to StoreError,
// transactions (IMMEDIATE at the top, SAVEPOINT when nested).

import { DatabaseSync, type SQLInputValue, type StatementSync } from "node:sqlite";
import { rethrowable, StoreError, toStoreError } from "./errors.ts";
import { migrate, newerVersionError, readUserVersion, SCHEMA_VERSION } from "./schema.ts";
import { checkIdentity } from "./identity.ts";
import { inspectStoreFile } from "./inspect.ts";

export type StoreMode = "rw" | "ro";

export interface OpenOptions {
  mode: StoreMode;
  /** rw only: create the file when missing (scan). Default false. */
  create?: boolean;
  /** rw only: bulk-write pragmas for scan (synchronous NORMAL, 64 MiB cache, temp in memory). */
  scanTuning?: boolean;
  /** ro only: page cache size in KiB (serving connections use a small one). */
  cacheKiB?: number;
  /**
   * Run PRAGMA foreign_key_check as part of the identity check (default
   * true). It reads every tags/track_art/structural row, so a process opening
   * many connections to one store may skip it after the first.
   */
  foreignKeyCheck?: boolean;
  /**
   * Another thread of this process (the one that started this Worker) holds
   * the store open. The registry below is per thread, so without this a
   * Worker would inspect the file with a descriptor of its own, and closing
   * it drops the POSIX locks the process's other connections hold.
   */
  openElsewhere?: boolean;
}

export const BUSY_TIMEOUT_MS = 5000;

type Row = Record<string, unknown>;

/**
 * Stores this process has open, by real path. A file already open here is
 * known to be a store, and it must not be inspected by opening it outside
 * SQLite: closing any descriptor of a file drops every POSIX lock the process
 * holds on it, SQLite's included, and another process could then checkpoint
 * and delete the WAL under our open connections.
 */
const openHere = new Map<string, number>();

function registryKey(path: string): string {
  try {
    return Deno.realPathSync(path);
  } catch {
    return path;
  }
}

function release(key: string): void {
  const n = (openHere.get(key) ?? 1) - 1;
  if (n <= 0) openHere.delete(key);
  else openHere.set(key, n);
}

/** One open connection to a store. Not shareable across Workers. */
export class Store {
  readonly #statements = new Map<string, StatementSync>();
  #savepointDepth = 0;
  #closed = false;
  /** This connection's entry in `openHere` (file stores only). */
  registryKey: string | null = null;

  constructor(readonly db: DatabaseSync, readonly path: string, readonly mode: StoreMode) {}

  /**
   * The cached prepared statement for `sql` (integers read as bigint when
   * `bigints`, rows as arrays when `arrays`).
   */
  statement(sql: string, bigints = false, arrays = false): StatementSync {
    const key = `${bigints ? "B" : "N"}${arrays ? "A" : "O"}${sql}`;
    let st = this.#statements.get(key);
    if (!st) {
      try {
        st = this.db.prepare(sql);
      } catch (e) {
        throw toStoreError(e, this.path);
      }
      if (bigints) st.setReadBigInts(true);
      if (arrays) st.setReturnArrays(true);
      this.#statements.set(key, st);
    }
    return st;
  }

  run(sql: string, ...params: SQLInputValue[]): { changes: number; lastInsertRowid: number } {
    try {
      const r = this.statement(sql).run(...params);
      return { changes: Number(r.changes), lastInsertRowid: Number(r.lastInsertRowid) };
    } catch (e) {
      throw toStoreError(e, this.path);
    }
  }

  get<T = Row>(sql: string, ...params: SQLInputValue[]): T | undefined {
    try {
      return this.statement(sql).get(...params) as T | undefined;
    } catch (e) {
      throw toStoreError(e, this.path);
    }
  }

  all<T = Row>(sql: string, ...params: SQLInputValue[]): T[] {
    try {
      return this.statement(sql).all(...params) as T[];
    } catch (e) {
      throw toStoreError(e, this.path);
    }
  }

  /** Like `all`, each row an array of its columns in select order (no object per row). */
  allArrays<T extends unknown[]>(sql: string, ...params: SQLInputValue[]): T[] {
    try {
      return this.statement(sql, false, true).all(...params) as unknown as T[];
    } catch (e) {
      throw toStoreError(e, this.path);
    }
  }

  /** Like `get`, with every integer column read as bigint. */
  getBig<T = Row>(sql: string, ...params: SQLInputValue[]): T | undefined {
    try {
      return this.statement(sql, true).get(...params) as T | undefined;
    } catch (e) {
      throw toStoreError(e, this.path);
    }
  }

  /** Like `all`, with every integer column read as bigint. */
  allBig<T = Row>(sql: string, ...params: SQLInputValue[]): T[] {
    try {
      return this.statement(sql, true).all(...params) as T[];
    } catch (e) {
      throw toStoreError(e, this.path);
    }
  }

  /** Run SQL text without caching (DDL, pragmas, multi-statement scripts). */
  exec(sql: string): void {
    try {
      this.db.exec(sql);
    } catch (e) {
      throw toStoreError(e, this.path);
    }
  }

  /** True while a transaction (of ours or an explicit BEGIN) is open. */
  get inTransaction(): boolean {
    return this.db.isTransaction;
  }

  /**
   * Run `fn` atomically: BEGIN IMMEDIATE … COMMIT at the top level (ROLLBACK
   * if it throws), a SAVEPOINT when already inside a transaction. `fn` must be
   * synchronous.
   */
  transaction<T>(fn: () => T): T {
    if (this.db.isTransaction) return this.#savepoint(fn);
    this.exec("BEGIN IMMEDIATE");
    let result: T;
    try {
      result = fn();
      assertNotPromise(result);
      this.exec("COMMIT");
    } catch (e) {
      if (this.db.isTransaction) {
        try {
          this.db.exec("ROLLBACK");
        } catch { /* keep the original error */ }
      }
      throw rethrowable(e, this.path);
    }
    return result;
  }

  /**
   * Open a write batch that spans many calls (and awaits) of the caller:
   * BEGIN IMMEDIATE, so the write lock is taken now. `transaction` inside it
   * nests as savepoints; end it with commitBatch or rollbackBatch.
   */
  beginBatch(): void {
    this.exec("BEGIN IMMEDIATE");
  }

  /** Commit the open batch (nothing when none is open). */
  commitBatch(): void {
    if (this.db.isTransaction) this.exec("COMMIT");
  }

  /** Drop the open batch (nothing when none is open, or the connection already rolled back). */
  rollbackBatch(): void {
    if (!this.db.isTransaction) return;
    try {
      this.db.exec("ROLLBACK");
    } catch { /* SQLite already rolled it back (a failed COMMIT, an I/O error) */ }
  }

  /**
   * Run `fn` inside one read snapshot (BEGIN DEFERRED … ROLLBACK); works on
   * read-only connections. Nested use just runs `fn` in the outer transaction.
   */
  readTransaction<T>(fn: () => T): T {
    if (this.db.isTransaction) return fn();
    this.exec("BEGIN DEFERRED");
    try {
      const result = fn();
      assertNotPromise(result);
      return result;
    } finally {
      if (this.db.isTransaction) {
        try {
          this.db.exec("ROLLBACK");
        } catch { /* a read snapshot has nothing to lose */ }
      }
    }
  }

  #savepoint<T>(fn: () => T): T {
    const name = `musefs_sp${++this.#savepointDepth}`;
    this.exec(`SAVEPOINT ${name}`);
    try {
      const result = fn();
      assertNotPromise(result);
      this.exec(`RELEASE ${name}`);
      return result;
    } catch (e) {
      try {
        this.db.exec(`ROLLBACK TO ${name}`);
        this.db.exec(`RELEASE ${name}`);
      } catch { /* the outer transaction may already be gone */ }
      throw rethrowable(e, this.path);
    } finally {
      this.#savepointDepth--;
    }
  }

  /** `PRAGMA data_version`: changes when another connection commits. */
  dataVersion(): number {
    return (this.get<{ data_version: number }>("PRAGMA data_version"))!.data_version;
  }

  userVersion(): number {
    return readUserVersion(this.db);
  }

  get isOpen(): boolean {
    return !this.#closed;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.registryKey !== null) release(this.registryKey);
    this.#statements.clear();
    try {
      this.db.close();
    } catch (e) {
      throw toStoreError(e, this.path);
    }
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

function assertNotPromise(value: unknown): void {
  if (value instanceof Promise) {
    throw new TypeError("store transactions take synchronous functions only");
  }
}

function isMemoryPath(path: string): boolean {
  return path === ":memory:" || path === "";
}

/**
 * Open the store at `path`.
 * - rw: busy_timeout 5000, foreign_keys ON, WAL (file stores), migrate to
 *   version 2, identity check. `create` allows a missing file to be created.
 * - ro: read-only connection, busy_timeout 5000, identity check; a store
 *   below version 2 is an error (a rw open — `musefs scan` — upgrades it).
 */
export function openStore(path: string, options: OpenOptions): Store {
  const memory = isMemoryPath(path);
  if (!memory && !options.openElsewhere && !openHere.has(registryKey(path))) {
    // Before any write (WAL switch, migration): only a musefs store, or a new
    // empty file when the caller may create one, is opened.
    const creating = options.mode === "rw" && options.create === true;
    const kind = inspectStoreFile(path);
    if (kind === "absent" && !creating) {
      throw new StoreError("missing", `database does not exist: ${path}`, path);
    }
    if (kind === "empty" && !creating) {
      throw new StoreError(
        "not-a-store",
        `${path} is empty, not a musefs store; run \`musefs scan <music> --db ${path}\` ` +
          "to create one",
        path,
      );
    }
  }
  let db: DatabaseSync;
  try {
    db = new DatabaseSync(path, {
      readOnly: options.mode === "ro",
      enableForeignKeyConstraints: options.mode === "rw",
    });
  } catch (e) {
    throw toStoreError(e, path, "cannot open the database");
  }
  const store = new Store(db, path, options.mode);
  if (!memory) {
    store.registryKey = registryKey(path);
    openHere.set(store.registryKey, (openHere.get(store.registryKey) ?? 0) + 1);
  }
  try {
    store.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
    if (options.mode === "rw") {
      store.exec("PRAGMA foreign_keys = ON");
      if (!memory) {
        const row = store.get<{ journal_mode: string }>("PRAGMA journal_mode = WAL");
        if (row?.journal_mode.toLowerCase() !== "wal") {
          throw new StoreError(
            "io",
            `cannot switch ${path} to WAL mode (got ${row?.journal_mode})`,
            path,
          );
        }
      }
      if (options.scanTuning) {
        store.exec("PRAGMA synchronous = NORMAL");
        store.exec("PRAGMA cache_size = -65536");
        store.exec("PRAGMA temp_store = MEMORY");
      }
      migrate(db, path);
    } else {
      if (options.cacheKiB !== undefined) {
        store.exec(`PRAGMA cache_size = -${Math.max(0, Math.floor(options.cacheKiB))}`);
      }
      const version = readUserVersionMapped(store);
      if (version > SCHEMA_VERSION) throw newerVersionError(version, path);
      if (version < SCHEMA_VERSION) {
        throw new StoreError(
          "old-version",
          `store schema version ${version} is older than ${SCHEMA_VERSION}; ` +
            `run \`musefs scan\` (or any read-write open) to upgrade it`,
          path,
        );
      }
    }
    checkIdentity(store, { foreignKeyCheck: options.foreignKeyCheck ?? true });
  } catch (e) {
    try {
      store.close();
    } catch { /* already failing */ }
    throw rethrowable(e, path);
  }
  return store;
}

function readUserVersionMapped(store: Store): number {
  try {
    return readUserVersion(store.db);
  } catch (e) {
    throw toStoreError(e, store.path);
  }
}
