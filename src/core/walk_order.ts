// Where a walker goes next: a directory walk top-down in name order (Python's
// os.walk, `find`, most media servers' scans) reads a directory's files, then
// its subdirectories, then the next sibling directory. The synthesis worker
// builds the next directory's layouts while the walker is still in this one.

import type { VirtualTree } from "./tree.ts";

/** Directories looked at, at most, to find the next one holding files. */
const MAX_STEPS = 16;

/** The directory after `dir` in a top-down, name-ordered walk that holds files; undefined if none near. */
export function nextFileDir(tree: VirtualTree, dir: number): number | undefined {
  let d: number | undefined = dir;
  for (let step = 0; step < MAX_STEPS; step++) {
    d = nextDir(tree, d);
    if (d === undefined) return undefined;
    if (tree.children(d)?.some(([, c]) => !tree.isDir(c))) return d;
  }
  return undefined;
}

/** The directory after `dir` in a top-down walk: its first subdirectory, else the next sibling of it or of an ancestor. */
function nextDir(tree: VirtualTree, dir: number): number | undefined {
  const first = tree.children(dir)?.find(([, c]) => tree.isDir(c));
  if (first !== undefined) return first[1];
  let cur = dir;
  for (;;) {
    const parent = tree.parent(cur);
    if (parent === undefined || parent === cur) return undefined;
    const siblings = tree.children(parent) ?? [];
    const at = siblings.findIndex(([, c]) => c === cur);
    for (let i = at + 1; i < siblings.length; i++) {
      if (tree.isDir(siblings[i][1])) return siblings[i][1];
    }
    cur = parent;
  }
}

/**
 * The tracks of the next `count` files a top-down walk opens after file
 * `ino` of directory `dir`: the rest of `dir`, then the next directory's.
 */
export function tracksAfter(tree: VirtualTree, dir: number, ino: number, count: number): number[] {
  const out: number[] = [];
  const take = (children: Array<[string, number]>, from: number) => {
    for (let i = from; i < children.length && out.length < count; i++) {
      const id = tree.trackId(children[i][1]);
      if (id !== undefined) out.push(id);
    }
  };
  const here = tree.children(dir) ?? [];
  take(here, here.findIndex(([, c]) => c === ino) + 1);
  if (out.length < count) {
    const next = nextFileDir(tree, dir);
    if (next !== undefined) take(tree.children(next) ?? [], 0);
  }
  return out;
}
