// ISO-BMFF box headers: the top-level walk over a ByteSource (which reads
// only box headers, never a payload it does not need) and child walks over
// in-memory box bodies. Every size is checked against its parent before use:
// a box never extends past the box (or file) that contains it.

import { ascii4, u32be } from "./bytes.ts";
import { type ByteSource, FormatError, MAX_MP4_METADATA_BYTES } from "./types.ts";

/** A box located in a file or buffer. Offsets are absolute within that file/buffer. */
export interface Box {
  /** Four-character code, one char per byte (© is U+00A9). */
  type: string;
  /** Offset of the first header byte. */
  start: number;
  /** 8, or 16 for a 64-bit `largesize`. */
  headerSize: number;
  /** Total size including the header. */
  size: number;
}

export const boxPayloadStart = (b: Box): number => b.start + b.headerSize;
export const boxEnd = (b: Box): number => b.start + b.size;

/** 2^53 guard for 64-bit sizes: a larger size cannot fit any file we can address. */
function largesize(b: Uint8Array, o: number): number | null {
  const hi = u32be(b, o);
  if (hi >= 0x200000) return null;
  return hi * 0x1_0000_0000 + u32be(b, o + 4);
}

/**
 * Decodes a box header from `head` (8 or 16 bytes read at `start`) and checks
 * it against `parentEnd`. `sizeZeroToEnd` allows size 0 ("to the end of the
 * parent"), which ISO permits only for the last top-level box.
 */
function decodeHeader(
  head: Uint8Array,
  start: number,
  parentEnd: number,
  sizeZeroToEnd: boolean,
): Box {
  const size32 = u32be(head, 0);
  const type = ascii4(head, 4);
  let headerSize = 8;
  let size: number;
  if (size32 === 1) {
    if (head.length < 16) {
      throw new FormatError("truncated", `box '${type}' at ${start}: short largesize`);
    }
    const big = largesize(head, 8);
    if (big === null) {
      throw new FormatError("too-large", `box '${type}' at ${start}: size beyond 2^53`);
    }
    headerSize = 16;
    size = big;
  } else if (size32 === 0) {
    if (!sizeZeroToEnd) throw new FormatError("malformed", `box '${type}' at ${start}: size 0`);
    size = parentEnd - start;
  } else {
    size = size32;
  }
  if (size < headerSize) {
    throw new FormatError("malformed", `box '${type}' at ${start}: size ${size} < header`);
  }
  if (size > parentEnd - start) {
    throw new FormatError(
      "truncated",
      `box '${type}' at ${start}: size ${size} runs past its parent (end ${parentEnd})`,
    );
  }
  return { type, start, headerSize, size };
}

/** Reads and validates the header of the box at `start` in a file of `src.size` bytes. */
export function readBoxHeader(src: ByteSource, start: number, end: number): Box {
  if (end - start < 8) {
    throw new FormatError("truncated", `${end - start} stray bytes at ${start} (not a box)`);
  }
  let head = src.read(start, 8);
  if (head.length < 8) throw new FormatError("truncated", `box header at ${start} cut short`);
  if (u32be(head, 0) === 1) {
    if (end - start < 16) {
      throw new FormatError("truncated", `largesize header at ${start} cut short`);
    }
    head = src.read(start, 16);
    if (head.length < 16) throw new FormatError("truncated", `box header at ${start} cut short`);
  }
  return decodeHeader(head, start, end, true);
}

/** Top-level walk cap: a file of millions of empty boxes is hostile, not music. */
const MAX_TOP_LEVEL_BOXES = 65_536;

/**
 * Lists the top-level boxes of a file by reading only their headers (8 or
 * 16 bytes each), so an `mdat` payload is skipped without being read.
 */
export function topLevelBoxes(src: ByteSource): Box[] {
  const boxes: Box[] = [];
  let off = 0;
  const end = src.size;
  while (off < end) {
    if (boxes.length >= MAX_TOP_LEVEL_BOXES) {
      throw new FormatError("unsupported", `more than ${MAX_TOP_LEVEL_BOXES} top-level boxes`);
    }
    const box = readBoxHeader(src, off, end);
    boxes.push(box);
    off = boxEnd(box);
  }
  return boxes;
}

/**
 * Reads a whole metadata box (ftyp, moov) into memory, capped at
 * MAX_MP4_METADATA_BYTES. Offsets inside the result are relative to its start.
 */
export function readWholeBox(src: ByteSource, box: Box): Uint8Array {
  if (box.size > MAX_MP4_METADATA_BYTES) {
    throw new FormatError(
      "too-large",
      `'${box.type}' box of ${box.size} bytes exceeds ${MAX_MP4_METADATA_BYTES}`,
    );
  }
  const bytes = src.read(box.start, box.size);
  if (bytes.length !== box.size) {
    throw new FormatError("truncated", `'${box.type}' box at ${box.start} cut short`);
  }
  return bytes;
}

/**
 * The `moov` as a rewrite needs it, without reading the old tags: every
 * child is read whole except `udta`, of which only the children of a type in
 * `keepFromUdta` are read (their headers found by walking the udta's child
 * headers, leniently: the walk stops at the first header that does not
 * parse, as `childBoxesLenient` does). The old udta holds the old tags and
 * cover art, often nearly all of a tagged file's moov; a rewrite drops it.
 * Returns a moov box whose udta holds only the kept children, with the
 * moov's and udta's sizes made to match (8-byte headers). Bytes outside the
 * udta are exactly the file's; the same size cap as `readWholeBox` applies.
 */
export function readMoovSkippingUdta(
  src: ByteSource,
  moov: Box,
  keepFromUdta: ReadonlySet<string>,
): Uint8Array {
  if (moov.size > MAX_MP4_METADATA_BYTES) {
    throw new FormatError(
      "too-large",
      `'${moov.type}' box of ${moov.size} bytes exceeds ${MAX_MP4_METADATA_BYTES}`,
    );
  }
  const parts: Uint8Array[] = [];
  let total = 8;
  const take = (b: Uint8Array) => {
    parts.push(b);
    total += b.length;
  };
  const end = boxEnd(moov);
  let off = boxPayloadStart(moov);
  while (off < end) {
    if (end - off < 8) {
      throw new FormatError("malformed", `${end - off} stray bytes at ${off} inside a box`);
    }
    const child = decodeHeader(readHead(src, off, end), off, end, false);
    if (child.type !== "udta") {
      const bytes = src.read(child.start, child.size);
      if (bytes.length !== child.size) {
        throw new FormatError("truncated", `'${child.type}' box at ${child.start} cut short`);
      }
      take(bytes);
    } else {
      const kept: Uint8Array[] = [];
      let size = 8;
      const udtaEnd = boxEnd(child);
      let at = boxPayloadStart(child);
      while (udtaEnd - at >= 8) {
        let box: Box;
        try {
          box = decodeHeader(readHead(src, at, udtaEnd), at, udtaEnd, false);
        } catch (e) {
          if (e instanceof FormatError) break;
          throw e;
        }
        if (keepFromUdta.has(box.type)) {
          const bytes = src.read(box.start, box.size);
          if (bytes.length !== box.size) {
            throw new FormatError("truncated", `'${box.type}' box at ${box.start} cut short`);
          }
          kept.push(bytes);
          size += bytes.length;
        }
        at = boxEnd(box);
      }
      take(boxHeader("udta", size));
      for (const k of kept) take(k);
    }
    off = boxEnd(child);
  }
  const out = new Uint8Array(total);
  out.set(boxHeader("moov", total));
  let o = 8;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Up to 16 header bytes at `start` (fewer where `end` or the file ends first). */
function readHead(src: ByteSource, start: number, end: number): Uint8Array {
  const head = src.read(start, Math.min(16, end - start));
  if (head.length < 8) throw new FormatError("truncated", `box header at ${start} cut short`);
  return head;
}

/**
 * The children of an in-memory box body `[start, end)` of `buf`. Strict: a
 * child that does not fit its parent is a FormatError. Size 0 is rejected
 * (only top-level boxes may run "to the end").
 */
export function childBoxes(buf: Uint8Array, start: number, end: number): Box[] {
  const out: Box[] = [];
  let off = start;
  while (off < end) {
    if (end - off < 8) {
      throw new FormatError("malformed", `${end - off} stray bytes at ${off} inside a box`);
    }
    const head = buf.subarray(off, Math.min(end, off + 16));
    const box = decodeHeader(head, off, end, false);
    out.push(box);
    off = boxEnd(box);
  }
  return out;
}

/**
 * Lenient variant for tag atoms written by many tools: returns the children
 * that parse and stops at the first one that does not (never throws).
 */
export function childBoxesLenient(buf: Uint8Array, start: number, end: number): Box[] {
  const out: Box[] = [];
  let off = start;
  while (end - off >= 8) {
    let box: Box;
    try {
      box = decodeHeader(buf.subarray(off, Math.min(end, off + 16)), off, end, false);
    } catch (e) {
      if (e instanceof FormatError) break;
      throw e;
    }
    out.push(box);
    off = boxEnd(box);
  }
  return out;
}

/** The first child of the given type, or undefined. */
export function findChild(boxes: readonly Box[], type: string): Box | undefined {
  return boxes.find((b) => b.type === type);
}

/** Writes an 8-byte box header (size must fit 32 bits). */
export function boxHeader(type: string, size: number): Uint8Array {
  if (size > 0xffff_ffff) {
    throw new FormatError("too-large", `'${type}' box of ${size} bytes does not fit 32 bits`);
  }
  const h = new Uint8Array(8);
  h[0] = size >>> 24;
  h[1] = (size >>> 16) & 0xff;
  h[2] = (size >>> 8) & 0xff;
  h[3] = size & 0xff;
  for (let i = 0; i < 4; i++) h[4 + i] = type.charCodeAt(i) & 0xff;
  return h;
}
