// Shared helpers for the store tests: temp stores on disk, sample rows.

import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import {
  openStore,
  type Store,
  StoreError,
  type TrackInput,
  upsertTrack,
} from "../../src/store/mod.ts";
import { closing, scratchDir } from "../scratch.ts";

export function tempDir(): string {
  return Deno.makeTempDirSync({ prefix: "musefs-store-test-" });
}

/** A fresh rw store in its own temp directory; disposing it closes the store and removes the dir. */
export interface FreshStore extends Disposable {
  store: Store;
  path: string;
  dir: string;
}

/** A fresh rw store in its own temp directory: `using fresh = freshStore()`. */
export function freshStore(prefix = "musefs-store-test-"): FreshStore {
  const scratch = scratchDir(prefix);
  const dir = scratch.path;
  const path = `${dir}/lib.db`;
  const store = openStore(path, { mode: "rw", create: true });
  return {
    store,
    path,
    dir,
    [Symbol.dispose]: () => {
      store.close(); // a no-op when the test closed it already
      scratch[Symbol.dispose]();
    },
  };
}

export function cleanup(dir: string): void {
  Deno.removeSync(dir, { recursive: true });
}

/** A test body run on a fresh store holding track 1 (its id is passed) and art row 1. */
export function withTrackAndArt(fn: (store: Store, trackId: number) => void): () => void {
  return () => {
    using fresh = freshStore();
    const id = addTrack(fresh.store, 1);
    fresh.store.db.exec(
      `INSERT INTO art (id, sha256, mime, byte_len, data) VALUES (1, '${
        "a".repeat(64)
      }', 'image/png', 2, x'0102')`,
    );
    fn(fresh.store, id);
  };
}

/** The StoreError `fn` throws (fails when it throws something else or nothing). */
export function storeError(fn: () => unknown): StoreError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof StoreError, `expected a StoreError, got ${e}`);
    return e;
  }
  assert.fail("expected an error");
}

export const NS_2025 = 1_760_000_000_123_456_789n;

export function sampleTrack(n: number, over: Partial<TrackInput> = {}): TrackInput {
  return {
    backingPath: `/music/track${n}.flac`,
    format: "flac",
    audioOffset: 100,
    audioLength: 900,
    backingSize: 1000,
    backingMtimeNs: NS_2025 + BigInt(n),
    backingCtimeNs: NS_2025 + BigInt(n) + 5n,
    ...over,
  };
}

export function addTrack(store: Store, n: number, over: Partial<TrackInput> = {}): number {
  return upsertTrack(store, sampleTrack(n, over));
}

/** content_version and updated_at of a track, read raw. */
export function versionOf(store: Store, id: number): { cv: number; at: number } {
  return store.db.prepare(
    "SELECT content_version AS cv, updated_at AS at FROM tracks WHERE id = ?",
  ).get(id) as { cv: number; at: number };
}

export function objectsOf(path: string): { type: string; name: string; sql: string | null }[] {
  using db = closing(new DatabaseSync(path, { readOnly: true }));
  return db.prepare(
    "SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY rowid",
  ).all() as { type: string; name: string; sql: string | null }[];
}

/**
 * Create a store at `path` from explicit DDL statements (tables first, then
 * indexes, then triggers) stamped with `version` — how tests build stores
 * that differ from ours in text or in shape.
 */
export function storeFromStatements(path: string, statements: string[], version = 2): void {
  using db = closing(new DatabaseSync(path));
  for (const s of statements) db.exec(s);
  db.exec(`PRAGMA user_version = ${version}`);
}

/** The DDL statements of a fresh store of ours, in a replayable order. */
export function ourStatements(): string[] {
  using tmp = scratchDir("musefs-store-test-");
  const dir = tmp.path;
  const { store, path } = {
    store: openStore(`${dir}/ref.db`, { mode: "rw", create: true }),
    path: `${dir}/ref.db`,
  };
  store.close();
  const order = ["table", "index", "trigger"];
  return objectsOf(path).filter((o) => o.sql !== null)
    .sort((a, b) => order.indexOf(a.type) - order.indexOf(b.type))
    .map((o) => o.sql!);
}
