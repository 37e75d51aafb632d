// The typed query functions: tracks, tags, art, structural blocks, changelog,
// transactions and the read-time guards.

import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import {
  changelogHasGap,
  changelogSince,
  contentVersion,
  deleteTrack,
  deleteUnreferencedArt,
  getArtMeta,
  getTrack,
  getTrackByPath,
  getTracks,
  hasStructuralBlocks,
  listBackingPaths,
  listBinaryTagRefs,
  listRenderKeys,
  listStructuralBlocks,
  listTextTags,
  listTrackArt,
  listTrackIds,
  listTracks,
  MAX_ROWS_PER_TRACK,
  openStore,
  readArt,
  readBinaryTag,
  replaceBinaryTags,
  replaceStructuralBlocks,
  replaceTextTags,
  replaceTrackArt,
  replaceTrackPictures,
  retargetTrack,
  setTrackChecksums,
  sha256Hex,
  type Store,
  storeFilesBytes,
  tagsForTracks,
  tracksByFingerprint,
  upsertArt,
  upsertTrack,
  vacuumStore,
} from "../../src/store/mod.ts";
import { storeBlobSource } from "../../src/core/blobs.ts";
import { addTrack, freshStore, NS_2025, sampleTrack, storeError, versionOf } from "./helpers.ts";

function withStore(fn: (store: Store) => void): () => void {
  return () => {
    using fresh = freshStore();
    const { store } = fresh;
    fn(store);
  };
}

const FP = "f".repeat(64);
const HASH = "c".repeat(64);

Deno.test(
  "upsertTrack inserts, then updates by path keeping the id",
  withStore((s) => {
    const id = upsertTrack(s, sampleTrack(1, { fingerprint: FP }));
    const t = getTrack(s, id)!;
    assert.equal(t.backingPath, "/music/track1.flac");
    assert.equal(t.format, "flac");
    assert.equal(t.audioOffset, 100);
    assert.equal(t.audioLength, 900);
    assert.equal(t.backingSize, 1000);
    assert.equal(t.backingMtimeNs, NS_2025 + 1n, "nanoseconds beyond 2^53 survive");
    assert.equal(t.backingCtimeNs, NS_2025 + 6n);
    assert.equal(t.fingerprint, FP);
    assert.equal(t.contentHash, null);
    assert.ok(Math.abs(t.updatedAt - Date.now() / 1000) < 5);
    assert.deepEqual(getTrackByPath(s, "/music/track1.flac"), t);

    // Same path again with new geometry: same id, geometry bump, checksum kept.
    const id2 = upsertTrack(s, sampleTrack(1, { backingSize: 2000, audioLength: 1900 }));
    assert.equal(id2, id);
    const t2 = getTrack(s, id)!;
    assert.equal(t2.backingSize, 2000);
    assert.equal(t2.contentVersion, t.contentVersion + 1);
    assert.equal(t2.fingerprint, FP, "a null checksum keeps the stored one");

    // Identical re-upsert: no bump.
    upsertTrack(s, sampleTrack(1, { backingSize: 2000, audioLength: 1900 }));
    assert.equal(getTrack(s, id)!.contentVersion, t2.contentVersion);
  }),
);

Deno.test(
  "track listing, lookup by ids and render keys",
  withStore((s) => {
    const a = addTrack(s, 1);
    const b = addTrack(s, 2, { format: "mp3", backingPath: "/music/b.mp3" });
    const c = addTrack(s, 3);
    assert.deepEqual(listTrackIds(s), [a, b, c]);
    assert.deepEqual(listTracks(s).map((t) => t.id), [a, b, c]);
    assert.deepEqual(getTracks(s, [c, 999, a]).map((t) => t.id), [a, c]);
    assert.deepEqual(getTracks(s, []), []);
    assert.deepEqual(
      new Set(listBackingPaths(s)),
      new Set(listTracks(s).map((t) => t.backingPath)),
    );
    assert.deepEqual(listRenderKeys(s).map((k) => [k.id, k.format]), [[a, "flac"], [b, "mp3"], [
      c,
      "flac",
    ]]);
    assert.equal(getTrack(s, 999), null);
    assert.equal(getTrackByPath(s, "/nowhere"), null);
    assert.equal(contentVersion(s, 999), null);
  }),
);

Deno.test(
  "checksums: COALESCE never clears, fingerprint lookup",
  withStore((s) => {
    const a = addTrack(s, 1);
    const b = addTrack(s, 2);
    setTrackChecksums(s, a, FP, null);
    setTrackChecksums(s, b, FP, HASH);
    setTrackChecksums(s, b, null, undefined);
    assert.equal(getTrack(s, b)!.contentHash, HASH);
    assert.deepEqual(tracksByFingerprint(s, FP).map((t) => t.id), [a, b]);
    assert.deepEqual(tracksByFingerprint(s, "0".repeat(64)), []);
  }),
);

Deno.test(
  "retargetTrack moves a track keeping id, tags and art",
  withStore((s) => {
    const id = addTrack(s, 1);
    replaceTextTags(s, id, [{ key: "title", value: "T", ordinal: 0 }]);
    const cv = getTrack(s, id)!.contentVersion;
    const t = getTrack(s, id)!;
    assert.ok(retargetTrack(s, id, {
      backingPath: "/moved/x.flac",
      backingSize: t.backingSize,
      backingMtimeNs: t.backingMtimeNs, // a pure move keeps mtime: no bump
      backingCtimeNs: t.backingCtimeNs + 10n,
      audioOffset: t.audioOffset,
      audioLength: t.audioLength,
      fingerprint: FP,
      contentHash: HASH,
    }));
    const moved = getTrackByPath(s, "/moved/x.flac")!;
    assert.equal(moved.id, id);
    assert.equal(moved.contentVersion, cv);
    assert.equal(moved.fingerprint, FP);
    assert.equal(getTrackByPath(s, "/music/track1.flac"), null);
    assert.deepEqual(listTextTags(s, id), [{ key: "title", value: "T", ordinal: 0 }]);
    assert.equal(retargetTrack(s, 999, { ...moved, backingPath: "/y" }), false);
  }),
);

Deno.test(
  "deleteTrack cascades and leaves art for the GC",
  withStore((s) => {
    const id = addTrack(s, 1);
    replaceTrackPictures(s, id, [{
      mime: "image/png",
      pictureType: 3,
      description: "",
      width: null,
      height: null,
      data: new Uint8Array([1, 2, 3]),
    }]);
    assert.ok(deleteTrack(s, id));
    assert.equal(deleteTrack(s, id), false);
    assert.equal(getTrack(s, id), null);
    assert.equal(deleteUnreferencedArt(s), 1);
    assert.equal(deleteUnreferencedArt(s), 0);
  }),
);

Deno.test(
  "text tags: replace and list in DB order (key BINARY, ordinal)",
  withStore((s) => {
    const id = addTrack(s, 1);
    replaceBinaryTags(s, id, [{ key: "PRIV", ordinal: 0, data: new Uint8Array([9]) }]);
    replaceTextTags(s, id, [
      { key: "title", value: "T", ordinal: 0 },
      { key: "artist", value: "B", ordinal: 1 },
      { key: "artist", value: "A", ordinal: 0 },
      { key: "ARTIST", value: "Upper", ordinal: 0 },
      { key: "Zed", value: "z", ordinal: 0 },
    ]);
    assert.deepEqual(listTextTags(s, id).map((t) => `${t.key}:${t.ordinal}=${t.value}`), [
      "ARTIST:0=Upper",
      "Zed:0=z",
      "artist:0=A",
      "artist:1=B",
      "title:0=T",
    ]);
    // Replacing text tags leaves binary rows alone, and vice versa.
    replaceTextTags(s, id, [{ key: "title", value: "New", ordinal: 0 }]);
    assert.equal(listBinaryTagRefs(s, id).length, 1);
    replaceBinaryTags(s, id, []);
    assert.deepEqual(listTextTags(s, id), [{ key: "title", value: "New", ordinal: 0 }]);
    assert.deepEqual(listBinaryTagRefs(s, id), []);
  }),
);

Deno.test(
  "replace is atomic: a bad row rolls back the whole replacement",
  withStore((s) => {
    const id = addTrack(s, 1);
    replaceTextTags(s, id, [{ key: "title", value: "Keep", ordinal: 0 }]);
    const e = storeError(() =>
      replaceTextTags(s, id, [
        { key: "title", value: "New", ordinal: 0 },
        { key: "bad\x01key", value: "x", ordinal: 0 },
      ])
    );
    assert.equal(e.kind, "constraint");
    assert.deepEqual(listTextTags(s, id), [{ key: "title", value: "Keep", ordinal: 0 }]);
  }),
);

Deno.test(
  "binary tags: refs, slices and the BlobSource",
  withStore((s) => {
    const id = addTrack(s, 1);
    const big = new Uint8Array(100_000).map((_, i) => i & 0xff);
    replaceBinaryTags(s, id, [
      { key: "PRIV", ordinal: 1, data: new Uint8Array([7, 8]) },
      { key: "PRIV", ordinal: 0, data: big },
      { key: "GEOB", ordinal: 0, data: new Uint8Array([1]) },
    ]);
    const refs = listBinaryTagRefs(s, id);
    assert.deepEqual(refs.map((r) => [r.key, r.ordinal, r.length]), [
      ["GEOB", 0, 1],
      ["PRIV", 0, 100_000],
      ["PRIV", 1, 2],
    ]);
    const priv = refs[1];
    assert.deepEqual(readBinaryTag(s, priv.id, 0, 4), big.slice(0, 4));
    assert.deepEqual(readBinaryTag(s, priv.id, 99_990, 10), big.slice(99_990));
    assert.deepEqual(storeBlobSource(s).binaryTag(priv.id, 500, 3), big.slice(500, 503));
    assert.equal(readBinaryTag(s, priv.id, 5, 0).length, 0);
    assert.equal(storeError(() => readBinaryTag(s, priv.id, 99_990, 11)).kind, "corrupt");
    assert.equal(storeError(() => readBinaryTag(s, 424242, 0, 1)).kind, "not-found");
    assert.deepEqual(listTextTags(s, id), [], "binary rows are not text tags");
  }),
);

Deno.test(
  "tagsForTracks loads only the requested keys, case-insensitively",
  withStore((s) => {
    const a = addTrack(s, 1);
    const b = addTrack(s, 2);
    const c = addTrack(s, 3);
    replaceTextTags(s, a, [
      { key: "ARTIST", value: "Up", ordinal: 0 },
      { key: "artist", value: "low", ordinal: 0 },
      { key: "title", value: "Ta", ordinal: 0 },
      { key: "genre", value: "g", ordinal: 0 },
    ]);
    replaceTextTags(s, b, [{ key: "Title", value: "Tb", ordinal: 0 }]);
    replaceBinaryTags(s, c, [{ key: "title", ordinal: 0, data: new Uint8Array([1]) }]);
    const all = tagsForTracks(s, ["artist", "title"]);
    assert.deepEqual([...all.keys()], [a, b]);
    assert.deepEqual(all.get(a)!.map((t) => t.key), ["ARTIST", "artist", "title"]);
    assert.deepEqual(all.get(b), [{ key: "Title", value: "Tb", ordinal: 0 }]);
    const some = tagsForTracks(s, ["title"], [b, c]);
    assert.deepEqual([...some.keys()], [b]);
    assert.equal(tagsForTracks(s, []).size, 0);
    assert.equal(tagsForTracks(s, ["title"], []).size, 0);
  }),
);

const PNG = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 1, 2, 3, 4]);

Deno.test(
  "art: content-addressed upsert, existing mime wins",
  withStore((s) => {
    const a = upsertArt(s, { mime: "image/png", width: 10, height: 20, data: PNG });
    const again = upsertArt(s, { mime: "image/jpeg", width: null, height: null, data: PNG });
    assert.equal(again, a);
    const meta = getArtMeta(s, a)!;
    assert.deepEqual(meta, {
      id: a,
      sha256: sha256Hex(PNG),
      mime: "image/png",
      width: 10,
      height: 20,
      byteLen: PNG.length,
    });
    assert.equal(meta.sha256.length, 64);
    assert.equal(getArtMeta(s, 999), null);
    assert.deepEqual(readArt(s, a, 2, 3), PNG.slice(2, 5));
    assert.deepEqual(storeBlobSource(s).art(a, 0, PNG.length), PNG);
    assert.equal(storeError(() => readArt(s, a, 6, 3)).kind, "corrupt");
    assert.equal(storeError(() => readArt(s, 999, 0, 1)).kind, "not-found");
  }),
);

Deno.test(
  "track_art: replace, list in ordinal order, bumps",
  withStore((s) => {
    const id = addTrack(s, 1);
    const a = upsertArt(s, { mime: "image/png", width: null, height: null, data: PNG });
    const b = upsertArt(s, {
      mime: "image/jpeg",
      width: 1,
      height: 2,
      data: new Uint8Array([0xff, 0xd8]),
    });
    const cv = versionOf(s, id).cv;
    replaceTrackArt(s, id, [
      { artId: b, pictureType: 3, description: "front" },
      { artId: a, pictureType: 4, description: "" },
    ]);
    assert.ok(versionOf(s, id).cv > cv);
    assert.deepEqual(listTrackArt(s, id), [
      {
        artId: b,
        mime: "image/jpeg",
        pictureType: 3,
        description: "front",
        width: 1,
        height: 2,
        byteLen: 2,
      },
      {
        artId: a,
        mime: "image/png",
        pictureType: 4,
        description: "",
        width: null,
        height: null,
        byteLen: 8,
      },
    ]);
    replaceTrackArt(s, id, []);
    assert.deepEqual(listTrackArt(s, id), []);
  }),
);

Deno.test(
  "replaceTrackPictures stores each distinct image once",
  withStore((s) => {
    const a = addTrack(s, 1);
    const b = addTrack(s, 2);
    const pic = {
      mime: "image/png",
      pictureType: 3,
      description: "",
      width: null,
      height: null,
      data: PNG,
    };
    const idsA = replaceTrackPictures(s, a, [pic, { ...pic, pictureType: 4 }]);
    const idsB = replaceTrackPictures(s, b, [pic]);
    assert.equal(idsA[0], idsA[1]);
    assert.equal(idsB[0], idsA[0]);
    assert.equal((s.get<{ n: number }>("SELECT count(*) AS n FROM art"))!.n, 1);
    assert.deepEqual(listTrackArt(s, a).map((r) => r.pictureType), [3, 4]);
  }),
);

Deno.test(
  "track_art pointing at missing art is an error at read",
  withStore((s) => {
    const id = addTrack(s, 1);
    const a = upsertArt(s, { mime: "image/png", width: null, height: null, data: PNG });
    replaceTrackArt(s, id, [{ artId: a, pictureType: 3, description: "" }]);
    s.exec("PRAGMA foreign_keys = OFF");
    s.exec(`DELETE FROM art WHERE id = ${a}`);
    s.exec("PRAGMA foreign_keys = ON");
    const e = storeError(() => listTrackArt(s, id));
    assert.equal(e.kind, "not-found");
    assert.match(e.message, /missing art/);
  }),
);

Deno.test(
  "structural blocks: replace, list STREAMINFO first, bump",
  withStore((s) => {
    const id = addTrack(s, 1);
    assert.equal(hasStructuralBlocks(s, id), false);
    const cv = versionOf(s, id).cv;
    replaceStructuralBlocks(s, id, [
      { kind: "SEEKTABLE", ordinal: 0, body: new Uint8Array([5]) },
      { kind: "STREAMINFO", ordinal: 0, body: new Uint8Array(34).fill(1) },
    ]);
    assert.ok(versionOf(s, id).cv > cv);
    assert.equal(hasStructuralBlocks(s, id), true);
    const blocks = listStructuralBlocks(s, id);
    assert.deepEqual(blocks.map((b) => [b.kind, b.ordinal, b.body.length]), [
      ["STREAMINFO", 0, 34],
      ["SEEKTABLE", 0, 1],
    ]);
    // A byte-identical rewrite still bumps (delete + insert).
    const cv2 = versionOf(s, id).cv;
    replaceStructuralBlocks(s, id, blocks);
    assert.ok(versionOf(s, id).cv > cv2);
  }),
);

Deno.test(
  "changelog: ids since a seq, bounds, gap detection",
  withStore((s) => {
    const a = addTrack(s, 1);
    const b = addTrack(s, 2);
    const first = changelogSince(s, 0n);
    assert.deepEqual(first.changedIds, [a, b]);
    assert.equal(first.minSeq, 1n);
    const last = first.maxSeq;
    replaceTextTags(s, b, [{ key: "title", value: "x", ordinal: 0 }]);
    const next = changelogSince(s, last);
    assert.deepEqual(next.changedIds, [b]);
    assert.ok(next.maxSeq > last);
    assert.equal(changelogHasGap(next, last), false);
    assert.deepEqual(changelogSince(s, next.maxSeq).changedIds, []);
    // Simulate the ring having moved past a sleeping reader.
    s.exec(`DELETE FROM track_changes WHERE seq <= ${last + 1n}`);
    assert.equal(changelogHasGap(changelogSince(s, last), last), true);
    s.exec("DELETE FROM track_changes");
    const empty = changelogSince(s, last);
    assert.deepEqual(empty, { changedIds: [], minSeq: 0n, maxSeq: 0n });
    assert.equal(changelogHasGap(empty, last), true);
    assert.equal(changelogHasGap(empty, 0n), false);
  }),
);

Deno.test(
  "transaction: commit, rollback on throw, nested savepoints",
  withStore((s) => {
    class Boom extends Error {}
    const id = s.transaction(() => addTrack(s, 1));
    assert.ok(getTrack(s, id));
    assert.throws(() =>
      s.transaction(() => {
        addTrack(s, 2);
        throw new Boom("boom");
      }), Boom);
    assert.equal(getTrackByPath(s, "/music/track2.flac"), null);
    assert.equal(s.inTransaction, false);
    s.transaction(() => {
      addTrack(s, 3);
      assert.throws(() =>
        s.transaction(() => {
          addTrack(s, 4);
          throw new Error("inner");
        })
      );
      addTrack(s, 5);
    });
    assert.deepEqual(listTracks(s).map((t) => t.backingPath), [
      "/music/track1.flac",
      "/music/track3.flac",
      "/music/track5.flac",
    ]);
  }),
);

Deno.test(
  "read-time guards: too many rows per track",
  withStore((s) => {
    const id = addTrack(s, 1);
    const tags = Array.from(
      { length: MAX_ROWS_PER_TRACK },
      (_, i) => ({ key: "k", value: "v", ordinal: i }),
    );
    replaceTextTags(s, id, tags);
    assert.equal(listTextTags(s, id).length, MAX_ROWS_PER_TRACK);
    replaceTextTags(s, id, [...tags, { key: "k", value: "v", ordinal: MAX_ROWS_PER_TRACK }]);
    assert.equal(storeError(() => listTextTags(s, id)).kind, "limit");
    assert.equal(storeError(() => tagsForTracks(s, ["k"])).kind, "limit");

    const bins = Array.from({ length: MAX_ROWS_PER_TRACK + 1 }, (_, i) => ({
      key: "PRIV",
      ordinal: i,
      data: new Uint8Array([1]),
    }));
    replaceBinaryTags(s, id, bins);
    assert.equal(storeError(() => listBinaryTagRefs(s, id)).kind, "limit");

    const art = upsertArt(s, { mime: "image/png", width: null, height: null, data: PNG });
    replaceTrackArt(
      s,
      id,
      Array.from(
        { length: MAX_ROWS_PER_TRACK + 1 },
        () => ({ artId: art, pictureType: 3, description: "" }),
      ),
    );
    assert.equal(storeError(() => listTrackArt(s, id)).kind, "limit");
  }),
);

Deno.test("read-time guards: over-long values planted with CHECKs off", () => {
  using fresh = freshStore();
  const { store, path } = fresh;
  const id = addTrack(store, 1);
  const art = upsertArt(store, { mime: "image/png", width: null, height: null, data: PNG });
  store.close();
  // A hostile writer can bypass CHECKs (ignore_check_constraints) — the reads must still refuse.
  const raw = new DatabaseSync(path);
  raw.exec("PRAGMA ignore_check_constraints = ON");
  raw.prepare("INSERT INTO tags (track_id, key, value) VALUES (?, ?, 'v')").run(
    id,
    "k".repeat(300),
  );
  raw.prepare("INSERT INTO tags (track_id, key, value) VALUES (?, 'big', ?)").run(
    id,
    "x".repeat(262145),
  );
  raw.prepare("INSERT INTO track_art (track_id, art_id, description) VALUES (?, ?, ?)").run(
    id,
    art,
    "d".repeat(1025),
  );
  raw.close();
  using s = openStore(path, { mode: "rw" });
  const e = storeError(() => listTextTags(s, id));
  assert.equal(e.kind, "limit");
  s.exec("DELETE FROM tags WHERE length(key) > 256");
  assert.match(storeError(() => listTextTags(s, id)).message, /over 262144 bytes/);
  assert.match(storeError(() => listTrackArt(s, id)).message, /description over 1024/);
});

Deno.test("vacuumStore reclaims space; refused while another connection writes", async () => {
  using fresh = freshStore();
  const { store, path } = fresh;
  const id = addTrack(store, 1);
  replaceBinaryTags(store, id, [{ key: "PRIV", ordinal: 0, data: new Uint8Array(2_000_000) }]);
  store.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  const before = storeFilesBytes(path);
  replaceBinaryTags(store, id, []);
  vacuumStore(store);
  const after = storeFilesBytes(path);
  assert.ok(after < before - 1_000_000, `${after} < ${before}`);
  assert.equal(Deno.statSync(`${path}-wal`).size, 0, "WAL truncated");

  const holder = new Deno.Command("/usr/bin/python3", {
    args: [
      "-c",
      "import sqlite3,sys,time; c=sqlite3.connect(sys.argv[1], isolation_level=None); " +
      "c.execute('BEGIN IMMEDIATE'); print('locked', flush=True); time.sleep(5)",
      path,
    ],
    stdout: "piped",
  }).spawn();
  const reader = holder.stdout.getReader();
  await reader.read();
  store.exec("PRAGMA busy_timeout = 100");
  assert.equal(storeError(() => vacuumStore(store)).kind, "busy");
  reader.releaseLock();
  holder.kill("SIGTERM");
  await holder.stdout.cancel();
  await holder.status;
});
