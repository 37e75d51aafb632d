// Incremental tree update: mutate a tree in
// place so it ends equal — structure and inodes — to a fresh build over the
// new track set with the same allocator.
//
// Removing or adding a track can only rename siblings where rendered names
// collide, so a parent directory is marked dirty only when the change passes
// the collision gate and flips that child's introducing (minimum) track id.
// After the plain removals and insertions, the topmost dirty directories are
// rebuilt (all tracks under them re-inserted in id order). A change without
// collisions costs O(depth), independent of library size.
//
// Three rules a simpler apply gets wrong (each found by the property test
// against fresh builds, tests/core/tree_property_test.ts): an
// unchanged path is judged by rendered names, not the disambiguated path; a
// new node pushed past a later-introduced sibling dirties its parent; and
// case-insensitive trees gate on folded names and mixed-case directories.

import { ROOT_INODE } from "./inodes.ts";
import { pathComponents, suffixCandidate, truncateComponent } from "./names.ts";
import type { TreeNodeView, VirtualTree } from "./tree.ts";
import type { TreeChanges } from "./tree_diff.ts";

/** Rendered paths of every track currently in the library (a Map works). */
export interface RenderedPaths {
  get(trackId: number): string | undefined;
}

/** A change set from the store's changelog, already classified against the previous snapshot. */
export interface TrackChanges {
  /** Tracks still live whose rendering may have changed (content or format). */
  changed: readonly number[];
  /** Tracks new to the tree. */
  added: readonly number[];
  /** Tracks gone (deleted, or dropped by --skip-on-missing). */
  removed: readonly number[];
}

/** Why an incremental update could not complete; the caller falls back to a full build. */
export class TreeRebuildError extends Error {
  override readonly name = "TreeRebuildError";
  constructor(readonly kind: "missing-rendered-path", readonly trackId: number) {
    super(`incremental tree update: no rendered path for track ${trackId}`);
  }
}

/**
 * Apply a change set in place. `paths` must give the rendered path of every
 * live track (changed, added and untouched ones: a rebuilt subtree re-inserts
 * all of its tracks).
 *
 * Case-insensitive trees are updated incrementally too (beyond the original,
 * which always full-rebuilds them): a directory entered under another casing
 * is marked mixed-case, and removing or undercutting its introducing track
 * rebuilds its parent, since a fresh build may re-case it.
 *
 * Throws TreeRebuildError (tree left mid-update; discard it and build afresh).
 */
export function applyChanges(
  tree: VirtualTree,
  changes: TrackChanges,
  paths: RenderedPaths,
): TreeChanges {
  tree.beginJournal();
  let rebuilds: number;
  try {
    rebuilds = applyIncremental(tree, changes, paths);
  } catch (e) {
    tree.endJournal(0);
    throw e;
  }
  return tree.endJournal(rebuilds);
}

function pathOf(paths: RenderedPaths, id: number): string {
  const path = paths.get(id);
  if (path === undefined) throw new TreeRebuildError("missing-rendered-path", id);
  return path;
}

function applyIncremental(tree: VirtualTree, changes: TrackChanges, paths: RenderedPaths): number {
  const dirty = new Set<number>();

  // Split `changed` into moved (old place out, new place in) and stable paths.
  const movedOut: number[] = [];
  const movedIn: number[] = [];
  // An "added" track the tree already holds is treated as changed (never inserted twice).
  // A track both removed and changed/added is removed (contradictory input).
  const removed = new Set(changes.removed);
  const added = new Set<number>();
  const changed = new Set(changes.changed.filter((id) => !removed.has(id)));
  for (const id of changes.added) {
    if (removed.has(id)) continue;
    if (tree.inodeOfTrack(id) === undefined) added.add(id);
    else changed.add(id);
  }
  for (const id of changed) {
    const newPath = pathOf(paths, id);
    const inode = tree.inodeOfTrack(id);
    if (inode === undefined) movedIn.push(id); // unexpected, but an insert is a superset
    else if (!sameRenderedPath(tree, inode, newPath)) {
      movedOut.push(id);
      movedIn.push(id);
    }
  }
  const outgoing = [...removed, ...movedOut];
  const incoming = [...new Set([...added, ...movedIn])];

  // (1) Dirty set, computed on the old tree before any mutation.
  const attachPoints = new Map<number, number>();
  // Case-insensitive: first mark the directories incoming tracks enter under
  // another casing, so both walks below see that they may re-case.
  if (tree.caseInsensitive) {
    for (const id of incoming) tree.deepestExistingAncestor(pathOf(paths, id), true);
  }
  for (const id of outgoing) {
    const leaf = tree.inodeOfTrack(id);
    if (leaf !== undefined) dirtyRemovedAncestors(tree, leaf, id, dirty);
  }
  for (const id of incoming) {
    const rendered = pathOf(paths, id);
    const comps = pathComponents(rendered);
    const [dir, consumed] = tree.deepestExistingAncestor(rendered);
    attachPoints.set(id, dir);
    // The first new component is the only insertion into existing structure;
    // it can shift siblings only if its (truncated) base key is occupied.
    if (consumed < comps.length) {
      const key = truncateComponent(comps[consumed], consumed + 1 === comps.length);
      if (tree.lookup(dir, key) !== undefined) dirty.add(dir);
    }
    dirtyMinFlipAncestors(tree, dir, id, dirty);
  }

  // (2) Structural mutation. A pruned directory chain matters to the surviving
  // parent only when its rendered name collides (gated like step 1).
  for (const id of outgoing) {
    const removed = tree.removeTrack(id);
    if (removed?.pruned) {
      const { name, renderedName } = removed.pruned;
      if (tree.collisionGate(removed.survivor, name, renderedName)) dirty.add(removed.survivor);
    }
  }
  // Ascending id order: pending ids landing on the same fresh key must rank like a build.
  const highWater = tree.highestTrackId;
  for (const id of [...incoming].sort((a, b) => a - b)) tree.insertTrack(id, pathOf(paths, id));
  // Beyond the seed: a new node pushed to a suffix rank past a sibling that a
  // fresh build would insert later (e.g. a literal "X (2)" dir with a larger
  // id) is out of order; its parent needs a rebuild.
  for (const id of incoming) {
    dirtyMisrankedNewNodes(tree, id, attachPoints.get(id)!, highWater, dirty);
  }

  // (3) Rebuild the topmost surviving dirty directories, shallowest first.
  const live = [...dirty].filter((d) => tree.node(d) !== undefined);
  const depth = new Map(live.map((d) => [d, tree.depth(d)]));
  live.sort((a, b) => depth.get(a)! - depth.get(b)! || a - b);
  const done = new Set<number>();
  let rebuilds = 0;
  for (const d of live) {
    if (tree.node(d) === undefined || ancestorIn(tree, d, done)) continue;
    rebuildSubtree(tree, d, paths);
    rebuilds++;
    done.add(d);
  }
  return rebuilds;
}

/**
 * Rebuild directory `dir`'s subtree as a fresh build would: remove every
 * track under it, then re-insert them in ascending id order at their paths
 * from `paths` (ancestors above `dir` are reused). Checks every path first,
 * so a TreeRebuildError leaves the tree untouched.
 */
export function rebuildSubtree(tree: VirtualTree, dir: number, paths: RenderedPaths): void {
  const ids = tree.trackIdsUnder(dir).sort((a, b) => a - b);
  const rendered = ids.map((id) => pathOf(paths, id));
  for (const id of ids) tree.removeTrack(id);
  ids.forEach((id, i) => tree.insertTrack(id, rendered[i]));
}

/**
 * Removal side: walk from the removed leaf to the root. A gated level whose
 * child was introduced by `id` dirties its parent; a gated level where `id`
 * was not the minimum ends the walk (it cannot be the minimum higher up).
 */
function dirtyRemovedAncestors(
  tree: VirtualTree,
  leaf: number,
  id: number,
  dirty: Set<number>,
): void {
  for (let child = leaf; child !== ROOT_INODE;) {
    const node = tree.node(child);
    if (node === undefined) return;
    if (tree.collisionGate(node.parent, node.name, node.renderedName, child)) {
      if (tree.introducingId(child) !== id) return;
      dirty.add(node.parent);
    }
    child = node.parent;
  }
}

/**
 * Add side: walk from the deepest existing ancestor to the root. A gated
 * level whose minimum `id` undercuts dirties its parent; otherwise the walk
 * ends (ancestor minimums only get smaller).
 */
function dirtyMinFlipAncestors(
  tree: VirtualTree,
  start: number,
  id: number,
  dirty: Set<number>,
): void {
  for (let child = start; child !== ROOT_INODE;) {
    const node = tree.node(child);
    if (node === undefined) return;
    if (tree.collisionGate(node.parent, node.name, node.renderedName, child)) {
      if (!(id < tree.introducingId(child))) return;
      dirty.add(node.parent);
    }
    child = node.parent;
  }
}

/**
 * Walk from the inserted track's leaf up to where it attached to the old tree:
 * a node holding rank k of its rendered name while a lower rank is held by a
 * sibling introduced by a larger track id would rank differently in a build.
 */
function dirtyMisrankedNewNodes(
  tree: VirtualTree,
  id: number,
  attachPoint: number,
  highWater: number,
  dirty: Set<number>,
): void {
  const stop = tree.node(attachPoint) === undefined ? ROOT_INODE : attachPoint;
  for (let cur = tree.inodeOfTrack(id); cur !== undefined && cur !== stop && cur !== ROOT_INODE;) {
    const node = tree.node(cur)!;
    // Cheap exits first: the parent is rebuilt anyway, or the node was
    // introduced by an id above every pre-existing one (which then all rank
    // first in a build too; incoming ids were inserted in ascending order).
    if (
      node.name !== node.renderedName && !dirty.has(node.parent) &&
      tree.introducingId(cur) <= highWater && isMisranked(tree, cur, node)
    ) dirty.add(node.parent);
    cur = node.parent;
  }
}

function isMisranked(tree: VirtualTree, inode: number, node: TreeNodeView): boolean {
  const mine = tree.introducingId(inode);
  const holds = (key: string) => {
    const other = tree.lookup(node.parent, key);
    return other !== undefined && tree.introducingId(other) > mine;
  };
  if (holds(node.renderedName)) return true;
  for (let k = 2; k < 1_000_000; k++) {
    const candidate = suffixCandidate(node.renderedName, k);
    if (candidate === node.name) return false;
    if (holds(candidate)) return true;
  }
  return true; // not a rank of its rendered name at all: be conservative
}

/**
 * True if the file `inode` was placed from exactly `path` (the same
 * materialized, truncated rendered components). Not the disambiguated path:
 * a track whose new literal name equals its old suffixed one ("t (2).flac")
 * did change, its rendered name differs.
 */
function sameRenderedPath(tree: VirtualTree, inode: number, path: string): boolean {
  const comps = pathComponents(path);
  let cur = inode;
  for (let i = comps.length - 1; i >= 0; i--) {
    const node = tree.node(cur);
    if (node === undefined || cur === ROOT_INODE) return false;
    if (node.renderedName !== truncateComponent(comps[i], i === comps.length - 1)) return false;
    cur = node.parent;
  }
  return cur === ROOT_INODE;
}

/** True if `node` or one of its ancestors is in `set`. */
export function ancestorIn(tree: VirtualTree, node: number, set: ReadonlySet<number>): boolean {
  for (let cur = node;;) {
    if (set.has(cur)) return true;
    if (cur === ROOT_INODE) return false;
    const parent = tree.parent(cur);
    if (parent === undefined) return false;
    cur = parent;
  }
}
