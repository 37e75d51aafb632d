// Freshness: whatever changes under a live library — tags or art edited with
// SQL, a backing file replaced, touched (ctime only) or deleted, a track
// retargeted to a new path — the library never serves stale bytes: it serves
// the new file, or answers EIO (drift) / ENOENT (gone).

import assert from "node:assert/strict";
import { FsError } from "../../src/core/api.ts";
import { openLibrary } from "../../src/core/library.ts";
import type { MusefsLibrary } from "../../src/core/library.ts";
import { assemble, expectedBytes, fixtureStore, readAll, restamp } from "./ingest.ts";
import { closing } from "../scratch.ts";
import type { Store } from "../../src/store/mod.ts";

function inodeOf(lib: MusefsLibrary, id: number): number {
  const ino = lib.tree.inodeOfTrack(id);
  assert.ok(ino !== undefined);
  return ino;
}

function assertErrno(fn: () => unknown, errno: string, what: string): void {
  assert.throws(fn, (e: unknown) => e instanceof FsError && e.errno === errno, what);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

Deno.test("a tag edit is served by the next open and getattr, even before a poll", async () => {
  using t = await fixtureStore(["flac", "mp3_v24"]);
  using lib = closing(openLibrary(t.db, { pollIntervalMs: 60_000 }));
  for (const { id } of t.tracks.values()) {
    const ino = inodeOf(lib, id);
    const before = readAll(lib, ino);
    t.store.run(
      "UPDATE tags SET value = ? WHERE track_id = ? AND key = 'title'",
      "A much longer title than before, to change the size",
      id,
    );
    const expected = expectedBytes(t.store, id);
    assert.ok(!sameBytes(before, expected));
    assert.equal(lib.getattr(ino).size, expected.length, "getattr sees the new size");
    assert.ok(sameBytes(readAll(lib, ino), expected), "a new open serves the edit");
  }
});

Deno.test("a replaced backing file answers EIO, never the wrong bytes", async () => {
  using t = await fixtureStore(["flac", "wav"]);
  using lib = closing(openLibrary(t.db, { pollIntervalMs: 0 }));
  const flac = t.tracks.get("flac")!;
  const ino = inodeOf(lib, flac.id);
  const { fh } = lib.open(ino, 0);
  assemble(lib.read(fh, ino, 0, 1000));
  // Replace in place (same inode, new content): only the per-read fstat can see it.
  const bytes = Deno.readFileSync(flac.path);
  bytes[bytes.length - 1] ^= 0xff;
  Deno.writeFileSync(flac.path, bytes.subarray(0, bytes.length - 100));
  assertErrno(() => lib.read(fh, ino, 0, 1000), "EIO", "held handle");
  assertErrno(() => lib.getattr(ino), "EIO", "getattr");
  assertErrno(() => lib.open(ino, 0), "EIO", "open");
  assertErrno(() => lib.read(0, ino, 0, 100), "EIO", "stateless read");
  lib.release(fh);
  // Replace by rename (a new inode): the held fd still sees the old file,
  // but the store's stamp no longer matches what is at the path.
  const wav = t.tracks.get("wav")!;
  const wino = inodeOf(lib, wav.id);
  Deno.copyFileSync(wav.path, `${t.dir}/tmp.wav`);
  Deno.renameSync(`${t.dir}/tmp.wav`, wav.path);
  assertErrno(() => lib.open(wino, 0), "EIO", "open after rename-replace");
});

Deno.test("a ctime-only change (chmod) is drift for new opens; open handles keep reading", async () => {
  using t = await fixtureStore(["opus"]);
  using lib = closing(openLibrary(t.db, { pollIntervalMs: 0 }));
  const { id, path } = t.tracks.get("opus")!;
  const ino = inodeOf(lib, id);
  const expected = expectedBytes(t.store, id);
  assert.ok(sameBytes(readAll(lib, ino), expected));
  const { fh } = lib.open(ino, 0);
  Deno.chmodSync(path, 0o640);
  // The bytes did not change: a handle opened before keeps its file (as across a rename).
  assert.ok(sameBytes(assemble(lib.read(fh, ino, 0, 100)), expected.subarray(0, 100)));
  assertErrno(() => lib.getattr(ino), "EIO", "getattr after chmod (size cache hit)");
  assertErrno(() => lib.open(ino, 0), "EIO", "open after chmod (header cache hit)");
  // What revalidate does: record the new stamp (ctime does not bump content_version).
  restamp(t.store, id);
  assert.equal(lib.getattr(ino).size, expected.length);
  assert.ok(sameBytes(readAll(lib, ino), expected), "served again after the restamp");
  lib.poll();
  assert.ok(sameBytes(assemble(lib.read(fh, ino, 0, expected.length)), expected), "held handle");
  lib.release(fh);
});

Deno.test("a deleted backing file answers ENOENT", async () => {
  using t = await fixtureStore(["mp3_v23"]);
  using lib = closing(openLibrary(t.db, { pollIntervalMs: 0 }));
  const { id, path } = t.tracks.get("mp3_v23")!;
  const ino = inodeOf(lib, id);
  lib.getattr(ino);
  Deno.removeSync(path);
  assertErrno(() => lib.getattr(ino), "ENOENT", "getattr");
  assertErrno(() => lib.open(ino, 0), "ENOENT", "open");
});

Deno.test("a track retargeted to a new path serves the new file (path is part of the cache key)", async () => {
  using t = await fixtureStore(["wav"]);
  using lib = closing(openLibrary(t.db, { pollIntervalMs: 0 }));
  const { id, path } = t.tracks.get("wav")!;
  const ino = inodeOf(lib, id);
  const before = readAll(lib, ino);
  // A moved copy with different audio bytes but the same size and mtime: the
  // retarget changes only backing_path and ctime, which content_version ignores.
  const moved = `${t.dir}/moved.wav`;
  const bytes = Deno.readFileSync(path);
  const row = t.store.get<{ o: number }>(
    "SELECT audio_offset AS o FROM tracks WHERE id = ?",
    id,
  )!;
  for (let i = row.o; i < row.o + 64; i++) bytes[i] ^= 0x5a;
  Deno.writeFileSync(moved, bytes);
  // touch -r copies the mtime to the nanosecond.
  const touch = new Deno.Command("touch", { args: ["-r", path, moved] }).outputSync();
  assert.equal(touch.code, 0);
  const cv = t.store.get<{ v: number }>("SELECT content_version AS v FROM tracks WHERE id = ?", id)!
    .v;
  t.store.run("UPDATE tracks SET backing_path = ? WHERE id = ?", moved, id);
  restamp(t.store, id);
  Deno.removeSync(path);
  const cvAfter = t.store.get<{ v: number }>(
    "SELECT content_version AS v FROM tracks WHERE id = ?",
    id,
  )!.v;
  const expected = expectedBytes(t.store, id);
  assert.ok(!sameBytes(before, expected), "the moved file differs");
  assert.equal(cvAfter, cv, "content_version unchanged: a cv-keyed cache would be stale");
  assert.equal(lib.getattr(ino).size, expected.length);
  assert.ok(sameBytes(readAll(lib, ino), expected), "served from the new path");
});

Deno.test("an orphaned art reference answers EIO to new opens; a held handle keeps the image it opened with while it is in memory", async () => {
  for (const artCacheBytes of [8 << 20, 0]) {
    using t = await fixtureStore(["flac"]);
    using lib = closing(openLibrary(t.db, { pollIntervalMs: 0, artCacheBytes }));
    const { id } = t.tracks.get("flac")!;
    const ino = inodeOf(lib, id);
    readAll(lib, ino);
    const before = expectedBytes(t.store, id);
    const { fh } = lib.open(ino, 0);
    // A hostile writer: foreign keys off, the art row deleted under its link.
    t.store.exec("PRAGMA foreign_keys = OFF");
    const artId = t.store.get<{ a: number }>(
      "SELECT art_id AS a FROM track_art WHERE track_id = ? ORDER BY ordinal LIMIT 1",
      id,
    )!.a;
    t.store.run("DELETE FROM art WHERE id = ?", artId);
    t.store.exec("PRAGMA foreign_keys = ON");
    assertErrno(() => lib.open(ino, 0), "EIO", "open");
    if (artCacheBytes > 0) {
      // Checked when the handle opened and still cached: the version it opened, exactly.
      assert.ok(sameBytes(assemble(lib.read(fh, ino, 0, before.length)), before), "held handle");
    } else {
      // Nothing in memory: the image is read from the store, where it is gone.
      assertErrno(() => lib.read(fh, ino, 0, 200_000), "EIO", "held handle reading the art");
    }
    lib.release(fh);
  }
});

Deno.test("a held handle keeps the version it opened across edits; new opens see the edit", async () => {
  using t = await fixtureStore(["flac", "mp3_v24", "opus", "m4a_moov_last"]);
  using lib = closing(openLibrary(t.db, { pollIntervalMs: 0 }));
  for (const { id } of t.tracks.values()) {
    const ino = inodeOf(lib, id);
    const { fh } = lib.open(ino, 0);
    const before = expectedBytes(t.store, id);
    // The first half before the edit, the rest after it (and after a poll).
    const half = Math.floor(before.length / 2);
    const head = assemble(lib.read(fh, ino, 0, half));
    t.store.run(
      "UPDATE tags SET value = 'Retitled while open, and longer' WHERE track_id = ? AND key = 'title'",
      id,
    );
    lib.poll();
    const after = expectedBytes(t.store, id);
    assert.ok(!sameBytes(before, after));
    const tail = assemble(lib.read(fh, ino, half, before.length));
    const got = new Uint8Array(head.length + tail.length);
    got.set(head);
    got.set(tail, head.length);
    assert.ok(sameBytes(got, before), "the open handle read the version it opened, not a mix");
    // Whole header again (art streamed from the store: art rows are immutable).
    assert.ok(sameBytes(assemble(lib.read(fh, ino, 0, before.length)), before), "re-read");
    assert.ok(sameBytes(readAll(lib, inodeOf(lib, id)), after), "a new open serves the edit");
    lib.release(fh);
  }
});

Deno.test("a held handle serving binary tags answers EIO for them after an edit, audio still reads", async () => {
  using t = await fixtureStore(["flac"]);
  using lib = closing(openLibrary(t.db, { pollIntervalMs: 0 }));
  const { id } = t.tracks.get("flac")!;
  // An APPLICATION block, streamed from the tags table (binary tags change in place).
  t.store.run(
    "INSERT INTO tags (track_id, key, value, ordinal, value_blob) VALUES (?, 'APPLICATION', '', 0, ?)",
    id,
    new Uint8Array([0x74, 0x65, 0x73, 0x74, 1, 2, 3, 4]),
  );
  lib.poll();
  const ino = inodeOf(lib, id);
  const { fh } = lib.open(ino, 0);
  const opened = expectedBytes(t.store, id);
  assert.ok(sameBytes(assemble(lib.read(fh, ino, 0, opened.length)), opened));
  t.store.run(
    "UPDATE tags SET value_blob = ? WHERE track_id = ? AND key = 'APPLICATION'",
    new Uint8Array([0x74, 0x65, 0x73, 0x74, 9, 9, 9, 9]),
    id,
  );
  lib.poll();
  assertErrno(() => lib.read(fh, ino, 0, opened.length), "EIO", "the edited binary tag");
  // The audio at the end is the backing file's: still the opened version.
  const tail = assemble(lib.read(fh, ino, opened.length - 1000, 1000));
  assert.ok(sameBytes(tail, opened.subarray(opened.length - 1000)));
  lib.release(fh);
});

Deno.test("an image replaced under the same art id is read again: the cache trusts an image only at the data_version it was checked at", async () => {
  using t = await fixtureStore(["flac", "mp3_v24"]);
  using lib = closing(openLibrary(t.db, { pollIntervalMs: 0 }));
  const ids = [...t.tracks.values()].map((x) => x.id);
  for (const id of ids) {
    assert.ok(sameBytes(readAll(lib, inodeOf(lib, id)), expectedBytes(t.store, id)), "first read");
  }
  // Every image is cached and checked now; reading again serves the cache.
  for (const id of ids) {
    assert.ok(sameBytes(readAll(lib, inodeOf(lib, id)), expectedBytes(t.store, id)), "re-read");
  }
  // A hostile writer swaps the bytes behind one art id (same length, new content).
  const art = t.store.get<{ id: number; data: Uint8Array; mime: string }>(
    "SELECT a.id, a.data, a.mime FROM art a JOIN track_art l ON l.art_id = a.id " +
      "WHERE l.track_id = ? ORDER BY l.ordinal LIMIT 1",
    ids[0],
  )!;
  const swapped = art.data.map((b, i) => i < 16 ? b : b ^ 0x5a);
  const sha = Array.from(new Uint8Array(await crypto.subtle.digest("SHA-256", swapped)))
    .map((b) => b.toString(16).padStart(2, "0")).join("");
  t.store.exec("PRAGMA foreign_keys = OFF");
  t.store.run("DELETE FROM art WHERE id = ?", art.id);
  t.store.run(
    "INSERT INTO art (id, sha256, mime, byte_len, data) VALUES (?, ?, ?, ?, ?)",
    art.id,
    sha,
    art.mime,
    swapped.length,
    swapped,
  );
  t.store.exec("PRAGMA foreign_keys = ON");
  const served = readAll(lib, inodeOf(lib, ids[0]));
  assert.ok(sameBytes(served, expectedBytes(t.store, ids[0])), "the store's current image");
  const at = served.findIndex((_, i) =>
    sameBytes(served.subarray(i, i + 64), swapped.subarray(0, 64))
  );
  assert.ok(at > 0, "the swapped image is in the served file");
});

/** Put `data` under art id `id` in place of its image (what only a hostile writer does). */
async function replaceArt(
  t: { store: Store },
  id: number,
  mime: string,
  data: Uint8Array<ArrayBuffer>,
) {
  const sha = Array.from(new Uint8Array(await crypto.subtle.digest("SHA-256", data)))
    .map((b) => b.toString(16).padStart(2, "0")).join("");
  t.store.exec("PRAGMA foreign_keys = OFF");
  t.store.run("DELETE FROM art WHERE id = ?", id);
  t.store.run(
    "INSERT INTO art (id, sha256, mime, byte_len, data) VALUES (?, ?, ?, ?, ?)",
    id,
    sha,
    mime,
    data.length,
    data,
  );
  t.store.exec("PRAGMA foreign_keys = ON");
}

Deno.test("an Ogg cover replaced under the same art id: the next build checksums the new image's pages", async () => {
  using t = await fixtureStore(["opus", "ogg_vorbis", "ogg_flac"]);
  const arts = t.store.all<{ id: number; mime: string }>("SELECT id, mime FROM art");
  assert.ok(arts.length > 0, "the fixtures carry art");
  // Covers of 20 KB: longer than the CRC tables' checkpoints, so stale tables would show.
  const big = (seed: number) => Uint8Array.from({ length: 20_000 }, (_, i) => (i * seed) & 0xff);
  for (const art of arts) await replaceArt(t, art.id, art.mime, big(7919 + 2 * art.id));
  using lib = closing(openLibrary(t.db, { pollIntervalMs: 0, speculate: false }));
  const ids = [...t.tracks.values()].map((x) => x.id);
  for (const id of ids) {
    assert.ok(sameBytes(readAll(lib, inodeOf(lib, id)), expectedBytes(t.store, id)), "first read");
  }
  // Each image swapped for other bytes of the same length, then every track retagged (rebuilt).
  for (const art of arts) await replaceArt(t, art.id, art.mime, big(104729 + 2 * art.id));
  for (const id of ids) {
    t.store.run("UPDATE tags SET value = value || '!' WHERE track_id = ? AND key = 'title'", id);
  }
  lib.poll();
  for (const [name, { id }] of t.tracks) {
    // The writer's own connection keeps no CRC tables: its expected bytes read every slice.
    assert.ok(
      sameBytes(readAll(lib, inodeOf(lib, id)), expectedBytes(t.store, id)),
      `${name}: pages checksummed over the new image`,
    );
  }
});
