// Where a walker goes next: a directory walk top-down in name order (Python's
// os.walk, `find`, most media servers' scans) reads a directory's files, then
// its subdirectories, then the next sibling directory. The synthesis worker
// builds the next directory's layouts while the walker is still in this one.
//
// Every step reads the tree's cached, byte-ordered child names and finds a
// child's place in them by binary search, never by copying a listing: a
// library root may hold thousands of artists, and this runs on every open
// that starts a directory.

import { compareBytewise } from "./names.ts";
import type { VirtualTree } from "./tree.ts";

/** Directories looked at, at most, to find the next one holding files. */
const MAX_STEPS = 16;

/** The directory after `dir` in a top-down, name-ordered walk that holds files; undefined if none near. */
export function nextFileDir(tree: VirtualTree, dir: number): number | undefined {
  let d: number | undefined = dir;
  for (let step = 0; step < MAX_STEPS; step++) {
    d = nextDir(tree, d);
    if (d === undefined) return undefined;
    if (firstChild(tree, d, 0, false) !== undefined) return d;
  }
  return undefined;
}

/** The directory after `dir` in a top-down walk: its first subdirectory, else the next sibling of it or of an ancestor. */
function nextDir(tree: VirtualTree, dir: number): number | undefined {
  const first = firstChild(tree, dir, 0, true);
  if (first !== undefined) return first;
  let cur = dir;
  for (;;) {
    const parent = tree.parent(cur);
    if (parent === undefined || parent === cur) return undefined;
    const at = placeIn(tree, parent, cur);
    if (at < 0) return undefined;
    const next = firstChild(tree, parent, at + 1, true);
    if (next !== undefined) return next;
    cur = parent;
  }
}

/** The first child of `dir` from position `from` on that is a directory (`wantDir`) or a file. */
function firstChild(
  tree: VirtualTree,
  dir: number,
  from: number,
  wantDir: boolean,
): number | undefined {
  const names = tree.childNames(dir) ?? [];
  for (let i = from; i < names.length; i++) {
    const c = tree.lookup(dir, names[i]);
    if (c !== undefined && tree.isDir(c) === wantDir) return c;
  }
  return undefined;
}

/** The position of `child` in its directory's byte-ordered names; -1 if it is not there. */
function placeIn(tree: VirtualTree, dir: number, child: number): number {
  const names = tree.childNames(dir);
  const name = tree.node(child)?.name;
  if (names === undefined || name === undefined) return -1;
  let lo = 0;
  let hi = names.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareBytewise(names[mid], name) < 0) lo = mid + 1;
    else hi = mid;
  }
  return names[lo] === name ? lo : -1;
}

/**
 * The tracks of the next `count` files a top-down walk opens after file
 * `ino` of directory `dir`: the rest of `dir`, then the next directories'.
 */
export function tracksAfter(tree: VirtualTree, dir: number, ino: number, count: number): number[] {
  const out: number[] = [];
  const take = (from: number, d: number) => {
    const names = tree.childNames(d) ?? [];
    for (let i = from; i < names.length && out.length < count; i++) {
      const c = tree.lookup(d, names[i]);
      const id = c === undefined ? undefined : tree.trackId(c);
      if (id !== undefined) out.push(id);
    }
  };
  take(placeIn(tree, dir, ino) + 1, dir);
  for (let d: number | undefined = dir; out.length < count;) {
    d = nextFileDir(tree, d);
    if (d === undefined) break;
    take(0, d);
  }
  return out;
}

/**
 * Every track of the tree in the order a top-down, name-ordered walk meets
 * them (a directory's files, then each subdirectory in turn), lazily: the
 * tree may change between steps, and a file gone by then is skipped.
 */
export function* tracksInWalkOrder(tree: VirtualTree, root: number): Generator<number> {
  const stack: number[] = [root];
  while (stack.length > 0) {
    const dir = stack.pop()!;
    const names = tree.childNames(dir);
    if (names === undefined) continue;
    const subdirs: number[] = [];
    for (const name of names) {
      const c = tree.lookup(dir, name);
      if (c === undefined) continue;
      if (tree.isDir(c)) subdirs.push(c);
      else {
        const id = tree.trackId(c);
        if (id !== undefined) yield id;
      }
    }
    for (let i = subdirs.length - 1; i >= 0; i--) stack.push(subdirs[i]);
  }
}
