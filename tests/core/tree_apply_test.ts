// Incremental apply and subtree rebuilds: the original's cases (seed
// tree.rs `mod tests`), each checked against a fresh build, plus the change
// report the refresh uses for kernel cache invalidation.

import assert from "node:assert/strict";
import { InodeAllocator } from "../../src/core/inodes.ts";
import { NAME_MAX } from "../../src/core/names.ts";
import { type TreeEntry, VirtualTree } from "../../src/core/tree.ts";
import { applyChanges, rebuildSubtree, TreeRebuildError } from "../../src/core/tree_apply.ts";
import { diffTrees } from "../../src/core/tree_diff.ts";
import {
  assertApplyMatchesBuild,
  build,
  buildCi,
  must,
  pathList,
  ROOT,
  sortById,
} from "./tree_helpers.ts";

// ---- rebuildSubtree --------------------------------------------------------------

Deno.test("rebuildSubtree reports a missing rendered path and leaves the tree intact", () => {
  const t = build([[10, "Alice/Song.flac"]]);
  const dir = must(t.lookup(ROOT, "Alice"));
  assert.throws(
    () => rebuildSubtree(t, dir, new Map()),
    (e) => e instanceof TreeRebuildError && e.trackId === 10,
  );
  assert.ok(t.equiv(build([[10, "Alice/Song.flac"]])));
});

Deno.test("rebuildSubtree reclaims a freed base name", () => {
  const t = build([[10, "D/song.flac"], [20, "D/song.flac"]]);
  const d = must(t.lookup(ROOT, "D"));
  t.removeTrack(10);
  rebuildSubtree(t, d, new Map([[20, "D/song.flac"]]));
  const reborn = must(t.lookup(d, "song.flac"));
  assert.equal(t.inodeOfTrack(20), reborn);
  assert.equal(t.lookup(d, "song (2).flac"), undefined);
});

Deno.test("rebuildSubtree matches a build for dir vs file", () => {
  const entries: TreeEntry[] = [[1, "P/X.flac"], [2, "P/X.flac/t.flac"]];
  const t = build(entries);
  rebuildSubtree(t, must(t.lookup(ROOT, "P")), new Map(entries));
  assert.deepEqual(pathList(t), pathList(build(entries)));
  assert.deepEqual(pathList(t), ["P/X (2).flac/t.flac", "P/X.flac"]);
});

Deno.test("rebuildSubtree recurses multiple levels and prunes the intermediate dir", () => {
  const t = build([[1, "P/Sub/t.flac"], [2, "P/Sub/u.flac"], [3, "P/keep.flac"]]);
  const p = must(t.lookup(ROOT, "P"));
  t.removeTrack(1);
  t.removeTrack(2);
  rebuildSubtree(t, p, new Map([[3, "P/keep.flac"]]));
  const p2 = must(t.lookup(ROOT, "P"));
  assert.equal(t.lookup(p2, "Sub"), undefined);
  assert.notEqual(t.lookup(p2, "keep.flac"), undefined);
  assert.deepEqual(pathList(t), pathList(build([[3, "P/keep.flac"]])));
});

// ---- applyChanges ------------------------------------------------------------------

function applyAndList(
  before: TreeEntry[],
  after: TreeEntry[],
  change: { changed?: number[]; added?: number[]; removed?: number[] },
) {
  const t = build(before);
  const result = applyChanges(t, {
    changed: change.changed ?? [],
    added: change.added ?? [],
    removed: change.removed ?? [],
  }, new Map(after));
  return { t, result, reference: build(sortById(after)) };
}

Deno.test("applyChanges handles a dir-vs-file min-id flip on removal", () => {
  const { t, reference } = applyAndList(
    [[1, "X.flac/a.flac"], [9, "X.flac/b.flac"], [5, "X.flac"]],
    [[9, "X.flac/b.flac"], [5, "X.flac"]],
    { removed: [1] },
  );
  assert.deepEqual(pathList(t), pathList(reference));
  assert.deepEqual(pathList(t), ["X (2).flac/b.flac", "X.flac"]);
});

Deno.test("applyChanges handles an add-side min-id flip", () => {
  const { t, reference } = applyAndList(
    [[2, "X.flac"], [5, "X.flac/a.flac"]],
    [[1, "X.flac/b.flac"], [2, "X.flac"], [5, "X.flac/a.flac"]],
    { added: [1] },
  );
  assert.deepEqual(pathList(t), pathList(reference));
  assert.deepEqual(pathList(t), ["X (2).flac", "X.flac/a.flac", "X.flac/b.flac"]);
});

Deno.test("applyChanges moves a track across dirs", () => {
  const { t, reference } = applyAndList(
    [[1, "Old/a.flac"], [2, "Old/b.flac"], [3, "New/c.flac"]],
    [[1, "Old/a.flac"], [2, "New/b.flac"], [3, "New/c.flac"]],
    { changed: [2] },
  );
  assert.deepEqual(pathList(t), pathList(reference));
});

Deno.test("applyChanges: a changed id with an unchanged path is a no-op", () => {
  const entries: TreeEntry[] = [[1, "A/x.flac"], [2, "A/y.flac"]];
  const { t, result, reference } = applyAndList(entries, entries, { changed: [1] });
  assert.equal(result.rebuilds, 0);
  assert.ok(t.equiv(reference));
  assert.deepEqual(result.vanishedEntries, []);
  assert.deepEqual(result.addedEntries, []);
});

Deno.test("applyChanges: a '.' component colliding matches a build", () => {
  assertApplyMatchesBuild([[1, "A/t.flac"]], [[1, "A/t.flac"], [2, "A/./t.flac"]], [], [2], [], 1);
});

Deno.test("applyChanges: a '..' component colliding matches a build", () => {
  assertApplyMatchesBuild([[1, "A/t.flac"]], [[1, "A/t.flac"], [2, "A/../t.flac"]], [], [2], [], 1);
});

Deno.test("applyChanges: removing the base of a collision group renames the survivor", () => {
  const r = assertApplyMatchesBuild(
    [[1, "A/t.flac"], [2, "A/t.flac"]],
    [[2, "A/t.flac"]],
    [],
    [],
    [1],
    1,
  );
  // "t (2).flac" vanishes; "t.flac" keeps its inode (path-keyed) but now serves track 2.
  assert.deepEqual(r.vanishedEntries.map((e) => e.name), ["t (2).flac"]);
  assert.equal(r.reboundInodes.length, 1);
  assert.deepEqual(r.removedInodes.length, 1);
});

Deno.test("applyChanges: removing a literal suffix-shaped name frees the key for a pushed member", () => {
  assertApplyMatchesBuild(
    [[1, "A/t.flac"], [2, "A/t (2).flac"], [3, "A/t.flac"]],
    [[1, "A/t.flac"], [3, "A/t.flac"]],
    [],
    [],
    [2],
    1,
  );
});

Deno.test("applyChanges: adding a smaller id into a collision group shifts the member", () => {
  assertApplyMatchesBuild([[5, "A/t.flac"]], [[2, "A/t.flac"], [5, "A/t.flac"]], [], [2], [], 1);
});

Deno.test("applyChanges: adding a smaller id under an over-long dir matches a build", () => {
  const long = "d".repeat(NAME_MAX + 45);
  assertApplyMatchesBuild(
    [[5, `${long}/t.flac`]],
    [[2, `${long}/t.flac`], [5, `${long}/t.flac`]],
    [],
    [2],
    [],
    1,
  );
});

Deno.test("applyChanges: adding a smaller id with an over-long leaf matches a build", () => {
  const long = `${"x".repeat(NAME_MAX + 45)}.flac`;
  assertApplyMatchesBuild([[5, `A/${long}`]], [[2, `A/${long}`], [5, `A/${long}`]], [], [2], [], 1);
});

Deno.test("applyChanges: a dir reclaims its base name when the colliding file goes", () => {
  assertApplyMatchesBuild([[1, "X"], [2, "X/a.flac"]], [[2, "X/a.flac"]], [], [], [1], 1);
});

Deno.test("applyChanges: removing a min id without collisions rebuilds nothing", () => {
  assertApplyMatchesBuild(
    [[1, "A/B/t1.flac"], [2, "A/B/t2.flac"], [3, "C/u.flac"]],
    [[2, "A/B/t2.flac"], [3, "C/u.flac"]],
    [],
    [],
    [1],
    0,
  );
});

Deno.test("applyChanges: a new top-level dir with the min id rebuilds nothing", () => {
  assertApplyMatchesBuild(
    [[5, "A/t1.flac"], [6, "A/t2.flac"]],
    [[1, "B/u.flac"], [5, "A/t1.flac"], [6, "A/t2.flac"]],
    [],
    [1],
    [],
    0,
  );
});

Deno.test("applyChanges: moved and added ids on one fresh key rank by id", () => {
  assertApplyMatchesBuild(
    [[3, "A/old.flac"], [5, "A/keep.flac"]],
    [[3, "B/t.flac"], [5, "A/keep.flac"], [7, "B/t.flac"]],
    [3],
    [7],
    [],
    0,
  );
});

Deno.test("applyChanges: a same-dir move under a colliding dir rebuilds root once", () => {
  assertApplyMatchesBuild(
    [[1, "D/x.flac"], [2, "D"], [3, "D/z.flac"]],
    [[1, "D/y.flac"], [2, "D"], [3, "D/z.flac"]],
    [1],
    [],
    [],
    1,
  );
});

Deno.test("applyChanges: an added min id under a colliding dir rebuilds the parent", () => {
  assertApplyMatchesBuild(
    [[2, "D"], [5, "D/x.flac"]],
    [[1, "D/y.flac"], [2, "D"], [5, "D/x.flac"]],
    [],
    [1],
    [],
    1,
  );
});

Deno.test("applyChanges rebuilds only the topmost dirty dir", () => {
  assertApplyMatchesBuild(
    [[1, "t.flac"], [2, "t.flac"], [10, "A/u.flac"], [11, "A/u.flac"]],
    [[2, "t.flac"], [11, "A/u.flac"]],
    [],
    [],
    [1, 10],
    1,
  );
});

function library(albums: number): TreeEntry[] {
  const out: TreeEntry[] = [];
  for (let a = 0; a < albums; a++) {
    for (let t = 0; t < 3; t++) {
      out.push([a * 3 + t, `Album${String(a).padStart(4, "0")}/t${t}.flac`]);
    }
  }
  return out;
}

function rebuildsForOneRetag(albums: number): number {
  const entries = library(albums);
  const t = build(entries);
  const after = new Map(entries);
  after.set(1, "Album0000/renamed.flac");
  return applyChanges(t, { changed: [1], added: [], removed: [] }, after).rebuilds;
}

Deno.test("applyChanges rebuild count does not scale with library size", () => {
  assert.equal(rebuildsForOneRetag(43), 0);
  assert.equal(rebuildsForOneRetag(683), 0);
});

Deno.test("applyChanges reports removed, added and rebound inodes and touched dirs", () => {
  const t = build([[1, "A/t.flac"], [2, "A/u.flac"], [3, "B/v.flac"]]);
  const a = must(t.lookup(ROOT, "A"));
  const b = must(t.lookup(ROOT, "B"));
  const oldT = must(t.inodeOfTrack(1));
  const oldV = must(t.inodeOfTrack(3));
  const after = new Map<number, string>([[2, "A/u.flac"], [3, "C/v.flac"], [4, "A/t.flac"]]);
  const r = applyChanges(t, { changed: [3], added: [4], removed: [1] }, after);
  // Track 4 takes over A/t.flac: same path, same inode, other track → rebound.
  assert.equal(t.inodeOfTrack(4), oldT);
  assert.deepEqual(r.reboundInodes, [oldT]);
  assert.deepEqual(r.removedInodes.sort(), [oldV, b].sort());
  const c = must(t.lookup(ROOT, "C"));
  assert.deepEqual(r.addedInodes.sort(), [c, must(t.inodeOfTrack(3))].sort());
  assert.deepEqual(
    r.vanishedEntries.map((e) => `${e.parent}:${e.name}`).sort(),
    [`${ROOT}:B`, `${b}:v.flac`].sort(),
  );
  assert.deepEqual(r.touchedDirs.sort(), [ROOT, c].sort());
  assert.ok(!r.touchedDirs.includes(a), "A's listing is unchanged (same name, same inode)");
});

Deno.test("applyChanges on a case-insensitive tree re-cases a merged dir", () => {
  const before: TreeEntry[] = [[1, "Foo/A.flac"], [2, "foo/B.flac"]];
  // Removing the casing introducer re-cases the merged dir ("Foo" → "foo").
  const r = assertApplyMatchesBuild(before, [[2, "foo/B.flac"]], [], [], [1], 1, true);
  assert.deepEqual(r.vanishedEntries.map((e) => e.name).sort(), ["A.flac", "Foo"]);
  // Adding a smaller id with another casing re-cases it too.
  assertApplyMatchesBuild(
    [[5, "Foo/A.flac"]],
    [[2, "FOO/B.flac"], [5, "Foo/A.flac"]],
    [],
    [2],
    [],
    1,
    true,
  );
  // Same casing throughout: no re-case possible, nothing rebuilt.
  assertApplyMatchesBuild(
    [[1, "Foo/A.flac"], [2, "Foo/B.flac"]],
    [[2, "Foo/B.flac"]],
    [],
    [],
    [1],
    0,
    true,
  );
  // A changed track with its exact old path is a no-op.
  assert.equal(
    applyChanges(buildCi(before), { changed: [1], added: [], removed: [] }, new Map(before))
      .rebuilds,
    0,
  );
  // Track 2 sits under its dir's other casing: its placement cannot be read back, so it is
  // re-placed (still equal to a build).
  assertApplyMatchesBuild(before, before, [2], [], [], undefined, true);
});

Deno.test("applyChanges on a case-insensitive tree: folded collisions re-rank", () => {
  assertApplyMatchesBuild(
    [[1, "D/Song.flac"], [2, "D/song.flac"], [3, "D/SONG.flac"]],
    [[2, "D/song.flac"], [3, "D/SONG.flac"]],
    [],
    [],
    [1],
    1,
    true,
  );
  assertApplyMatchesBuild(
    [[5, "D/Song.flac"]],
    [[2, "D/SONG.flac"], [5, "D/Song.flac"]],
    [],
    [2],
    [],
    1,
    true,
  );
});

Deno.test("applyChanges on a case-insensitive tree stays O(changed)", () => {
  for (const albums of [43, 683]) {
    const entries = library(albums);
    const t = buildCi(entries);
    const after = new Map(entries);
    after.set(1, "Album0000/renamed.flac");
    const r = applyChanges(t, { changed: [1], added: [], removed: [] }, after);
    assert.equal(r.rebuilds, 0, `${albums} albums`);
    assert.ok(
      t.equiv(VirtualTree.build(after, { allocator: t.allocator.clone(), caseInsensitive: true })),
    );
  }
});

Deno.test("applyChanges: a track both removed and added is removed", () => {
  const t = build([[1, "A/t.flac"], [2, "B/u.flac"]]);
  applyChanges(
    t,
    { changed: [1], added: [1], removed: [1] },
    new Map([[1, "C/t.flac"], [2, "B/u.flac"]]),
  );
  assert.ok(t.equiv(build([[2, "B/u.flac"]], t.allocator.clone())));
});

Deno.test("applyChanges fails with TreeRebuildError when a rendered path is missing", () => {
  const t = build([[1, "A/t.flac"]]);
  assert.throws(
    () => applyChanges(t, { changed: [], added: [2], removed: [] }, new Map([[1, "A/t.flac"]])),
    (e) => e instanceof TreeRebuildError && e.trackId === 2 && /track 2/.test(e.message),
  );
});

Deno.test("diffTrees reports re-ranked names between two builds", () => {
  const alloc = new InodeAllocator(false);
  const before = build([[1, "A/t.flac"], [2, "A/t.flac"], [3, "B/x.flac"]], alloc);
  const after = build([[2, "A/t.flac"], [3, "B/x.flac"]], alloc);
  const d = diffTrees(before, after);
  assert.deepEqual(d.vanishedEntries.map((e) => e.name), ["t (2).flac"]);
  assert.deepEqual(d.removedInodes, [before.inodeOfTrack(2)]);
  assert.deepEqual(d.reboundInodes, [before.inodeOfTrack(1)]);
  assert.deepEqual(d.addedInodes, []);
  assert.deepEqual(d.touchedDirs, [before.lookup(ROOT, "A")]);
  const none = diffTrees(after, build([[2, "A/t.flac"], [3, "B/x.flac"]], alloc));
  assert.deepEqual(
    [none.vanishedEntries, none.addedEntries, none.removedInodes, none.touchedDirs],
    [[], [], [], []],
  );
});

Deno.test("a 20 000-way collision (untagged tracks) builds and re-ranks in linear time", () => {
  // Every track without tags renders the default fallback path: one huge group.
  const entries: TreeEntry[] = [];
  for (let id = 1; id <= 20_000; id++) entries.push([id, "Unknown/Unknown/Unknown.flac"]);
  let started = performance.now();
  const t = build(entries);
  const buildMs = performance.now() - started;
  const dir = must(t.lookup(must(t.lookup(ROOT, "Unknown")), "Unknown"));
  assert.equal(t.trackId(must(t.lookup(dir, "Unknown (20000).flac"))), 20_000);
  const after = new Map(entries);
  after.delete(1);
  started = performance.now();
  const r = applyChanges(t, { changed: [], added: [], removed: [1] }, after);
  const applyMs = performance.now() - started;
  assert.equal(t.trackId(must(t.lookup(dir, "Unknown.flac"))), 2);
  assert.equal(t.lookup(dir, "Unknown (20000).flac"), undefined);
  assert.equal(r.reboundInodes.length, 19_999);
  // Quadratic probing took ~80 s here; linear takes well under a second.
  assert.ok(buildMs < 3000 && applyMs < 3000, `build ${buildMs} ms, apply ${applyMs} ms`);
});

Deno.test("applyChanges: a track renamed to its own old suffixed name is not a no-op", () => {
  // Beyond the seed, which compares the disambiguated path: 18 was "t (2).flac" as a
  // collision member of "t.flac"; now its literal name is "t (2).flac" (other rendered name).
  assertApplyMatchesBuild(
    [[6, "./t.flac"], [18, "t.flac"]],
    [[6, "./t.flac"], [18, "t (2).flac"]],
    [18],
    [],
    [],
  );
});

Deno.test("applyChanges: a new dir pushed past a literal suffix-shaped dir re-ranks", () => {
  // Beyond the seed: 10's dir "X" collides with 9's new file "X" and would take
  // "X (2)", but the literal dir "X (2)" of 22 is there; a build gives 10 (smaller
  // id) "X (2)" and merges 22 into it.
  const r = assertApplyMatchesBuild(
    [[9, "s.flac"], [10, "🎵.flac"], [22, "X (2)/s.flac"]],
    [[9, "X"], [10, "X/X.flac"], [22, "X (2)/s.flac"]],
    [9, 10],
    [],
    [],
    1,
  );
  assert.ok(r.addedEntries.some((e) => e.name === "X.flac"));
});
