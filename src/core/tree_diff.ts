// What changed between two states of the tree, for the refresh's kernel cache
// maintenance (invalidate the inode of every file whose bytes changed
// and the directory entry of every name that disappeared or moved, collision
// re-ranks included). Either recorded while a tree mutates in place
// (ChangeJournal, around applyChanges) or computed between two trees
// (diffTrees, after a full rebuild).

import type { VirtualTree } from "./tree.ts";

/** One directory entry: `name` in directory `parent` bound to `inode`. */
export interface EntryChange {
  parent: number;
  name: string;
  inode: number;
}

export interface TreeChanges {
  /** Subtree rebuilds an incremental apply ran (0 for a diff of two trees). */
  rebuilds: number;
  /** Inodes live before and gone now. */
  removedInodes: number[];
  /** Inodes live now that were not live before. */
  addedInodes: number[];
  /** Inodes live before and now whose node changed kind (file ↔ dir) or now serves another track. */
  reboundInodes: number[];
  /** Entries that existed before and are gone or bound to another inode now (kernel: inval_entry). */
  vanishedEntries: EntryChange[];
  /** Entries that exist now and did not (with this inode) before. */
  addedEntries: EntryChange[];
  /** Live directories whose listing changed (their mtime should advance). */
  touchedDirs: number[];
}

/** A node's identity as far as the kernel cares: null = a directory, else the track a file serves. */
type Identity = number | null;

interface InodeBefore {
  live: boolean;
  identity: Identity;
}

/** Records the first-seen state of every entry and inode a mutation touches. */
export class ChangeJournal {
  readonly #entries = new Map<number, Map<string, number | undefined>>();
  readonly #inodes = new Map<number, InodeBefore>();

  linked(parent: number, name: string, inode: number): void {
    this.#entry(parent, name, undefined);
    if (!this.#inodes.has(inode)) this.#inodes.set(inode, { live: false, identity: null });
  }

  unlinked(parent: number, name: string, inode: number, identity: Identity): void {
    this.#entry(parent, name, inode);
    if (!this.#inodes.has(inode)) this.#inodes.set(inode, { live: true, identity });
  }

  #entry(parent: number, name: string, before: number | undefined): void {
    let names = this.#entries.get(parent);
    if (names === undefined) this.#entries.set(parent, names = new Map());
    if (!names.has(name)) names.set(name, before);
  }

  /** The net effect on `tree` since recording began. */
  result(tree: VirtualTree, rebuilds: number): TreeChanges {
    const out = emptyChanges(rebuilds);
    const touched = new Set<number>();
    for (const [parent, names] of this.#entries) {
      for (const [name, before] of names) {
        const after = tree.exactChild(parent, name);
        if (before === after) continue;
        if (before !== undefined) out.vanishedEntries.push({ parent, name, inode: before });
        if (after !== undefined) out.addedEntries.push({ parent, name, inode: after });
        if (tree.isDir(parent)) touched.add(parent);
      }
    }
    for (const [inode, before] of this.#inodes) {
      const now = tree.node(inode);
      if (now === undefined) {
        if (before.live) out.removedInodes.push(inode);
      } else if (!before.live) out.addedInodes.push(inode);
      else if (now.trackId !== before.identity) out.reboundInodes.push(inode);
    }
    out.touchedDirs = [...touched];
    return out;
  }
}

/** The changes that turn tree `before` into tree `after` (e.g. around a full rebuild). O(nodes). */
export function diffTrees(before: VirtualTree, after: VirtualTree): TreeChanges {
  const out = emptyChanges(0);
  const touched = new Set<number>();
  before.forEachLink((inode, parent, name) => {
    if (after.exactChild(parent, name) === inode) return;
    out.vanishedEntries.push({ parent, name, inode });
    if (after.isDir(parent)) touched.add(parent);
    const now = after.node(inode);
    if (now === undefined) out.removedInodes.push(inode);
  });
  after.forEachLink((inode, parent, name) => {
    const was = before.node(inode);
    if (was === undefined) out.addedInodes.push(inode);
    else if (was.trackId !== after.node(inode)!.trackId) out.reboundInodes.push(inode);
    if (before.exactChild(parent, name) === inode) return;
    out.addedEntries.push({ parent, name, inode });
    touched.add(parent);
  });
  out.touchedDirs = [...touched];
  return out;
}

function emptyChanges(rebuilds: number): TreeChanges {
  return {
    rebuilds,
    removedInodes: [],
    addedInodes: [],
    reboundInodes: [],
    vanishedEntries: [],
    addedEntries: [],
    touchedDirs: [],
  };
}
