// Shared helpers for the store tests: temp stores on disk, sample rows.

import { DatabaseSync } from "node:sqlite";
import { openStore, type Store, type TrackInput, upsertTrack } from "../../src/store/mod.ts";

export function tempDir(): string {
  return Deno.makeTempDirSync({ prefix: "musefs-store-test-" });
}

/** A fresh rw store in its own temp directory. */
export function freshStore(): { store: Store; path: string; dir: string } {
  const dir = tempDir();
  const path = `${dir}/lib.db`;
  return { store: openStore(path, { mode: "rw", create: true }), path, dir };
}

export function cleanup(dir: string): void {
  Deno.removeSync(dir, { recursive: true });
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
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    return db.prepare(
      "SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY rowid",
    ).all() as { type: string; name: string; sql: string | null }[];
  } finally {
    db.close();
  }
}

/**
 * Create a store at `path` from explicit DDL statements (tables first, then
 * indexes, then triggers) stamped with `version` — how tests build stores
 * that differ from ours in text or in shape.
 */
export function storeFromStatements(path: string, statements: string[], version = 2): void {
  const db = new DatabaseSync(path);
  try {
    for (const s of statements) db.exec(s);
    db.exec(`PRAGMA user_version = ${version}`);
  } finally {
    db.close();
  }
}

/** The DDL statements of a fresh store of ours, in a replayable order. */
export function ourStatements(): string[] {
  const dir = tempDir();
  try {
    const { store, path } = {
      store: openStore(`${dir}/ref.db`, { mode: "rw", create: true }),
      path: `${dir}/ref.db`,
    };
    store.close();
    const order = ["table", "index", "trigger"];
    return objectsOf(path).filter((o) => o.sql !== null)
      .sort((a, b) => order.indexOf(a.type) - order.indexOf(b.type))
      .map((o) => o.sql!);
  } finally {
    cleanup(dir);
  }
}
