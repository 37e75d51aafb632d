// The bytes of a range of a served file, as ReadPieces: inline header bytes
// as they are, art and binary tags from the store (art cached by id within a
// budget, validated by its SHA-256 so a reused art id is never served stale),
// backing audio through the handle's read-ahead window or as a `file` piece
// the server preads itself, Ogg audio pages patched in flight.

import { LIBRARY_DEFAULTS } from "./defaults.ts";
import type { ReadPiece } from "./api.ts";
import { base64Encode, base64Length, readSegment, segmentLength } from "../format/mod.ts";
import { readOggAudio } from "../format/mod.ts";
import type { BlobSource, ByteSource, Layout, Segment } from "../format/mod.ts";
import { artDigest, readArt, readBinaryTag, type Store } from "../store/mod.ts";
import { StoreError } from "../store/mod.ts";
import { readNow } from "./backing.ts";
import { BackingChangedError } from "./errors.ts";
import { WeightedLru } from "./lru.ts";
import type { ReadAheadWindow } from "./readahead.ts";
import { segmentStreamsRows } from "./resolve.ts";

export const DEFAULT_ART_CACHE_BUDGET = LIBRARY_DEFAULTS.artCacheBytes;

/**
 * Most ranges of the arena (below) handed out between two `unpin()` calls
 * that are tracked; past that, nothing more is placed in the arena until
 * the next `unpin()` (entries are kept in buffers of their own meanwhile).
 */
const MAX_PINNED = 64;

interface ArtEntry {
  sha: string;
  bytes: Uint8Array;
  verifiedAt: number;
}

/**
 * Whole art images by id, checked against the store's sha256: on every use,
 * or (`dataVersion` given) once per store data_version, since an image
 * verified at the store's current data_version is still what the store
 * holds (nothing was committed since).
 *
 * With `arena`, the images (and texts) are copied into one buffer of the
 * budget's size, placed in turn around it, and the store's buffer is
 * dropped at once. An image kept in a buffer of its own outlives the young
 * generation and, once dropped, is freed only by a collection of the whole
 * heap, which the image memory itself sets off: on a 20 000-track scan
 * with a 300 KB cover per album, some 45 collections of the serving
 * thread's heap that one image shared by every album did not cause
 * (docs/tuning.md). A copy dropped at once dies young. The arena's bytes
 * are overwritten by later entries, so every range handed out stays
 * pinned, never overwritten, until the owner calls `unpin()`: the serving
 * thread does before each request, when the views it served are written.
 * An entry that finds no room that is not pinned (or more than MAX_PINNED
 * ranges pinned) is kept in a buffer of its own, as without an arena.
 */
export class ArtCache {
  readonly #lru: WeightedLru<number, ArtEntry>;
  readonly #arenaOn: boolean;
  #arena: Uint8Array | null = null;
  /** Where the next entry goes in the arena. */
  #head = 0;
  /** Each arena entry's range, by key (an image's art id; its text's, negated). */
  readonly #placed = new Map<number, [number, number]>();
  /** Ranges handed out since the last `unpin()`, as start, end pairs. */
  #pinned: number[] = [];

  constructor(readonly store: Store, budget = DEFAULT_ART_CACHE_BUDGET, arena = false) {
    this.#lru = new WeightedLru(budget);
    this.#arenaOn = arena;
  }

  /**
   * The views handed out so far are no longer in use: their arena ranges
   * may be overwritten from now on.
   */
  unpin(): void {
    if (this.#pinned.length > 0) this.#pinned = [];
  }

  /** Bytes of the arena (0 until the first entry is placed, or without one). */
  get arenaBytes(): number {
    return this.#arena?.length ?? 0;
  }

  #handOut<T extends ArtEntry>(key: number, e: T): T {
    const at = this.#placed.get(key);
    if (at !== undefined && e.bytes.buffer === this.#arena?.buffer) {
      this.#pinned.push(at[0], at[1]);
    }
    return e;
  }

  /** Keeps `fresh` under `key` (in the arena when there is one and room); the entry. */
  #keep(key: number, sha: string, fresh: Uint8Array, verifiedAt: number): ArtEntry {
    if (!this.#arenaOn) {
      const added = { sha, bytes: fresh, verifiedAt };
      this.#lru.set(key, added, fresh.length);
      return added;
    }
    // No room in the arena that is not in use: kept in its own buffer, as without one.
    const bytes = this.#place(key, fresh) ?? fresh;
    const added = { sha, bytes, verifiedAt };
    this.#lru.set(key, added, bytes.length);
    return this.#handOut(key, added);
  }

  /** `fresh` copied into the arena (entries there before give way); null when it cannot be. */
  #place(key: number, fresh: Uint8Array): Uint8Array | null {
    const size = this.#lru.budget;
    const n = fresh.length;
    if (n > size || this.#pinned.length >= 2 * MAX_PINNED) return null;
    const start = this.#head + n <= size ? this.#head : 0;
    const end = start + n;
    const pinned = this.#pinned;
    for (let i = 0; i < pinned.length; i += 2) {
      if (pinned[i] < end && start < pinned[i + 1]) return null;
    }
    this.#arena ??= new Uint8Array(size);
    for (const [k, [s, e]] of this.#placed) {
      if (s < end && start < e) {
        this.#placed.delete(k);
        this.#lru.delete(k);
      }
    }
    this.#arena.set(fresh, start);
    this.#head = end;
    this.#placed.set(key, [start, end]);
    return this.#arena.subarray(start, end);
  }

  /** The store's SHA-256 and length of art `artId`. */
  #digest(artId: number): { sha256: string; byteLen: number } {
    const meta = artDigest(this.store, artId);
    // An orphaned reference (art deleted under a live layout) is an error, never zero bytes.
    if (meta === null) {
      throw new StoreError("not-found", `art ${artId} does not exist`, this.store.path);
    }
    return meta;
  }

  /**
   * The full image of art `artId` (call inside the read snapshot).
   * `dataVersion`: the store's data_version of that snapshot.
   */
  image(artId: number, dataVersion?: number): Uint8Array {
    return this.entry(artId, dataVersion).bytes;
  }

  /** `image`, with the SHA-256 the store holds for it (what identifies its bytes). */
  entry(artId: number, dataVersion?: number): { sha: string; bytes: Uint8Array } {
    const hit = this.#lru.get(artId);
    if (hit !== undefined && dataVersion !== undefined && hit.verifiedAt === dataVersion) {
      return this.#handOut(artId, hit);
    }
    const meta = this.#digest(artId);
    const verifiedAt = dataVersion ?? -1;
    if (hit !== undefined && hit.sha === meta.sha256) {
      hit.verifiedAt = verifiedAt;
      return this.#handOut(artId, hit);
    }
    return this.#keep(artId, meta.sha256, readArt(this.store, artId, 0, meta.byteLen), verifiedAt);
  }

  /**
   * The base64 text of art `artId`, what Vorbis and Opus header pages carry
   * (call inside the read snapshot, as `image`): kept like the image, under
   * the same budget and checks, so serving those pages slices it and encodes
   * nothing. Undefined when the text would take more than a quarter of the
   * budget (the caller encodes its slices instead).
   */
  text(artId: number, dataVersion?: number): Uint8Array | undefined {
    const key = -artId; // art ids are positive: texts share the map under negated ids
    const hit = this.#lru.get(key);
    if (hit !== undefined && dataVersion !== undefined && hit.verifiedAt === dataVersion) {
      return this.#handOut(key, hit).bytes;
    }
    const verifiedAt = dataVersion ?? -1;
    // What the store holds now: from the image when it was verified at this
    // data_version, else from its row (the image itself is not read for that).
    let sha: string;
    let byteLen: number;
    const image = this.#lru.peek(artId);
    if (image !== undefined && dataVersion !== undefined && image.verifiedAt === dataVersion) {
      sha = image.sha;
      byteLen = image.bytes.length;
    } else {
      const meta = this.#digest(artId);
      sha = meta.sha256;
      byteLen = meta.byteLen;
    }
    if (hit !== undefined && hit.sha === sha) {
      hit.verifiedAt = verifiedAt;
      return this.#handOut(key, hit).bytes;
    }
    if (base64Length(byteLen) > this.#lru.budget / 4) return undefined;
    const made = this.entry(artId, dataVersion);
    return this.#keep(key, made.sha, base64Encode(made.bytes), verifiedAt).bytes;
  }

  /**
   * True when art `artId` is cached and was verified at `dataVersion` (no
   * store read needed); `text`: its base64 text, or the image it is made from.
   */
  verifiedAt(artId: number, dataVersion: number, text = false): boolean {
    if (this.#lru.peek(artId)?.verifiedAt === dataVersion) return true;
    return text && this.#lru.peek(-artId)?.verifiedAt === dataVersion;
  }

  get entries(): number {
    return this.#lru.size;
  }

  get bytes(): number {
    return this.#lru.weight;
  }
}

/** Where one read's backing bytes come from. */
export interface BackingAccess {
  /** The open backing fd, for `file` pieces; null = always return bytes. */
  fd: number | null;
  /** The handle's read-ahead window (null when none). */
  window: ReadAheadWindow | null;
  /** Random access for Ogg page walking and fd-less reads (one per handle keeps the page memo). */
  source: ByteSource;
  path: string;
}

function blobsOf(store: Store, art: ArtCache, dataVersion?: number): BlobSource {
  return {
    art: (id, offset, length) => {
      const img = art.image(id, dataVersion);
      return img.subarray(offset, Math.min(img.length, offset + length));
    },
    artText: (id, offset, length) => art.text(id, dataVersion)?.subarray(offset, offset + length),
    binaryTag: (id, offset, length) => readBinaryTag(store, id, offset, length),
  };
}

/** True if [offset, offset+size) touches a segment that streams store rows. */
export function rangeTouchesRows(layout: Layout, offset: number, size: number): boolean {
  return rangeTouches(layout, offset, size, segmentStreamsRows);
}

/**
 * True when [offset, offset+size) can be served without reading the store:
 * it streams no binary tag (those change in place) and every image it
 * streams is cached and verified at `dataVersion`.
 */
export function rangeServedFromCache(
  layout: Layout,
  offset: number,
  size: number,
  art: ArtCache,
  dataVersion: number,
): boolean {
  return !rangeTouches(layout, offset, size, (seg) =>
    seg.kind === "binary-tag" ||
    (seg.kind === "art" && !art.verifiedAt(seg.artId, dataVersion)) ||
    (seg.kind === "ogg-art" && !art.verifiedAt(seg.artId, dataVersion, seg.base64)));
}

/**
 * True if [offset, offset+size) touches a segment streaming rows that may
 * change in place (binary tags: a tag edit rewrites them). Art rows are
 * immutable, so art segments of an older layout still read the same bytes.
 */
export function rangeTouchesMutableRows(layout: Layout, offset: number, size: number): boolean {
  return rangeTouches(layout, offset, size, (seg) => seg.kind === "binary-tag");
}

/** True if [offset, offset+size) touches a segment for which `which` holds. */
function rangeTouches(
  layout: Layout,
  offset: number,
  size: number,
  which: (seg: Segment) => boolean,
): boolean {
  let at = 0;
  const end = offset + size;
  for (const seg of layout.segments) {
    const len = segmentLength(seg);
    if (at >= end) break;
    if (at + len > offset && which(seg)) return true;
    at += len;
  }
  return false;
}

/**
 * The pieces of [offset, offset+size) of `layout`, clipped at its end.
 * Segments that stream store rows must be read inside a snapshot the caller
 * holds (see Library.read); `dataVersion` is that snapshot's data_version,
 * which lets images verified at it be served from the art cache unread.
 */
export function readPieces(
  layout: Layout,
  offset: number,
  size: number,
  backing: BackingAccess,
  store: Store,
  art: ArtCache,
  dataVersion?: number,
): ReadPiece[] {
  const pieces: ReadPiece[] = [];
  const end = Math.min(layout.size, offset + size);
  if (offset >= end) return pieces;
  let blobs: BlobSource | null = null;
  let segStart = 0;
  for (const seg of layout.segments) {
    const len = segmentLength(seg);
    const segEnd = segStart + len;
    if (segStart >= end) break;
    if (segEnd > offset && len > 0) {
      const from = Math.max(offset, segStart) - segStart;
      const take = Math.min(end, segEnd) - segStart - from;
      pieceOf(seg, from, take);
    }
    segStart = segEnd;
  }
  return pieces;

  function pieceOf(seg: Segment, from: number, take: number): void {
    switch (seg.kind) {
      case "inline":
        pieces.push({ kind: "bytes", bytes: seg.bytes.subarray(from, from + take) });
        return;
      case "backing": {
        const at = seg.offset + from;
        const viaWindow = backing.window?.read(at, take) ?? null;
        if (viaWindow !== null) {
          if (viaWindow.length !== take) throw shortRead(backing, at, take, viaWindow.length);
          pieces.push({ kind: "bytes", bytes: viaWindow });
        } else if (backing.fd !== null) {
          const cold = backing.window?.coldMiss === true;
          pieces.push({ kind: "file", fd: backing.fd, offset: at, length: take, cold });
        } else {
          const bytes = backing.source.read(at, take);
          if (bytes.length !== take) throw shortRead(backing, at, take, bytes.length);
          pieces.push({ kind: "bytes", bytes });
        }
        return;
      }
      case "ogg-audio": {
        if (backing.fd === null) {
          pieces.push({ kind: "bytes", bytes: readOggAudio(backing.source, seg, from, take) });
          return;
        }
        try {
          pieces.push({ kind: "bytes", bytes: readOggAudio(nowSource(backing), seg, from, take) });
        } catch (e) {
          if (e !== NOT_NOW) throw e;
          // Pages not at hand without blocking: an I/O worker re-pages them.
          pieces.push({
            kind: "ogg",
            fd: backing.fd,
            size: backing.source.size,
            offset: seg.offset,
            length: seg.length,
            seqDelta: seg.seqDelta,
            from,
            take,
          });
        }
        return;
      }
      default:
        blobs ??= blobsOf(store, art, dataVersion);
        pieces.push({
          kind: "bytes",
          bytes: readSegment(seg, from, take, { backing: backing.source, blobs }),
        });
    }
  }
}

function shortRead(backing: BackingAccess, at: number, want: number, got: number): Error {
  return new BackingChangedError(backing.path, `short read at ${at}: ${got} of ${want} bytes`);
}

/** Thrown by a `nowSource` read that cannot be answered without blocking (never escapes readPieces). */
const NOT_NOW = new Error("backing bytes not at hand without blocking");

/**
 * Ogg page reads that never block the serving thread: through the read-ahead
 * window when it holds the bytes, else the one non-blocking read (readNow);
 * bytes not at hand throw NOT_NOW and the read goes to an I/O worker. One
 * source per handle, so the page memo of readOggAudio carries across reads.
 */
const nowSources = new WeakMap<BackingAccess, ByteSource>();
function nowSource(backing: BackingAccess): ByteSource {
  let src = nowSources.get(backing);
  if (src === undefined) {
    const size = backing.source.size;
    src = {
      size,
      read(offset: number, length: number): Uint8Array {
        const n = Math.max(0, Math.min(length, size - offset));
        const window = backing.window;
        const viaWindow = window !== null && window.pool.enabled ? window.read(offset, n) : null;
        // Copy: readOggAudio may keep a slice while the window moves on.
        if (viaWindow !== null) return viaWindow.slice();
        const out = new Uint8Array(n);
        let got = 0;
        while (got < n) {
          const k = readNow(backing.fd!, out, got, n - got, offset + got);
          if (k < 0) throw NOT_NOW;
          if (k === 0) break;
          got += k;
        }
        return got === n ? out : out.subarray(0, got);
      },
    };
    nowSources.set(backing, src);
  }
  return src;
}
