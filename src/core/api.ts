// The contract between the library core and the FUSE server: what the
// server may ask of the library, in filesystem terms. The core implements
// `Library`; src/fuse speaks the kernel protocol and calls it. Nothing here
// knows about the kernel ABI, and nothing in src/fuse knows about tags.

/** Errors the core reports, by errno name; src/fuse maps them to numbers in one place. */
export type Errno =
  | "ENOENT"
  | "ENOTDIR"
  | "EISDIR"
  | "EIO"
  | "EROFS"
  | "ENFILE"
  | "EMFILE"
  | "EAGAIN"
  | "EACCES"
  | "EINVAL"
  | "ENOSYS"
  | "ENOTSUP";

export class FsError extends Error {
  override readonly name = "FsError";
  /** `backingPath`: the backing file that could not be served, when that is the cause. */
  constructor(readonly errno: Errno, message: string, readonly backingPath?: string) {
    super(message);
  }
}

/**
 * The read-only extended attributes a mount answers (docs/cli.md, "Selecting
 * tracks"): the track behind a served file, its backing file, the store's
 * absolute path, and on the root a JSON status of the mount.
 */
export const XATTR = {
  trackId: "user.musefs.track_id",
  backingPath: "user.musefs.backing_path",
  store: "user.musefs.store",
  status: "user.musefs.status",
  /** On the root only, not listed: `user.musefs.served.<track id>` → the served path (relative). */
  servedPrefix: "user.musefs.served.",
} as const;

export const S_IFDIR = 0o040000;
export const S_IFREG = 0o100000;

/** Attributes of one inode, as stat(2) would show them. */
export interface Attr {
  ino: number;
  size: number;
  /** 512-byte blocks: ceil(size / 512). */
  blocks: number;
  /** Type bits | permission bits. */
  mode: number;
  nlink: number;
  uid: number;
  gid: number;
  /** Seconds and nanoseconds since the epoch (atime = mtime = ctime). */
  mtimeSec: number;
  mtimeNsec: number;
}

export interface DirEntry {
  /** Raw UTF-8 bytes of the name (the kernel compares bytes). */
  name: Uint8Array;
  ino: number;
  isDir: boolean;
}

export interface OpenResult {
  fh: number;
  /** Let the kernel keep cached pages across opens (FOPEN_KEEP_CACHE). */
  keepCache: boolean;
  /** Serve with FOPEN_DIRECT_IO (metrics files: size unknown up front). */
  directIo: boolean;
  /** Structure-only mode: a backing fd the server may register for kernel passthrough. */
  passthroughFd?: number;
}

/**
 * How to produce the bytes of one read. `bytes` pieces are ready; `file`
 * pieces are raw reads of an already-open backing fd that the server performs
 * (inline with RWF_NOWAIT, or on an I/O worker when that would block). The
 * pieces concatenated are the reply; their total may be shorter than asked
 * only at end of file. `cold`: the core already found these bytes not
 * readable without blocking, so the server sends the read to an I/O worker
 * without probing again.
 */
export type ReadPiece =
  | { kind: "bytes"; bytes: Uint8Array }
  | { kind: "file"; fd: number; offset: number; length: number; cold?: boolean }
  /**
   * Ogg audio whose backing pages are not at hand without blocking: bytes
   * [from, from+take) of the audio segment at `offset`/`length` of the
   * backing file (`size` bytes), every page's sequence number moved by
   * `seqDelta` and its CRC patched. Read on an I/O worker (format's
   * readOggAudioInto over blocking preads of `fd`).
   */
  | {
    kind: "ogg";
    fd: number;
    size: number;
    offset: number;
    length: number;
    seqDelta: number;
    from: number;
    take: number;
  };

/** What a refresh changed, so the server can invalidate kernel caches. */
export interface RefreshReport {
  /** Inodes whose content (bytes or size) changed or that vanished. */
  invalidateInodes: number[];
  /** Directory entries (parent inode, name bytes) that disappeared, moved or were re-ranked. */
  invalidateEntries: { parent: number; name: Uint8Array }[];
}

/** One Prometheus sample. */
export interface MetricSample {
  name: string;
  help: string;
  type: "gauge" | "counter";
  value: number;
}

/**
 * The attributes of many inodes (one directory listing's): the library's
 * batch when it has one, else one getattr each; null where getattr fails.
 */
export function attrsOfMany(lib: Library, inos: readonly number[]): (Attr | null)[] {
  if (lib.getattrMany !== undefined) return lib.getattrMany(inos);
  return inos.map((ino) => attrOrNull(lib, ino));
}

/** getattr, or null when it fails with an FsError (anything else is a fault and is thrown). */
export function attrOrNull(lib: Pick<Library, "getattr">, ino: number): Attr | null {
  try {
    return lib.getattr(ino);
  } catch (e) {
    if (e instanceof FsError) return null;
    throw e;
  }
}

export function gauge(name: string, help: string, value: number): MetricSample {
  return { name, help, type: "gauge", value };
}

export function counter(name: string, help: string, value: number): MetricSample {
  return { name, help, type: "counter", value };
}

/** The library as the FUSE server sees it. Metadata calls are synchronous and fast. */
export interface Library {
  lookup(parent: number, name: Uint8Array): Attr;
  /** The kernel dropped `nlookup` references to `ino` (FORGET); the core may ignore it. */
  forget(ino: number, nlookup: number): void;
  /**
   * `fh`, when the kernel asks on behalf of an open file: once the inode's
   * name is gone, the attributes of the version that handle opened (it keeps
   * reading it until closed) instead of ENOENT.
   */
  getattr(ino: number, fh?: number): Attr;
  /**
   * Optional: the attributes of many inodes at once (one directory listing
   * with attributes), null where getattr would fail. Lets the core read what
   * they need in one batch.
   */
  getattrMany?(inos: readonly number[]): (Attr | null)[];
  opendir(ino: number): number;
  /**
   * Entries from index `offset` on ("." and ".." included as the first two).
   * `limit`, when given, is how many the server can use at most (one reply
   * buffer's worth); returning more is allowed but wasted.
   */
  readdir(fh: number, ino: number, offset: number, limit?: number): DirEntry[];
  releasedir(fh: number): void;
  /**
   * `flags` are open(2) flags; write access must throw FsError("EROFS").
   * `uid` is the opening user: a user over the open-file limit gets EMFILE.
   */
  open(ino: number, flags: number, uid?: number): OpenResult;
  /** The pieces' bytes stay as they are until the next `nextRequest()` (if the core has one). */
  read(fh: number, ino: number, offset: number, size: number): ReadPiece[];
  /**
   * Optional: the server is about to handle another request, so nothing
   * earlier requests were given (read pieces) is still in use: the core may
   * reuse the memory those views show.
   */
  nextRequest?(): void;
  release(fh: number): void;
  /**
   * Check the store for changes (debounced, single flight). Returns what
   * changed when a refresh happened, else null. Called on metadata operations
   * and by a timer; must never throw (failures arm a backoff and are logged).
   */
  poll(): RefreshReport | null;
  /**
   * Optional: the core's own measurements for the metrics file
   * (`--expose-metrics`), e.g. header cache entries/bytes/hits, tree nodes.
   */
  metrics?(): MetricSample[];
  /** Names of the read-only extended attributes of `ino` (XATTR); throws FsError ENOENT. */
  xattrNames?(ino: number): string[];
  /** One attribute's value, or null when `ino` has no attribute `name`. */
  xattr?(ino: number, name: string): string | null;
  /** Counts for the mount log line. */
  counts(): { files: number; dirs: number };
  close(): void;
}
