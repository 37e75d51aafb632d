// MP3: probe = leading ID3v2 tag(s) + the first MPEG audio
// frame + trailers excluded from the audio range; synthesis = a fresh
// ID3v2.4 tag followed by the original audio range.
//
// Improvements over the original, each bounded:
// - stacked ID3v2 tags (up to 64) are all skipped; their rows are merged with
//   the FIRST tag winning per key (a later tag only adds keys the earlier ones
//   lack), pictures come from the first tag that has any, binary tags like
//   text keys;
// - junk or padding between the tag(s) and the first frame: up to 64 KiB
//   are scanned for a frame header that is fully valid AND followed by a
//   second valid header of the same stream at the computed frame length (a
//   further "ID3" tag found there is read as a stacked tag); the junk is not
//   part of the audio range;
// - trailers excluded from the audio range, in any order at the end: ID3v1
//   (`TAG`, 128 bytes, once), APEv1/v2 (`APETAGEX` footer, + header when
//   flagged), Lyrics3 v2 (`LYRICS200` + size) and v1 (`LYRICSEND`, ≤ 5100
//   bytes of lyrics), and appended ID3v2.4 tags (`3DI` footer). Only the
//   appended ID3v2 tags are read as tags (after the leading ones: a leading
//   tag wins per key); APE and Lyrics3 contents are not ingested.
// - values only in an ID3v1 trailer fill keys the ID3v2 tags lack (all
//   values of a key or none), as mutagen and TagLib show such files.
// "First tag wins per key" is what ffmpeg does with consecutive tags (it
// never overwrites a key already set) and what mutagen shows (it reads only
// the first tag), so the served file shows what those tools showed.
// Only the head (tags + ≤ 64 KiB scan) and a few small tail reads are made.

import { latin1, u32le } from "./bytes.ts";
import { parseId3v1 } from "./id3v1.ts";
import {
  assignOrdinals,
  buildId3v2,
  type Id3Parsed,
  id3v2Size,
  id3v2TagSize,
  parseId3v2,
} from "./id3v2.ts";
import { makeLayout } from "./layout.ts";
import {
  type BlobSource,
  type ByteSource,
  FormatError,
  type Layout,
  MAX_PROBE_BYTES,
  type ProbeResult,
  type SynthInput,
  typed,
} from "./types.ts";

export const MAX_STACKED_ID3 = 64;
/** How far past the tags we look for the first frame. */
export const MAX_JUNK_SCAN = 64 * 1024;
/** Bigger leading tags are skipped without reading their frames (keeps the probe within budget). */
const MAX_ID3_READ = MAX_PROBE_BYTES / 2;

// ---- MPEG audio frame headers ---------------------------------------------

export interface MpegHeader {
  /** 1 = MPEG-1, 2 = MPEG-2, 25 = MPEG-2.5. */
  version: 1 | 2 | 25;
  layer: 1 | 2 | 3;
  sampleRate: number;
  /** kbit/s; 0 = free format. */
  bitrate: number;
  /** Frame length in bytes; 0 for free format (unknown). */
  frameLength: number;
}

// deno-fmt-ignore
const BITRATES: Record<string, number[]> = {
  "1-1": [0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448],
  "1-2": [0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384],
  "1-3": [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320],
  "2-1": [0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256],
  "2-2": [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
  "2-3": [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
};
const SAMPLE_RATES: Record<number, number[]> = {
  1: [44100, 48000, 32000],
  2: [22050, 24000, 16000],
  25: [11025, 12000, 8000],
};

/** Decodes the 4-byte frame header at `o`, or null when any field is invalid or reserved. */
export function mpegHeader(b: Uint8Array, o: number): MpegHeader | null {
  if (o + 4 > b.length || b[o] !== 0xff || (b[o + 1] & 0xe0) !== 0xe0) return null;
  const v = (b[o + 1] >> 3) & 3;
  const l = (b[o + 1] >> 1) & 3;
  const bi = b[o + 2] >> 4;
  const si = (b[o + 2] >> 2) & 3;
  if (v === 1 || l === 0 || bi === 15 || si === 3 || (b[o + 3] & 3) === 2) return null;
  const version = v === 3 ? 1 : v === 2 ? 2 : 25;
  const layer = (4 - l) as 1 | 2 | 3;
  const bitrate = BITRATES[`${version === 1 ? 1 : 2}-${layer}`][bi];
  const sampleRate = SAMPLE_RATES[version][si];
  const padding = (b[o + 2] >> 1) & 1;
  let frameLength = 0;
  if (bitrate > 0) {
    if (layer === 1) frameLength = (Math.floor((12000 * bitrate) / sampleRate) + padding) * 4;
    else {
      const perSample = layer === 3 && version !== 1 ? 72000 : 144000;
      frameLength = Math.floor((perSample * bitrate) / sampleRate) + padding;
    }
  }
  return { version, layer, sampleRate, bitrate, frameLength };
}

function sameStream(a: MpegHeader, b: MpegHeader): boolean {
  return a.version === b.version && a.layer === b.layer && a.sampleRate === b.sampleRate;
}

// ---- probe --------------------------------------------------------------

export function probeMp3(src: ByteSource): ProbeResult {
  return typed("mp3", () => probeInner(src));
}

function probeInner(src: ByteSource): ProbeResult {
  const { audioOffset, tags } = findAudioStart(src);
  const appended: Id3Parsed[] = [];
  const audioEnd = stripTrailers(src, audioOffset, appended);
  const merged = mergeStacked([...tags, ...appended.reverse()]);
  const warnings = [...tags, ...appended].flatMap((t) => t.warnings ?? []);
  return {
    format: "mp3",
    audioOffset,
    audioLength: audioEnd - audioOffset,
    tags: merged.tags,
    pictures: merged.pictures,
    binaryTags: merged.binaryTags,
    structural: [],
    ...(warnings.length > 0 ? { warnings } : {}),
  };
}

/** Reads exactly `length` bytes or fails with `truncated`. */
function readExact(src: ByteSource, offset: number, length: number): Uint8Array {
  const b = src.read(offset, length);
  if (b.length !== length) {
    throw new FormatError("truncated", `file ends before ${offset}+${length}`);
  }
  return b;
}

/** Skips (and reads) leading ID3v2 tags and any junk up to the first confirmed frame. */
function findAudioStart(src: ByteSource): { audioOffset: number; tags: Id3Parsed[] } {
  const tags: Id3Parsed[] = [];
  let pos = 0;
  let scanned = 0; // junk bytes looked at so far (all gaps together)
  for (;;) {
    const head = src.read(pos, 10);
    const tagSize = id3v2TagSize(head);
    if (tagSize !== null) {
      if (tags.length >= MAX_STACKED_ID3) {
        throw new FormatError("unsupported", `more than ${MAX_STACKED_ID3} stacked ID3v2 tags`);
      }
      if (pos + tagSize > src.size) {
        throw new FormatError("truncated", `ID3v2 tag at ${pos} runs past the end of the file`);
      }
      const empty: Id3Parsed = { tags: [], pictures: [], binaryTags: [] };
      tags.push(tagSize <= MAX_ID3_READ ? parseId3v2(readExact(src, pos, tagSize)) : empty);
      pos += tagSize;
      continue;
    }
    // The original's rule: a frame right here is taken as is.
    if (mpegHeader(head, 0) !== null) return { audioOffset: pos, tags };
    const budget = MAX_JUNK_SCAN - scanned;
    if (budget <= 0) break;
    const window = src.read(pos, Math.min(budget + 3, src.size - pos));
    const found = scanWindow(src, window, pos);
    if (found === null) break;
    scanned += found.at - pos;
    if (found.kind === "frame") return { audioOffset: found.at, tags };
    pos = found.at; // another ID3v2 tag after junk
  }
  throw new FormatError("malformed", "no MPEG audio frame found after the ID3v2 tag(s)");
}

/** First confirmed frame or ID3v2 header in `window` (which starts at file offset `base`). */
function scanWindow(
  src: ByteSource,
  window: Uint8Array,
  base: number,
): { kind: "frame" | "id3"; at: number } | null {
  const limit = window.length - 3;
  for (let i = 1; i < limit; i++) {
    const c = window[i];
    if (c === 0x49 && id3v2TagSize(window.subarray(i, i + 10)) !== null) {
      return { kind: "id3", at: base + i };
    }
    if (c !== 0xff) continue;
    const h = mpegHeader(window, i);
    if (h === null || h.frameLength === 0) continue;
    const next = base + i + h.frameLength;
    if (next === src.size) return { kind: "frame", at: base + i };
    const h2 = next + 4 <= src.size ? mpegHeader(readExact(src, next, 4), 0) : null;
    if (h2 !== null && sameStream(h, h2)) return { kind: "frame", at: base + i };
  }
  return null;
}

// ---- trailers -------------------------------------------------------------

const ascii = (b: Uint8Array) => latin1(b);

/**
 * End of the audio range: the file end minus every recognised trailer. The
 * rows of appended ID3v2 tags and of the ID3v1 tag (as the last tag of the
 * list) go to `appended`.
 */
function stripTrailers(src: ByteSource, audioOffset: number, appended: Id3Parsed[]): number {
  let end = src.size;
  let id3v1: Id3Parsed | null = null;
  for (let round = 0; round < 8; round++) {
    const before = end;
    if (id3v1 === null && end - 128 >= audioOffset && ascii(src.read(end - 128, 3)) === "TAG") {
      id3v1 = {
        tags: parseId3v1(readExact(src, end - 128, 128)) ?? [],
        pictures: [],
        binaryTags: [],
      };
      end -= 128;
    }
    end = stripApe(src, audioOffset, end);
    end = stripLyrics3(src, audioOffset, end);
    end = stripAppendedId3(src, audioOffset, end, appended);
    if (end === before) break;
  }
  if (end <= audioOffset && src.size > audioOffset) return src.size; // never strip everything
  // Read last: the caller reverses the list, so the ID3v1 rows come after every ID3v2 tag.
  if (id3v1 !== null) appended.unshift(id3v1);
  return end;
}

function stripApe(src: ByteSource, audioOffset: number, end: number): number {
  if (end - 32 < audioOffset) return end;
  const f = src.read(end - 32, 32);
  if (ascii(f.subarray(0, 8)) !== "APETAGEX") return end;
  const size = u32le(f, 12); // items + footer
  const flags = u32le(f, 20);
  if ((flags & 0x2000_0000) !== 0 || size < 32) return end; // a header, not a footer
  const start = end - size - ((flags & 0x8000_0000) !== 0 ? 32 : 0);
  return start >= audioOffset ? start : end;
}

function stripLyrics3(src: ByteSource, audioOffset: number, end: number): number {
  if (end - 15 >= audioOffset) {
    const f = ascii(src.read(end - 15, 15));
    if (f.endsWith("LYRICS200") && /^\d{6}/.test(f)) {
      const start = end - 15 - Number(f.slice(0, 6));
      if (start >= audioOffset && ascii(src.read(start, 11)) === "LYRICSBEGIN") return start;
    }
  }
  if (end - 9 - 11 >= audioOffset && ascii(src.read(end - 9, 9)) === "LYRICSEND") {
    const span = Math.min(5100 + 11, end - 9 - audioOffset);
    const from = end - 9 - span;
    const at = ascii(src.read(from, span)).lastIndexOf("LYRICSBEGIN");
    if (at >= 0) return from + at;
  }
  return end;
}

/** An ID3v2.4 tag appended after the audio, found by its footer; its rows go to `appended`. */
function stripAppendedId3(
  src: ByteSource,
  audioOffset: number,
  end: number,
  appended: Id3Parsed[],
): number {
  if (end - 20 < audioOffset) return end;
  const f = src.read(end - 10, 10);
  if (f[0] !== 0x33 || f[1] !== 0x44 || f[2] !== 0x49) return end; // "3DI"
  const header = Uint8Array.from(f);
  header.set([0x49, 0x44, 0x33]);
  const total = id3v2TagSize(header);
  if (total === null) return end;
  const start = end - total;
  if (start < audioOffset || ascii(src.read(start, 3)) !== "ID3") return end;
  if (total <= MAX_ID3_READ) {
    try {
      appended.push(parseId3v2(readExact(src, start, total)));
    } catch (e) {
      if (!(e instanceof FormatError)) throw e; // header and footer disagree: rows ignored
    }
  }
  return start;
}

// ---- stacked tags -----------------------------------------------------------

/** Merges stacked tags: the first tag wins per key; pictures from the first tag that has any. */
export function mergeStacked(list: Id3Parsed[]): Id3Parsed {
  if (list.length === 1) return list[0];
  const out: Id3Parsed = { tags: [], pictures: [], binaryTags: [] };
  const textKeys = new Set<string>();
  const binaryKeys = new Set<string>();
  for (const t of list) {
    const newText = t.tags.filter((r) => !textKeys.has(r.key));
    const newBinary = t.binaryTags.filter((r) => !binaryKeys.has(r.key));
    for (const r of t.tags) textKeys.add(r.key);
    for (const r of t.binaryTags) binaryKeys.add(r.key);
    out.tags.push(...newText);
    out.binaryTags.push(...newBinary);
    if (out.pictures.length === 0) out.pictures.push(...t.pictures);
  }
  assignOrdinals(out.tags);
  assignOrdinals(out.binaryTags);
  return out;
}

// ---- synthesis ------------------------------------------------------------

function checkAudioRange({ audioOffset, audioLength, backingSize }: SynthInput): void {
  if (audioOffset < 0 || audioLength < 0 || audioOffset + audioLength > backingSize) {
    throw new FormatError("invalid-input", "audio range outside the backing file");
  }
}

/** The size of `synthesizeMp3`'s file, counted without building its tag. */
export function mp3Size(input: SynthInput): number {
  checkAudioRange(input);
  return id3v2Size(input) + input.audioLength;
}

/** `[ID3v2.4 tag][original audio range]`. */
export function synthesizeMp3(input: SynthInput, _backing: ByteSource, _blobs: BlobSource): Layout {
  checkAudioRange(input);
  const tag = buildId3v2(input);
  return makeLayout([...tag.segments, {
    kind: "backing",
    offset: input.audioOffset,
    length: input.audioLength,
  }]);
}
