// Backing read-ahead: each open handle has a window over raw backing
// bytes. A handle's first read gets none (it is read directly); the read
// that continues it opens a window of the floor size, and each miss that
// continues the stream (it starts inside or right at the end of the
// previous window) doubles it up to the per-stream cap; a seek resets it to
// the floor. All windows share one global byte budget; the least recently
// used windows of other handles are dropped to make room.
//
// When a window would be no larger than the request itself, amplification
// buys nothing: the caller then hands the server a `file` piece to pread
// straight into its reply (no copy here). Requests of the floor size or more
// (the kernel's own large read-ahead requests) never use a window. Budget 0
// disables windows.
//
// Windows are filled only through `readNow` (what the page cache holds):
// this runs on the thread that answers metadata, which must never wait on a
// slow disk, and the window does no blocking I/O of its own. When the data is
// not cached, or the file system cannot read without blocking, the window
// says so (`coldMiss`) and the request goes to the server as a `file` piece
// marked cold, which goes straight to an I/O worker (no second probe) — and
// the backing file system's own read-ahead warms the cache for the next window.

import { LIBRARY_DEFAULTS } from "./defaults.ts";
import { type FdHolder, readNow } from "./backing.ts";

export const READ_AHEAD_FLOOR = 512 * 1024;
export const READ_AHEAD_MAX_CAP = 8 * 1024 * 1024;
export const DEFAULT_READ_AHEAD_BUDGET = LIBRARY_DEFAULTS.readAheadBudgetMib * 1024 * 1024;

/** Per-stream cap: clamp(budget / 4, 512 KiB, 8 MiB). */
export function perStreamCap(budget: number): number {
  return Math.min(READ_AHEAD_MAX_CAP, Math.max(READ_AHEAD_FLOOR, Math.floor(budget / 4)));
}

export class ReadAheadPool {
  readonly cap: number;
  /** Windows holding bytes, least recently used first. */
  readonly #lru = new Map<ReadAheadWindow, number>();
  #charged = 0;
  hits = 0;
  misses = 0;
  preads = 0;
  /** Fills abandoned because the data was not in the page cache yet. */
  uncached = 0;

  constructor(readonly budget: number) {
    this.cap = budget > 0 ? Math.min(perStreamCap(budget), budget) : 0;
  }

  get enabled(): boolean {
    return this.budget > 0;
  }

  get charged(): number {
    return this.#charged;
  }

  get streams(): number {
    return this.#lru.size;
  }

  /** Make room for `bytes` for `owner` (its old charge released), evicting others LRU. */
  charge(owner: ReadAheadWindow, bytes: number): void {
    this.release(owner);
    for (const [w] of this.#lru) {
      if (this.#charged + bytes <= this.budget) break;
      this.release(w);
      w.drop();
    }
    this.#lru.set(owner, bytes);
    this.#charged += bytes;
  }

  touch(owner: ReadAheadWindow): void {
    const bytes = this.#lru.get(owner);
    if (bytes === undefined) return;
    this.#lru.delete(owner);
    this.#lru.set(owner, bytes);
  }

  release(owner: ReadAheadWindow): void {
    const bytes = this.#lru.get(owner);
    if (bytes === undefined) return;
    this.#lru.delete(owner);
    this.#charged -= bytes;
  }
}

/** One handle's window over its backing file. */
export class ReadAheadWindow {
  #buf: Uint8Array | null = null;
  /** The held window's storage (charged to the pool), reused by the next fill. */
  #spare: Uint8Array | null = null;
  /** Backing range of the last window (or the last direct read when no bytes are held). */
  #start = -1;
  #end = -1;
  /** The last window's size; half the floor before the first, which continues the first read. */
  #size = READ_AHEAD_FLOOR / 2;
  /** The last read returned null because the bytes cannot be had without blocking. */
  coldMiss = false;

  constructor(
    readonly pool: ReadAheadPool,
    /** The handle's backing file; its fd is current whenever read() is called. */
    readonly file: FdHolder,
    /** Size of the backing file (validated stamp): windows never extend past it. */
    readonly fileSize: number,
    readonly path: string,
  ) {}

  /** Current window size (tests and metrics). */
  get windowSize(): number {
    return this.#size;
  }

  get holding(): number {
    return this.#buf?.length ?? 0;
  }

  /**
   * Bytes [offset, offset+length) of the backing file, or null when the
   * caller should read them directly (read-ahead off, or a window no larger
   * than the request). The returned view stays valid until the next call.
   */
  read(offset: number, length: number): Uint8Array | null {
    this.coldMiss = false;
    if (!this.pool.enabled) return null;
    const end = offset + length;
    if (length >= READ_AHEAD_FLOOR) {
      // The kernel already reads ahead in large requests (up to 1 MiB): a
      // window would only add a copy (measured: ~30% of read throughput).
      // Keep the range for sequence detection only.
      this.drop();
      this.#start = offset;
      this.#end = end;
      return null;
    }
    const buf = this.#buf;
    if (buf !== null && offset >= this.#start && end <= this.#start + buf.length) {
      this.pool.hits++;
      this.pool.touch(this);
      return buf.subarray(offset - this.#start, end - this.#start);
    }
    this.pool.misses++;
    if (this.#start < 0) {
      // A handle's first read is read directly: a media server's scan reads
      // the head of every file once, and a window would read and copy 512 KiB
      // of each (allocated anew per handle) for the tens of KiB it asks.
      this.#start = offset;
      this.#end = end;
      return null;
    }
    const sequential = offset >= this.#start && offset <= this.#end;
    this.#size = sequential ? Math.min(this.#size * 2, this.pool.cap) : READ_AHEAD_FLOOR;
    const want = Math.min(Math.max(this.#size, 0), this.fileSize - offset);
    if (want <= length) {
      // No amplification possible: remember the range for sequence detection only.
      this.drop();
      this.#start = offset;
      this.#end = end;
      return null;
    }
    // Reuse the held buffer at a steady window size (no allocation per fill
    // once a stream reached its cap); a different size allocates anew so the
    // charge always equals the memory held.
    const fresh = this.#spare !== null && this.#spare.length === want
      ? this.#spare
      : new Uint8Array(want);
    this.pool.preads++;
    const got = readNow(this.file.fd, fresh, 0, want, offset);
    if (got < 0 || (got < length && offset + got < this.fileSize)) {
      // Not (all) cached, or not knowable without blocking: no window now;
      // the server reads this one off-thread.
      this.pool.uncached++;
      this.coldMiss = true;
      this.drop();
      this.#start = offset;
      this.#end = end;
      return null;
    }
    this.pool.charge(this, fresh.length);
    this.#spare = fresh;
    this.#buf = fresh.subarray(0, got);
    this.#start = offset;
    this.#end = offset + got;
    if (got < length) return this.#buf.subarray(0, got);
    return this.#buf.subarray(0, length);
  }

  /** Forget held bytes (evicted by the pool, or released). */
  drop(): void {
    if (this.#buf !== null) {
      this.pool.release(this);
      this.#buf = null;
    }
    this.#spare = null;
  }

  /** The handle is closing. */
  close(): void {
    this.drop();
    this.pool.release(this);
  }
}
