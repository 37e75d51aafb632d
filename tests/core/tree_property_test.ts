// Seeded property test: random libraries and random change sets applied
// incrementally equal a fresh build over the new track set (structure and
// inodes, the seed's oracle: a build on a clone of the allocator), in both
// case modes; and the change report equals a diff of the two trees.

import assert from "node:assert/strict";
import { InodeAllocator } from "../../src/core/inodes.ts";
import { type TreeEntry, VirtualTree } from "../../src/core/tree.ts";
import { applyChanges } from "../../src/core/tree_apply.ts";
import { diffTrees, type TreeChanges } from "../../src/core/tree_diff.ts";
import { filePaths, sortById } from "./tree_helpers.ts";
import { mulberry32 } from "../fixtures/tools.ts";

// Few distinct names so collisions, merges and case variants are frequent.
const DIRS = [
  "A",
  "a",
  "B",
  "X",
  "x",
  "X (2)",
  "X.flac",
  "Ü",
  "ü",
  "日本",
  "🎵",
  ".",
  "..",
  "",
  "L".repeat(300),
  "L".repeat(300) + "x",
  "é".repeat(140),
];
const LEAVES = [
  "t.flac",
  "T.flac",
  "t (2).flac",
  "t (3).flac",
  "X",
  "x",
  "X.flac",
  ".hidden",
  "é.flac",
  "🎵.flac",
  `${"s".repeat(300)}.flac`,
  `${"s".repeat(300)}.flac`.toUpperCase(),
  `${"ü".repeat(200)}.opus`,
];

// Case variants that fold together (final sigma, Kelvin sign, dotted I), some near NAME_MAX.
const FOLDED_DIRS = [
  "Foo",
  "FOO",
  "foo",
  "Foo (2)",
  "fOO (2)",
  "ΣΑΣ",
  "σας",
  "σασ",
  "K",
  "\u212A",
  "k",
  "İ",
  "i\u0307",
  ".",
  "\u212A".repeat(90),
  "k".repeat(260),
  "K".repeat(260),
];
const FOLDED_LEAVES = [
  "t.flac",
  "T.FLAC",
  "T.flac",
  "t (2).flac",
  "T (2).FLAC",
  "Foo",
  "FOO",
  "foo (2)",
  "\u212A.flac",
  "k.flac",
  "İ.flac",
  "i\u0307.flac",
  "\u212A".repeat(90) + ".flac",
  "k".repeat(270) + ".flac",
  "K".repeat(270) + ".FLAC",
];

interface NameSet {
  dirs: readonly string[];
  leaves: readonly string[];
}
const MIXED: NameSet = { dirs: DIRS, leaves: LEAVES };
const FOLDED: NameSet = { dirs: FOLDED_DIRS, leaves: FOLDED_LEAVES };

function randomPath(rnd: () => number, names: NameSet = MIXED): string {
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rnd() * xs.length)];
  const depth = Math.floor(rnd() * 4); // 0–3 directory components
  const parts: string[] = [];
  for (let i = 0; i < depth; i++) parts.push(pick(names.dirs));
  parts.push(pick(names.leaves));
  return parts.join("/");
}

function sortedSet(xs: Iterable<number>): number[] {
  return [...new Set(xs)].sort((a, b) => a - b);
}

function changeSummary(c: TreeChanges) {
  const entries = (es: TreeChanges["vanishedEntries"]) =>
    es.map((e) => `${e.parent}/${e.name}=${e.inode}`).sort();
  return {
    removedInodes: sortedSet(c.removedInodes),
    addedInodes: sortedSet(c.addedInodes),
    reboundInodes: sortedSet(c.reboundInodes),
    vanished: entries(c.vanishedEntries),
    added: entries(c.addedEntries),
    touchedDirs: sortedSet(c.touchedDirs),
  };
}

function runSeed(seed: number, caseInsensitive: boolean, names: NameSet = MIXED): void {
  const rnd = mulberry32(seed);
  const allocator = new InodeAllocator(caseInsensitive);
  let library = new Map<number, string>();
  let nextId = 1;
  const initial = Math.floor(rnd() * 25);
  for (let i = 0; i < initial; i++) library.set(nextId++ * 2, randomPath(rnd, names)); // gaps for adds below
  const tree = VirtualTree.build(library, { allocator, caseInsensitive });

  for (let round = 0; round < 6; round++) {
    const next = new Map(library);
    const removed: number[] = [];
    const changed: number[] = [];
    const added: number[] = [];
    for (const id of library.keys()) {
      const r = rnd();
      if (r < 0.15) {
        removed.push(id);
        next.delete(id);
      } else if (r < 0.3) {
        changed.push(id); // a move (or, by chance, the same path)
        next.set(id, randomPath(rnd, names));
      } else if (r < 0.35) {
        changed.push(id); // a retag that does not touch the path
      }
    }
    const adds = Math.floor(rnd() * 6);
    for (let i = 0; i < adds; i++) {
      // Odd ids interleave below existing ones: exercises min-id flips.
      const id = Math.floor(rnd() * nextId * 2) | 1;
      if (next.has(id) || library.has(id)) continue;
      added.push(id);
      next.set(id, randomPath(rnd, names));
    }

    const before = VirtualTree.build(library, { allocator: allocator.clone(), caseInsensitive });
    assert.ok(before.equiv(tree), `seed ${seed} round ${round}: copy of the old tree`);
    const report = applyChanges(tree, { changed, added, removed }, next);
    const reference = VirtualTree.build(sortById([...next]), {
      allocator: allocator.clone(),
      caseInsensitive,
    });
    const context = () =>
      `seed ${seed} round ${round} ci=${caseInsensitive}\n` +
      `before: ${JSON.stringify([...library].map(([i, p]) => [i, p.slice(0, 40)]))}\n` +
      `change: ${JSON.stringify({ changed, added, removed })}\n` +
      `applied:   ${JSON.stringify([...filePaths(tree).keys()].map((p) => p.slice(0, 60)))}\n` +
      `reference: ${JSON.stringify([...filePaths(reference).keys()].map((p) => p.slice(0, 60)))}`;
    assert.ok(tree.equiv(reference), context());
    assert.deepEqual(changeSummary(report), changeSummary(diffTrees(before, tree)), context());

    library = next;
    if (rnd() < 0.3) allocator.pruneRetired(tree);
  }
}

Deno.test("incremental apply equals a fresh build (case-sensitive, 400 seeds)", () => {
  for (let seed = 1; seed <= 400; seed++) runSeed(seed, false);
});

Deno.test("incremental apply equals a fresh build (case-insensitive, 150 seeds)", () => {
  for (let seed = 1; seed <= 150; seed++) runSeed(seed * 7919, true);
});

Deno.test("incremental apply equals a fresh build (folding case variants, both modes)", () => {
  for (let seed = 1; seed <= 150; seed++) {
    runSeed(seed * 104729, true, FOLDED);
    runSeed(seed * 104729, false, FOLDED);
  }
});

Deno.test("the property test's generator does produce collisions and re-ranks", () => {
  // Guard against a generator too tame to exercise the gates.
  let rebuilds = 0;
  let renamed = 0;
  const rnd = mulberry32(42);
  for (let n = 0; n < 100; n++) {
    const lib = new Map<number, string>();
    for (let id = 2; id < 40; id += 2) lib.set(id, randomPath(rnd));
    const t = VirtualTree.build(lib);
    const next = new Map(lib);
    next.delete(2);
    next.set(1, randomPath(rnd));
    const r = applyChanges(t, { changed: [], added: [1], removed: [2] }, next);
    rebuilds += r.rebuilds;
    renamed += r.vanishedEntries.length;
  }
  assert.ok(rebuilds > 20, `rebuilds ${rebuilds}`);
  assert.ok(renamed > 100, `vanished entries ${renamed}`);
});

Deno.test("the same history yields the same inodes as a replay", () => {
  // Two independent runs of one seed allocate identically (no hidden nondeterminism).
  const entries = (): TreeEntry[] => {
    const rnd = mulberry32(7);
    return Array.from({ length: 50 }, (_, i): TreeEntry => [i + 1, randomPath(rnd)]);
  };
  const a = VirtualTree.build(entries());
  const b = VirtualTree.build(entries());
  assert.ok(a.equiv(b));
});

/** The original's allocator, literally: whole disambiguated path (folded when CI) → inode. */
class PathKeyedAllocator {
  paths = new Map<string, number>([["", 1]]);
  next = 2;
  constructor(readonly fold: boolean) {}
  key(path: string) {
    return this.fold ? path.toLowerCase() : path;
  }
  intern(path: string): number {
    const known = this.paths.get(this.key(path));
    if (known !== undefined) return known;
    this.paths.set(this.key(path), this.next);
    return this.next++;
  }
  prune(tree: VirtualTree) {
    if (this.paths.size <= 2 * tree.nodeCount) return;
    this.paths = new Map([["", 1]]);
    tree.forEachLink((inode) => this.paths.set(this.key(tree.pathOf(inode)), inode));
  }
}

Deno.test("inodes equal the original's path-keyed allocator over random build histories", () => {
  for (const caseInsensitive of [false, true]) {
    for (let seed = 1; seed <= 60; seed++) {
      const rnd = mulberry32(seed * 31 + (caseInsensitive ? 1 : 0));
      const allocator = new InodeAllocator(caseInsensitive);
      const reference = new PathKeyedAllocator(caseInsensitive);
      for (let generation = 0; generation < 8; generation++) {
        const lib: TreeEntry[] = [];
        const names = rnd() < 0.5 ? MIXED : FOLDED;
        for (let id = 1; id < 2 + rnd() * 30; id++) lib.push([id, randomPath(rnd, names)]);
        const tree = VirtualTree.build(lib, { allocator, caseInsensitive });
        // A fresh build interns nodes in creation order, which the tree's map preserves.
        tree.forEachLink((inode) => {
          assert.equal(reference.intern(tree.pathOf(inode)), inode, `seed ${seed}`);
        });
        assert.equal(allocator.internedPathCount, reference.paths.size);
        if (rnd() < 0.5) {
          reference.prune(tree);
          allocator.pruneRetired(tree);
          assert.equal(allocator.internedPathCount, reference.paths.size);
        }
      }
    }
  }
});
