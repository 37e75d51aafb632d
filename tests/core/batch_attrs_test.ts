// A directory listing with attributes sizes all its files at once: their
// synthesis rows are read in one batch (store/synth_rows.ts) and the store's
// version checked once. The batch must answer exactly what one getattr per
// file answers, a bad row must fail its own file only, and rows read ahead
// must never outlive a commit.

import assert from "node:assert/strict";
import { openLibrary } from "../../src/core/library.ts";
import {
  BATCH_ROWS_PER_TRACK,
  getTrack,
  listBinaryTagRefs,
  listStructuralBlocks,
  listTextTags,
  listTrackArt,
  openStore,
  readSynthRows,
} from "../../src/store/mod.ts";
import { METRICS_DIR_INO, MetricsLibrary } from "../../src/fuse/metrics.ts";
import { ServerStats } from "../../src/fuse/stats.ts";
import { closing } from "../scratch.ts";
import { disposeStore, expectedBytes, fixtureStore, readAll } from "./ingest.ts";

Deno.test("batched synthesis rows equal the single-track readers' for every fixture", async () => {
  const t = await fixtureStore();
  try {
    const ids = [...t.tracks.values()].map((x) => x.id);
    const rows = readSynthRows(t.store, [...ids, 999_999])!;
    assert.equal(rows.size, ids.length, "a missing id is simply absent");
    for (const id of ids) {
      const r = rows.get(id)!;
      assert.deepEqual(r.row, getTrack(t.store, id));
      assert.deepEqual(r.tags, listTextTags(t.store, id));
      assert.deepEqual(r.binaryTags, listBinaryTagRefs(t.store, id));
      assert.deepEqual(r.art, listTrackArt(t.store, id));
      const structural = r.row.format === "flac" ? listStructuralBlocks(t.store, id) : [];
      assert.deepEqual(r.structural, structural);
    }
  } finally {
    disposeStore(t);
  }
});

Deno.test("getattrMany answers what getattr answers, and reads after it are exact", async () => {
  const t = await fixtureStore();
  const batched = openLibrary(t.db);
  const single = openLibrary(t.db);
  try {
    const inos = [...t.tracks.values()].map((x) => batched.tree.inodeOfTrack(x.id)!);
    const many = batched.getattrMany(inos);
    assert.equal(batched.resolver.prefetchFallbacks, 0);
    for (const [k, ino] of inos.entries()) {
      assert.deepEqual(many[k], single.getattr(ino));
    }
    for (const { id } of t.tracks.values()) {
      const ino = batched.tree.inodeOfTrack(id)!;
      assert.deepEqual(readAll(batched, ino), expectedBytes(t.store, id));
    }
  } finally {
    batched.close();
    single.close();
    disposeStore(t);
  }
});

Deno.test("a bad row fails its own file only; the rest of the listing is answered", async () => {
  const t = await fixtureStore(["flac", "mp3_v24", "opus"]);
  try {
    const bad = t.tracks.get("mp3_v24")!.id;
    const lib = openLibrary(t.db);
    try {
      // A link to art that does not exist, written by a writer with foreign
      // keys off while the library is open.
      t.store.exec("PRAGMA foreign_keys = OFF");
      t.store.run(
        "INSERT INTO track_art (track_id, art_id, picture_type, description, ordinal) " +
          "VALUES (?, 424242, 3, '', 99)",
        bad,
      );
      const ids = [...t.tracks.values()].map((x) => x.id);
      const attrs = lib.getattrMany(ids.map((id) => lib.tree.inodeOfTrack(id)!));
      assert.equal(lib.resolver.prefetchFallbacks, 1, "the batch was dropped once");
      for (const [k, id] of ids.entries()) {
        if (id === bad) assert.equal(attrs[k], null, "the bad track has no attributes");
        else assert.equal(attrs[k]!.size, expectedBytes(t.store, id).length);
      }
    } finally {
      lib.close();
    }
  } finally {
    disposeStore(t);
  }
});

Deno.test("a batch over the row cap is not read; every file is still sized", async () => {
  const t = await fixtureStore(["flac", "ogg_vorbis"]);
  try {
    const heavy = t.tracks.get("flac")!.id;
    t.store.transaction(() => {
      for (let i = 0; i < 2 * BATCH_ROWS_PER_TRACK + 1; i++) {
        t.store.run(
          "INSERT INTO tags (track_id, key, value, ordinal) VALUES (?, 'comment', ?, ?)",
          heavy,
          `note ${i}`,
          100 + i,
        );
      }
    });
    const ids = [...t.tracks.values()].map((x) => x.id);
    assert.equal(readSynthRows(t.store, ids), null);
    const lib = openLibrary(t.db);
    try {
      const attrs = lib.getattrMany(ids.map((id) => lib.tree.inodeOfTrack(id)!));
      for (const [k, id] of ids.entries()) {
        assert.equal(attrs[k]!.size, expectedBytes(t.store, id).length);
      }
    } finally {
      lib.close();
    }
  } finally {
    disposeStore(t);
  }
});

Deno.test("rows read ahead are not used after another connection commits", async () => {
  const t = await fixtureStore(["flac", "mp3_v24", "opus"]);
  const lib = openLibrary(t.db);
  const writer = openStore(t.db, { mode: "rw" });
  try {
    const ids = [...t.tracks.values()].map((x) => x.id);
    lib.resolver.prefetch(ids);
    const id = t.tracks.get("opus")!.id;
    const before = expectedBytes(t.store, id).length;
    writer.run(
      "UPDATE tags SET value = value || ' (a much longer title now)' WHERE track_id = ? " +
        "AND key = 'title'",
      id,
    );
    const after = expectedBytes(t.store, id).length;
    assert.notEqual(after, before, "the edit changes the served size");
    assert.equal(lib.getattr(lib.tree.inodeOfTrack(id)!).size, after);
  } finally {
    writer.close();
    lib.close();
    disposeStore(t);
  }
});

Deno.test("the --expose-metrics decorator hands listings to the library's batch", async () => {
  const t = await fixtureStore(["flac", "mp3_v24", "opus"]);
  const inner = openLibrary(t.db, { pollIntervalMs: 0 });
  const lib = new MetricsLibrary(inner, new ServerStats());
  const single = openLibrary(t.db, { pollIntervalMs: 0 });
  try {
    const inos = [
      METRICS_DIR_INO,
      ...[...t.tracks.values()].map((x) => inner.tree.inodeOfTrack(x.id)!),
    ];
    const many = lib.getattrMany(inos);
    assert.equal(inner.resolver.prefetchBatches, 1, "one batch read the files' rows");
    assert.deepEqual(many[0], lib.getattr(METRICS_DIR_INO));
    for (let k = 1; k < inos.length; k++) assert.deepEqual(many[k], single.getattr(inos[k]));
  } finally {
    lib.close();
    single.close();
    disposeStore(t);
  }
});

Deno.test("looking up every file of a directory one by one reads their rows in one batch", async () => {
  using t = await fixtureStore();
  using lib = closing(openLibrary(t.db, { pollIntervalMs: 0, template: "$title" }));
  const names = lib.tree.children(1)!.filter(([, ino]) => !lib.tree.isDir(ino));
  assert.ok(names.length > 3, `${names.length} files at the root`);
  for (const [name, ino] of names) {
    assert.deepEqual(lib.lookup(1, new TextEncoder().encode(name)), lib.getattr(ino));
  }
  assert.equal(lib.resolver.prefetchBatches, 1, "the siblings' rows were read once");
});
