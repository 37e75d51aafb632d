// Synthesized sizes remembered across mounts: the size index.
//
// The first stat of a served file costs its synthesis (the store's rows, the
// backing file's front, the tag writers): several times what a passthrough
// file system spends on a stat. A media server stats every file on every
// scan, and a mount restarts (reboot, upgrade, NAS sleep) far more often than
// a library is re-tagged. So the sizes synthesis produced are kept in a file
// next to the store (`<store>-sizes`, docs/tuning.md), loaded at mount, and
// a stat answered from it needs the track's row and a stat of the backing
// file, nothing more.
//
// An entry holds for one exact row state: a 64-bit hash of the track's
// content_version, updated_at, format, audio range, backing path and recorded
// stamp (size, mtime, ctime). Every edit of tags, art or structural rows bumps
// content_version (store triggers), so an edited track misses and is
// synthesized again. What else a size depends on (this build's layout
// version, the serve mode, the ID3 version, the library roots) is the file's
// variant: a file written under another variant is ignored whole. Opening a
// file builds its layout anyway; a remembered size that disagrees with it is
// corrected and counted, never served again.
//
// The file is a cache: unreadable, corrupt or foreign, it is ignored and
// rewritten; it is written to a temporary name and renamed over, so a crash
// leaves the old file or the new one.

import type { TrackRow } from "../store/mod.ts";

/**
 * Part of every file's variant: bump it with any change that can make
 * synthesis produce another size for the same rows and backing file, so an
 * index written by an older build is ignored instead of corrected file by
 * file at open.
 */
export const SIZE_INDEX_VERSION = 1;

const MAGIC = "MUSEFSZ1";
const HEADER_BYTES = 24;
const RECORD_BYTES = 24;
/** Heap bytes per dense slot: two u32 key halves and an f64 size. */
const SLOT_BYTES = 16;
/** Track ids held outside the dense arrays (ids far beyond the track count) at most. */
const SPARSE_MAX = 65536;
/** A new entry is written out once no other has come for this long (a walk has settled). */
export const SAVE_SETTLE_MS = 5000;

/** Two independent 32-bit string hashes (FNV-1a and a multiplicative mix): one 64-bit key. */
export function hash64(text: string): [number, number] {
  hashStart();
  hashChars(text);
  return hashEnd();
}

// The running state of hash64, fed piece by piece (`keyOf` hashes its fields
// without joining them into one string first; the same characters give the
// same key).
let ha = 0;
let hb = 0;
const digits = new Uint8Array(24);

function hashStart(): void {
  ha = 0x811c9dc5;
  hb = 0x9747b28c;
}

function hashChar(c: number): void {
  ha = Math.imul(ha ^ c, 0x01000193);
  hb = Math.imul(hb ^ c, 0x5bd1e995);
  hb ^= hb >>> 15;
}

function hashChars(text: string): void {
  for (let i = 0; i < text.length; i++) hashChar(text.charCodeAt(i));
}

/** The characters of `${n}`. */
function hashNumber(n: number): void {
  if (!Number.isSafeInteger(n) || n < 0) return hashChars(String(n));
  let at = digits.length;
  do {
    digits[--at] = 48 + (n % 10);
    n = Math.floor(n / 10);
  } while (n > 0);
  for (; at < digits.length; at++) hashChar(digits[at]);
}

function hashEnd(): [number, number] {
  let a = ha, b = hb;
  a ^= a >>> 16;
  a = Math.imul(a, 0x85ebca6b);
  a ^= a >>> 13;
  b ^= b >>> 16;
  b = Math.imul(b, 0xc2b2ae35);
  b ^= b >>> 16;
  return [a >>> 0, b >>> 0];
}

/** The key of the row state a size was synthesized from. */
export function sizeKey(row: TrackRow): [number, number] {
  return keyOf(
    row,
    row.backingSize,
    row.backingMtimeNs,
    row.backingCtimeNs,
  );
}

/** What a built file recorded of its row: enough for its size's key. */
export interface BuiltRowState {
  contentVersion: number;
  updatedAt: number;
  format: string;
  audioOffset: number;
  audioLength: number;
  backingPath: string;
  /** The backing stamp the row recorded. */
  stamp: { size: number; mtimeNs: bigint; ctimeNs: bigint };
}

/** The same key from a file built on another thread (a layout or a size built ahead). */
export function sizeKeyOfBuilt(f: BuiltRowState): [number, number] {
  return keyOf(f, f.stamp.size, f.stamp.mtimeNs, f.stamp.ctimeNs);
}

function keyOf(
  r: Omit<BuiltRowState, "stamp">,
  size: number,
  mtimeNs: bigint,
  ctimeNs: bigint,
): [number, number] {
  // hash64(`${contentVersion}|${updatedAt}|${format}|${audioOffset}|${audioLength}|` +
  //   `${size}|${mtimeNs}|${ctimeNs}|${backingPath}`), without building that string.
  const BAR = 0x7c;
  hashStart();
  hashNumber(r.contentVersion);
  hashChar(BAR);
  hashNumber(r.updatedAt);
  hashChar(BAR);
  hashChars(r.format);
  hashChar(BAR);
  hashNumber(r.audioOffset);
  hashChar(BAR);
  hashNumber(r.audioLength);
  hashChar(BAR);
  hashNumber(size);
  hashChar(BAR);
  hashChars(mtimeNs.toString());
  hashChar(BAR);
  hashChars(ctimeNs.toString());
  hashChar(BAR);
  hashChars(r.backingPath);
  return hashEnd();
}

/** What the sizes depend on besides a track's rows; part of the file header. */
export function sizeVariant(parts: readonly (string | number)[]): [number, number] {
  return hash64([`v${SIZE_INDEX_VERSION}`, ...parts.map(String)].join("\0"));
}

/** Why a size index file was not used (null: loaded, or there was none). */
export type LoadProblem = string | null;

export class SizeIndex {
  #k1 = new Uint32Array(0);
  #k2 = new Uint32Array(0);
  /** NaN: no entry. */
  #size = new Float64Array(0);
  readonly #sparse = new Map<number, { k1: number; k2: number; size: number }>();
  #entries = 0;
  #dirty = false;
  #lastChange = 0;
  #saveFailed = false;
  hits = 0;
  misses = 0;
  /** Remembered sizes that disagreed with a layout built at open. */
  corrections = 0;
  /** Why the file found at mount was not used. */
  loadProblem: LoadProblem = null;

  constructor(
    /** The file, or null: sizes are kept for this mount only. */
    readonly path: string | null,
    readonly variant: readonly [number, number],
    readonly log: { warn(message: string): void } | null = null,
  ) {}

  /** The index in `path` (empty when there is none or it cannot be used). */
  static load(
    path: string | null,
    variant: readonly [number, number],
    log: { warn(message: string): void } | null = null,
  ): SizeIndex {
    const index = new SizeIndex(path, variant, log);
    if (path !== null) index.#read(path);
    return index;
  }

  get entries(): number {
    return this.#entries;
  }

  /** Heap bytes held. */
  get bytes(): number {
    return this.#size.length * SLOT_BYTES + this.#sparse.size * 64;
  }

  /** Whether any size is remembered for `trackId` (under any key). */
  has(trackId: number): boolean {
    if (this.#dense(trackId)) return !Number.isNaN(this.#size[trackId]);
    return this.#sparse.has(trackId);
  }

  /** The size remembered for `trackId` at `key`, or undefined; not counted. */
  peek(trackId: number, key: readonly [number, number]): number | undefined {
    if (this.#dense(trackId)) {
      const s = this.#size[trackId];
      return !Number.isNaN(s) && this.#k1[trackId] === key[0] && this.#k2[trackId] === key[1]
        ? s
        : undefined;
    }
    const e = this.#sparse.get(trackId);
    return e !== undefined && e.k1 === key[0] && e.k2 === key[1] ? e.size : undefined;
  }

  /** The size remembered for `trackId` at `key`, or undefined; counted as a hit or a miss. */
  get(trackId: number, key: readonly [number, number]): number | undefined {
    const size = this.peek(trackId, key);
    if (size === undefined) this.misses++;
    else this.hits++;
    return size;
  }

  /**
   * Remember `size` for `trackId` at `key`. Returns true when a size was
   * remembered for that very key and differs (it was wrong: counted).
   */
  record(trackId: number, key: readonly [number, number], size: number): boolean {
    if (!Number.isSafeInteger(trackId) || trackId < 0) return false;
    let wrong = false;
    if (this.#dense(trackId) || this.#grow(trackId)) {
      const s = this.#size[trackId];
      const known = !Number.isNaN(s);
      if (known && this.#k1[trackId] === key[0] && this.#k2[trackId] === key[1]) {
        if (s === size) return false;
        wrong = true;
      }
      if (!known) this.#entries++;
      this.#k1[trackId] = key[0];
      this.#k2[trackId] = key[1];
      this.#size[trackId] = size;
    } else {
      const e = this.#sparse.get(trackId);
      if (e !== undefined && e.k1 === key[0] && e.k2 === key[1]) {
        if (e.size === size) return false;
        wrong = true;
      }
      if (e === undefined) {
        if (this.#sparse.size >= SPARSE_MAX) return false;
        this.#entries++;
      }
      this.#sparse.set(trackId, { k1: key[0], k2: key[1], size });
    }
    if (wrong) this.corrections++;
    this.#dirty = true;
    this.#lastChange = Date.now();
    return wrong;
  }

  #dense(trackId: number): boolean {
    return trackId >= 0 && trackId < this.#size.length;
  }

  /** Grow the dense arrays to hold `trackId` when ids are dense enough; false: keep it sparse. */
  #grow(trackId: number): boolean {
    const limit = 4 * (this.#entries + 1) + 65536;
    if (trackId >= limit) return false;
    let n = Math.max(1024, this.#size.length);
    while (n <= trackId) n *= 2;
    const k1 = new Uint32Array(n);
    k1.set(this.#k1);
    const k2 = new Uint32Array(n);
    k2.set(this.#k2);
    const size = new Float64Array(n).fill(NaN);
    size.set(this.#size);
    this.#k1 = k1;
    this.#k2 = k2;
    this.#size = size;
    return true;
  }

  /** Write the file when new sizes came and none for SAVE_SETTLE_MS (a walk is over). */
  saveIfSettled(live: (trackId: number) => boolean, now = Date.now()): void {
    if (this.#dirty && now - this.#lastChange >= SAVE_SETTLE_MS) this.save(live);
  }

  /**
   * Write every entry of a track still `live` to the file (temporary name,
   * then rename). A file that cannot be written is reported once; the sizes
   * are then kept for this mount only.
   */
  save(live: (trackId: number) => boolean): boolean {
    if (!this.#dirty || this.path === null || this.#saveFailed) return false;
    const ids: number[] = [];
    for (let id = 0; id < this.#size.length; id++) {
      if (!Number.isNaN(this.#size[id]) && live(id)) ids.push(id);
    }
    for (const id of this.#sparse.keys()) if (live(id)) ids.push(id);
    const bytes = new Uint8Array(HEADER_BYTES + ids.length * RECORD_BYTES);
    const view = new DataView(bytes.buffer);
    for (let i = 0; i < MAGIC.length; i++) bytes[i] = MAGIC.charCodeAt(i);
    view.setUint32(8, this.variant[0], true);
    view.setUint32(12, this.variant[1], true);
    view.setUint32(16, ids.length, true);
    let at = HEADER_BYTES;
    for (const id of ids) {
      const e = this.#dense(id)
        ? { k1: this.#k1[id], k2: this.#k2[id], size: this.#size[id] }
        : this.#sparse.get(id)!;
      view.setFloat64(at, id, true);
      view.setUint32(at + 8, e.k1, true);
      view.setUint32(at + 12, e.k2, true);
      view.setFloat64(at + 16, e.size, true);
      at += RECORD_BYTES;
    }
    view.setUint32(20, checksum(bytes), true);
    const tmp = `${this.path}.tmp-${Deno.pid}`;
    try {
      // A new file, never through a link someone left at the temporary name.
      try {
        Deno.removeSync(tmp);
      } catch { /* none left over */ }
      Deno.writeFileSync(tmp, bytes, { mode: 0o644, createNew: true });
      Deno.renameSync(tmp, this.path);
    } catch (e) {
      try {
        Deno.removeSync(tmp);
      } catch { /* never created */ }
      this.#saveFailed = true;
      this.log?.warn(
        `cannot write the size index ${this.path} (${(e as Error).message}); sizes are kept ` +
          `for this mount only (--size-index PATH puts it elsewhere)`,
      );
      return false;
    }
    this.#dirty = false;
    return true;
  }

  #read(path: string): void {
    let bytes: Uint8Array;
    try {
      // Whoever may write the file decides the sizes served: only this
      // process's user (or root), and not writable by others.
      const info = Deno.lstatSync(path);
      const uid = Deno.uid();
      if (!info.isFile) {
        this.#reject(path, "not a regular file");
        return;
      }
      if ((info.uid !== uid && info.uid !== 0) || ((info.mode ?? 0) & 0o022) !== 0) {
        this.#reject(path, `owned by uid ${info.uid} or writable by others`);
        return;
      }
      bytes = Deno.readFileSync(path);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return;
      this.#reject(path, (e as Error).message);
      return;
    }
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let magic = "";
    for (let i = 0; i < MAGIC.length && i < bytes.length; i++) {
      magic += String.fromCharCode(bytes[i]);
    }
    if (magic !== MAGIC || bytes.length < HEADER_BYTES) {
      this.#reject(path, "not a musefs size index");
      return;
    }
    const count = view.getUint32(16, true);
    if (bytes.length !== HEADER_BYTES + count * RECORD_BYTES) {
      this.#reject(path, `truncated: ${bytes.length} bytes for ${count} entries`);
      return;
    }
    if (view.getUint32(20, true) !== checksum(bytes)) {
      this.#reject(path, "its checksum does not match");
      return;
    }
    // Another build, mode, ID3 version or set of library roots: not ours, silently.
    if (
      view.getUint32(8, true) !== this.variant[0] || view.getUint32(12, true) !== this.variant[1]
    ) {
      this.#dirty = true;
      return;
    }
    for (let at = HEADER_BYTES; at < bytes.length; at += RECORD_BYTES) {
      const id = view.getFloat64(at, true);
      const size = view.getFloat64(at + 16, true);
      if (!Number.isSafeInteger(id) || id < 0 || !Number.isSafeInteger(size) || size < 0) continue;
      this.record(id, [view.getUint32(at + 8, true), view.getUint32(at + 12, true)], size);
    }
    this.#dirty = false;
  }

  #reject(path: string, why: string): void {
    this.loadProblem = why;
    this.#dirty = true;
    this.log?.warn(`ignoring the size index ${path}: ${why}; it is rebuilt as files are stat'ed`);
  }
}

/** A 32-bit checksum of everything but the checksum field (bytes 20–23). */
function checksum(bytes: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) {
    if (i >= 20 && i < 24) continue;
    h = Math.imul(h ^ bytes[i], 0x01000193);
  }
  return h >>> 0;
}
