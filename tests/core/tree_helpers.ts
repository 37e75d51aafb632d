// Shared helpers for the tree tests: path listings and the incremental-vs-build oracle.

import assert from "node:assert/strict";
import { InodeAllocator } from "../../src/core/inodes.ts";
import { type TreeEntry, VirtualTree } from "../../src/core/tree.ts";
import { applyChanges } from "../../src/core/tree_apply.ts";
import type { TreeChanges } from "../../src/core/tree_diff.ts";

export const ROOT = VirtualTree.ROOT;

/** A tree of `entries` (case-sensitive names). */
export const build = (entries: TreeEntry[], allocator?: InodeAllocator) =>
  VirtualTree.build(entries, { allocator });
/** A tree of `entries` with case-insensitive lookup. */
export const buildCi = (entries: TreeEntry[], allocator = new InodeAllocator(true)) =>
  VirtualTree.build(entries, { allocator, caseInsensitive: true });
/** `v`, asserted present. */
export const must = <T>(v: T | undefined): T => {
  assert.notEqual(v, undefined);
  return v as T;
};

/** Full disambiguated path → inode of every file, sorted by path. */
export function filePaths(t: VirtualTree): Map<string, number> {
  const out: Array<[string, number]> = [];
  const stack: Array<[number, string]> = [[ROOT, ""]];
  while (stack.length > 0) {
    const [inode, prefix] = stack.pop()!;
    for (const [name, child] of t.children(inode) ?? []) {
      const p = prefix === "" ? name : `${prefix}/${name}`;
      if (t.isDir(child)) stack.push([child, p]);
      else out.push([p, child]);
    }
  }
  out.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return new Map(out);
}

export function pathList(t: VirtualTree): string[] {
  return [...filePaths(t).keys()];
}

export function sortById(entries: readonly TreeEntry[]): TreeEntry[] {
  return [...entries].sort((a, b) => a[0] - b[0]);
}

/**
 * Apply a change set to a tree built from `before`, then require full `equiv`
 * (inodes included) with a build over `after` on a clone of the allocator,
 * and (when given) the exact number of subtree rebuilds.
 */
export function assertApplyMatchesBuild(
  before: readonly TreeEntry[],
  after: readonly TreeEntry[],
  changed: number[],
  added: number[],
  removed: number[],
  expectedRebuilds?: number,
  caseInsensitive = false,
): TreeChanges {
  const allocator = new InodeAllocator(caseInsensitive);
  const t = VirtualTree.build(before, { allocator });
  const paths = new Map(after);
  const result = applyChanges(t, { changed, added, removed }, paths);
  if (expectedRebuilds !== undefined) {
    assert.equal(result.rebuilds, expectedRebuilds, "subtree rebuild count");
  }
  const reference = VirtualTree.build(sortById(after), { allocator: allocator.clone() });
  assert.ok(
    t.equiv(reference),
    `incremental tree diverged from build\n  applied:   ${JSON.stringify([...filePaths(t)])}\n` +
      `  reference: ${JSON.stringify([...filePaths(reference)])}`,
  );
  return result;
}
