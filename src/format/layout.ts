// Layouts: validation, and producing the bytes of any
// range of a served file from its segments — inline header bytes, art and
// binary tags from the blob source, audio from the backing file.

import {
  type BlobSource,
  type ByteSource,
  FormatError,
  type Layout,
  type Segment,
} from "./types.ts";
import { readOggAudio } from "./ogg/audio.ts";

/** Where a layout's non-inline bytes come from. */
export interface LayoutSources {
  backing: ByteSource;
  blobs: BlobSource;
}

export function segmentLength(seg: Segment): number {
  return seg.kind === "inline" ? seg.bytes.length : seg.length;
}

const isCount = (v: number) => Number.isSafeInteger(v) && v >= 0;

function checkSegment(seg: Segment, i: number): void {
  const bad = (why: string): never => {
    throw new FormatError("invalid-input", `layout segment ${i} (${seg.kind}): ${why}`);
  };
  const len = segmentLength(seg);
  if (!isCount(len)) bad(`bad length ${len}`);
  switch (seg.kind) {
    case "inline":
    case "art":
    case "binary-tag":
      if (len === 0) bad("empty");
      if (seg.kind === "art" && !Number.isSafeInteger(seg.artId)) bad("bad art id");
      if (seg.kind === "binary-tag" && !Number.isSafeInteger(seg.id)) bad("bad id");
      break;
    case "backing":
      if (!isCount(seg.offset) || !Number.isSafeInteger(seg.offset + seg.length)) {
        bad("bad offset");
      }
      break;
    case "ogg-audio":
      if (!isCount(seg.offset) || !Number.isSafeInteger(seg.offset + seg.length)) {
        bad("bad offset");
      }
      if (!Number.isSafeInteger(seg.seqDelta)) bad("bad sequence delta");
      break;
    case "ogg-art": {
      if (len === 0) bad("empty");
      if (!Number.isSafeInteger(seg.artId)) bad("bad art id");
      if (!isCount(seg.offset) || !isCount(seg.artTotal)) bad("bad offset");
      const total = seg.base64 ? base64Length(seg.artTotal) : seg.artTotal;
      if (seg.offset + len > total) bad("slice beyond the image");
      break;
    }
    default:
      bad("unknown kind");
  }
}

/** Segment start offsets, computed once per layout object. */
const startsCache = new WeakMap<Layout, Float64Array>();

function startsOf(layout: Layout): Float64Array {
  let starts = startsCache.get(layout);
  if (!starts) {
    starts = new Float64Array(layout.segments.length);
    let at = 0;
    for (let i = 0; i < layout.segments.length; i++) {
      starts[i] = at;
      at += segmentLength(layout.segments[i]);
    }
    startsCache.set(layout, starts);
  }
  return starts;
}

/**
 * Validates segments (integers, nothing negative, no empty segment except
 * audio, Ogg art slices within the image) and sums them into a Layout.
 */
export function makeLayout(segments: Segment[]): Layout {
  let size = 0;
  for (let i = 0; i < segments.length; i++) {
    checkSegment(segments[i], i);
    size += segmentLength(segments[i]);
  }
  if (!Number.isSafeInteger(size)) throw new FormatError("too-large", "layout size overflows");
  const layout: Layout = { segments, size };
  startsOf(layout);
  return layout;
}

/** Length of the padded base64 text of `n` bytes. */
export function base64Length(n: number): number {
  return Math.ceil(n / 3) * 4;
}

/** Index of the segment containing byte `offset` (0 ≤ offset < size). */
export function segmentAt(layout: Layout, offset: number): number {
  const starts = startsOf(layout);
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if (starts[mid] <= offset) lo = mid;
    else hi = mid - 1;
  }
  // Skip empty audio segments that share the start offset.
  while (lo < starts.length - 1 && segmentLength(layout.segments[lo]) === 0) lo++;
  return lo;
}

function exact(bytes: Uint8Array, length: number, what: string): Uint8Array {
  // A short read means the source changed or lies; never zero-fill.
  if (bytes.length !== length) {
    throw new FormatError("truncated", `${what}: short read (${bytes.length} of ${length})`);
  }
  return bytes;
}

/** Bytes [from, from+length) of one segment, relative to the segment start. */
export function readSegment(
  seg: Segment,
  from: number,
  length: number,
  sources: LayoutSources,
): Uint8Array {
  switch (seg.kind) {
    case "inline":
      return seg.bytes.subarray(from, from + length);
    case "art":
      return exact(sources.blobs.art(seg.artId, from, length), length, `art ${seg.artId}`);
    case "binary-tag":
      return exact(sources.blobs.binaryTag(seg.id, from, length), length, `binary tag ${seg.id}`);
    case "backing":
      return exact(sources.backing.read(seg.offset + from, length), length, "backing file");
    case "ogg-audio":
      return exact(readOggAudio(sources.backing, seg, from, length), length, "ogg audio");
    case "ogg-art":
      return readOggArt(seg, from, length, sources.blobs);
  }
}

function readOggArt(
  seg: Extract<Segment, { kind: "ogg-art" }>,
  from: number,
  length: number,
  blobs: BlobSource,
): Uint8Array {
  const start = seg.offset + from;
  if (!seg.base64) {
    return exact(blobs.art(seg.artId, start, length), length, `art ${seg.artId}`);
  }
  const kept = blobs.artText?.(seg.artId, start, length);
  if (kept !== undefined) return exact(kept, length, `art ${seg.artId}`);
  // Base64 text [start, end) comes from raw quanta [⌊start/4⌋·3, ⌈end/4⌉·3).
  const end = start + length;
  const q0 = Math.floor(start / 4);
  const rawStart = q0 * 3;
  const rawEnd = Math.min(seg.artTotal, Math.ceil(end / 4) * 3);
  const raw = exact(
    blobs.art(seg.artId, rawStart, rawEnd - rawStart),
    rawEnd - rawStart,
    `art ${seg.artId}`,
  );
  const text = base64Encode(raw);
  return text.subarray(start - q0 * 4, start - q0 * 4 + length);
}

/**
 * The bytes [offset, offset+length) of the served file (clipped at its end).
 * Fails with FormatError when a source comes up short.
 */
export function readLayoutRange(
  layout: Layout,
  offset: number,
  length: number,
  sources: LayoutSources,
): Uint8Array {
  if (!isCount(offset) || !isCount(length)) {
    throw new FormatError("invalid-input", `bad range ${offset}+${length}`);
  }
  const end = Math.min(layout.size, offset + length);
  if (offset >= end) return new Uint8Array(0);
  const out = new Uint8Array(end - offset);
  readLayoutInto(layout, offset, out, sources);
  return out;
}

/**
 * Fills `out` with the served bytes starting at `offset`; returns how many
 * were written (fewer only at the end of the file). Lets callers reuse one
 * buffer per read.
 */
export function readLayoutInto(
  layout: Layout,
  offset: number,
  out: Uint8Array,
  sources: LayoutSources,
): number {
  const end = Math.min(layout.size, offset + out.length);
  if (offset >= end) return 0;
  const starts = startsOf(layout);
  let i = segmentAt(layout, offset);
  let at = offset;
  while (at < end && i < layout.segments.length) {
    const seg = layout.segments[i];
    const segStart = starts[i];
    const segEnd = segStart + segmentLength(seg);
    const take = Math.min(end, segEnd) - at;
    if (take > 0) {
      out.set(readSegment(seg, at - segStart, take, sources), at - offset);
      at += take;
    }
    i++;
  }
  return at - offset;
}

const B64 = new TextEncoder().encode(
  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
);

/**
 * Raw bytes per call of the engine's own encoder: a multiple of 3 (so only
 * the last call pads), whose 64 KiB of text is a string small enough to die
 * in the young generation (a string of a whole 300 KB cover's text would be
 * allocated among the old generation's large objects, freed only by a
 * collection of the whole heap).
 */
const NATIVE_CHUNK = 49152;
const ASCII = new TextEncoder();
/** Uint8Array.prototype.toBase64, where the engine has it (the shipped one does). */
const nativeToBase64 = (Uint8Array.prototype as { toBase64?: (this: Uint8Array) => string })
  .toBase64;

/** Standard padded base64 of `raw`, as ASCII bytes. */
export function base64Encode(raw: Uint8Array): Uint8Array {
  // The engine's encoder is some ten times faster on a cover; a few bytes
  // cost less in the loop than a string each.
  if (nativeToBase64 !== undefined && raw.length >= 256) return base64Native(raw, nativeToBase64);
  return base64Loop(raw);
}

/** `base64Encode` through `toBase64`, NATIVE_CHUNK at a time (exported for tests). */
export function base64Native(raw: Uint8Array, toBase64: (this: Uint8Array) => string): Uint8Array {
  const out = new Uint8Array(base64Length(raw.length));
  for (let i = 0, o = 0; i < raw.length; i += NATIVE_CHUNK, o += (NATIVE_CHUNK / 3) * 4) {
    ASCII.encodeInto(toBase64.call(raw.subarray(i, i + NATIVE_CHUNK)), out.subarray(o));
  }
  return out;
}

/** `base64Encode` byte by byte, where the engine has no encoder (exported for tests). */
export function base64Loop(raw: Uint8Array): Uint8Array {
  const out = new Uint8Array(base64Length(raw.length));
  let o = 0;
  let i = 0;
  for (; i + 3 <= raw.length; i += 3) {
    const v = (raw[i] << 16) | (raw[i + 1] << 8) | raw[i + 2];
    out[o++] = B64[v >>> 18];
    out[o++] = B64[(v >>> 12) & 63];
    out[o++] = B64[(v >>> 6) & 63];
    out[o++] = B64[v & 63];
  }
  const rest = raw.length - i;
  if (rest > 0) {
    const v = (raw[i] << 16) | (rest === 2 ? raw[i + 1] << 8 : 0);
    out[o++] = B64[v >>> 18];
    out[o++] = B64[(v >>> 12) & 63];
    out[o++] = rest === 2 ? B64[(v >>> 6) & 63] : 0x3d;
    out[o++] = 0x3d;
  }
  return out;
}

/** The whole served file in memory (tests, small files). */
export function materialize(layout: Layout, sources: LayoutSources): Uint8Array {
  return readLayoutRange(layout, 0, layout.size, sources);
}
