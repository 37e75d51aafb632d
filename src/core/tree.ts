// The virtual tree: directories derived from rendered
// path components, files mapped to track ids, inodes from an InodeAllocator.
//
// Tracks are inserted in ascending track id order; the first claimant of a
// name keeps it and later ones get ` (k)` suffixes, so every name is a
// function of the whole track set. `applyChanges` (tree_apply.ts) mutates a
// tree in place and must end equal to a fresh build, inodes included.
//
// Memory: one small object per node in an array indexed by inode, children in
// one Map per directory keyed by the (shared) name string; the
// by-rendered-name index only holds the rare children whose name differs from
// their rendered name (collision losers).

import { InodeAllocator, ROOT_INODE } from "./inodes.ts";
import { NodeTable } from "./node_table.ts";
import type { LiveNodes } from "./inodes.ts";
import {
  compareBytewise,
  fold,
  isMaterialized,
  isSuffixShaped,
  NAME_MAX,
  pathComponents,
  suffixCandidate,
  truncateComponent,
  utf8Length,
} from "./names.ts";
import { ChangeJournal } from "./tree_diff.ts";
import type { TreeChanges } from "./tree_diff.ts";

/** One track and its rendered relative path (as the template produced it, with extension). */
export type TreeEntry = readonly [trackId: number, renderedPath: string];

/** A read-only view of one node. */
export interface TreeNodeView {
  /** Parent directory inode (the root is its own parent). */
  readonly parent: number;
  /** The disambiguated name the directory lists. */
  readonly name: string;
  /** The name before disambiguation (NAME_MAX-truncated rendered component). */
  readonly renderedName: string;
  /** The track a file serves; null for a directory. */
  readonly trackId: number | null;
}

class FileNode implements TreeNodeView {
  constructor(
    public parent: number,
    public name: string,
    public renderedName: string,
    public trackId: number,
  ) {}
}

class DirNode implements TreeNodeView {
  readonly trackId = null;
  readonly children = new Map<string, number>();
  /** renderedName → children whose name differs from it (suffixed collision members). */
  displaced: Map<string, Set<number>> | null = null;
  /**
   * name → the lowest suffix rank not yet known to be taken. Ranks only fill
   * while nothing is unlinked, so this turns a build's N-way collision from
   * O(N²) probes into O(N); any unlink in the directory drops it.
   */
  nextRank: Map<string, number> | null = null;
  /** fold(name) → child, only on case-insensitive trees. */
  readonly folded: Map<string, number> | null;
  /** Child names in byte order, computed on demand, dropped on any change. */
  sorted: string[] | null = null;
  /**
   * Case-insensitive trees: a track merged in with another casing of this
   * directory's name, so removing or undercutting its introducing track may
   * re-case it. Conservative (never cleared in place); not structural.
   */
  mixedCase = false;

  constructor(
    public parent: number,
    public name: string,
    public renderedName: string,
    caseInsensitive: boolean,
  ) {
    this.folded = caseInsensitive ? new Map() : null;
  }
}

type TreeNode = FileNode | DirNode;

export interface BuildOptions {
  /** Inode allocator to (re)use; stable inodes across rebuilds need the same one. Default: a fresh one. */
  allocator?: InodeAllocator;
  /** Compare names case-insensitively (dirs merge, files disambiguate). Default: the allocator's setting. */
  caseInsensitive?: boolean;
}

/** The dir a track removal left behind, and the topmost directory pruned on the way up (if any). */
export interface RemovedTrack {
  survivor: number;
  pruned: { name: string; renderedName: string } | null;
}

export class VirtualTree implements LiveNodes {
  static readonly ROOT = ROOT_INODE;

  readonly caseInsensitive: boolean;
  readonly allocator: InodeAllocator;
  readonly #nodes = new NodeTable<TreeNode>();
  readonly #tracks = new Map<number, number>();
  #dirs = 0;
  #highestTrackId = -Infinity;
  #journal: ChangeJournal | null = null;

  private constructor(allocator: InodeAllocator, caseInsensitive: boolean) {
    this.allocator = allocator;
    this.caseInsensitive = caseInsensitive;
    this.#nodes.set(ROOT_INODE, new DirNode(ROOT_INODE, "", "", caseInsensitive));
  }

  /** Build a tree from rendered paths, inserting tracks in ascending id order whatever the input order. */
  static build(entries: Iterable<TreeEntry>, options: BuildOptions = {}): VirtualTree {
    const allocator = options.allocator ?? new InodeAllocator(options.caseInsensitive ?? false);
    const tree = new VirtualTree(allocator, options.caseInsensitive ?? allocator.caseInsensitive);
    let sorted = Array.isArray(entries) ? entries as readonly TreeEntry[] : [...entries];
    if (!isSortedById(sorted)) sorted = [...sorted].sort((a, b) => a[0] - b[0]);
    // Consecutive tracks mostly share a directory (an album): while the text
    // before the last "/" repeats, the file goes straight into the directory
    // the previous one went into (nothing is removed during a build, so it
    // stands), without walking the path again.
    let dirPrefix: string | null = null;
    let dirInode = ROOT_INODE;
    for (const [trackId, path] of sorted) {
      const slash = path.lastIndexOf("/");
      const leaf = path.slice(slash + 1);
      const materialized = isMaterialized(leaf);
      if (
        materialized && dirPrefix !== null && slash + 1 === dirPrefix.length &&
        path.startsWith(dirPrefix)
      ) {
        tree.#insertFile(trackId, dirInode, leaf);
      } else if (tree.insertTrack(trackId, path) && materialized) {
        // The leaf is the path's last component, so its directory is the prefix's.
        dirInode = tree.#nodes.get(tree.#tracks.get(trackId)!)!.parent;
        dirPrefix = tree.#reachedByName(dirInode) ? path.slice(0, slash + 1) : null;
      } else {
        dirPrefix = null;
      }
    }
    return tree;
  }

  // ---- queries -------------------------------------------------------------

  node(inode: number): TreeNodeView | undefined {
    return this.#nodes.get(inode);
  }

  /** The parent of `inode` (root's parent is itself), undefined if unknown. */
  parent(inode: number): number | undefined {
    return this.#nodes.get(inode)?.parent;
  }

  isDir(inode: number): boolean {
    return this.#nodes.get(inode) instanceof DirNode;
  }

  /** The child `name` of directory `parent` (case-folded on case-insensitive trees). */
  lookup(parent: number, name: string): number | undefined {
    const dir = this.#nodes.get(parent);
    if (!(dir instanceof DirNode)) return undefined;
    return dir.folded ? dir.folded.get(fold(name)) : dir.children.get(name);
  }

  /** Child names of a directory in UTF-8 byte order (cached; do not mutate), undefined if not a dir. */
  childNames(inode: number): readonly string[] | undefined {
    const dir = this.#nodes.get(inode);
    if (!(dir instanceof DirNode)) return undefined;
    dir.sorted ??= [...dir.children.keys()].sort(compareBytewise);
    return dir.sorted;
  }

  /** `[name, inode]` pairs of a directory in UTF-8 byte order, undefined if not a dir. */
  children(inode: number): Array<[string, number]> | undefined {
    const names = this.childNames(inode);
    if (names === undefined) return undefined;
    const dir = this.#nodes.get(inode) as DirNode;
    return names.map((n) => [n, dir.children.get(n)!]);
  }

  /** The track a file inode serves; undefined for directories and unknown inodes. */
  trackId(inode: number): number | undefined {
    const node = this.#nodes.get(inode);
    return node instanceof FileNode ? node.trackId : undefined;
  }

  inodeOfTrack(trackId: number): number | undefined {
    return this.#tracks.get(trackId);
  }

  /** Track ids served by the tree. */
  trackIds(): IterableIterator<number> {
    return this.#tracks.keys();
  }

  get fileCount(): number {
    return this.#tracks.size;
  }

  /** The largest track id ever inserted (an upper bound of the live ids). */
  get highestTrackId(): number {
    return this.#highestTrackId;
  }

  /** Directories, the root not counted. */
  get dirCount(): number {
    return this.#dirs;
  }

  /** Live nodes, root included. */
  get nodeCount(): number {
    return this.#nodes.size;
  }

  /** `[files, directories]` (root not counted), as the mount log line reports. */
  entryCounts(): [files: number, dirs: number] {
    return [this.fileCount, this.dirCount];
  }

  /** The full disambiguated path of `inode` ("" for the root and unknown inodes). */
  pathOf(inode: number): string {
    const parts: string[] = [];
    let cur = inode;
    while (cur !== ROOT_INODE) {
      const node = this.#nodes.get(cur);
      if (node === undefined) break;
      parts.push(node.name);
      cur = node.parent;
    }
    return parts.reverse().join("/");
  }

  /** Number of directories between `inode` and the root (root 0). */
  depth(inode: number): number {
    let d = 0;
    for (let cur = inode; cur !== ROOT_INODE; d++) {
      const node = this.#nodes.get(cur);
      if (node === undefined) break;
      cur = node.parent;
    }
    return d;
  }

  /** Calls `visit` for every node but the root (LiveNodes, for the allocator's prune). */
  forEachLink(visit: (inode: number, parent: number, name: string) => void): void {
    for (const [inode, node] of this.#nodes) {
      if (inode !== ROOT_INODE) visit(inode, node.parent, node.name);
    }
  }

  /** Minimum track id under `inode` (a file's own id); +Infinity for an empty subtree. */
  introducingId(inode: number): number {
    let min = Infinity;
    const stack = [inode];
    while (stack.length > 0) {
      const node = this.#nodes.get(stack.pop()!);
      if (node instanceof FileNode) min = Math.min(min, node.trackId);
      else if (node !== undefined) { for (const c of node.children.values()) stack.push(c); }
    }
    return min;
  }

  /** Every track id under `inode`. */
  trackIdsUnder(inode: number): number[] {
    const ids: number[] = [];
    const stack = [inode];
    while (stack.length > 0) {
      const node = this.#nodes.get(stack.pop()!);
      if (node instanceof FileNode) ids.push(node.trackId);
      else if (node !== undefined) { for (const c of node.children.values()) stack.push(c); }
    }
    return ids;
  }

  /** Children of `dir` whose pre-disambiguation name is `rendered`, in byte order of their names. */
  childrenByRendered(dir: number, rendered: string): number[] {
    const node = this.#nodes.get(dir);
    if (!(node instanceof DirNode)) return [];
    const out: number[] = [];
    const base = node.children.get(rendered);
    if (base !== undefined && this.#nodes.get(base)!.renderedName === rendered) out.push(base);
    const more = node.displaced?.get(rendered);
    if (more !== undefined) out.push(...more);
    if (out.length > 1) {
      out.sort((a, b) => compareBytewise(this.#nodes.get(a)!.name, this.#nodes.get(b)!.name));
    }
    return out;
  }

  /**
   * Structural equality: same case mode, same nodes (parent, name, rendered
   * name, kind, track), same children and indexes, same track → inode map.
   */
  equiv(other: VirtualTree): boolean {
    if (this.caseInsensitive !== other.caseInsensitive) return false;
    if (this.#nodes.size !== other.#nodes.size || this.#tracks.size !== other.#tracks.size) {
      return false;
    }
    if (this.#dirs !== other.#dirs) return false;
    for (const [trackId, inode] of this.#tracks) {
      if (other.#tracks.get(trackId) !== inode) return false;
    }
    for (const [inode, a] of this.#nodes) {
      const b = other.#nodes.get(inode);
      if (b === undefined || a.parent !== b.parent || a.name !== b.name) return false;
      if (a.renderedName !== b.renderedName || a.trackId !== b.trackId) return false;
      if (a instanceof DirNode && !sameDirIndexes(a, b as DirNode)) return false;
    }
    return true;
  }

  // ---- mutation (used by build and tree_apply.ts) --------------------------

  /**
   * Insert one track at its rendered path: directory components merge into an
   * existing same-named directory, anything else colliding gets a ` (k)`
   * suffix. A path with no materialized component is skipped (returns false).
   */
  insertTrack(trackId: number, path: string): boolean {
    if (this.#tracks.has(trackId)) throw new Error(`track ${trackId} is already in the tree`);
    const comps = pathComponents(path);
    if (comps.length === 0) return false;
    let dir = ROOT_INODE;
    for (let i = 0; i < comps.length - 1; i++) dir = this.#ensureDir(dir, comps[i]);
    this.#insertFile(trackId, dir, comps[comps.length - 1]);
    return true;
  }

  /**
   * True if every directory from `dir` up holds its rendered name unsuffixed,
   * so walking the same path again ends in `dir`. A suffixed one was made
   * because its rendered name is a file's, and the next walk makes another.
   */
  #reachedByName(dir: number): boolean {
    for (let cur = dir; cur !== ROOT_INODE;) {
      const node = this.#nodes.get(cur)!;
      if (node.name !== node.renderedName) return false;
      cur = node.parent;
    }
    return true;
  }

  /** Insert one track's file, rendered leaf component `leaf`, into directory `dir`. */
  #insertFile(trackId: number, dir: number, leaf: string): void {
    if (this.#tracks.has(trackId)) throw new Error(`track ${trackId} is already in the tree`);
    const parent = this.#nodes.get(dir) as DirNode;
    const rendered = truncateComponent(leaf, true);
    const name = this.#disambiguate(parent, rendered);
    const inode = this.allocator.intern(dir, name);
    const node = new FileNode(dir, name, rendered, trackId);
    this.#nodes.set(inode, node);
    this.#tracks.set(trackId, inode);
    if (trackId > this.#highestTrackId) this.#highestTrackId = trackId;
    this.#link(dir, parent, inode, node);
  }

  /**
   * Remove a track's file and prune the directories it leaves empty. Returns
   * the nearest surviving ancestor and the topmost pruned directory's names,
   * or undefined when the track is not in the tree.
   */
  removeTrack(trackId: number): RemovedTrack | undefined {
    const inode = this.#tracks.get(trackId);
    if (inode === undefined) return undefined;
    const node = this.#nodes.get(inode)!;
    this.#tracks.delete(trackId);
    this.#nodes.delete(inode);
    this.#unlink(node.parent, this.#nodes.get(node.parent) as DirNode, inode, node);
    return this.#pruneEmptyDirsUpward(node.parent);
  }

  /**
   * True if perturbing child `name` (rendered `rendered`) of `dir` — removing
   * it, or changing a directory's introducing id — could rename a sibling in a
   * fresh build. Relies on the fresh-build invariant that a collision group
   * owns its base key with no free rank below an occupied member. False
   * positives cost a redundant rebuild; false negatives would break equality.
   */
  collisionGate(dir: number, name: string, rendered: string, child?: number): boolean {
    if (name !== rendered || isSuffixShaped(name)) return true;
    const node = this.#nodes.get(dir);
    if (!(node instanceof DirNode)) return false;
    if (node.folded === null) {
      for (let k = 2;; k++) {
        const c = node.children.get(suffixCandidate(rendered, k));
        if (c === undefined) return false;
        if (this.#nodes.get(c)!.renderedName === rendered) return true;
      }
    }
    // Case-insensitive: a directory that may re-case, or a group of case
    // variants (probed by folded keys), is rename-relevant.
    if (child !== undefined) {
      const c = this.#nodes.get(child);
      if (c instanceof DirNode && c.mixedCase) return true;
    }
    // Near NAME_MAX, truncation may cut case variants' candidates differently.
    if (utf8Length(rendered) > NAME_MAX - 32) return true;
    const group = fold(rendered);
    for (let k = 2;; k++) {
      const c = node.folded.get(fold(suffixCandidate(rendered, k)));
      if (c === undefined) return false;
      if (fold(this.#nodes.get(c)!.renderedName) === group) return true;
    }
  }

  /**
   * The deepest existing directory along rendered path `rendered` and how many
   * leading components it consumed; `[ROOT, 0]` when nothing below root
   * exists. Case-sensitive trees navigate by rendered names (NAME_MAX-truncated
   * like the stored keys), as the original does; case-insensitive trees follow
   * the folded merge an insertion would make, and (with `noteCasing`) mark the
   * directories it enters under another casing as mixed-case.
   */
  deepestExistingAncestor(rendered: string, noteCasing = false): [dir: number, consumed: number] {
    const comps = pathComponents(rendered);
    let dir = ROOT_INODE;
    let consumed = 0;
    for (let i = 0; i < comps.length - 1; i++) {
      const key = truncateComponent(comps[i], false);
      let next: number | undefined;
      if (this.caseInsensitive) {
        const c = this.lookup(dir, key);
        const node = c === undefined ? undefined : this.#nodes.get(c);
        if (node instanceof DirNode) {
          next = c;
          if (noteCasing && node.renderedName !== key) node.mixedCase = true;
        }
      } else {
        next = this.childrenByRendered(dir, key).find((c) => this.isDir(c));
      }
      if (next === undefined) break;
      dir = next;
      consumed++;
    }
    return [dir, consumed];
  }

  /** The child of `dir` whose name is exactly `name` (never folded). */
  exactChild(dir: number, name: string): number | undefined {
    const node = this.#nodes.get(dir);
    return node instanceof DirNode ? node.children.get(name) : undefined;
  }

  /** Start recording link changes for `endJournal` (used around an incremental apply). */
  beginJournal(): void {
    this.#journal = new ChangeJournal();
  }

  /** Stop recording and report the net effect since `beginJournal`. */
  endJournal(rebuilds: number): TreeChanges {
    const journal = this.#journal;
    this.#journal = null;
    if (journal === null) throw new Error("no journal in progress");
    return journal.result(this, rebuilds);
  }

  // ---- internals -----------------------------------------------------------

  #ensureDir(parentInode: number, component: string): number {
    const parent = this.#nodes.get(parentInode) as DirNode;
    const rendered = truncateComponent(component, false);
    const existing = parent.folded
      ? parent.folded.get(fold(rendered))
      : parent.children.get(rendered);
    if (existing !== undefined) {
      const node = this.#nodes.get(existing);
      if (node instanceof DirNode) {
        if (parent.folded && node.renderedName !== rendered) node.mixedCase = true;
        return existing;
      }
    }
    const name = this.#disambiguate(parent, rendered);
    const inode = this.allocator.intern(parentInode, name);
    const node = new DirNode(parentInode, name, rendered, this.caseInsensitive);
    this.#nodes.set(inode, node);
    this.#dirs++;
    this.#link(parentInode, parent, inode, node);
    return inode;
  }

  /** `name` if free in `dir`, else the first free ` (k)` candidate (freeness folded when case-insensitive). */
  #disambiguate(dir: DirNode, name: string): string {
    if (!taken(dir, name)) return name;
    for (let k = dir.nextRank?.get(name) ?? 2;; k++) {
      const candidate = suffixCandidate(name, k);
      if (!taken(dir, candidate)) {
        // The caller links `candidate` right away: ranks up to k are then taken.
        (dir.nextRank ??= new Map()).set(name, k + 1);
        return candidate;
      }
    }
  }

  #link(parentInode: number, parent: DirNode, inode: number, node: TreeNode): void {
    this.#journal?.linked(parentInode, node.name, inode);
    parent.children.set(node.name, inode);
    parent.folded?.set(fold(node.name), inode);
    if (node.name !== node.renderedName) {
      parent.displaced ??= new Map();
      const group = parent.displaced.get(node.renderedName);
      if (group === undefined) parent.displaced.set(node.renderedName, new Set([inode]));
      else group.add(inode);
    }
    parent.sorted = null;
  }

  #unlink(parentInode: number, parent: DirNode, inode: number, node: TreeNode): void {
    this.#journal?.unlinked(parentInode, node.name, inode, node.trackId);
    parent.children.delete(node.name);
    parent.folded?.delete(fold(node.name));
    if (node.name !== node.renderedName && parent.displaced) {
      const group = parent.displaced.get(node.renderedName);
      if (group !== undefined) {
        group.delete(inode);
        if (group.size === 0) parent.displaced.delete(node.renderedName);
        if (parent.displaced.size === 0) parent.displaced = null;
      }
    }
    parent.nextRank = null; // a freed rank must be found again
    parent.sorted = null;
  }

  #pruneEmptyDirsUpward(start: number): RemovedTrack {
    let dir = start;
    let pruned: RemovedTrack["pruned"] = null;
    while (dir !== ROOT_INODE) {
      const node = this.#nodes.get(dir);
      if (!(node instanceof DirNode) || node.children.size > 0) break;
      this.#nodes.delete(dir);
      this.#dirs--;
      this.#unlink(node.parent, this.#nodes.get(node.parent) as DirNode, dir, node);
      pruned = { name: node.name, renderedName: node.renderedName };
      dir = node.parent;
    }
    return { survivor: dir, pruned };
  }
}

function taken(dir: DirNode, name: string): boolean {
  return dir.folded ? dir.folded.has(fold(name)) : dir.children.has(name);
}

function isSortedById(entries: readonly TreeEntry[]): boolean {
  for (let i = 1; i < entries.length; i++) if (entries[i - 1][0] > entries[i][0]) return false;
  return true;
}

function sameMap<K, V>(a: ReadonlyMap<K, V> | null, b: ReadonlyMap<K, V> | null): boolean {
  if (a === null || b === null) return a === b;
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (b.get(k) !== v) return false;
  return true;
}

function sameDirIndexes(a: DirNode, b: DirNode): boolean {
  if (!sameMap(a.children, b.children) || !sameMap(a.folded, b.folded)) return false;
  const ad = a.displaced;
  const bd = b.displaced;
  if (ad === null || bd === null) return ad === bd;
  if (ad.size !== bd.size) return false;
  for (const [rendered, group] of ad) {
    const other = bd.get(rendered);
    if (other === undefined || other.size !== group.size) return false;
    for (const i of group) if (!other.has(i)) return false;
  }
  return true;
}
