// The library the FUSE server serves (core/api.ts `Library`): the tree kept
// fresh by the refresher, files resolved to layouts, reads answered as
// pieces. Everything runs on the caller's thread and is synchronous.

import {
  type Attr,
  attrOrNull,
  counter,
  type DirEntry,
  FsError,
  gauge,
  type Library,
  type MetricSample,
  type OpenResult,
  type ReadPiece,
  type RefreshReport,
  S_IFDIR,
  S_IFREG,
  XATTR,
} from "./api.ts";
import { openStore, type Store } from "../store/mod.ts";
import { contentVersion, getTrack } from "../store/mod.ts";
import {
  closeBacking,
  FdSource,
  memoryFileSystems,
  nowaitUnsupportedFileSystems,
  type OpenedBacking,
} from "./backing.ts";
import { BackingFds, type BackingFile } from "./backing_fds.ts";
import { asFs, BackingChangedError, ReadRaceError, toFsError } from "./errors.ts";
import { type LibraryOptions, type ResolvedLibraryOptions, resolveOptions } from "./options.ts";
import { ReadAheadPool, ReadAheadWindow } from "./readahead.ts";
import {
  ArtCache,
  type BackingAccess,
  rangeServedFromCache,
  rangeTouchesMutableRows,
  rangeTouchesRows,
  readPieces,
} from "./reader.ts";
import { backingAccess } from "./backing_access.ts";
import { Refresher } from "./refresh.ts";
import { type ResolvedFile, Resolver } from "./resolve.ts";
import { SizeIndex, sizeVariant } from "./size_index.ts";
import { MAX_HANDED_FDS, SynthAhead } from "./synth_ahead.ts";
import { tracksAfter, tracksInWalkOrder } from "./walk_order.ts";
import { Template } from "./template.ts";
import { VirtualTree } from "./tree.ts";
import { SlotTable } from "./slots.ts";
import { SIDE_STORE_CACHE_KIB } from "./defaults.ts";

/** At most this many directory listings are held for open directory handles. */
export const MAX_DIR_SNAPSHOTS = 1024;
/** Attempts of a read whose snapshot keeps seeing a newer content_version. */
export const READ_ATTEMPTS = 4;

const O_ACCMODE = 3;
const O_RDONLY = 0;
const O_TRUNC = 0o1000;
const O_APPEND = 0o2000;
const O_CREAT = 0o100;

/**
 * One open served file. It keeps the layout it was opened with until it is
 * closed (a tag edit, rename or retarget never changes what an open file
 * reads: the semantics of replacing a file by rename), and its backing file
 * by identity (see backing_fds.ts).
 */
interface Handle {
  trackId: number;
  uid: number;
  backing: BackingFile;
  readonly file: ResolvedFile;
  /** The store's data_version `file` was checked at when opened. */
  readonly openedAt: number;
  window: ReadAheadWindow | null;
  access: BackingAccess;
}

const enc = new TextEncoder();
const dec = new TextDecoder("utf-8", { fatal: true });
const DOT = enc.encode(".");
const DOTDOT = enc.encode("..");

/** Open the store at `dbPath` read-only and build the tree. Throws StoreError / TemplateError. */
export function openLibrary(dbPath: string, options: LibraryOptions = {}): MusefsLibrary {
  return new MusefsLibrary(dbPath, resolveOptions(options));
}

/** How many files ahead of the one opened the synthesis worker builds. */
const SPECULATE_FILES = 64;
/**
 * The fewest new files sent to the worker at once while the next one is on
 * its way: it then stays 32 to 64 files ahead and reads their rows in
 * batches of 32 or more, not one directory's at a time.
 */
const SPECULATE_BATCH = SPECULATE_FILES / 2;

export class MusefsLibrary implements Library {
  readonly options: ResolvedLibraryOptions;
  readonly refresher: Refresher;
  readonly resolver: Resolver;
  readonly art: ArtCache;
  readonly readAhead: ReadAheadPool;
  readonly fds: BackingFds;
  /** Layouts built ahead on a worker (`--build-ahead` turns it on). */
  readonly ahead: SynthAhead | null = null;
  #aheadReady: Promise<boolean> | null = null;
  /** The directory whose next files (SPECULATE_FILES of them) were last handed to the worker. */
  #aheadDir = -1;
  /** The last directory whose listing had the worker build the files after it. */
  #sizedDir = -1;
  #warmStarted = false;
  readonly #poll: Store;
  readonly #serve: Store;
  /** Open files under even handles (2 × slot + 2), directory snapshots under odd ones (2 × slot + 1). */
  readonly #handles = new SlotTable<Handle>();
  readonly #dirSnapshots = new SlotTable<DirEntry[]>();
  /** Directories whose listing changed since mount → that time (sec, nsec). */
  readonly #dirTimes = new Map<number, [number, number]>();
  readonly mountTime: [number, number];
  /** The store's absolute path, as the `user.musefs.store` attribute answers it. */
  readonly storePath: string;
  #closed = false;
  /** Seconds the last refresh that changed the tree held the serving thread, and the longest. */
  #refreshSeconds = 0;
  #refreshSecondsMax = 0;
  #refreshSecondsTotal = 0;
  dirSnapshotRejections = 0;

  constructor(dbPath: string, options: ResolvedLibraryOptions) {
    this.options = options;
    const template = Template.parse(options.template, {
      fallbacks: options.fallbacks,
      defaultFallback: options.defaultFallback,
      skipOnMissing: options.skipOnMissing,
      extensions: options.extensions,
    });
    // Before any store is open: a library root that does not exist is an error.
    const access = backingAccess(dbPath, options.libraryRoots);
    this.#poll = openStore(dbPath, { mode: "ro", cacheKiB: SIDE_STORE_CACHE_KIB });
    try {
      this.#serve = openStore(dbPath, {
        mode: "ro",
        cacheKiB: options.storeCacheBytes / 1024,
        foreignKeyCheck: false,
      });
    } catch (e) {
      this.#poll.close();
      throw e;
    }
    this.resolver = new Resolver(
      this.#serve,
      options.mode,
      options.headerCacheBytes,
      options.id3Version,
      options.attrCacheBytes,
    );
    this.resolver.access = access;
    // The build-ahead worker slices images for Ogg headers from a cache of its
    // own: a quarter of the art budget, the serving thread's cache the rest.
    const building = options.mode === "synthesis" && options.speculate === true;
    const workerArt = building ? Math.floor(options.artCacheBytes / 4) : 0;
    // The serving thread's images live in one arena (see ArtCache), unpinned per request.
    this.art = new ArtCache(this.#serve, options.artCacheBytes - workerArt, true);
    this.resolver.images = this.art;
    this.readAhead = new ReadAheadPool(options.readAheadBudgetBytes);
    this.storePath = absolutePath(dbPath);
    if (options.mode === "synthesis") {
      this.resolver.index = SizeIndex.load(
        options.sizeIndex === undefined ? defaultSizeIndex(this.storePath) : options.sizeIndex,
        // The access policy too: a file refused now must not be sized from an older policy.
        sizeVariant([options.mode, options.id3Version, access.description]),
        options.log,
      );
    }
    this.fds = new BackingFds();
    if (building) {
      this.ahead = new SynthAhead(this.resolver, {
        dbPath,
        mode: options.mode,
        id3Version: options.id3Version,
        libraryRoots: options.libraryRoots,
        artCacheBytes: workerArt,
        // Files held for coming opens stay a small share of the descriptors the mount may use.
        handedLimit: () => Math.min(MAX_HANDED_FDS, Math.floor(this.fds.cap / 8)),
      }, options.log);
      // While the worker sizes a first scan ahead (no file opened yet), the
      // listings it has not reached are sized here the same way: counted.
      const ahead = this.ahead;
      this.resolver.countSizes = () => ahead.warming;
      // Started before the tree is built, so it loads meanwhile.
      if (options.startWorker) this.#aheadReady = ahead.start();
    }
    try {
      this.refresher = Refresher.open(this.#poll, template, {
        pollIntervalMs: options.pollIntervalMs,
        caseInsensitive: options.caseInsensitive,
        warn: (message) => options.log?.warn(message),
      });
    } catch (e) {
      this.ahead?.close();
      this.#poll.close();
      this.#serve.close();
      throw e;
    }
    const now = Date.now();
    this.mountTime = [Math.floor(now / 1000), (now % 1000) * 1_000_000];
  }

  /**
   * Settles when the parts started at open are up: the build-ahead worker
   * (with `startWorker`) has loaded and opened its store, or failed, or
   * kept the mount waiting 10 s (it goes on starting in the background).
   */
  async ready(): Promise<void> {
    await this.#aheadReady;
  }

  get tree(): VirtualTree {
    return this.refresher.tree;
  }

  // ---- metadata -------------------------------------------------------------

  lookup(parent: number, name: Uint8Array): Attr {
    const tree = this.tree;
    let text: string;
    try {
      text = dec.decode(name);
    } catch {
      throw new FsError("ENOENT", "name is not UTF-8");
    }
    const child = tree.lookup(parent, text);
    if (child === undefined) {
      if (tree.node(parent) !== undefined && !tree.isDir(parent)) {
        throw new FsError("ENOTDIR", `inode ${parent} is not a directory`);
      }
      throw new FsError("ENOENT", `no entry ${text} in inode ${parent}`);
    }
    const trackId = tree.node(child)?.trackId;
    if (trackId == null || this.resolver.sizes.peek(trackId) !== undefined) {
      return this.getattr(child);
    }
    // A file not sized yet: a walker that looks up one name of a directory
    // looks up its siblings next, so their rows are read in the same batch.
    return this.resolver.batch(() => {
      if (!this.resolver.hasRowsAhead(trackId)) {
        const siblings = (tree.children(parent) ?? []).map(([, ino]) => ino);
        this.resolver.prefetch(this.#fileTracks(siblings));
      }
      return this.getattr(child);
    });
  }

  /**
   * A first scan (most sizes in neither the size index nor the size cache):
   * the worker sizes every file ahead, in the order a walk meets them, and
   * the size index takes them in, so the scan's stats find most of them
   * there. Once per mount; started by the first listing that lacks sizes.
   */
  #warmSizes(): void {
    if (this.#warmStarted) return;
    this.#warmStarted = true;
    const r = this.resolver;
    const index = r.index;
    if (this.ahead === null || index === null) return;
    if (index.entries + this.options.sizeAheadMin > this.tree.fileCount) return;
    this.ahead.warm(
      tracksInWalkOrder(this.tree, VirtualTree.ROOT),
      (id) => !index.has(id) && r.sizes.peek(id) === undefined,
    );
  }

  /** The track ids of the file inodes among `inos`. */
  #fileTracks(inos: Iterable<number>): number[] {
    const tree = this.tree;
    const ids: number[] = [];
    for (const ino of inos) {
      const id = tree.node(ino)?.trackId;
      if (id != null) ids.push(id);
    }
    return ids;
  }

  /**
   * Attributes of many inodes at once (the entries of one directory listing
   * with attributes), null where getattr fails: their rows are read in one
   * batch and the store's version checked once.
   */
  getattrMany(inos: readonly number[]): (Attr | null)[] {
    const ids = this.#fileTracks(inos);
    if (this.ahead !== null && ids.length > 0) this.#sizeAhead(inos, ids);
    return this.resolver.batch(() => {
      this.resolver.prefetch(ids);
      return inos.map((ino) => attrOrNull(this, ino));
    });
  }

  /**
   * A directory listed with attributes whose sizes are not known (a first
   * scan: no size index yet): the worker builds the SPECULATE_FILES files
   * after it while this one is sized here, and what it has built of this one
   * is taken in (what it has not started is taken back and sized here).
   */
  #sizeAhead(inos: readonly number[], ids: readonly number[]): void {
    const r = this.resolver;
    const unknown = (id: number) =>
      r.sizes.peek(id) === undefined && r.index?.has(id) !== true &&
      r.headers.peek(id) === undefined;
    if (!ids.some(unknown)) return;
    const ahead = this.ahead!;
    this.#warmSizes();
    const dir = this.tree.parent(inos[inos.length - 1]);
    // While the worker sizes the whole tree ahead, it is not asked for more.
    if (!ahead.warming && dir !== undefined && dir !== this.#sizedDir) {
      this.#sizedDir = dir;
      ahead.submit(
        tracksAfter(this.tree, dir, inos[inos.length - 1], SPECULATE_FILES).filter(unknown),
        SPECULATE_BATCH,
      );
    }
    for (const id of ids) ahead.claim(id);
  }

  forget(_ino: number, _nlookup: number): void {
    // Inodes are path-stable and never reused; nothing to release.
  }

  getattr(ino: number, fh?: number): Attr {
    const tree = this.tree;
    const node = tree.node(ino);
    if (node === undefined) {
      // The name went away (renamed or removed) while a file was open on it:
      // that open file still answers, with the version it opened. While the
      // name exists, the kernel's one set of attributes for it is the current
      // version's (new opens must see it).
      const h = fh === undefined ? undefined : this.#handles.get(fileSlot(fh));
      if (h !== undefined) return this.#fileAttr(ino, h.file.layout.size, h.file);
      throw new FsError("ENOENT", `no inode ${ino}`);
    }
    const o = this.options;
    if (node.trackId === null) {
      const [sec, nsec] = this.#dirTimes.get(ino) ?? this.mountTime;
      return {
        ino,
        size: 0,
        blocks: 0,
        mode: S_IFDIR | o.dirMode,
        nlink: 2,
        uid: o.uid,
        gid: o.gid,
        mtimeSec: sec,
        mtimeNsec: nsec,
      };
    }
    const trackId = node.trackId;
    const a = asFs(() => this.resolver.attrs(trackId));
    return this.#fileAttr(ino, a.size, a);
  }

  #fileAttr(ino: number, size: number, a: { mtimeSec: number; mtimeNsec: number }): Attr {
    const o = this.options;
    const [sec, nsec] = a.mtimeSec > 0 ? [a.mtimeSec, a.mtimeNsec] : this.mountTime;
    return {
      ino,
      size,
      blocks: Math.ceil(size / 512),
      mode: S_IFREG | o.fileMode,
      nlink: 1,
      uid: o.uid,
      gid: o.gid,
      mtimeSec: sec,
      mtimeNsec: nsec,
    };
  }

  // ---- extended attributes ------------------------------------------------

  xattrNames(ino: number): string[] {
    const node = this.tree.node(ino);
    if (node === undefined) throw new FsError("ENOENT", `no inode ${ino}`);
    return node.trackId === null ? [XATTR.store] : [XATTR.trackId, XATTR.backingPath, XATTR.store];
  }

  xattr(ino: number, name: string): string | null {
    const node = this.tree.node(ino);
    if (node === undefined) throw new FsError("ENOENT", `no inode ${ino}`);
    if (name === XATTR.store) return this.storePath;
    if (ino === 1 && name.startsWith(XATTR.servedPrefix)) {
      const id = Number(name.slice(XATTR.servedPrefix.length));
      const file = Number.isSafeInteger(id) ? this.tree.inodeOfTrack(id) : undefined;
      return file === undefined ? null : this.tree.pathOf(file);
    }
    if (node.trackId === null) return null;
    if (name === XATTR.trackId) return String(node.trackId);
    if (name === XATTR.backingPath) {
      const row = asFs(() => getTrack(this.#serve, node.trackId!));
      if (row === null) throw new FsError("ENOENT", `track ${node.trackId} is gone`);
      return row.backingPath;
    }
    return null;
  }

  // ---- directories ----------------------------------------------------------

  #listing(ino: number): DirEntry[] {
    const tree = this.tree;
    const children = tree.children(ino);
    if (children === undefined) {
      if (tree.node(ino) !== undefined) throw new FsError("ENOTDIR", `inode ${ino} is a file`);
      throw new FsError("ENOENT", `no inode ${ino}`);
    }
    const out: DirEntry[] = [
      { name: DOT, ino, isDir: true },
      { name: DOTDOT, ino: tree.parent(ino) ?? ino, isDir: true },
    ];
    for (const [name, child] of children) {
      out.push({ name: enc.encode(name), ino: child, isDir: tree.isDir(child) });
    }
    return out;
  }

  opendir(ino: number): number {
    const listing = this.#listing(ino);
    if (this.#dirSnapshots.size >= MAX_DIR_SNAPSHOTS) {
      // Served statelessly: each readdir lists the directory afresh.
      this.dirSnapshotRejections++;
      return 0;
    }
    return dirHandle(this.#dirSnapshots.add(listing));
  }

  readdir(fh: number, ino: number, offset: number, limit?: number): DirEntry[] {
    const listing = this.#dirSnapshots.get(dirSlot(fh)) ?? this.#listing(ino);
    const end = limit === undefined ? listing.length : Math.min(listing.length, offset + limit);
    return listing.slice(Math.max(0, offset), end);
  }

  releasedir(fh: number): void {
    this.#dirSnapshots.remove(dirSlot(fh));
  }

  // ---- files ----------------------------------------------------------------

  #trackOf(ino: number): number {
    const node = this.tree.node(ino);
    if (node === undefined) throw new FsError("ENOENT", `no inode ${ino}`);
    if (node.trackId === null) throw new FsError("EISDIR", `inode ${ino} is a directory`);
    return node.trackId;
  }

  open(ino: number, flags: number, uid = 0): OpenResult {
    if ((flags & O_ACCMODE) !== O_RDONLY || (flags & (O_TRUNC | O_APPEND | O_CREAT)) !== 0) {
      throw new FsError("EROFS", "read-only file system");
    }
    const trackId = this.#trackOf(ino);
    if (this.ahead !== null) {
      // A scan that reads files: the worker builds what it opens next, not sizes.
      if (this.ahead.warming) this.ahead.stopWarming();
      this.ahead.claim(trackId);
      this.#speculate(ino, trackId);
    }
    this.#readAheadForOpen(ino, trackId);
    this.fds.admit(uid);
    // The file the synthesis worker opened for this layout, if it did.
    const handed = this.ahead?.takeBacking(trackId);
    let file: ResolvedFile;
    let openedAt: number;
    let backing: BackingFile;
    let opened: OpenedBacking | undefined;
    try {
      const r = asFs(() => this.resolver.open(trackId, handed));
      opened = r.opened;
      file = r.file;
      openedAt = r.dataVersion;
      backing = this.fds.adopt(file.backingPath, r.opened);
    } catch (e) {
      this.fds.leave(uid);
      throw e;
    } finally {
      if (handed !== undefined && opened !== handed.opened) closeBacking(handed.opened.fd);
    }
    const structureOnly = this.options.mode === "structure-only";
    const window = this.readAhead.enabled
      ? new ReadAheadWindow(this.readAhead, backing, file.stamp.size, file.backingPath)
      : null;
    const handle: Handle = {
      trackId,
      uid,
      backing,
      file,
      openedAt,
      window,
      access: {
        fd: backing.fd,
        window,
        source: new FdSource(backing, file.stamp.size, file.backingPath),
        path: file.backingPath,
      },
    };
    return {
      fh: fileHandle(this.#handles.add(handle)),
      keepCache: this.options.keepCache && !structureOnly,
      directIo: false,
      passthroughFd: structureOnly ? backing.fd : undefined,
    };
  }

  /**
   * A file opened whose layout is not cached: a scanner opens the other
   * files of its directory next, so the synthesis rows of those not cached
   * either are read now, in one batch.
   */
  #readAheadForOpen(ino: number, trackId: number): void {
    const r = this.resolver;
    if (r.headers.peek(trackId) !== undefined || r.hasRowsAhead(trackId, "layouts")) return;
    const parent = this.tree.parent(ino);
    const siblings = parent === undefined ? undefined : this.tree.children(parent);
    if (siblings === undefined) return;
    r.batch(() => r.prefetch(this.#fileTracks(siblings.map(([, c]) => c)), "layouts"));
  }

  /**
   * The first open in a directory, or one whose layout the worker was not
   * asked for (a directory longer than the look-ahead): the worker builds the
   * next SPECULATE_FILES files a top-down walk opens after this one, from
   * this directory and then the next ones, in batches (SPECULATE_BATCH).
   */
  #speculate(ino: number, trackId: number): void {
    const dir = this.tree.parent(ino);
    if (dir === undefined) return;
    if (dir === this.#aheadDir && this.resolver.headers.peek(trackId) !== undefined) return;
    this.#aheadDir = dir;
    this.ahead!.submit(tracksAfter(this.tree, dir, ino, SPECULATE_FILES), SPECULATE_BATCH);
  }

  nextRequest(): void {
    this.art.unpin();
  }

  read(fh: number, ino: number, offset: number, size: number): ReadPiece[] {
    try {
      const h = this.#handles.get(fileSlot(fh));
      return h === undefined
        ? this.#readStateless(ino, offset, size)
        : this.#readHandle(h, offset, size);
    } catch (e) {
      throw toFsError(e);
    }
  }

  /** A read of an open handle: always its own layout, from its own backing file. */
  #readHandle(h: Handle, offset: number, size: number): ReadPiece[] {
    const fd = this.fds.acquire(h.backing);
    // Every read: the open file must still hold the bytes the layout was made for.
    this.fds.check(h.backing);
    h.access.fd = fd;
    const file = h.file;
    if (!file.streamsRows || !rangeTouchesRows(file.layout, offset, size)) {
      return readPieces(file.layout, offset, size, h.access, this.#serve, this.art);
    }
    // Every image in the range verified at the version this handle opened
    // (the store's bytes for its layout then), and no binary tag in it: the
    // art cache answers with no store access at all, not even a version
    // check. Art rows never change in place, so those are the bytes of the
    // version it opened (docs/store.md, open files).
    if (rangeServedFromCache(file.layout, offset, size, this.art, h.openedAt)) {
      return readPieces(file.layout, offset, size, h.access, this.#serve, this.art, h.openedAt);
    }
    // Nothing committed since every image in the range was verified, and no
    // binary tag in it: the art cache answers, with no store read at all.
    const now = this.resolver.dataVersion();
    if (rangeServedFromCache(file.layout, offset, size, this.art, now)) {
      return readPieces(file.layout, offset, size, h.access, this.#serve, this.art, now);
    }
    // Rows streamed from the store are read in one snapshot. Art rows are
    // immutable, so an older layout still reads the bytes it was made with;
    // binary tags change in place, so a handle opened before an edit cannot
    // serve them any more.
    return this.#serve.readTransaction(() => {
      if (
        contentVersion(this.#serve, file.trackId) !== file.contentVersion &&
        rangeTouchesMutableRows(file.layout, offset, size)
      ) {
        throw new BackingChangedError(
          file.backingPath,
          "its tags changed since this file was opened; reopen it",
        );
      }
      const version = this.resolver.dataVersion();
      return readPieces(file.layout, offset, size, h.access, this.#serve, this.art, version);
    });
  }

  #readStateless(ino: number, offset: number, size: number): ReadPiece[] {
    const trackId = this.#trackOf(ino);
    for (let attempt = 0; attempt < READ_ATTEMPTS; attempt++) {
      const { file, opened } = this.resolver.open(trackId);
      try {
        const source = new FdSource(opened, file.stamp.size, file.backingPath);
        const access: BackingAccess = { fd: null, window: null, source, path: file.backingPath };
        const pieces = this.#serveLayout(file, access, offset, size);
        if (pieces !== null) return pieces;
      } finally {
        closeBacking(opened.fd);
      }
    }
    throw new ReadRaceError(trackId, READ_ATTEMPTS);
  }

  /** The pieces, or null when the layout turned out stale inside the read snapshot. */
  #serveLayout(
    file: ResolvedFile,
    access: BackingAccess,
    offset: number,
    size: number,
  ): ReadPiece[] | null {
    if (!file.streamsRows || !rangeTouchesRows(file.layout, offset, size)) {
      return readPieces(file.layout, offset, size, access, this.#serve, this.art);
    }
    // Rows streamed from the store and the version check see one snapshot.
    return this.#serve.readTransaction(() => {
      if (contentVersion(this.#serve, file.trackId) !== file.contentVersion) return null;
      return readPieces(file.layout, offset, size, access, this.#serve, this.art);
    });
  }

  release(fh: number): void {
    const h = this.#handles.remove(fileSlot(fh));
    if (h === undefined) return;
    h.window?.close();
    this.fds.release(h.backing);
    this.fds.leave(h.uid);
  }

  // ---- refresh --------------------------------------------------------------

  poll(): RefreshReport | null {
    if (this.#closed) return null;
    // The size index is saved before the refresh so the refresh's timing is its own.
    this.resolver.index?.saveIfSettled(this.#live);
    this.ahead?.keepFed();
    const failuresBefore = this.refresher.failures;
    const started = performance.now();
    const outcome = this.refresher.poll();
    if (this.refresher.failures !== failuresBefore) {
      this.options.log?.warn(`refresh failed: ${this.refresher.lastError?.message}`);
    }
    if (outcome === null) return null;
    for (const id of outcome.staleTracks) this.resolver.forget(id);
    if (outcome.kind === "full") {
      const tree = this.tree;
      this.resolver.retain((id) => tree.inodeOfTrack(id) !== undefined);
    }
    const now = Date.now();
    const stamp: [number, number] = [Math.floor(now / 1000), (now % 1000) * 1_000_000];
    for (const dir of outcome.touchedDirs) this.#dirTimes.set(dir, stamp);
    for (const dir of [...this.#dirTimes.keys()]) {
      if (!this.tree.isDir(dir)) this.#dirTimes.delete(dir);
    }
    this.#refreshSeconds = (performance.now() - started) / 1000;
    this.#refreshSecondsMax = Math.max(this.#refreshSecondsMax, this.#refreshSeconds);
    this.#refreshSecondsTotal += this.#refreshSeconds;
    return outcome.report;
  }

  counts(): { files: number; dirs: number } {
    return { files: this.tree.fileCount, dirs: this.tree.dirCount };
  }

  metrics(): MetricSample[] {
    const r = this.refresher;
    const g = gauge;
    const c = counter;
    return [
      c(
        "musefs_dir_handle_rejections_total",
        "Directories served statelessly (cap reached)",
        this.dirSnapshotRejections,
      ),
      g("musefs_cache_header_entries", "Header cache entries", this.resolver.headers.size),
      g("musefs_cache_header_bytes", "Header cache bytes", this.resolver.headers.weight),
      g("musefs_cache_header_bytes_max", "Header cache budget", this.resolver.headers.budget),
      g(
        "musefs_cache_header_probation_bytes",
        "Header cache bytes of layouts not yet used twice",
        this.resolver.headers.probationWeight,
      ),
      c("musefs_cache_header_hits_total", "Header cache hits", this.resolver.headers.hits),
      c("musefs_cache_header_misses_total", "Header cache misses", this.resolver.headers.misses),
      c(
        "musefs_synth_ahead_adopted_total",
        "Layouts built ahead and taken in",
        this.ahead?.adopted ?? 0,
      ),
      c(
        "musefs_synth_ahead_taken_back_total",
        "Jobs built on open instead",
        this.ahead?.takenBack ?? 0,
      ),
      c(
        "musefs_synth_ahead_waited_total",
        "Opens that waited for the worker",
        this.ahead?.waited ?? 0,
      ),
      c(
        "musefs_synth_ahead_dropped_total",
        "Layouts built ahead but cached meanwhile",
        this.ahead?.dropped ?? 0,
      ),
      c(
        "musefs_synth_ahead_sized_total",
        "Sizes of a first scan computed ahead on the worker",
        this.ahead?.sized ?? 0,
      ),
      g(
        "musefs_synth_ahead_art_bytes",
        "Bytes of images the build-ahead worker's art cache holds",
        this.ahead?.artBytes ?? 0,
      ),
      g(
        "musefs_synth_ahead_worker_running",
        "1 while the worker that builds layouts ahead runs",
        this.ahead?.running ? 1 : 0,
      ),
      g("musefs_cache_size_entries", "Size cache entries", this.resolver.sizeEntries),
      g("musefs_cache_size_bytes", "Size cache bytes", this.resolver.sizes.weight),
      g("musefs_cache_size_bytes_max", "Size cache budget", this.resolver.sizes.budget),
      c("musefs_cache_size_hits_total", "Size cache hits", this.resolver.sizes.hits),
      c("musefs_cache_size_misses_total", "Size cache misses", this.resolver.sizes.misses),
      g("musefs_size_index_entries", "Sizes in the size index", this.resolver.index?.entries ?? 0),
      g("musefs_size_index_bytes", "Heap bytes of the size index", this.resolver.index?.bytes ?? 0),
      c(
        "musefs_size_index_hits_total",
        "Stats answered from the size index (no synthesis)",
        this.resolver.index?.hits ?? 0,
      ),
      c(
        "musefs_size_index_misses_total",
        "Stats the size index could not answer (synthesized)",
        this.resolver.index?.misses ?? 0,
      ),
      c(
        "musefs_size_index_corrections_total",
        "Remembered sizes a file's layout contradicted at open (corrected)",
        this.resolver.index?.corrections ?? 0,
      ),
      g("musefs_cache_art_entries", "Art cache entries", this.art.entries),
      g("musefs_cache_art_bytes", "Art cache bytes", this.art.bytes),
      g("musefs_cache_art_bytes_max", "Art cache budget", this.options.artCacheBytes),
      g(
        "musefs_cache_store_bytes_max",
        "SQLite page cache budget of the serving connection",
        this.options.storeCacheBytes,
      ),
      g("musefs_readahead_budget_bytes", "Read-ahead budget", this.readAhead.budget),
      g("musefs_readahead_charged_bytes", "Read-ahead bytes held", this.readAhead.charged),
      c("musefs_readahead_hits_total", "Read-ahead hits", this.readAhead.hits),
      c("musefs_readahead_misses_total", "Read-ahead misses", this.readAhead.misses),
      g("musefs_inode_paths", "Interned inode paths", r.allocator.internedPathCount),
      g("musefs_refresh_needs_rebuild", "A full rebuild is pending", r.needsRebuild ? 1 : 0),
      c("musefs_refresh_gap_fallbacks_total", "Changelog gaps (full rebuilds)", r.gapFallbacks),
      g(
        "musefs_refresh_last_seconds",
        "Time the serving thread spent on the last refresh that found a change",
        this.#refreshSeconds,
      ),
      g(
        "musefs_refresh_max_seconds",
        "Longest time the serving thread spent on one refresh that found a change",
        this.#refreshSecondsMax,
      ),
      c(
        "musefs_refresh_seconds_total",
        "Time the serving thread spent on refreshes that found a change",
        this.#refreshSecondsTotal,
      ),
      c(
        "musefs_refresh_apply_failures_total",
        "Incremental refreshes that failed (full rebuilds)",
        r.applyFailures,
      ),
      g(
        "musefs_tracks_unavailable",
        "Tracks hidden: their rows cannot be read",
        r.unavailableTracks,
      ),
      g("musefs_backing_fds_open", "Backing file descriptors held", this.fds.openFds),
      g("musefs_backing_fds_max", "Backing file descriptor cap", this.fds.cap),
      c(
        "musefs_backing_fd_reopens_total",
        "Backing files reopened after eviction",
        this.fds.reopens,
      ),
      c(
        "musefs_open_refusals_total",
        "Opens refused over the open-file limits (EMFILE/ENFILE)",
        this.fds.refusals,
      ),
      g(
        "musefs_backing_nowait_unsupported_filesystems",
        "Backing file systems read through the I/O workers only (no RWF_NOWAIT)",
        nowaitUnsupportedFileSystems(),
      ),
      g(
        "musefs_backing_memory_filesystems",
        "Backing file systems without RWF_NOWAIT whose data is memory (tmpfs, ramfs), read inline",
        memoryFileSystems(),
      ),
      c(
        "musefs_backing_refusals_total",
        "Backing files refused by the access policy (docs/trust.md)",
        this.resolver.access?.refusals ?? 0,
      ),
    ];
  }

  /** Whether a track is served (its remembered size is worth keeping). */
  readonly #live = (trackId: number): boolean => this.tree.inodeOfTrack(trackId) !== undefined;

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.ahead?.close();
    this.resolver.index?.save(this.#live);
    for (const slot of this.#handles.slots()) this.release(fileHandle(slot));
    this.#dirSnapshots.clear();
    this.#serve.close();
    this.#poll.close();
  }
}

/** `<store>-sizes` beside a store file; null for a store that is not a file (in memory). */
function defaultSizeIndex(storePath: string): string | null {
  try {
    return Deno.statSync(storePath).isFile ? `${storePath}-sizes` : null;
  } catch {
    return null;
  }
}

function absolutePath(path: string): string {
  try {
    return Deno.realPathSync(path);
  } catch {
    return path.startsWith("/") ? path : `${Deno.cwd()}/${path}`;
  }
}

// File handles are even (from 2), directory handles odd: one never names the other.
function fileHandle(slot: number): number {
  return 2 * slot + 2;
}

function dirHandle(slot: number): number {
  return 2 * slot + 1;
}

/** The open-file slot of a file handle, or -1. */
function fileSlot(fh: number | undefined): number {
  return fh !== undefined && fh >= 2 && fh % 2 === 0 ? (fh - 2) / 2 : -1;
}

/** The snapshot slot of a directory handle, or -1 (0: listed afresh on each read). */
function dirSlot(fh: number): number {
  return fh % 2 === 1 ? (fh - 1) / 2 : -1;
}
