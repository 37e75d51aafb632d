// The size index (core/size_index.ts): synthesized sizes a later mount of
// the same store answers stats from, without synthesis, only for the exact
// row state and backing file they were made from; a file that is corrupt,
// foreign or unwritable costs the speed-up, never a wrong size.

import assert from "node:assert/strict";
import { openLibrary } from "../../src/core/library.ts";
import {
  hash64,
  SizeIndex,
  sizeKey,
  sizeKeyOfBuilt,
  sizeVariant,
} from "../../src/core/size_index.ts";
import type { TrackRow } from "../../src/store/mod.ts";
import { getTrack } from "../../src/store/mod.ts";
import { closing, scratchDir } from "../scratch.ts";
import { expectedBytes, fixtureStore, readAll, restamp } from "./ingest.ts";

const VARIANT = sizeVariant(["synthesis", 4]);
const all = () => true;

function warnings(): { warn(message: string): void; said: string[] } {
  const said: string[] = [];
  return { warn: (m) => said.push(m), said };
}

Deno.test("a size key is the hash of the row state's fields joined by |, however large the values", () => {
  // Keys are stored in index files: a build that computed them differently would miss every entry.
  const rows: TrackRow[] = [];
  const paths = ["/m/a.flac", "/m/Ünïcödé/é 😀.mp3", "", "/x|y/z"];
  for (let i = 0; i < 40; i++) {
    rows.push({
      id: i + 1,
      backingPath: paths[i % paths.length],
      format: (["flac", "mp3", "m4a", "opus"] as const)[i % 4],
      audioOffset: [0, 7, 123_456_789, 2 ** 53 - 1][i % 4],
      audioLength: [0, 1, 10 ** 15, 4096][(i >> 1) % 4],
      backingSize: [0, 9, 2 ** 40 + 3, 2 ** 53 - 1][(i >> 2) % 4],
      backingMtimeNs: [0n, 1_733_000_000_123_456_789n, 9_223_372_036_854_775_807n][i % 3],
      backingCtimeNs: [5n, 1_700_000_000_000_000_000n][i % 2],
      contentVersion: [0, 1, 99, 2 ** 31][i % 4],
      updatedAt: [0, 1_733_000_000, -5, 1.5][(i >> 3) % 4],
      fingerprint: null,
      contentHash: null,
    });
  }
  for (const r of rows) {
    const joined = `${r.contentVersion}|${r.updatedAt}|${r.format}|${r.audioOffset}|` +
      `${r.audioLength}|${r.backingSize}|${r.backingMtimeNs}|${r.backingCtimeNs}|${r.backingPath}`;
    assert.deepEqual(sizeKey(r), hash64(joined), joined);
    const built = {
      ...r,
      stamp: { size: r.backingSize, mtimeNs: r.backingMtimeNs, ctimeNs: r.backingCtimeNs },
    };
    assert.deepEqual(sizeKeyOfBuilt(built), hash64(joined), `built ${joined}`);
  }
  // And the hash itself, pinned to the values index files written so far hold.
  assert.deepEqual(hash64("a|b"), [688367721, 3270179226]);
  assert.deepEqual(
    sizeKey({
      ...rows[0],
      contentVersion: 3,
      updatedAt: 1_733_000_000,
      format: "flac",
      audioOffset: 7,
      audioLength: 0,
      backingSize: 9,
      backingMtimeNs: 1_733_000_000_123_456_789n,
      backingCtimeNs: 5n,
      backingPath: "/m/Ünïcödé/é 😀.mp3",
    }),
    [1563304647, 531665965],
  );
});

Deno.test("sizes saved by one index are loaded by the next, under their keys only", () => {
  using tmp = scratchDir("musefs-size-index-");
  const path = `${tmp.path}/lib.db-sizes`;
  const a = SizeIndex.load(path, VARIANT);
  assert.equal(a.entries, 0);
  a.record(7, [1, 2], 1000);
  a.record(3_000_000_000, [5, 6], 77); // far beyond the track count: held sparsely
  a.record(9, [3, 4], 2000);
  assert.equal(a.save((id) => id !== 9), true, "a dirty index is written");
  assert.equal(a.save(all), false, "nothing new: not written again");

  const b = SizeIndex.load(path, VARIANT);
  assert.equal(b.loadProblem, null);
  assert.equal(b.entries, 2, "the track no longer served was not saved");
  assert.equal(b.get(7, [1, 2]), 1000);
  assert.equal(b.get(3_000_000_000, [5, 6]), 77);
  assert.equal(b.get(7, [1, 3]), undefined, "another row state of the same track");
  assert.equal(b.get(9, [3, 4]), undefined);
  assert.deepEqual([b.hits, b.misses], [2, 2]);
});

Deno.test("an index written under another variant is ignored whole, silently", () => {
  using tmp = scratchDir("musefs-size-index-");
  const path = `${tmp.path}/lib.db-sizes`;
  const a = SizeIndex.load(path, VARIANT);
  a.record(1, [1, 1], 10);
  a.save(all);
  const log = warnings();
  const b = SizeIndex.load(path, sizeVariant(["synthesis", 3]), log);
  assert.equal(b.entries, 0);
  assert.equal(b.loadProblem, null);
  assert.deepEqual(log.said, []);
  b.record(1, [1, 1], 11);
  assert.equal(b.save(all), true, "and replaced by this mount's");
  assert.equal(SizeIndex.load(path, sizeVariant(["synthesis", 3])).get(1, [1, 1]), 11);
});

Deno.test("a corrupt, truncated or foreign file is reported, ignored and rewritten", () => {
  using tmp = scratchDir("musefs-size-index-");
  const path = `${tmp.path}/lib.db-sizes`;
  const a = SizeIndex.load(path, VARIANT);
  for (let id = 1; id <= 10; id++) a.record(id, [id, id], id * 100);
  a.save(all);
  const good = Deno.readFileSync(path);

  const flipped = good.slice();
  flipped[good.length - 3] ^= 0x40; // one size's bits
  const cases: [string, Uint8Array, RegExp][] = [
    ["flipped", flipped, /checksum/],
    ["truncated", good.slice(0, good.length - 5), /truncated/],
    ["foreign", new TextEncoder().encode("SQLite format 3\0 and more bytes"), /not a musefs size/],
    ["empty", new Uint8Array(0), /not a musefs size/],
  ];
  for (const [name, bytes, why] of cases) {
    Deno.writeFileSync(path, bytes);
    const log = warnings();
    const b = SizeIndex.load(path, VARIANT, log);
    assert.equal(b.entries, 0, name);
    assert.match(b.loadProblem ?? "", why, name);
    assert.equal(log.said.length, 1, name);
    assert.match(log.said[0], /ignoring the size index .*lib\.db-sizes: .*rebuilt/, name);
    b.record(1, [1, 1], 5);
    assert.equal(b.save(all), true, `${name}: rewritten`);
    assert.equal(SizeIndex.load(path, VARIANT).get(1, [1, 1]), 5, name);
  }
});

Deno.test("an index that cannot be written warns once and keeps its sizes for the mount", () => {
  using tmp = scratchDir("musefs-size-index-");
  const log = warnings();
  const index = SizeIndex.load(`${tmp.path}/missing-dir/lib.db-sizes`, VARIANT, log);
  index.record(1, [1, 1], 5);
  assert.equal(index.save(all), false);
  index.record(2, [2, 2], 6);
  assert.equal(index.save(all), false);
  assert.equal(log.said.length, 1);
  assert.match(log.said[0], /cannot write the size index .*missing-dir.*--size-index PATH/);
  assert.equal(index.get(2, [2, 2]), 6);
  assert.deepEqual([...Deno.readDirSync(tmp.path)], [], "no temporary file left behind");
});

Deno.test("a second mount of a store answers every stat from the index, with the same sizes", async () => {
  using t = await fixtureStore();
  const ids = [...t.tracks.values()].map((x) => x.id);
  const first = new Map<number, number>();
  {
    using lib = closing(openLibrary(t.db));
    const inos = ids.map((id) => lib.tree.inodeOfTrack(id)!);
    for (const [k, a] of lib.getattrMany(inos).entries()) first.set(ids[k], a!.size);
    assert.equal(lib.resolver.index!.hits, 0);
    assert.equal(lib.resolver.index!.entries, ids.length);
  }
  assert.ok(Deno.statSync(`${t.db}-sizes`).isFile, "written when the library closed");

  using lib = closing(openLibrary(t.db));
  const inos = ids.map((id) => lib.tree.inodeOfTrack(id)!);
  const many = lib.getattrMany(inos);
  const index = lib.resolver.index!;
  assert.equal(index.hits, ids.length);
  assert.equal(index.misses, 0);
  assert.equal(lib.resolver.headers.misses, 0, "nothing was synthesized");
  for (const [k, id] of ids.entries()) {
    assert.equal(many[k]!.size, first.get(id));
    assert.equal(many[k]!.size, expectedBytes(t.store, id).length);
  }
  // One by one (GETATTR, not a listing) too, and the files read whole are that long.
  using lib2 = closing(openLibrary(t.db));
  for (const id of ids) {
    const ino = lib2.tree.inodeOfTrack(id)!;
    assert.equal(lib2.getattr(ino).size, first.get(id));
    assert.equal(readAll(lib2, ino).length, first.get(id));
  }
  assert.equal(lib2.resolver.index!.hits, ids.length);
  assert.equal(lib2.resolver.index!.corrections, 0);
});

Deno.test("an edited track, a touched backing file or another ID3 version is synthesized again", async () => {
  using t = await fixtureStore(["flac", "mp3_v24", "opus"]);
  const ids = [...t.tracks.values()].map((x) => x.id);
  {
    using lib = closing(openLibrary(t.db));
    lib.getattrMany(ids.map((id) => lib.tree.inodeOfTrack(id)!));
  }
  const mp3 = t.tracks.get("mp3_v24")!;
  const flac = t.tracks.get("flac")!;
  t.store.run(
    "UPDATE tags SET value = value || ' (a much longer title)' WHERE track_id = ? AND key = 'title'",
    mp3.id,
  );
  // Same bytes, new mtime: the recorded stamp moves with it (a rescan).
  const now = new Date();
  Deno.utimeSync(flac.path, now, now);
  restamp(t.store, flac.id);

  using lib = closing(openLibrary(t.db));
  const many = lib.getattrMany(ids.map((id) => lib.tree.inodeOfTrack(id)!));
  const index = lib.resolver.index!;
  assert.equal(index.hits, 1, "only the untouched opus");
  assert.equal(index.misses, 2);
  for (const [k, id] of ids.entries()) {
    assert.equal(many[k]!.size, expectedBytes(t.store, id).length);
  }

  using v23 = closing(openLibrary(t.db, { id3Version: 3 }));
  v23.getattrMany(ids.map((id) => v23.tree.inodeOfTrack(id)!));
  assert.equal(v23.resolver.index!.hits, 0, "an index written for ID3v2.4 is not used for 2.3");
});

Deno.test("a backing file changed behind the store fails its stat, index or not", async () => {
  using t = await fixtureStore(["mp3_v24", "opus"]);
  {
    using lib = closing(openLibrary(t.db));
    for (const { id } of t.tracks.values()) lib.getattr(lib.tree.inodeOfTrack(id)!);
  }
  const opus = t.tracks.get("opus")!;
  Deno.writeFileSync(opus.path, new Uint8Array([1, 2, 3]), { append: true });
  using lib = closing(openLibrary(t.db));
  assert.throws(() => lib.getattr(lib.tree.inodeOfTrack(opus.id)!), { errno: "EIO" });
  const mp3 = t.tracks.get("mp3_v24")!;
  assert.equal(
    lib.getattr(lib.tree.inodeOfTrack(mp3.id)!).size,
    expectedBytes(t.store, mp3.id).length,
  );
});

Deno.test("a wrong remembered size is corrected when the file is opened, and counted", async () => {
  using t = await fixtureStore(["flac", "m4a_moov_last"]);
  const m4a = t.tracks.get("m4a_moov_last")!;
  const right = expectedBytes(t.store, m4a.id).length;
  {
    // An index that claims another size for this very row state (a build
    // whose synthesis differed, or a damaged file that passed its checksum).
    using lib = closing(openLibrary(t.db));
    const index = lib.resolver.index!;
    index.record(m4a.id, sizeKey(getTrack(t.store, m4a.id)!), right + 100);
  }
  using lib = closing(openLibrary(t.db));
  const ino = lib.tree.inodeOfTrack(m4a.id)!;
  assert.equal(lib.getattr(ino).size, right + 100, "answered from the index before any open");
  const { fh } = lib.open(ino, 0);
  lib.release(fh);
  assert.equal(lib.resolver.index!.corrections, 1);
  assert.equal(lib.getattr(ino).size, right, "corrected from the layout built at open");
  assert.deepEqual(readAll(lib, ino), expectedBytes(t.store, m4a.id));
  assert.equal(lib.resolver.index!.corrections, 1, "counted once");
  lib.close();
  using again = closing(openLibrary(t.db));
  again.getattr(again.tree.inodeOfTrack(m4a.id)!);
  assert.equal(again.getattr(again.tree.inodeOfTrack(m4a.id)!).size, right, "and saved corrected");
});

Deno.test("--size-index off (null) keeps sizes in memory only; structure-only keeps none", async () => {
  using t = await fixtureStore(["flac", "opus"]);
  const ids = [...t.tracks.values()].map((x) => x.id);
  {
    using lib = closing(openLibrary(t.db, { sizeIndex: null }));
    lib.getattrMany(ids.map((id) => lib.tree.inodeOfTrack(id)!));
    assert.equal(lib.resolver.index!.entries, ids.length);
  }
  {
    using lib = closing(openLibrary(t.db, { mode: "structure-only" }));
    lib.getattrMany(ids.map((id) => lib.tree.inodeOfTrack(id)!));
    assert.equal(lib.resolver.index, null);
  }
  assert.throws(() => Deno.statSync(`${t.db}-sizes`), Deno.errors.NotFound);
  const elsewhere = `${t.dir}/elsewhere.sizes`;
  {
    using lib = closing(openLibrary(t.db, { sizeIndex: elsewhere }));
    lib.getattrMany(ids.map((id) => lib.tree.inodeOfTrack(id)!));
  }
  using lib = closing(openLibrary(t.db, { sizeIndex: elsewhere }));
  lib.getattrMany(ids.map((id) => lib.tree.inodeOfTrack(id)!));
  assert.equal(lib.resolver.index!.hits, ids.length);
});

Deno.test("an index others may write is not trusted; saving never writes through a planted link", () => {
  using tmp = scratchDir("musefs-size-index-");
  const path = `${tmp.path}/lib.db-sizes`;
  const a = SizeIndex.load(path, VARIANT);
  a.record(1, [1, 1], 10);
  a.save(all);
  Deno.chmodSync(path, 0o666);
  const log = warnings();
  const b = SizeIndex.load(path, VARIANT, log);
  assert.equal(b.entries, 0);
  assert.match(log.said[0] ?? "", /writable by others/);

  const victim = `${tmp.path}/victim`;
  Deno.writeTextFileSync(victim, "keep me");
  Deno.symlinkSync(victim, `${path}.tmp-${Deno.pid}`);
  b.record(2, [2, 2], 20);
  assert.equal(b.save(all), true);
  assert.equal(Deno.readTextFileSync(victim), "keep me");
  assert.equal(SizeIndex.load(path, VARIANT).get(2, [2, 2]), 20);
});
