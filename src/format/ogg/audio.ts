// Serving the audio pages of an Ogg file after its header pages were
// re-paginated: every page keeps its bytes except the sequence number
// (+ seqDelta mod 2^32) and the CRC, which is patched from the header bytes
// alone (CRC linearity, see page.ts), so payload is copied, never hashed.
//
// The audio region need not be a clean run of complete pages: files with a
// cut-off last page, junk or a partial page between pages are common and
// decoders skip such bytes. They are served verbatim. Which bytes are pages
// is defined by a walk from the start of the region, one unit at a time: at
// a unit start, a plausible page header whose page lies inside the region is
// a page when the page ends at the region end, is followed by another page
// capture ("OggS", version 0), or carries a valid CRC (so clean streams are
// walked by their headers without hashing). Anything else starts a run of
// non-page bytes lasting up to the next position holding a page by the same
// rule. A page with a bad CRC inside a linked run is renumbered like the
// others (its CRC stays wrong, so decoders drop it as they drop the original).
//
// There is no page index: the page holding the first requested byte is found
// in one read covering the < 65,307 bytes before it, the requested range and
// a page size past it — a scan backwards for the nearest page by that rule
// (≤ 64 candidate headers), then a walk forward. None means the byte lies in
// non-page bytes (every page is shorter than the scanned span). Only a
// crafted payload (a false capture that is itself a page by the rule) can
// make reads at different offsets disagree about a page.
// A memo per backing source (the last unit start, or how far non-page bytes
// were scanned) lets sequential reads skip the search.

import { putU32le, u32le } from "../bytes.ts";
import { type ByteSource, FormatError } from "../types.ts";
import {
  CRC_AT,
  MAX_PAGE_HEADER,
  MAX_PAGE_SIZE,
  PAGE_HEADER_FIXED,
  pageCrcValid,
  patchedCrc,
  SEQ_AT,
} from "./page.ts";

export interface OggAudioSegment {
  offset: number;
  length: number;
  seqDelta: number;
}

/** Most CRC validations one page search may spend on candidate headers. */
export const MAX_CRC_CHECKS = 64;

/**
 * Most bytes one read may hash to classify pages and find the next page
 * after non-page bytes; only crafted payloads full of false captures reach it.
 */
export const MAX_HASHED_BYTES = 16 * MAX_PAGE_SIZE;

/**
 * How far past a memoised page start a read may begin and still walk from it
 * (a sequential read begins inside or just after the last page served;
 * anything further is cheaper to find with one search read).
 */
const MEMO_WALK_LIMIT = MAX_PAGE_SIZE;

interface Memo {
  segOffset: number;
  segLength: number;
  /** A segment-relative unit start, or (junk) a position inside non-page bytes. */
  pos: number;
  /** No page with a valid CRC starts between the run's start and `pos`. */
  junk: boolean;
}

const memos = new WeakMap<ByteSource, Memo>();

/** A page header found at a segment-relative offset. */
interface PageSpan {
  start: number;
  headerSize: number;
  size: number;
  seq: number;
  crc: number;
}

const malformed = (why: string): never => {
  throw new FormatError("malformed", `ogg audio: ${why}`);
};

/**
 * The header fields of the page at `start`, from `buf` (holding segment bytes
 * from `bufAt`). Null when there is no plausible header there, its header
 * runs past `buf`, or the page runs past the segment.
 */
function spanIn(buf: Uint8Array, bufAt: number, start: number, segLength: number): PageSpan | null {
  const at = start - bufAt;
  if (at < 0 || buf.length - at < PAGE_HEADER_FIXED) return null;
  if (!captureIn(buf, at) || buf[at + 5] > 7) return null;
  const nseg = buf[at + 26];
  const headerSize = PAGE_HEADER_FIXED + nseg;
  if (buf.length - at < headerSize) return null;
  let size = headerSize;
  for (let i = 0; i < nseg; i++) size += buf[at + PAGE_HEADER_FIXED + i];
  if (start + size > segLength) return null;
  return { start, headerSize, size, seq: u32le(buf, at + SEQ_AT), crc: u32le(buf, at + CRC_AT) };
}

/** "OggS" and stream structure version 0 at `at`. */
function captureIn(buf: Uint8Array, at: number): boolean {
  return buf[at] === 0x4f && buf[at + 1] === 0x67 && buf[at + 2] === 0x67 &&
    buf[at + 3] === 0x53 && buf[at + 4] === 0;
}

/** Segment bytes [at, at + bytes.length) already in memory. */
interface Window {
  bytes: Uint8Array;
  at: number;
}

function readWindow(backing: ByteSource, seg: OggAudioSegment, lo: number, hi: number): Window {
  const bytes = backing.read(seg.offset + lo, hi - lo);
  if (bytes.length !== hi - lo) throw new FormatError("truncated", "ogg audio: short read");
  return { bytes, at: lo };
}

/** One read's view of the segment: the window, other bytes read as needed. */
class SegmentView {
  #hashed = 0;

  constructor(
    readonly backing: ByteSource,
    readonly seg: OggAudioSegment,
    readonly win: Window,
  ) {}

  get length(): number {
    return this.seg.length;
  }

  /** Segment bytes [pos, pos + n) (n within the segment). */
  bytes(pos: number, n: number): Uint8Array {
    const at = pos - this.win.at;
    if (at >= 0 && at + n <= this.win.bytes.length) return this.win.bytes.subarray(at, at + n);
    return readWindow(this.backing, this.seg, pos, pos + n).bytes;
  }

  /** The plausible page at `pos` lying wholly inside the segment, or null. */
  span(pos: number): PageSpan | null {
    const n = Math.min(MAX_PAGE_HEADER, this.length - pos);
    if (n < PAGE_HEADER_FIXED) return null;
    // Straight from the window when the header is there (the common case: no copy).
    const { bytes, at } = this.win;
    const whole = spanIn(bytes, at, pos, this.length);
    if (whole !== null || (pos >= at && pos + n <= at + bytes.length)) return whole;
    return spanIn(this.bytes(pos, n), pos, pos, this.length);
  }

  /** Whether another page capture starts at `pos`. */
  captureAt(pos: number): boolean {
    if (this.length - pos < PAGE_HEADER_FIXED) return false;
    const at = pos - this.win.at;
    if (at >= 0 && at + 5 <= this.win.bytes.length) return captureIn(this.win.bytes, at);
    return captureIn(this.bytes(pos, 5), 0);
  }

  crcValid(span: PageSpan): boolean {
    this.#hashed += span.size;
    if (this.#hashed > MAX_HASHED_BYTES) malformed("too many false page captures to check");
    return pageCrcValid(this.bytes(span.start, span.size));
  }

  /** The page starting the unit at `pos`, or null when non-page bytes start there. */
  page(pos: number): PageSpan | null {
    const span = this.span(pos);
    if (span === null) return null;
    const end = span.start + span.size;
    return end === this.length || this.captureAt(end) || this.crcValid(span) ? span : null;
  }

  /** The first page (as `page` decides) starting in [pos, stop), or -1. */
  nextPage(pos: number, stop: number): number {
    const hi = Math.min(this.length, stop + 4);
    if (hi - pos < 5) return -1;
    const b = this.bytes(pos, hi - pos);
    for (let q = pos; q < stop && q + 5 <= hi; q++) {
      if (b[q - pos] === 0x4f && captureIn(b, q - pos) && this.page(q) !== null) return q;
    }
    return -1;
  }

  /**
   * The start of the page (as `page` decides) nearest at or before `from`,
   * looking back less than one page size (so no earlier page can hold
   * `from`); null when there is none.
   */
  pageBefore(from: number): number | null {
    const lo = Math.max(0, from - (MAX_PAGE_SIZE - 1));
    const b = this.bytes(lo, Math.min(this.length, from + 5) - lo);
    let checks = 0;
    for (let p = from; p >= lo; p--) {
      if (b[p - lo] !== 0x4f || p + 5 > lo + b.length || !captureIn(b, p - lo)) continue;
      if (this.span(p) === null) continue;
      if (++checks > MAX_CRC_CHECKS) malformed(`too many false page captures before ${from}`);
      if (this.page(p) !== null) return p;
    }
    return null;
  }
}

/**
 * Bytes [from, from+length) relative to the segment start, with every page's
 * sequence number += seqDelta (mod 2^32) and its CRC patched to match;
 * non-page bytes as they are. With a zero delta the backing bytes are
 * returned as read.
 */
export function readOggAudio(
  backing: ByteSource,
  seg: OggAudioSegment,
  from: number,
  length: number,
): Uint8Array {
  checkRange(seg, from, length);
  if (length === 0) return new Uint8Array(0);
  if (seg.seqDelta >>> 0 === 0) return readWindow(backing, seg, from, from + length).bytes;
  const out = new Uint8Array(length);
  readOggAudioInto(backing, seg, from, out);
  return out;
}

/**
 * Like `readOggAudio`, filling `out` (its whole length) instead of
 * allocating: the serving path's reused buffer takes the one copy.
 */
export function readOggAudioInto(
  backing: ByteSource,
  seg: OggAudioSegment,
  from: number,
  out: Uint8Array,
): void {
  const length = out.length;
  checkRange(seg, from, length);
  if (length === 0) return;
  const end = from + length;
  const delta = seg.seqDelta >>> 0;
  if (delta === 0) {
    out.set(readWindow(backing, seg, from, end).bytes);
    return;
  }

  const memo = memos.get(backing);
  let pos: number;
  let junk = false;
  let win: Window;
  if (
    memo !== undefined && memo.segOffset === seg.offset && memo.segLength === seg.length &&
    memo.pos <= from && from - memo.pos <= MEMO_WALK_LIMIT
  ) {
    pos = memo.pos;
    junk = memo.junk;
    win = readWindow(backing, seg, from, Math.min(seg.length, end + slack(length)));
  } else if (from === 0) {
    pos = 0;
    win = readWindow(backing, seg, from, Math.min(seg.length, end + slack(length)));
  } else {
    // One read: the search area before `from`, the requested bytes, and a page past `from`.
    const lo = Math.max(0, from - (MAX_PAGE_SIZE - 1));
    win = readWindow(backing, seg, lo, Math.min(seg.length, Math.max(end, from + MAX_PAGE_SIZE)));
    pos = -1; // searched below
  }
  const view = new SegmentView(backing, seg, win);
  if (pos < 0) {
    const found = view.pageBefore(from);
    if (found === null) junk = true;
    pos = found ?? from;
  }
  // Patch `out`, never the window: a source may hand out a view of its own buffer.
  out.set(win.bytes.subarray(from - win.at, end - win.at));

  // Walk unit by unit from a known unit start (or non-page position), patching pages in range.
  let memoPos = pos;
  let memoJunk = junk;
  while (pos < end) {
    if (junk) {
      const next = view.nextPage(pos, end);
      if (next < 0) {
        memoPos = Math.max(end, pos);
        memoJunk = true;
        break;
      }
      pos = next;
      junk = false;
      continue;
    }
    memoPos = pos;
    memoJunk = false;
    // A unit starting this late changes no byte of the range, page or not.
    if (pos + SEQ_AT >= end) break;
    const span = view.page(pos);
    if (span === null) {
      junk = true;
      pos += 1;
      continue;
    }
    patchPage(out, from, span, delta);
    pos = span.start + span.size;
  }
  memos.set(backing, {
    segOffset: seg.offset,
    segLength: seg.length,
    pos: memoPos,
    junk: memoJunk,
  });
}

/**
 * Bytes read past a large range (the kernel's read-ahead requests) so the
 * last page's header and usually the start of the page after it (which
 * confirms the last page) come in the same read instead of two more small
 * ones. Small reads are rare and keep their exact size.
 */
function slack(length: number): number {
  return length >= 64 * 1024 ? 8 * 1024 : 0;
}

function checkRange(seg: OggAudioSegment, from: number, length: number): void {
  if (
    !Number.isSafeInteger(from) || !Number.isSafeInteger(length) || from < 0 || length < 0 ||
    from + length > seg.length
  ) {
    malformed(`range ${from}+${length} outside the audio (${seg.length} bytes)`);
  }
}

/** Writes the new sequence number and CRC of `span` into the bytes of `out` it overlaps. */
function patchPage(out: Uint8Array, from: number, span: PageSpan, delta: number): void {
  const seq = (span.seq + delta) >>> 0;
  const crc = patchedCrc(span.crc, span.seq, seq, span.size);
  // Bytes SEQ_AT..CRC_AT+4 of the page are contiguous: seq then CRC, little-endian.
  const base = span.start + SEQ_AT - from;
  if (base >= 0 && base + 8 <= out.length) {
    putU32le(out, base, seq);
    putU32le(out, base + 4, crc);
    return;
  }
  for (let i = 0; i < 8; i++) {
    const at = base + i;
    if (at >= 0 && at < out.length) out[at] = ((i < 4 ? seq : crc) >>> ((i & 3) * 8)) & 0xff;
  }
}
