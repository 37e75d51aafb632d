// ID3v2 reading, shared by MP3, WAV `id3 ` chunks and
// FLAC's leading-ID3 fallback.
//
// Safety first: the whole tag is already in memory (the caller read exactly
// `id3v2TagSize` bytes), every frame body is a subarray view of it, and every
// size is checked against what is left of the tag before it is used, so a
// hostile size can never cause an allocation or an out-of-range read.
//
// Where this is better than the original (which skips the whole tag on any
// of these) — each handled safely:
// - tag-level unsynchronisation (v2.2/v2.3: the whole body is decoded first;
//   v2.4: per frame) and the extended header (skipped after its size is checked);
// - frame flags: status flags are ignored, grouping-id and data-length
//   indicator bytes are stripped, per-frame unsynchronisation (v2.4) is
//   decoded; only compressed or encrypted frames are dropped (frame by frame);
// - v2.4 tags whose frame sizes were written as plain integers (an old
//   iTunes bug) are read by re-walking with plain sizes when the synchsafe
//   walk does not end cleanly;
// - a frame that overruns the tag or carries an invalid id ends the walk, but
//   the frames before it are kept;
// - CHAP/CTOC frames are kept as binary tags for v2.4 tags (their embedded
//   sub-frames are v2.4 and can be written back verbatim) and dropped for
//   v2.2/v2.3 tags (their sub-frame sizes would change meaning in a v2.4 tag);
// - v2.2 frames are mapped to their v2.3/v2.4 ids, so PIC, COM, ULT, POP,
//   UFI and TXX are read like their modern forms (v2.2 binary frames without
//   a modern equivalent are still not extracted);
// - v2.3/v2.4 frames carrying a v2.2 id padded with NUL (`TP1\0`, as some
//   iTunes versions wrote) are mapped like v2.2 ids (or skipped when there is
//   no modern equivalent) instead of ending the walk, with one warning per tag;
// - TYER (+ TDAT, TIME) become one `date` row, as in a v2.4 TDRC.

import { latin1, u16be, u24be, u32be, utf8 } from "./bytes.ts";
import { foldDate } from "./id3v2_dates.ts";
import {
  ID3_MB_TRACKID_KEY,
  ID3_PLAYCOUNT_KEY,
  ID3_RATING_KEY,
  keyPassesFloor,
  MUSICBRAINZ_UFID_OWNER,
  vocabById3Frame,
  vocabByTxxx,
} from "./tagmap.ts";
import {
  FormatError,
  MAX_ART_BYTES,
  MAX_BINARY_TAG_BYTES,
  type ProbedBinaryTag,
  type ProbedPicture,
  type TagEntry,
} from "./types.ts";

export interface Id3Parsed {
  tags: TagEntry[];
  pictures: ProbedPicture[];
  binaryTags: ProbedBinaryTag[];
  /** Things the tag got wrong that were repaired while reading (for the scan's log). */
  warnings?: string[];
}

/** More frames than this in one tag are ignored (keeps a hostile tag from producing millions of rows). */
export const MAX_ID3_FRAMES = 16_384;

const HEADER = 10;

/**
 * Total size of the ID3v2 tag starting with these 10 bytes (header, body and
 * v2.4 footer), or null when they are not an ID3v2 header: "ID3", major
 * version 2–4, synchsafe size bytes below 0x80.
 */
export function id3v2TagSize(first10: Uint8Array): number | null {
  if (first10.length < HEADER) return null;
  if (first10[0] !== 0x49 || first10[1] !== 0x44 || first10[2] !== 0x33) return null;
  const version = first10[3];
  if (version < 2 || version > 4 || first10[4] === 0xff) return null;
  for (let i = 6; i < 10; i++) if (first10[i] >= 0x80) return null;
  const footer = version === 4 && (first10[5] & 0x10) !== 0 ? HEADER : 0;
  return HEADER + synchsafe(first10, 6) + footer;
}

/** The name the format contract uses for the same function. */
export const id3TagSize = id3v2TagSize;

/**
 * Reads one complete ID3v2 tag (header included; trailing bytes beyond the
 * tag are ignored). Throws FormatError when the header is not ID3v2 or the
 * bytes end before the declared tag; anything wrong inside the tag only
 * loses the affected frames.
 */
export function parseId3v2(bytes: Uint8Array): Id3Parsed {
  const total = id3v2TagSize(bytes);
  if (total === null) throw new FormatError("malformed", "not an ID3v2 tag header");
  if (bytes.length < total) {
    throw new FormatError(
      "truncated",
      `ID3v2 tag declares ${total} bytes, ${bytes.length} present`,
    );
  }
  const out: Id3Parsed = { tags: [], pictures: [], binaryTags: [] };
  const version = bytes[3];
  const flags = bytes[5];
  let body = bytes.subarray(HEADER, HEADER + synchsafe(bytes, 6));
  // v2.2 compression (flag 0x40) was never defined: nothing can be read.
  if (version === 2 && (flags & 0x40) !== 0) return out;
  if (version < 4 && (flags & 0x80) !== 0) body = deunsynchronise(body);
  const start = extendedHeaderEnd(version, flags, body);
  if (start === null) return out;
  const odd: string[] = [];
  const frames = walkFrames(version, flags, body, start, odd);
  for (const f of frames) decodeFrame(version, f, out);
  out.tags = foldDate(out.tags);
  if (odd.length > 0) out.warnings = [oddIdsWarning(version, odd)];
  assignOrdinals(out.tags);
  assignOrdinals(out.binaryTags);
  return out;
}

function synchsafe(b: Uint8Array, o: number): number {
  return (b[o] << 21) | (b[o + 1] << 14) | (b[o + 2] << 7) | b[o + 3];
}

/** Undo unsynchronisation: every 0xFF 0x00 pair becomes 0xFF. Output never exceeds input. */
export function deunsynchronise(b: Uint8Array): Uint8Array {
  let pairs = 0;
  for (let i = 0; i + 1 < b.length; i++) if (b[i] === 0xff && b[i + 1] === 0) pairs++;
  if (pairs === 0) return b;
  const out = new Uint8Array(b.length - pairs);
  let o = 0;
  for (let i = 0; i < b.length; i++) {
    out[o++] = b[i];
    if (b[i] === 0xff && i + 1 < b.length && b[i + 1] === 0) i++;
  }
  return out.subarray(0, o);
}

/** Offset of the first frame in the body, or null when a declared extended header does not fit. */
function extendedHeaderEnd(version: number, flags: number, body: Uint8Array): number | null {
  if (version === 2 || (flags & 0x40) === 0) return 0;
  if (body.length < 4) return null;
  if (version === 3) {
    // v2.3: size excludes its own 4 bytes.
    const size = u32be(body, 0);
    return 4 + size <= body.length ? 4 + size : null;
  }
  for (let i = 0; i < 4; i++) if (body[i] >= 0x80) return null;
  const size = synchsafe(body, 0); // v2.4: size includes itself
  return size >= 6 && size <= body.length ? size : null;
}

interface RawFrame {
  id: string;
  data: Uint8Array;
}

function isFrameId(b: Uint8Array, o: number, n: number): boolean {
  for (let i = o; i < o + n; i++) {
    const c = b[i];
    if (!((c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39))) return false;
  }
  return true;
}

/** A v2.2 id padded with NUL in a v2.3/v2.4 frame header (`TP1\0`). */
function isPaddedV22Id(b: Uint8Array, o: number): boolean {
  return b[o + 3] === 0 && isFrameId(b, o, 3);
}

/** The warning for a tag whose frames carried v2.2 ids (each id listed once). */
function oddIdsWarning(version: number, odd: string[]): string {
  const ids = [...new Set(odd)].map((id) => {
    const modern = v22Id(id);
    return modern === "" ? `${id} (skipped)` : `${id} as ${modern}`;
  });
  return `ID3v2.${version} tag has frames with ID3v2.2 ids; read ${ids.join(", ")}`;
}

/**
 * Frames of the body with their flags applied; compressed/encrypted frames
 * left out. NUL-padded v2.2 ids met on the way are appended to `odd`.
 */
function walkFrames(
  version: number,
  flags: number,
  body: Uint8Array,
  start: number,
  odd: string[],
): RawFrame[] {
  if (version !== 4) return walk(version, flags, body, start, false, odd).frames;
  const safeOdd: string[] = [];
  const safe = walk(4, flags, body, start, false, safeOdd);
  if (!safe.clean) {
    const plainOdd: string[] = [];
    const plain = walk(4, flags, body, start, true, plainOdd);
    if (plain.clean) {
      odd.push(...plainOdd);
      return plain.frames;
    }
  }
  odd.push(...safeOdd);
  return safe.frames;
}

function walk(
  version: number,
  tagFlags: number,
  body: Uint8Array,
  start: number,
  plainSizes: boolean,
  odd: string[],
): { frames: RawFrame[]; clean: boolean } {
  const idLen = version === 2 ? 3 : 4;
  const headerLen = version === 2 ? 6 : 10;
  const frames: RawFrame[] = [];
  let pos = start;
  let count = 0;
  while (pos + headerLen <= body.length) {
    if (body[pos] === 0) return { frames, clean: true }; // padding
    const paddedV22 = version > 2 && !isFrameId(body, pos, idLen) && isPaddedV22Id(body, pos);
    if (!paddedV22 && !isFrameId(body, pos, idLen)) return { frames, clean: false };
    if (++count > MAX_ID3_FRAMES) return { frames, clean: true };
    let size: number;
    if (version === 2) size = u24be(body, pos + 3);
    else if (version === 3 || plainSizes) size = u32be(body, pos + 4);
    else {
      for (let i = 4; i < 8; i++) if (body[pos + i] >= 0x80) return { frames, clean: false };
      size = synchsafe(body, pos + 4);
    }
    const dataStart = pos + headerLen;
    if (size > body.length - dataStart) return { frames, clean: false };
    const id = latin1(body.subarray(pos, pos + (paddedV22 ? 3 : idLen)));
    if (paddedV22) odd.push(id);
    const raw = body.subarray(dataStart, dataStart + size);
    const frameFlags = version === 2 ? 0 : u16be(body, pos + 8);
    const data = version === 2
      ? raw
      : version === 3
      ? applyV23Flags(frameFlags, raw)
      : applyV24Flags(frameFlags, tagFlags, raw);
    if (data !== null && size > 0) {
      frames.push({ id: version === 2 || paddedV22 ? v22Id(id) : id, data });
    }
    pos = dataStart + size;
  }
  return { frames, clean: true };
}

function applyV23Flags(flags: number, data: Uint8Array): Uint8Array | null {
  if ((flags & 0x00c0) !== 0) return null; // compressed or encrypted
  if ((flags & 0x0020) !== 0) return data.length >= 1 ? data.subarray(1) : null; // group id
  return data;
}

function applyV24Flags(flags: number, tagFlags: number, data: Uint8Array): Uint8Array | null {
  if ((flags & 0x000c) !== 0) return null; // compressed or encrypted
  let d = data;
  if ((flags & 0x0040) !== 0) { // grouping identity byte
    if (d.length < 1) return null;
    d = d.subarray(1);
  }
  if ((flags & 0x0001) !== 0) { // data length indicator
    if (d.length < 4) return null;
    d = d.subarray(4);
  }
  if ((flags & 0x0002) !== 0 || (tagFlags & 0x80) !== 0) d = deunsynchronise(d);
  return d;
}

/** v2.2 three-character ids → their v2.3/v2.4 names; unknown ids become "" (not extracted). */
// deno-fmt-ignore
const V22_IDS: Record<string, string> = {
  TT1: "TIT1", TT2: "TIT2", TT3: "TIT3", TP1: "TPE1", TP2: "TPE2", TP3: "TPE3", TP4: "TPE4",
  TAL: "TALB", TCO: "TCON", TCM: "TCOM", TRK: "TRCK", TPA: "TPOS", TCR: "TCOP", TRC: "TSRC",
  TXT: "TEXT", TBP: "TBPM", TCP: "TCMP", TYE: "TYER", TDA: "TDAT", TIM: "TIME", TEN: "TENC",
  TSS: "TSSE", TLA: "TLAN", TLE: "TLEN", TMT: "TMED", TOA: "TOPE", TOF: "TOFN", TOL: "TOLY",
  TOR: "TORY", TOT: "TOAL", TPB: "TPUB", TKE: "TKEY", TFT: "TFLT", TDY: "TDLY", TRD: "TRDA",
  TSI: "TSIZ", TXX: "TXXX", COM: "COMM", ULT: "USLT", PIC: "APIC", POP: "POPM", UFI: "UFID",
  TS2: "TSO2", TSA: "TSOA", TSC: "TSOC", TSP: "TSOP", TST: "TSOT",
};

function v22Id(id: string): string {
  return V22_IDS[id] ?? "";
}

// ---- frame bodies --------------------------------------------------------

const utf16le = new TextDecoder("utf-16le", { ignoreBOM: true });
const utf16be = new TextDecoder("utf-16be", { ignoreBOM: true });

/** Decodes one string (no terminator) in an ID3 text encoding. */
function decodeText(enc: number, b: Uint8Array): string {
  let s: string;
  if (enc === 0) s = latin1(b);
  else if (enc === 3) s = utf8(b);
  else {
    let be = enc === 2;
    let d = b;
    if (d.length >= 2 && d[0] === 0xff && d[1] === 0xfe) [be, d] = [false, d.subarray(2)];
    else if (d.length >= 2 && d[0] === 0xfe && d[1] === 0xff) [be, d] = [true, d.subarray(2)];
    s = (be ? utf16be : utf16le).decode(d.subarray(0, d.length & ~1));
  }
  return s.charCodeAt(0) === 0xfeff ? s.slice(1) : s;
}

function wide(enc: number): boolean {
  return enc === 1 || enc === 2;
}

/** Index of the terminator at or after `from` (NUL, or NUL NUL at an even step for UTF-16), or -1. */
function findTerminator(enc: number, b: Uint8Array, from: number): number {
  if (!wide(enc)) return b.indexOf(0, from);
  for (let i = from; i + 1 < b.length; i += 2) if (b[i] === 0 && b[i + 1] === 0) return i;
  return -1;
}

/** Splits `b` at terminators into decoded strings (empty ones included). */
function splitStrings(enc: number, b: Uint8Array): string[] {
  const out: string[] = [];
  const step = wide(enc) ? 2 : 1;
  let pos = 0;
  while (pos <= b.length) {
    const t = findTerminator(enc, b, pos);
    const end = t < 0 ? b.length : t;
    out.push(decodeText(enc, b.subarray(pos, end)));
    if (t < 0) break;
    pos = t + step;
  }
  return out;
}

/** Reads one terminated string from `from`; returns it and the offset after the terminator. */
function readTerminated(enc: number, b: Uint8Array, from: number): [string, number] | null {
  const t = findTerminator(enc, b, from);
  if (t < 0) return null;
  return [decodeText(enc, b.subarray(from, t)), t + (wide(enc) ? 2 : 1)];
}

function pushTag(out: Id3Parsed, key: string, value: string): void {
  if (value === "" || !keyPassesFloor(key)) return;
  out.tags.push({ key, value, ordinal: 0 });
}

function pushBinary(out: Id3Parsed, key: string, data: Uint8Array): void {
  if (data.length === 0 || data.length > MAX_BINARY_TAG_BYTES) return;
  out.binaryTags.push({ key, ordinal: 0, data: data.slice() });
}

function decodeFrame(version: number, f: RawFrame, out: Id3Parsed): void {
  const { id, data } = f;
  if (id === "") return; // v2.2 frame without a modern equivalent
  if (id === "TXXX") return decodeTxxx(data, out);
  if (id[0] === "T") return decodeTextFrame(id, data, out);
  switch (id) {
    case "COMM":
    case "USLT":
      return decodeCommLike(id, data, out);
    case "APIC":
      return decodePicture(version, data, out);
    case "POPM":
      return decodePopm(data, out);
    case "UFID":
      return decodeUfid(data, out);
    case "CHAP":
    case "CTOC":
      if (version === 4) pushBinary(out, id, data);
      return;
  }
  if (version === 2) return; // v2.2 binary frames are not extracted
  pushBinary(out, id, data);
}

function validEncoding(data: Uint8Array): boolean {
  return data.length >= 1 && data[0] <= 3;
}

function decodeTextFrame(id: string, data: Uint8Array, out: Id3Parsed): void {
  if (!validEncoding(data)) return;
  const key = vocabById3Frame(id)?.key ?? id;
  for (const v of splitStrings(data[0], data.subarray(1))) pushTag(out, key, v);
}

function decodeTxxx(data: Uint8Array, out: Id3Parsed): void {
  if (!validEncoding(data)) return;
  const enc = data[0];
  const d = readTerminated(enc, data, 1);
  if (d === null) return;
  const [desc, next] = d;
  const key = vocabByTxxx(desc)?.key ?? desc;
  for (const v of splitStrings(enc, data.subarray(next))) pushTag(out, key, v);
}

function decodeCommLike(id: "COMM" | "USLT", data: Uint8Array, out: Id3Parsed): void {
  if (!validEncoding(data) || data.length < 4) return;
  const enc = data[0];
  const lang = latin1(data.subarray(1, 4)).replace(/\0+$/, "");
  const d = readTerminated(enc, data, 4);
  if (d === null) return;
  const [desc, next] = d;
  const generic = desc === "" && ["", "xxx", "und"].includes(lang.toLowerCase());
  const key = generic ? (id === "COMM" ? "comment" : "lyrics") : `id3:${id}:${lang}:${desc}`;
  for (const v of splitStrings(enc, data.subarray(next))) pushTag(out, key, v);
}

const V22_IMAGE_FORMATS: Record<string, string> = {
  JPG: "image/jpeg",
  PNG: "image/png",
  GIF: "image/gif",
  BMP: "image/bmp",
};

function decodePicture(version: number, data: Uint8Array, out: Id3Parsed): void {
  if (!validEncoding(data)) return;
  const enc = data[0];
  let mime: string;
  let pos: number;
  if (version === 2) {
    if (data.length < 5) return;
    const fmt = latin1(data.subarray(1, 4));
    mime = V22_IMAGE_FORMATS[fmt.toUpperCase()] ?? `image/${fmt.toLowerCase()}`;
    pos = 4;
  } else {
    const m = readTerminated(0, data, 1);
    if (m === null) return;
    [mime, pos] = m;
  }
  if (pos >= data.length) return;
  const type = data[pos];
  const d = readTerminated(enc, data, pos + 1);
  if (d === null) return;
  const [description, imageStart] = d;
  const image = data.subarray(imageStart);
  if (image.length === 0 || image.length > MAX_ART_BYTES) return;
  out.pictures.push({
    mime,
    pictureType: type <= 20 ? type : 0,
    description,
    width: null,
    height: null,
    data: image.slice(),
  });
}

function decodePopm(data: Uint8Array, out: Id3Parsed): void {
  const owner = data.indexOf(0);
  if (owner < 0 || owner + 1 >= data.length) return;
  pushTag(out, ID3_RATING_KEY, String(data[owner + 1]));
  const counter = data.subarray(owner + 2);
  if (counter.length === 0 || counter.length > 8) return;
  let n = 0n;
  for (const b of counter) n = (n << 8n) | BigInt(b);
  if (n !== 0n) pushTag(out, ID3_PLAYCOUNT_KEY, n.toString());
}

function decodeUfid(data: Uint8Array, out: Id3Parsed): void {
  const o = data.indexOf(0);
  if (o >= 0 && latin1(data.subarray(0, o)) === MUSICBRAINZ_UFID_OWNER) {
    pushTag(out, ID3_MB_TRACKID_KEY, utf8(data.subarray(o + 1)).replace(/\0+$/, ""));
    return;
  }
  pushBinary(out, "UFID", data);
}

/** Sets each row's ordinal to its index among rows with the same exact key. */
export function assignOrdinals(rows: { key: string; ordinal: number }[]): void {
  const seen = new Map<string, number>();
  for (const r of rows) {
    const n = seen.get(r.key) ?? 0;
    r.ordinal = n;
    seen.set(r.key, n + 1);
  }
}
