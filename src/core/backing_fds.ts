// Bounding the descriptors the daemon holds for open files. A served file
// handle does not own a backing fd: it owns a BackingFile (path, the stamp
// and identity it was opened with) whose fd lives in a least-recently-used
// set capped below RLIMIT_NOFILE. An evicted handle reopens on its next read
// and must find the same file (device and inode) with the same size and
// mtime, else its reads fail with EIO. So thousands of open served files cost
// memory, not descriptors, and one user holding many files cannot make other
// users' opens and reads fail.
//
// Handles are limited too, per opening user (EMFILE) and in total (ENFILE),
// so that one user hits the limit alone.

import * as libc from "../../ffi/libc.ts";
import { FsError } from "./api.ts";
import { type Linked, RecencyList } from "./recency.ts";
import { closeBacking, type FdHolder, openBacking, type OpenedBacking } from "./backing.ts";
import { BackingChangedError } from "./errors.ts";
import { BackingIoError, type BackingStamp, fstatStamp, sameContent } from "./stamp.ts";

/** One open served file's claim on its backing file. */
export class BackingFile implements FdHolder, Linked<BackingFile> {
  /** The open fd, or -1 while evicted (then it is not in the open list). */
  fd: number;
  older: BackingFile | null = null;
  newer: BackingFile | null = null;
  constructor(
    readonly path: string,
    opened: OpenedBacking,
  ) {
    this.fd = opened.fd;
    this.stamp = opened.stamp;
    this.dev = opened.dev;
    this.ino = opened.ino;
  }
  /** What the file was when the handle opened it (reopens must find the same). */
  readonly stamp: BackingStamp;
  readonly dev: number;
  readonly ino: bigint;
}

/** Descriptors kept for slack: store connections, /dev/fuse, workers, transient opens. */
const RESERVED_FDS = 32;

/** Backing fds the daemon may hold with a soft RLIMIT_NOFILE of `soft`. */
export function fdCapFor(soft: number): number {
  if (!Number.isFinite(soft)) return 16384;
  return Math.min(16384, Math.max(8, Math.floor(soft / 2) - RESERVED_FDS));
}

/** Open handles one user may hold (EMFILE beyond), given the fd cap. */
export function handlesPerUserFor(cap: number): number {
  return Math.max(512, cap * 8);
}

/** Open handles in all (ENFILE beyond): room for two users at their limit. */
export function handlesTotalFor(cap: number): number {
  return handlesPerUserFor(cap) * 2;
}

/** How often, at most, RLIMIT_NOFILE is read again. */
const LIMITS_REREAD_MS = 1000;

function softLimit(): number {
  try {
    return libc.getrlimit(libc.RLIMIT_NOFILE).soft;
  } catch {
    return 1024; // no FFI: assume the common default
  }
}

export class BackingFds {
  /** Files with an open fd, least recently used first. */
  readonly #open = new RecencyList<BackingFile>();
  /** Open handles per user (a user whose last handle closed stays, at 0). */
  readonly #perUser = new Map<number, number>();
  #handles = 0;
  #soft = -1;
  #limitsReadAt = -Infinity;
  cap = 0;
  perUser = 0;
  total = 0;
  reopens = 0;
  evictions = 0;
  refusals = 0;

  /** `fixedCap`: a cap that ignores RLIMIT_NOFILE (tests). */
  constructor(readonly fixedCap?: number) {
    this.#limits();
  }

  /**
   * Re-read RLIMIT_NOFILE (it may be lowered under a running daemon), at most
   * once a second (an open checks it; a scan opens thousands of files a
   * second), and derive the caps.
   */
  #limits(now = performance.now()): void {
    if (now - this.#limitsReadAt < LIMITS_REREAD_MS) return;
    this.#limitsReadAt = now;
    const soft = this.fixedCap === undefined ? softLimit() : 0;
    if (soft === this.#soft) return;
    this.#soft = soft;
    this.cap = this.fixedCap ?? fdCapFor(soft);
    this.perUser = handlesPerUserFor(this.cap);
    this.total = handlesTotalFor(this.cap);
    this.#evictTo(this.cap);
  }

  get openFds(): number {
    return this.#open.size;
  }

  get handles(): number {
    return this.#handles;
  }

  /** Count a new handle for `uid`; throws FsError EMFILE / ENFILE over the limits. */
  admit(uid: number): void {
    this.#limits();
    const mine = this.#perUser.get(uid) ?? 0;
    if (mine >= this.perUser) {
      this.refusals++;
      throw new FsError("EMFILE", `user ${uid} holds ${mine} open files (limit ${this.perUser})`);
    }
    if (this.#handles >= this.total) {
      this.refusals++;
      throw new FsError("ENFILE", `${this.#handles} files open (limit ${this.total})`);
    }
    this.#perUser.set(uid, mine + 1);
    this.#handles++;
  }

  /** A handle of `uid` closed. */
  leave(uid: number): void {
    const mine = this.#perUser.get(uid) ?? 0;
    this.#perUser.set(uid, Math.max(0, mine - 1));
    if (this.#handles > 0) this.#handles--;
  }

  /** Take over a freshly opened backing file (evicting others to stay under the cap). */
  adopt(path: string, opened: OpenedBacking): BackingFile {
    const f = new BackingFile(path, opened);
    this.#evictTo(this.cap - 1);
    this.#open.push(f);
    return f;
  }

  /** `f`'s fd, reopened (and checked to be the same file, unchanged) if it was evicted. */
  acquire(f: BackingFile): number {
    if (f.fd >= 0) {
      this.#open.touch(f);
      return f.fd;
    }
    this.#evictTo(this.cap - 1);
    const opened = this.#openRetrying(f.path);
    this.reopens++;
    if (
      opened.dev !== f.dev || opened.ino !== f.ino || !sameContent(f.stamp, opened.stamp)
    ) {
      closeBacking(opened.fd);
      throw new BackingChangedError(f.path, "replaced or rewritten while its fd was evicted");
    }
    f.fd = opened.fd;
    this.#open.push(f);
    return f.fd;
  }

  /** Open through the one open path; on EMFILE/ENFILE re-read the limit, evict, try once more. */
  #openRetrying(path: string): OpenedBacking {
    try {
      return openBacking(path);
    } catch (e) {
      if (!(e instanceof BackingIoError) || (e.code !== "EMFILE" && e.code !== "ENFILE")) throw e;
      this.#limits();
      this.#evictTo(Math.min(this.cap, this.#open.size) >> 1);
      return openBacking(path);
    }
  }

  /** The handle is closing: close its fd (deferred while an I/O worker reads it). */
  release(f: BackingFile): void {
    if (f.fd < 0) return;
    this.#open.unlink(f);
    closeBacking(f.fd);
    f.fd = -1;
  }

  /** Check that `f`'s open fd still holds the bytes it was opened with. */
  check(f: BackingFile): void {
    const now = fstatStamp(f.fd, f.path);
    if (!sameContent(f.stamp, now)) {
      throw new BackingChangedError(
        f.path,
        `the open file changed (size ${f.stamp.size} → ${now.size}, mtime ${f.stamp.mtimeNs} → ${now.mtimeNs})`,
      );
    }
  }

  #evictTo(n: number): void {
    while (this.#open.size > Math.max(0, n)) {
      const f = this.#open.oldest!;
      this.#open.unlink(f);
      closeBacking(f.fd);
      f.fd = -1;
      this.evictions++;
    }
  }
}
