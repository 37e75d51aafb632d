// Stable inode numbers across tree rebuilds.
//
// The original keys its allocator on the materialized (disambiguated) path
// from the root. We key on (parent inode, name) instead: the parent's inode is
// itself a function of its path, so the two keyings are a bijection and hand
// out identical numbers, while a key here is the node's own name string
// (already held by the tree) rather than a whole path per node. Root is 1, new inodes count up from 2 and are never
// reused, so a stale kernel handle can never alias another node.

/** The inode of the tree's root directory. */
export const ROOT_INODE = 1;

/** What `pruneRetired` needs to see of a tree: its live nodes. */
export interface LiveNodes {
  readonly nodeCount: number;
  /** Calls `visit` for every live node except the root. */
  forEachLink(visit: (inode: number, parent: number, name: string) => void): void;
}

export class InodeAllocator {
  /** parent inode → name (folded on case-insensitive mounts) → inode. */
  #children: Map<number, Map<string, number>> = new Map();
  #count = 1; // the root's own entry
  #next = ROOT_INODE + 1;

  /** On case-insensitive mounts keys are case-folded, so a survivor keeps its inode when a merged directory re-cases. */
  constructor(readonly caseInsensitive: boolean) {}

  #key(name: string): string {
    return this.caseInsensitive ? name.toLowerCase() : name;
  }

  /** The inode for child `name` of `parent`: the same one as before if this path was seen, else a fresh one. */
  intern(parent: number, name: string): number {
    let names = this.#children.get(parent);
    if (names === undefined) this.#children.set(parent, names = new Map());
    const key = this.#key(name);
    const known = names.get(key);
    if (known !== undefined) return known;
    const inode = this.#next++;
    names.set(key, inode);
    this.#count++;
    return inode;
  }

  /**
   * Once retired paths outnumber live ones (more than 2× the tree's nodes),
   * keep only the live paths with their inodes. The counter is untouched, so
   * a path returning after a prune gets a fresh inode, never a recycled one.
   * Returns true when it pruned.
   */
  pruneRetired(tree: LiveNodes): boolean {
    if (this.#count <= 2 * tree.nodeCount) return false;
    this.#children = new Map();
    this.#count = 1;
    tree.forEachLink((inode, parent, name) => {
      let names = this.#children.get(parent);
      if (names === undefined) this.#children.set(parent, names = new Map());
      names.set(this.#key(name), inode);
      this.#count++;
    });
    return true;
  }

  /** Number of interned paths, root included (telemetry: allocator footprint). */
  get internedPathCount(): number {
    return this.#count;
  }

  /** The inode the next new path will get. */
  get nextInode(): number {
    return this.#next;
  }

  /** The inode interned for a disambiguated path (`a/b/c.flac`, "" = root), if any. */
  inodeOfPath(path: string): number | undefined {
    let inode: number | undefined = ROOT_INODE;
    if (path === "") return inode;
    for (const name of path.split("/")) {
      inode = this.#children.get(inode)?.get(this.#key(name));
      if (inode === undefined) return undefined;
    }
    return inode;
  }

  /** An independent copy (same history), e.g. to build a reference tree without disturbing this one. */
  clone(): InodeAllocator {
    const copy = new InodeAllocator(this.caseInsensitive);
    for (const [parent, names] of this.#children) copy.#children.set(parent, new Map(names));
    copy.#count = this.#count;
    copy.#next = this.#next;
    return copy;
  }
}
