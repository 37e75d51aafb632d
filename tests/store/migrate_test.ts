// Opening stores: creation, migration 1 → 2, version refusal, missing files.

import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { getTrack, listTextTags, migrate, openStore, SCHEMA_VERSION } from "../../src/store/mod.ts";
import { addTrack, freshStore, objectsOf, storeError } from "./helpers.ts";
import { scratchDir } from "../scratch.ts";

Deno.test("a fresh store is created at version 2 in WAL mode", () => {
  using fresh = freshStore();
  const { store, path } = fresh;
  assert.equal(store.userVersion(), SCHEMA_VERSION);
  const mode = store.db.prepare("PRAGMA journal_mode").get() as { journal_mode: string };
  assert.equal(mode.journal_mode, "wal");
  assert.equal(
    (store.db.prepare("PRAGMA foreign_keys").get() as { foreign_keys: number }).foreign_keys,
    1,
  );
  assert.equal(
    (store.db.prepare("PRAGMA busy_timeout").get() as { timeout: number }).timeout,
    5000,
  );
  const names = objectsOf(path).map((o) => o.name).sort();
  for (
    const n of [
      "tracks",
      "tags",
      "art",
      "track_art",
      "structural_blocks",
      "track_changes",
      "tracks_fingerprint_idx",
      "track_art_art_id_idx",
      "tags_ai",
      "tags_au",
      "tags_ad",
      "track_art_ai",
      "track_art_au",
      "track_art_ad",
      "tracks_changelog_ai",
      "tracks_changelog_au",
      "tracks_changelog_ad",
      "track_changes_prune",
      "art_reject_content_update",
      "art_ad",
      "tracks_geometry_au",
      "structural_blocks_ai",
      "structural_blocks_ad",
    ]
  ) assert.ok(names.includes(n), `${n} exists`);
});

Deno.test("scanTuning sets synchronous NORMAL, 64 MiB cache, temp_store MEMORY", () => {
  using tmp = scratchDir("musefs-store-test-");
  const dir = tmp.path;
  const s = openStore(`${dir}/a.db`, { mode: "rw", create: true, scanTuning: true });
  assert.equal((s.get<{ synchronous: number }>("PRAGMA synchronous"))!.synchronous, 1);
  assert.equal((s.get<{ cache_size: number }>("PRAGMA cache_size"))!.cache_size, -65536);
  assert.equal((s.get<{ temp_store: number }>("PRAGMA temp_store"))!.temp_store, 2);
  s.close();
});

Deno.test("a missing file is an error unless creation is asked for", () => {
  using tmp = scratchDir("musefs-store-test-");
  const dir = tmp.path;
  const path = `${dir}/nope.db`;
  for (
    const opts of [{ mode: "rw" as const }, { mode: "ro" as const }, {
      mode: "ro" as const,
      create: true,
    }]
  ) {
    const e = storeError(() => openStore(path, opts));
    assert.equal(e.kind, "missing");
    assert.equal(e.message, `database does not exist: ${path}`);
    assert.equal(e.path, path);
  }
  assert.throws(() => Deno.statSync(path), Deno.errors.NotFound);
});

Deno.test("a version-1 store is upgraded to 2, keeping its rows", () => {
  using tmp = scratchDir("musefs-store-test-");
  const dir = tmp.path;
  const path = `${dir}/v1.db`;
  const raw = new DatabaseSync(path);
  migrate(raw, path, 1);
  assert.equal(
    (raw.prepare("PRAGMA user_version").get() as { user_version: number }).user_version,
    1,
  );
  const cols =
    (raw.prepare("SELECT name FROM pragma_table_info('tracks')").all() as { name: string }[])
      .map((c) => c.name);
  assert.ok(!cols.includes("fingerprint") && !cols.includes("content_hash"));
  raw.exec(`
    INSERT INTO tracks (id, backing_path, format, audio_offset, audio_length, backing_size,
                        backing_mtime_ns, updated_at) VALUES (7, '/m/a.flac', 'flac', 4, 6, 10, 1, 1);
    INSERT INTO tags (track_id, key, value, ordinal) VALUES (7, 'title', 'Hello', 0);
    INSERT INTO tags (track_id, key, value, ordinal) VALUES (7, 'artist', 'B', 1);
    INSERT INTO tags (track_id, key, value, ordinal) VALUES (7, 'artist', 'A', 0);
    INSERT INTO tags (track_id, key, value, value_blob) VALUES (7, 'PRIV', '', x'0102');`);
  // Within V1's character cap, over V2's byte cap: dropped by the upgrade.
  raw.prepare("INSERT INTO tags (track_id, key, value) VALUES (7, 'huge', ?)").run(
    "é".repeat(200000),
  );
  raw.close();

  const ro = storeError(() => openStore(path, { mode: "ro" }));
  assert.equal(ro.kind, "old-version");
  assert.match(ro.message, /musefs scan/);

  const store = openStore(path, { mode: "rw" });
  try {
    assert.equal(store.userVersion(), 2);
    const t = getTrack(store, 7)!;
    assert.equal(t.backingPath, "/m/a.flac");
    assert.equal(t.fingerprint, null);
    assert.equal(t.contentHash, null);
    assert.deepEqual(listTextTags(store, 7), [
      { key: "artist", value: "A", ordinal: 0 },
      { key: "artist", value: "B", ordinal: 1 },
      { key: "title", value: "Hello", ordinal: 0 },
    ]);
    const blob = store.db.prepare("SELECT value_blob FROM tags WHERE key = 'PRIV'").get() as {
      value_blob: Uint8Array;
    };
    assert.deepEqual([...blob.value_blob], [1, 2]);
    // The rebuilt tags table has its triggers back and the byte cap.
    const before = getTrack(store, 7)!.contentVersion;
    store.db.exec("INSERT INTO tags (track_id, key, value) VALUES (7, 'genre', 'x')");
    assert.equal(getTrack(store, 7)!.contentVersion, before + 1);
    assert.throws(
      () =>
        store.db.prepare("INSERT INTO tags (track_id, key, value) VALUES (7, 'k', ?)").run(
          "é".repeat(131073),
        ),
      /CHECK constraint failed/,
    );
  } finally {
    store.close();
  }
  // Now a read-only open works.
  openStore(path, { mode: "ro" }).close();
});

Deno.test("a store newer than version 2 is refused, rw and ro", () => {
  using fresh = freshStore();
  const { store, path } = fresh;
  store.exec("PRAGMA user_version = 3");
  store.close();
  for (const mode of ["rw", "ro"] as const) {
    const e = storeError(() => openStore(path, { mode }));
    assert.equal(e.kind, "newer-version");
    assert.equal(
      e.message,
      "store schema version 3 is newer than this musefs build supports (max 2)",
    );
  }
});

Deno.test("reopening a current store does not migrate again", () => {
  using fresh = freshStore();
  const { store, path } = fresh;
  const id = addTrack(store, 1);
  store.close();
  const again = openStore(path, { mode: "rw" });
  assert.equal(getTrack(again, id)!.backingPath, "/music/track1.flac");
  assert.equal(again.userVersion(), 2);
  again.close();
});

Deno.test("a file that is not a database is reported as corrupt", () => {
  using tmp = scratchDir("musefs-store-test-");
  const dir = tmp.path;
  const path = `${dir}/junk.db`;
  Deno.writeTextFileSync(path, "not a database ".repeat(400));
  for (const mode of ["rw", "ro"] as const) {
    const e = storeError(() => openStore(path, { mode }));
    assert.equal(e.kind, "corrupt", e.message);
  }
});

Deno.test("a non-musefs database at version 0 is refused before anything is written", () => {
  using tmp = scratchDir("musefs-store-test-");
  const dir = tmp.path;
  const path = `${dir}/other.db`;
  const raw = new DatabaseSync(path);
  raw.exec("CREATE TABLE tracks (x)");
  raw.close();
  const before = Deno.readFileSync(path);
  const e = storeError(() => openStore(path, { mode: "rw", create: true }));
  assert.equal(e.kind, "not-a-store");
  assert.match(e.message, /is not a musefs store: .* \(tables: tracks\)/);
  assert.deepEqual(Deno.readFileSync(path), before);
});
