// Serving the audio pages of an Ogg file after its header pages were
// re-paginated: every page keeps its bytes except the sequence number
// (+ seqDelta mod 2^32) and the CRC, which is patched from the header bytes
// alone (CRC linearity, see page.ts), so payload is copied, never hashed.
//
// There is no page index: the page holding the first requested byte is found
// in one read covering the < 65,307 bytes before it, the requested range and
// a page size past it — a scan backwards for a plausible header whose CRC
// checks out (≤ 64 checks), then a walk forward by header sizes. A one-page
// memo per backing source lets sequential reads skip the search.

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
 * How far past a memoised page start a read may begin and still walk from it
 * (a sequential read begins inside or just after the last page served;
 * anything further is cheaper to find with one search read).
 */
const MEMO_WALK_LIMIT = MAX_PAGE_SIZE;

interface Memo {
  segOffset: number;
  segLength: number;
  /** A page start relative to the segment. */
  start: number;
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

/** The header fields of the page at `start`, from `buf` (holding segment bytes from `bufAt`). */
function spanIn(buf: Uint8Array, bufAt: number, start: number, segLength: number): PageSpan | null {
  const at = start - bufAt;
  if (at < 0 || buf.length - at < PAGE_HEADER_FIXED) return null;
  if (
    buf[at] !== 0x4f || buf[at + 1] !== 0x67 || buf[at + 2] !== 0x67 || buf[at + 3] !== 0x53 ||
    buf[at + 4] !== 0 || buf[at + 5] > 7
  ) {
    return null;
  }
  const nseg = buf[at + 26];
  const headerSize = PAGE_HEADER_FIXED + nseg;
  if (buf.length - at < headerSize) return null;
  let size = headerSize;
  for (let i = 0; i < nseg; i++) size += buf[at + PAGE_HEADER_FIXED + i];
  if (start + size > segLength) return null;
  return { start, headerSize, size, seq: u32le(buf, at + SEQ_AT), crc: u32le(buf, at + CRC_AT) };
}

/** The page header at `start`, read from the backing file; malformed when there is none. */
function readSpan(backing: ByteSource, seg: OggAudioSegment, start: number): PageSpan {
  if (start >= seg.length) malformed(`page expected at ${start} beyond the audio`);
  const len = Math.min(MAX_PAGE_HEADER, seg.length - start);
  const head = backing.read(seg.offset + start, len);
  const span = spanIn(head, start, start, seg.length);
  if (span === null) malformed(`no page (or a page overrunning the audio) at ${start}`);
  return span!;
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

/**
 * The start of a real page at or before `from`, found in `win` (which holds
 * the ≤ 65,306 bytes before `from` and one page size after it): scanning
 * backwards, the first plausible header whose CRC checks out.
 */
function searchPageStart(win: Window, from: number, segLength: number): number {
  const { bytes, at: lo } = win;
  let checks = 0;
  for (let p = from; p >= lo; p--) {
    const at = p - lo;
    if (bytes[at] !== 0x4f || bytes[at + 1] !== 0x67) continue;
    const span = spanIn(bytes, lo, p, segLength);
    if (span === null) continue;
    if (++checks > MAX_CRC_CHECKS) break;
    if (pageCrcValid(bytes.subarray(at, at + span.size))) return p;
  }
  return malformed(`no valid page found before ${from}`);
}

/**
 * Bytes [from, from+length) relative to the segment start, with every page's
 * sequence number += seqDelta (mod 2^32) and its CRC patched to match.
 * With a zero delta the backing bytes are returned as read.
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
  let start: number;
  let win: Window;
  if (
    memo !== undefined && memo.segOffset === seg.offset && memo.segLength === seg.length &&
    memo.start <= from && from - memo.start <= MEMO_WALK_LIMIT
  ) {
    start = memo.start;
    win = readWindow(backing, seg, from, end);
  } else if (from === 0) {
    start = 0;
    win = readWindow(backing, seg, from, end);
  } else {
    // One read: the search area before `from`, the requested bytes, and a page past `from`.
    const lo = Math.max(0, from - (MAX_PAGE_SIZE - 1));
    win = readWindow(backing, seg, lo, Math.min(seg.length, Math.max(end, from + MAX_PAGE_SIZE)));
    start = searchPageStart(win, from, seg.length);
  }
  // Patch `out`, never the window: a source may hand out a view of its own buffer.
  out.set(win.bytes.subarray(from - win.at, end - win.at));

  // Walk to the page containing `from`, then patch every page overlapping the range.
  let span = headerAt(backing, seg, win, start);
  while (span.start + span.size <= from) {
    span = headerAt(backing, seg, win, span.start + span.size);
  }
  for (;;) {
    patchPage(out, from, span, delta);
    const next = span.start + span.size;
    if (next >= end) break;
    span = headerAt(backing, seg, win, next);
  }
  memos.set(backing, { segOffset: seg.offset, segLength: seg.length, start: span.start });
}

function checkRange(seg: OggAudioSegment, from: number, length: number): void {
  if (
    !Number.isSafeInteger(from) || !Number.isSafeInteger(length) || from < 0 || length < 0 ||
    from + length > seg.length
  ) {
    malformed(`range ${from}+${length} outside the audio (${seg.length} bytes)`);
  }
}

/** The page header at `start`: from `win` when it is whole there, else read. */
function headerAt(
  backing: ByteSource,
  seg: OggAudioSegment,
  win: Window,
  start: number,
): PageSpan {
  // Null: not a page, or its header runs past the window; the read below decides.
  return spanIn(win.bytes, win.at, start, seg.length) ?? readSpan(backing, seg, start);
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
