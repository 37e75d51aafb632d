// Ogg pages (RFC 3533): header parse/build, the Ogg CRC-32 and lacing.
// Header: "OggS", version 0, flags, granule (u64le), serial (u32le),
// sequence (u32le), CRC (u32le), segment count, lacing values; then the body.

import { putU32le, u32le } from "../bytes.ts";
import { FormatError } from "../types.ts";

export const PAGE_HEADER_FIXED = 27;
/** The largest page header: 27 fixed bytes + 255 lacing values. */
export const MAX_PAGE_HEADER = PAGE_HEADER_FIXED + 255;
/** The largest page: full header + 255 segments of 255 bytes. */
export const MAX_PAGE_SIZE = MAX_PAGE_HEADER + 255 * 255;

export const FLAG_CONTINUED = 0x01;
export const FLAG_BOS = 0x02;
export const FLAG_EOS = 0x04;

/** Byte offsets inside a page header. */
export const SEQ_AT = 18;
export const CRC_AT = 22;

// ---------------------------------------------------------------- CRC

/** Ogg CRC-32: polynomial 0x04C11DB7, MSB first, init 0, no final xor. */
const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let r = i << 24;
    for (let k = 0; k < 8; k++) r = r & 0x80000000 ? (r << 1) ^ 0x04c11db7 : r << 1;
    t[i] = r >>> 0;
  }
  return t;
})();

// Slicing-by-8: T[k] advances a byte through k more zero bytes, so eight
// message bytes fold in with eight lookups (synthesis CRCs the new header
// pages and verifies the original ones, on the first getattr of every file).
const [T1, T2, T3, T4, T5, T6, T7] = (() => {
  const next = (prev: Uint32Array) =>
    prev.map((v) => ((v << 8) ^ CRC_TABLE[v >>> 24]) >>> 0) as Uint32Array;
  const t = [next(CRC_TABLE)];
  for (let k = 1; k < 7; k++) t.push(next(t[k - 1]));
  return t;
})();

/** Continues a CRC over `bytes[start, end)`. */
export function crcUpdate(crc: number, bytes: Uint8Array, start = 0, end = bytes.length): number {
  let c = crc >>> 0;
  let i = start;
  for (; i + 8 <= end; i += 8) {
    c ^= (bytes[i] << 24) | (bytes[i + 1] << 16) | (bytes[i + 2] << 8) | bytes[i + 3];
    c = T7[c >>> 24] ^ T6[(c >>> 16) & 0xff] ^ T5[(c >>> 8) & 0xff] ^ T4[c & 0xff] ^
      T3[bytes[i + 4]] ^ T2[bytes[i + 5]] ^ T1[bytes[i + 6]] ^ CRC_TABLE[bytes[i + 7]];
  }
  for (; i < end; i++) c = (c << 8) ^ CRC_TABLE[(c >>> 24) ^ bytes[i]];
  return c >>> 0;
}

/** CRC of a whole page as stored in it: the CRC field counts as zero. */
export function pageCrc(page: Uint8Array): number {
  let c = crcUpdate(0, page, 0, CRC_AT);
  c = crcUpdate(c, ZERO4);
  return crcUpdate(c, page, CRC_AT + 4, page.length);
}
const ZERO4 = new Uint8Array(4);

// The CRC is linear over GF(2) for messages of one length, so changing bytes
// of a page changes its CRC by the CRC of the xor-difference (zeros elsewhere).
// Leading zeros do not move a CRC with init 0; trailing zeros multiply it by
// x^8 per byte modulo the polynomial, computed by squaring.

/** a·b mod P over GF(2), 32-bit residues. */
function mulMod(a: number, b: number): number {
  let r = 0;
  a >>>= 0;
  b >>>= 0;
  for (let i = 31; i >= 0; i--) {
    r = r & 0x80000000 ? ((r << 1) ^ 0x04c11db7) >>> 0 : (r << 1) >>> 0;
    if ((b >>> i) & 1) r = (r ^ a) >>> 0;
  }
  return r;
}

/** X8_POW[i] = x^(8·2^i) mod P. */
const X8_POW = (() => {
  const t = new Uint32Array(32);
  t[0] = 0x100; // x^8
  for (let i = 1; i < 32; i++) t[i] = mulMod(t[i - 1], t[i - 1]);
  return t;
})();

/** x^(8n) mod P, computed by squaring. */
function zeroShift(n: number): number {
  let m = 1;
  for (let i = 0; n > 0; i++, n = Math.floor(n / 2)) {
    if (n & 1) m = mulMod(m, X8_POW[i]);
  }
  return m;
}

/** x^(8n) mod P for every page-sized n, filled on first use (never 0: P has a constant term). */
const PAGE_SHIFTS = new Uint32Array(MAX_PAGE_SIZE + 1);

/** The CRC of `crc`'s message followed by `n` zero bytes. */
export function crcShiftZeros(crc: number, n: number): number {
  if (n <= MAX_PAGE_SIZE) {
    if (PAGE_SHIFTS[n] === 0) PAGE_SHIFTS[n] = zeroShift(n);
    return mulMod(crc, PAGE_SHIFTS[n]);
  }
  return mulMod(crc, zeroShift(n));
}

/**
 * The CRC of a page of `pageSize` bytes after its sequence number changed
 * from `oldSeq` to `newSeq`, from the old CRC alone (no payload bytes).
 */
export function patchedCrc(oldCrc: number, oldSeq: number, newSeq: number, pageSize: number) {
  const d = (oldSeq ^ newSeq) >>> 0;
  if (d === 0) return oldCrc >>> 0;
  // CRC of the 4 difference bytes (little-endian, as stored), then the zeros after them.
  let c = 0;
  for (let k = 0; k < 32; k += 8) c = ((c << 8) ^ CRC_TABLE[(c >>> 24) ^ ((d >>> k) & 0xff)]) >>> 0;
  return (oldCrc ^ crcShiftZeros(c, pageSize - (SEQ_AT + 4))) >>> 0;
}

// ---------------------------------------------------------------- header

export interface PageHeader {
  flags: number;
  /** Granule position bytes 6–13 kept as two u32 halves (no precision loss). */
  granuleLo: number;
  granuleHi: number;
  serial: number;
  seq: number;
  crc: number;
  /** The lacing values (a copy). */
  lacing: Uint8Array;
  headerSize: number;
  bodySize: number;
}

export function pageSize(h: PageHeader): number {
  return h.headerSize + h.bodySize;
}

/**
 * Parses the page header at `at` of `bytes`. Null when there is no "OggS"
 * capture with version 0 and flags ≤ 7 there; `truncated` FormatError when
 * the header is cut off by the end of `bytes`.
 */
export function parsePageHeader(bytes: Uint8Array, at = 0): PageHeader | null {
  if (bytes.length - at < PAGE_HEADER_FIXED) {
    if (looksLikeCapture(bytes, at)) throw new FormatError("truncated", "ogg page header cut off");
    return null;
  }
  if (!looksLikeCapture(bytes, at) || bytes[at + 4] !== 0 || bytes[at + 5] > 7) return null;
  const nseg = bytes[at + 26];
  const headerSize = PAGE_HEADER_FIXED + nseg;
  if (bytes.length - at < headerSize) {
    throw new FormatError("truncated", "ogg lacing values cut off");
  }
  const lacing = bytes.slice(at + PAGE_HEADER_FIXED, at + headerSize);
  let bodySize = 0;
  for (let i = 0; i < nseg; i++) bodySize += lacing[i];
  return {
    flags: bytes[at + 5],
    granuleLo: u32le(bytes, at + 6),
    granuleHi: u32le(bytes, at + 10),
    serial: u32le(bytes, at + 14),
    seq: u32le(bytes, at + SEQ_AT),
    crc: u32le(bytes, at + CRC_AT),
    lacing,
    headerSize,
    bodySize,
  };
}

function looksLikeCapture(b: Uint8Array, at: number): boolean {
  const n = Math.min(4, b.length - at);
  const magic = [0x4f, 0x67, 0x67, 0x53]; // "OggS"
  for (let i = 0; i < n; i++) if (b[at + i] !== magic[i]) return false;
  return n > 0;
}

/** Whether `page` (exactly one whole page) carries a correct CRC. */
export function pageCrcValid(page: Uint8Array): boolean {
  return page.length >= PAGE_HEADER_FIXED && pageCrc(page) === u32le(page, CRC_AT);
}

// ---------------------------------------------------------------- build

export interface NewPage {
  flags: number;
  serial: number;
  seq: number;
  lacing: readonly number[];
}

/**
 * The header bytes of a page with granule 0 and a zero CRC field; the caller
 * computes the CRC over header + body and stores it with `setPageCrc`.
 */
export function buildPageHeader(p: NewPage): Uint8Array {
  if (p.lacing.length > 255) throw new FormatError("invalid-input", "more than 255 lacing values");
  const h = new Uint8Array(PAGE_HEADER_FIXED + p.lacing.length);
  h.set([0x4f, 0x67, 0x67, 0x53, 0, p.flags]);
  putU32le(h, 14, p.serial);
  putU32le(h, SEQ_AT, p.seq);
  h[26] = p.lacing.length;
  for (let i = 0; i < p.lacing.length; i++) h[PAGE_HEADER_FIXED + i] = p.lacing[i];
  return h;
}

export function setPageCrc(header: Uint8Array, crc: number): void {
  putU32le(header, CRC_AT, crc);
}

/**
 * How a packet of `length` bytes is laced into pages: per page, its lacing
 * values (≤ 255 each page). A packet longer than one page continues on the
 * next; a length that is a multiple of 255 ends with a 0 lacing value.
 * Generated page by page, so a huge packet never lists all its values.
 */
export function* lacePages(length: number): Generator<number[]> {
  const values = Math.floor(length / 255) + 1;
  for (let first = 0; first < values; first += 255) {
    const n = Math.min(255, values - first);
    const page = new Array<number>(n).fill(255);
    if (first + n === values) page[n - 1] = length % 255;
    yield page;
  }
}
