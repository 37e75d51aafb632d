// Other writers and readers of the same store file: the python plugins'
// writes (stdlib sqlite3, as python-musefs does them) and read-only
// connections that must see committed data and data_version changes.

import assert from "node:assert/strict";
import {
  changelogSince,
  getTrack,
  listTextTags,
  listTrackArt,
  openStore,
  readArt,
  replaceBinaryTags,
  replaceTextTags,
  sha256Hex,
  type Store,
  upsertArt,
} from "../../src/store/mod.ts";
import { addTrack, cleanup, freshStore } from "./helpers.ts";

const SCRIPT = decodeURIComponent(new URL("./external_writer.py", import.meta.url).pathname);

async function pythonWrite(db: string, ops: unknown[]): Promise<unknown[]> {
  const out = await new Deno.Command("/usr/bin/python3", {
    args: [SCRIPT, db, JSON.stringify(ops)],
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.ok(out.success, `external writer failed: ${stderr}`);
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

function hex(bytes: Uint8Array): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}

Deno.test("python plugin writes are seen by our store layer", async () => {
  const { store, path, dir } = freshStore();
  let mount: Store | undefined;
  try {
    const a = addTrack(store, 1);
    const b = addTrack(store, 2);
    replaceTextTags(store, a, [
      { key: "title", value: "Old", ordinal: 0 },
      { key: "MyKey", value: "native case", ordinal: 0 },
      { key: "album", value: "Kept", ordinal: 0 },
    ]);
    replaceBinaryTags(store, a, [{ key: "PRIV", ordinal: 0, data: new Uint8Array([1, 2]) }]);
    const existing = upsertArt(store, {
      mime: "image/png",
      width: 5,
      height: 5,
      data: new Uint8Array([9, 9, 9]),
    });
    store.close();

    // A mount's read-only connection stays open across the external write.
    mount = openStore(path, { mode: "ro" });
    const dv = mount.dataVersion();
    const last = changelogSince(mount, 0n).maxSeq;
    const cvA = getTrack(mount, a)!.contentVersion;
    const cvB = getTrack(mount, b)!.contentVersion;

    const image = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 7]);
    const results = await pythonWrite(path, [
      { op: "merge_tags", track_id: a, tags: { mykey: ["merged"], genre: ["Jazz", "Blues"] } },
      { op: "replace_tags", track_id: b, tags: { title: ["B title"], artist: ["X", "Y"] } },
      { op: "upsert_art", data_hex: hex(image), mime: "image/png" },
      { op: "upsert_art", data_hex: "090909", mime: "image/jpeg" }, // exists: reuses the row
      { op: "relink_art", track_id: b, links: [["$2", 3, "front"], ["$3", 4, "back"]] },
    ]);
    assert.equal(results[3], existing);

    assert.notEqual(mount.dataVersion(), dv, "data_version moves after an external commit");
    const changes = changelogSince(mount, last);
    assert.deepEqual(changes.changedIds, [a, b]);
    assert.ok(changes.minSeq <= last + 1n && changes.maxSeq > last);
    assert.ok(getTrack(mount, a)!.contentVersion > cvA);
    assert.ok(getTrack(mount, b)!.contentVersion > cvB);

    // merge: the managed key replaced case-insensitively, other keys untouched.
    assert.deepEqual(listTextTags(mount, a).map((t) => `${t.key}:${t.ordinal}=${t.value}`), [
      "album:0=Kept",
      "genre:0=Jazz",
      "genre:1=Blues",
      "mykey:0=merged",
      "title:0=Old",
    ]);
    // replace: text rows only, ordinals per key from 0.
    assert.deepEqual(listTextTags(mount, b).map((t) => `${t.key}:${t.ordinal}=${t.value}`), [
      "artist:0=X",
      "artist:1=Y",
      "title:0=B title",
    ]);
    const art = listTrackArt(mount, b);
    assert.deepEqual(art.map((r) => [r.artId, r.pictureType, r.description, r.mime]), [
      [results[2], 3, "front", "image/png"],
      [existing, 4, "back", "image/png"], // the existing row's mime wins
    ]);
    assert.equal(art[0].width, null);
    assert.deepEqual(readArt(mount, art[0].artId, 0, image.length), image);
    assert.equal(sha256Hex(readArt(mount, art[0].artId, 0, image.length)), sha256Hex(image));

    // The plugin wrote into a store we created; it still passes our identity check.
    openStore(path, { mode: "rw" }).close();
  } finally {
    mount?.close();
    cleanup(dir);
  }
});

Deno.test("a plugin write violating a CHECK rolls back only that record", async () => {
  using fresh = freshStore();
  const { store, path } = fresh;
  const a = addTrack(store, 1);
  replaceTextTags(store, a, [{ key: "title", value: "Keep", ordinal: 0 }]);
  const out = await new Deno.Command("/usr/bin/python3", {
    args: [
      SCRIPT,
      path,
      JSON.stringify([{ op: "replace_tags", track_id: a, tags: { "bad\u0001": ["x"] } }]),
    ],
  }).output();
  assert.equal(out.success, false);
  assert.match(new TextDecoder().decode(out.stderr), /CHECK constraint failed/);
  assert.deepEqual(listTextTags(store, a), [{ key: "title", value: "Keep", ordinal: 0 }]);
});

Deno.test("a read-only connection sees new commits of another connection", () => {
  using fresh = freshStore();
  const { store, path } = fresh;
  using ro = openStore(path, { mode: "ro" });
  assert.equal(ro.mode, "ro");
  const dv = ro.dataVersion();
  assert.equal(ro.dataVersion(), dv, "stable without writes");
  const id = addTrack(store, 1);
  assert.notEqual(ro.dataVersion(), dv);
  assert.equal(getTrack(ro, id)!.backingPath, "/music/track1.flac");
  const dv2 = ro.dataVersion();
  replaceTextTags(store, id, [{ key: "title", value: "T", ordinal: 0 }]);
  assert.notEqual(ro.dataVersion(), dv2);
  assert.deepEqual(listTextTags(ro, id), [{ key: "title", value: "T", ordinal: 0 }]);

  // A read snapshot is stable while the writer commits.
  ro.readTransaction(() => {
    const before = listTextTags(ro, id);
    replaceTextTags(store, id, [{ key: "title", value: "U", ordinal: 0 }]);
    assert.deepEqual(listTextTags(ro, id), before);
  });
  assert.deepEqual(listTextTags(ro, id), [{ key: "title", value: "U", ordinal: 0 }]);

  // Writes are refused on the read-only connection.
  assert.throws(() => addTrack(ro, 2), (e: Error & { kind?: string }) => e.kind === "readonly");
});

Deno.test("a writer blocked past busy_timeout gets a busy StoreError", async () => {
  using fresh = freshStore();
  const { store, path } = fresh;
  // python holds the write lock; our busy timeout is shortened so the test stays quick.
  const holder = new Deno.Command("/usr/bin/python3", {
    args: [
      "-c",
      "import sqlite3,sys,time; c=sqlite3.connect(sys.argv[1], isolation_level=None); " +
      "c.execute('BEGIN IMMEDIATE'); print('locked', flush=True); time.sleep(3); c.execute('ROLLBACK')",
      path,
    ],
    stdout: "piped",
  }).spawn();
  const reader = holder.stdout.getReader();
  await reader.read(); // "locked"
  store.exec("PRAGMA busy_timeout = 100");
  assert.throws(() => addTrack(store, 1), (e: Error & { kind?: string }) => e.kind === "busy");
  reader.releaseLock();
  holder.kill("SIGTERM");
  await holder.stdout.cancel();
  await holder.status;
});
