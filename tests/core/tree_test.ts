// The virtual tree: the original program's tree tests, ported, for
// building, naming, the allocator and queries, plus listing order. The
// incremental apply cases are in tree_apply_test.ts.

import assert from "node:assert/strict";
import { InodeAllocator } from "../../src/core/inodes.ts";
import { utf8Length } from "../../src/core/names.ts";
import { type TreeEntry } from "../../src/core/tree.ts";
import { ancestorIn } from "../../src/core/tree_apply.ts";
import { build, buildCi, must, pathList, ROOT } from "./tree_helpers.ts";

// ---- inode allocator -------------------------------------------------------

Deno.test("build keeps inodes stable across rebuilds with the same allocator", () => {
  const alloc = new InodeAllocator(false);
  const t1 = build([[10, "Alice/Song.flac"]], alloc);
  const alice1 = must(t1.lookup(ROOT, "Alice"));
  const song1 = must(t1.lookup(alice1, "Song.flac"));
  const t2 = build([[10, "Alice/Song.flac"], [20, "Bob/Other.flac"]], alloc);
  const alice2 = must(t2.lookup(ROOT, "Alice"));
  assert.equal(alice2, alice1);
  assert.equal(t2.lookup(alice2, "Song.flac"), song1);
  const bob = must(t2.lookup(ROOT, "Bob"));
  assert.ok(bob !== alice2 && bob !== song1);
});

Deno.test("node count and interned path count track the tree size", () => {
  const alloc = new InodeAllocator(false);
  const t = build([[10, "Alice/Song.flac"], [20, "Bob/Tune.flac"]], alloc);
  assert.equal(t.nodeCount, 5); // root + Alice + Song + Bob + Tune
  assert.equal(alloc.internedPathCount, 5); // "" + the four paths
});

Deno.test("inodeOfTrack maps file nodes", () => {
  const t = build([[10, "Alice/Song.flac"], [20, "Bob/Tune.flac"]]);
  const song = must(t.lookup(must(t.lookup(ROOT, "Alice")), "Song.flac"));
  assert.equal(t.inodeOfTrack(10), song);
  assert.equal(t.trackId(song), 10);
  assert.notEqual(t.inodeOfTrack(20), undefined);
  assert.equal(t.inodeOfTrack(999), undefined);
});

Deno.test("entryCounts counts files and non-root dirs", () => {
  const t = build([
    [10, "Alice/Song.flac"],
    [20, "Bob/Tune.flac"],
    [30, "Bob/Live/Encore.flac"],
  ]);
  assert.deepEqual(t.entryCounts(), [3, 3]);
  assert.deepEqual(build([]).entryCounts(), [0, 0]);
});

Deno.test("build never recycles a vanished inode", () => {
  const alloc = new InodeAllocator(false);
  const t1 = build([[10, "Gone/X.flac"]], alloc);
  const gone = must(t1.lookup(ROOT, "Gone"));
  const x = must(t1.lookup(gone, "X.flac"));
  const t2 = build([[20, "New/Y.flac"]], alloc);
  const nu = must(t2.lookup(ROOT, "New"));
  const y = must(t2.lookup(nu, "Y.flac"));
  assert.ok(nu !== gone && nu !== x && y !== gone && y !== x);
});

Deno.test("pruneRetired bounds the map under churn", () => {
  const alloc = new InodeAllocator(false);
  for (let gen = 0; gen < 100; gen++) {
    const t = build([[1, `Gen${gen}/a.flac`]], alloc);
    alloc.pruneRetired(t);
    assert.ok(alloc.internedPathCount <= 2 * t.nodeCount, `gen ${gen}`);
  }
});

Deno.test("pruneRetired keeps live inodes stable", () => {
  const alloc = new InodeAllocator(false);
  const t = build([[1, "Keep/song.flac"]], alloc);
  const keepDir = must(t.lookup(ROOT, "Keep"));
  const keepFile = must(t.lookup(keepDir, "song.flac"));
  let last = t;
  for (let gen = 0; gen < 10; gen++) {
    last = build([[1, "Keep/song.flac"], [2, `Gen${gen}/x.flac`]], alloc);
    alloc.pruneRetired(last);
  }
  const d = must(last.lookup(ROOT, "Keep"));
  assert.deepEqual([d, last.lookup(d, "song.flac")], [keepDir, keepFile]);
});

Deno.test("a pruned path reborn gets a fresh inode, never a recycled one", () => {
  const alloc = new InodeAllocator(false);
  const t1 = build([[1, "Gone/x.flac"]], alloc);
  const goneDir = must(t1.lookup(ROOT, "Gone"));
  const goneFile = must(t1.lookup(goneDir, "x.flac"));
  for (let gen = 0; gen < 10; gen++) {
    alloc.pruneRetired(build([[1, `Gen${gen}/x.flac`]], alloc));
  }
  assert.equal(alloc.inodeOfPath("Gone"), undefined, "retired path must be pruned");
  const t2 = build([[1, "Gone/x.flac"]], alloc);
  const d2 = must(t2.lookup(ROOT, "Gone"));
  const f2 = must(t2.lookup(d2, "x.flac"));
  assert.ok(d2 > goneFile && f2 > goneFile, "fresh inodes, never recycled");
});

Deno.test("pruneRetired waits for more than 2x live nodes", () => {
  const alloc = new InodeAllocator(false);
  const t1 = build([[1, "A/x.flac"]], alloc);
  const a = must(t1.lookup(ROOT, "A"));
  assert.equal(alloc.pruneRetired(build([[1, "B/x.flac"]], alloc)), false); // 5 <= 6
  assert.equal(alloc.pruneRetired(build([[1, "B/y.flac"]], alloc)), false); // 6 <= 6
  assert.equal(alloc.inodeOfPath("A"), a, "at exactly 2x live the retired entries survive");
  const t4 = build([[1, "C/x.flac"]], alloc);
  assert.equal(alloc.pruneRetired(t4), true); // 8 > 6
  assert.equal(alloc.inodeOfPath("A"), undefined);
  assert.equal(alloc.internedPathCount, t4.nodeCount, "pruned map is exactly the live set");
  assert.equal(alloc.inodeOfPath("C/x.flac"), t4.inodeOfTrack(1));
});

// ---- disambiguation and case folding -----------------------------------------

Deno.test("disambiguation keeps a dotfile whole and splits a normal extension", () => {
  const t = build([[10, "D/.hidden"], [20, "D/.hidden"], [30, "D/a.ext"], [40, "D/a.ext"]]);
  const d = must(t.lookup(ROOT, "D"));
  assert.notEqual(t.lookup(d, ".hidden"), undefined);
  assert.notEqual(t.lookup(d, ".hidden (2)"), undefined);
  assert.equal(t.lookup(d, " (2).hidden"), undefined, "must not split at the index-0 dot");
  assert.notEqual(t.lookup(d, "a.ext"), undefined);
  assert.notEqual(t.lookup(d, "a (2).ext"), undefined);
});

Deno.test("disambiguation resolves a three-way collision in id order", () => {
  const t = build([[30, "D/song.flac"], [10, "D/song.flac"], [20, "D/song.flac"]]);
  const d = must(t.lookup(ROOT, "D"));
  assert.equal(t.trackId(must(t.lookup(d, "song.flac"))), 10);
  assert.equal(t.trackId(must(t.lookup(d, "song (2).flac"))), 20);
  assert.equal(t.trackId(must(t.lookup(d, "song (3).flac"))), 30);
});

Deno.test("case-insensitive tree merges directories under the first-seen casing", () => {
  const t = buildCi([[1, "Foo/A"], [2, "foo/B"]]);
  const foo = must(t.lookup(ROOT, "Foo"));
  assert.equal(t.lookup(ROOT, "foo"), foo);
  assert.equal(t.lookup(ROOT, "FOO"), foo);
  assert.deepEqual(t.childNames(ROOT), ["Foo"]);
  assert.notEqual(t.lookup(foo, "A"), undefined);
  assert.notEqual(t.lookup(foo, "B"), undefined);
  assert.equal(t.childNames(foo)!.length, 2);
});

Deno.test("case-insensitive tree disambiguates case-variant files", () => {
  const t = buildCi([[1, "Dir/Song"], [2, "Dir/song"]]);
  const dir = must(t.lookup(ROOT, "Dir"));
  assert.deepEqual(t.childNames(dir), ["Song", "song (2)"]);
});

Deno.test("case-sensitive tree keeps case-variant dirs separate", () => {
  const t = build([[1, "Foo/A"], [2, "foo/B"]]);
  assert.equal(t.childNames(ROOT)!.length, 2);
  assert.notEqual(t.lookup(ROOT, "Foo"), t.lookup(ROOT, "foo"));
  assert.equal(t.lookup(ROOT, "FOO"), undefined);
});

Deno.test("case-insensitive removal keeps the folded lookup consistent", () => {
  const t = buildCi([[1, "Dir/Song"], [2, "Dir/Other"]]);
  const dir = must(t.lookup(ROOT, "dir"));
  assert.notEqual(t.lookup(dir, "song"), undefined);
  t.removeTrack(1);
  assert.equal(t.lookup(dir, "song"), undefined);
  assert.equal(t.lookup(dir, "Song"), undefined);
  assert.notEqual(t.lookup(dir, "other"), undefined);
});

Deno.test("a folded dir re-case keeps the survivor's inode", () => {
  const alloc = new InodeAllocator(true);
  const before = must(buildCi([[1, "Foo/A"], [2, "foo/B"]], alloc).inodeOfTrack(2));
  const rebuilt = buildCi([[2, "foo/B"]], alloc);
  assert.equal(rebuilt.inodeOfTrack(2), before);
  assert.deepEqual(rebuilt.childNames(ROOT), ["foo"], "the directory re-cases");
});

Deno.test("folded inode keys keep disambiguated siblings distinct", () => {
  const t = buildCi([[1, "Dir/Song"], [2, "Dir/song"]]);
  const a = must(t.inodeOfTrack(1));
  const b = must(t.inodeOfTrack(2));
  assert.notEqual(a, b);
  const dir = must(t.lookup(ROOT, "Dir"));
  assert.equal(t.lookup(dir, "Song"), a);
  assert.equal(t.lookup(dir, "song (2)"), b);
});

// ---- rendered-name index and ancestors ----------------------------------------

Deno.test("childrenByRendered finds the disambiguated node", () => {
  const t = build([[10, "D/song.flac"], [20, "D/song.flac"]]);
  const d = must(t.lookup(ROOT, "D"));
  const base = must(t.lookup(d, "song.flac"));
  const suffixed = must(t.lookup(d, "song (2).flac"));
  assert.deepEqual(t.childrenByRendered(d, "song.flac"), [suffixed, base]);
});

Deno.test("deepestExistingAncestor prefers the same-rendered directory over a file", () => {
  const t = build([[1, "X"], [2, "X/a.flac"]]);
  const file = must(t.lookup(ROOT, "X"));
  const dir = must(t.lookup(ROOT, "X (2)"));
  assert.deepEqual(t.childrenByRendered(ROOT, "X"), [file, dir]);
  assert.deepEqual(t.deepestExistingAncestor("X/new.flac"), [dir, 1]);
});

Deno.test("childrenByRendered updates when a collision member is removed", () => {
  const t = build([[10, "D/song.flac"], [20, "D/song.flac"]]);
  const d = must(t.lookup(ROOT, "D"));
  const survivor = must(t.lookup(d, "song (2).flac"));
  t.removeTrack(10);
  assert.deepEqual(t.childrenByRendered(d, "song.flac"), [survivor]);
});

Deno.test("childrenByRendered updates when an empty dir is pruned", () => {
  const t = build([[10, "A/B/x.flac"], [20, "A/C/y.flac"]]);
  const a = must(t.lookup(ROOT, "A"));
  assert.equal(t.childrenByRendered(a, "B").length, 1);
  t.removeTrack(10);
  assert.deepEqual(t.childrenByRendered(a, "B"), []);
  assert.equal(t.childrenByRendered(a, "C").length, 1);
});

Deno.test("deepestExistingAncestor misses a rendered name without scanning the fan-out", () => {
  const entries: TreeEntry[] = [];
  for (let i = 0; i < 1024; i++) {
    const n = String(i).padStart(4, "0");
    entries.push([i, `Artist ${n}/Album ${n}/Track.flac`]);
  }
  const t = build(entries);
  assert.deepEqual(t.deepestExistingAncestor("Unknown/Unknown/new.flac"), [ROOT, 0]);
  assert.deepEqual(t.childrenByRendered(ROOT, "Unknown"), []);
  // The miss is a map probe: a 1024-wide root costs no more than a 1-wide one.
  const started = performance.now();
  for (let i = 0; i < 10_000; i++) t.childrenByRendered(ROOT, "Unknown");
  assert.ok(performance.now() - started < 500);
});

Deno.test("introducingId is the minimum descendant track id", () => {
  const t = build([[30, "A/B/x.flac"], [10, "A/C/y.flac"]]);
  assert.equal(t.introducingId(must(t.lookup(ROOT, "A"))), 10);
  assert.equal(t.introducingId(must(t.inodeOfTrack(30))), 30);
});

Deno.test("removeTrack prunes empty ancestors", () => {
  const t = build([[10, "A/B/x.flac"], [20, "C/y.flac"]]);
  const removed = t.removeTrack(10);
  assert.deepEqual(removed, { survivor: ROOT, pruned: { name: "A", renderedName: "A" } });
  assert.equal(t.inodeOfTrack(10), undefined);
  assert.equal(t.lookup(ROOT, "A"), undefined);
  assert.notEqual(t.lookup(ROOT, "C"), undefined);
  assert.deepEqual(t.entryCounts(), [1, 1]);
  assert.equal(t.removeTrack(10), undefined);
});

Deno.test("removeTrack keeps a parent with a surviving sibling", () => {
  const t = build([[10, "A/x.flac"], [20, "A/y.flac"]]);
  const removed = t.removeTrack(10);
  const a = must(t.lookup(ROOT, "A"));
  assert.deepEqual(removed, { survivor: a, pruned: null });
  assert.notEqual(t.lookup(a, "y.flac"), undefined);
});

// ---- misc queries --------------------------------------------------------------------

Deno.test("equiv distinguishes structurally different trees", () => {
  const a = build([[10, "A/x.flac"]]);
  assert.ok(a.equiv(build([[10, "A/x.flac"]])));
  assert.ok(!a.equiv(build([[10, "B/x.flac"]])));
  assert.ok(!a.equiv(build([[11, "A/x.flac"]])), "a different track at the same path");
  assert.ok(!a.equiv(buildCi([[10, "A/x.flac"]])), "a different case mode");
});

Deno.test("pathOf returns the full disambiguated path", () => {
  const t = build([[10, "A/B/x.flac"], [11, "A/B/x.flac"]]);
  const a = must(t.lookup(ROOT, "A"));
  const b = must(t.lookup(a, "B"));
  assert.equal(t.pathOf(must(t.lookup(b, "x.flac"))), "A/B/x.flac");
  assert.equal(t.pathOf(must(t.inodeOfTrack(11))), "A/B/x (2).flac");
  assert.equal(t.pathOf(b), "A/B");
  assert.equal(t.pathOf(ROOT), "");
  assert.equal(t.depth(b), 2);
  assert.equal(t.parent(b), a);
  assert.equal(t.parent(ROOT), ROOT);
});

Deno.test("deepestExistingAncestor walks existing rendered dirs", () => {
  const t = build([[10, "A/B/x.flac"]]);
  const a = must(t.lookup(ROOT, "A"));
  const b = must(t.lookup(a, "B"));
  assert.deepEqual(t.deepestExistingAncestor("A/B/new.flac"), [b, 2]);
  assert.deepEqual(t.deepestExistingAncestor("A/Q/new.flac"), [a, 1]);
  assert.deepEqual(t.deepestExistingAncestor("Z/new.flac"), [ROOT, 0]);
});

Deno.test("ancestorIn detects an ancestor and the node itself", () => {
  const t = build([[10, "A/B/x.flac"]]);
  const a = must(t.lookup(ROOT, "A"));
  const b = must(t.lookup(a, "B"));
  assert.ok(ancestorIn(t, b, new Set([a])));
  assert.ok(ancestorIn(t, a, new Set([a])));
  assert.ok(!ancestorIn(t, b, new Set()));
});

// ---- NAME_MAX and dot components -------------------------------------------------------

Deno.test("an over-long leaf truncates to 255 bytes keeping its extension", () => {
  const t = build([[10, `${"t".repeat(300)}.flac`]]);
  const names = t.childNames(ROOT)!;
  assert.equal(names.length, 1);
  assert.equal(utf8Length(names[0]), 255);
  assert.ok(names[0].endsWith(".flac"));
});

Deno.test("an over-long directory component truncates to 255 bytes", () => {
  const t = build([[10, `${"d".repeat(300)}/Song.flac`]]);
  assert.equal(t.childNames(ROOT)![0], "d".repeat(255));
});

Deno.test("an over-long component truncates on a UTF-8 character boundary", () => {
  for (const ch of ["é", "日", "🎵"]) {
    const t = build([[10, `${ch.repeat(150)}.flac`], [11, `${ch.repeat(150)}/x.flac`]]);
    for (const name of t.childNames(ROOT)!) {
      const stem = name.endsWith(".flac") ? name.slice(0, -5) : name;
      assert.equal(stem, ch.repeat(stem.length / ch.length), `${ch}: whole characters only`);
      // Maximal: one more character would not fit.
      assert.ok(utf8Length(name) <= 255 && utf8Length(name) > 255 - utf8Length(ch), name);
    }
  }
});

Deno.test("colliding over-long leaves stay distinct and exactly 255 bytes", () => {
  const path = `${"x".repeat(300)}.flac`;
  const t = build(Array.from({ length: 12 }, (_, i): TreeEntry => [i, path]));
  const names = t.childNames(ROOT)!;
  assert.equal(names.length, 12);
  for (const n of names) assert.equal(utf8Length(n), 255, n);
});

Deno.test("an over-long leaf with an oversize extension truncates the whole name", () => {
  const t = build([[10, `${"s".repeat(300)}.${"e".repeat(254)}`]]);
  const name = t.childNames(ROOT)![0];
  assert.ok(utf8Length(name) <= 255);
  assert.ok(name.startsWith("s"), "whole-name truncation keeps the stem prefix");
  assert.equal(name, "s".repeat(255));
});

Deno.test("over-long collisions render deterministically", () => {
  const path = `${"y".repeat(300)}.flac`;
  const entries = Array.from({ length: 5 }, (_, i): TreeEntry => [i, path]);
  assert.deepEqual(build(entries).childNames(ROOT), build(entries).childNames(ROOT));
});

Deno.test("'.' and '..' plain components are dropped", () => {
  const t = build([[10, "./Song.flac"], [20, "../Tune.flac"], [30, "a//./b/../c.flac"]]);
  assert.equal(t.lookup(ROOT, "."), undefined);
  assert.equal(t.lookup(ROOT, ".."), undefined);
  assert.notEqual(t.lookup(ROOT, "Song.flac"), undefined);
  assert.notEqual(t.lookup(ROOT, "Tune.flac"), undefined);
  assert.deepEqual(pathList(t), ["Song.flac", "Tune.flac", "a/b/c.flac"]);
});

Deno.test("a path with no materialized component is skipped", () => {
  const t = build([[1, "./.."], [2, "ok.flac"]]);
  assert.equal(t.inodeOfTrack(1), undefined);
  assert.deepEqual(t.entryCounts(), [1, 0]);
});

// ---- beyond the seed ------------------------------------------------------------------

Deno.test("listings sort in UTF-8 byte order, not UTF-16 code unit order", () => {
  // U+FF21 (3 UTF-8 bytes, one code unit 0xFF21) sorts before U+1F3B5 (4 bytes,
  // surrogates 0xD83C…) bytewise, although its code unit is larger.
  const t = build([[1, "🎵.flac"], [2, "Ａ.flac"], [3, "b.flac"], [4, "B.flac"], [5, "é.flac"]]);
  assert.deepEqual(t.childNames(ROOT), ["B.flac", "b.flac", "é.flac", "Ａ.flac", "🎵.flac"]);
  const sortedBytes = [...t.childNames(ROOT)!]
    .map((n) => new TextEncoder().encode(n))
    .sort((a, b) => {
      for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i] - b[i];
      return a.length - b.length;
    })
    .map((b) => new TextDecoder().decode(b));
  assert.deepEqual(t.childNames(ROOT), sortedBytes);
});

Deno.test("a dir colliding with a file is suffixed per the original (each later track too)", () => {
  // Upstream quirk kept for compatibility: the merge lookup checks the bare
  // name, which is the file, so every later track of that dir opens a new one.
  const t = build([[1, "X"], [2, "X/a.flac"], [3, "X/b.flac"]]);
  assert.deepEqual(pathList(t), ["X", "X (2)/a.flac", "X (3)/b.flac"]);
});

Deno.test("build ignores input order: tracks are inserted in ascending id order", () => {
  const a = build([[2, "A/t.flac"], [1, "A/t.flac"]]);
  const b = build([[1, "A/t.flac"], [2, "A/t.flac"]]);
  assert.equal(a.trackId(must(a.lookup(must(a.lookup(ROOT, "A")), "t.flac"))), 1);
  assert.deepEqual(pathList(a), pathList(b));
});

Deno.test("inserting a track twice is refused", () => {
  const t = build([[1, "A/t.flac"]]);
  assert.throws(() => t.insertTrack(1, "B/t.flac"), /already in the tree/);
});
