// Helpers shared by the Ogg tests: walking the pages of a whole file, the
// "audio identical except sequence/CRC" comparison, independent CRC checks
// (ogginfo, ffmpeg -v error) and a naive full re-patch of the audio pages.

import assert from "node:assert/strict";
import { putU32le, u32le } from "../../src/format/bytes.ts";
import {
  buildPageHeader,
  CRC_AT,
  parsePageHeader,
  SEQ_AT,
  setPageCrc,
} from "../../src/format/ogg/page.ts";
import type { ArtRef } from "../../src/format/types.ts";
import { mutagenTags, run } from "../fixtures/fixtures.ts";
import {
  assertMutagenMatchesInput,
  assertPcmEqual,
  assertRandomRanges,
  assertReprobeMatchesInput,
  type RoundTrip,
} from "./harness.ts";
import { concatBytes } from "../fixtures/tools.ts";

/** Bit-at-a-time Ogg CRC (poly 0x04C11DB7, no reflection, init 0): the reference. */
export function naiveCrc(bytes: Uint8Array): number {
  let crc = 0;
  for (const b of bytes) {
    crc ^= b << 24;
    for (let k = 0; k < 8; k++) {
      crc = crc & 0x80000000 ? (crc << 1) ^ 0x04c11db7 : crc << 1;
    }
  }
  return crc >>> 0;
}

/** A page's CRC computed from scratch with the reference (CRC field zeroed). */
export function naivePageCrc(page: Uint8Array): number {
  const copy = page.slice();
  copy.fill(0, CRC_AT, CRC_AT + 4);
  return naiveCrc(copy);
}

export interface WalkedPage {
  offset: number;
  size: number;
  seq: number;
  flags: number;
  serial: number;
}

/** Every page of a file, front to back (asserts the file is a clean page sequence). */
export function walkPages(bytes: Uint8Array, from = 0, to = bytes.length): WalkedPage[] {
  const pages: WalkedPage[] = [];
  let at = from;
  while (at < to) {
    const h = parsePageHeader(bytes, at);
    assert(h !== null, `page expected at ${at}`);
    const size = h.headerSize + h.bodySize;
    assert(at + size <= to, `page at ${at} runs past ${to}`);
    pages.push({ offset: at, size, seq: h.seq, flags: h.flags, serial: h.serial });
    at += size;
  }
  return pages;
}

/** Asserts every page CRC is right (reference CRC) and sequence numbers run 0, 1, 2 … */
export function assertCleanStream(bytes: Uint8Array): WalkedPage[] {
  const pages = walkPages(bytes);
  pages.forEach((p, i) => {
    const page = bytes.subarray(p.offset, p.offset + p.size);
    assert.equal(u32le(page, CRC_AT), naivePageCrc(page), `CRC of page ${i}`);
    assert.equal(p.seq, i, `sequence number of page ${i}`);
    assert.equal(p.serial, pages[0].serial, `serial of page ${i}`);
    assert.equal((p.flags & 2) !== 0, i === 0, `BOS only on page 0 (page ${i})`);
  });
  return pages;
}

/** Audio regions equal byte for byte except each page's sequence and CRC fields. */
export function assertAudioSameExceptSeqCrc(a: Uint8Array, b: Uint8Array): void {
  assert.equal(b.length, a.length, "audio length");
  const pa = walkPages(a);
  const pb = walkPages(b);
  assert.deepEqual(pb.map((p) => [p.offset, p.size]), pa.map((p) => [p.offset, p.size]));
  const ma = a.slice();
  const mb = b.slice();
  for (const p of pa) {
    ma.fill(0, p.offset + SEQ_AT, p.offset + CRC_AT + 4);
    mb.fill(0, p.offset + SEQ_AT, p.offset + CRC_AT + 4);
  }
  assert(ma.every((v, i) => v === mb[i]), "audio pages identical apart from sequence/CRC");
}

/** Whether the bytes at `at` hold "OggS" and version 0. */
function captureAt(bytes: Uint8Array, at: number): boolean {
  return at + 27 <= bytes.length && bytes[at] === 0x4f && bytes[at + 1] === 0x67 &&
    bytes[at + 2] === 0x67 && bytes[at + 3] === 0x53 && bytes[at + 4] === 0;
}

/** The page at `at` when its header is plausible and it lies wholly in `bytes`. */
function pageIn(bytes: Uint8Array, at: number): WalkedPage | null {
  let h;
  try {
    h = parsePageHeader(bytes, at);
  } catch {
    return null; // header cut off by the end
  }
  if (h === null || at + h.headerSize + h.bodySize > bytes.length) return null;
  return {
    offset: at,
    size: h.headerSize + h.bodySize,
    seq: h.seq,
    flags: h.flags,
    serial: h.serial,
  };
}

function crcOk(bytes: Uint8Array, p: WalkedPage): boolean {
  const page = bytes.subarray(p.offset, p.offset + p.size);
  return u32le(page, CRC_AT) === naivePageCrc(page);
}

/**
 * The pages of an audio region as musefs serves them, the slow way: walk
 * from the start; a plausible page that ends the region, is followed by a
 * capture or has a valid CRC is a page; otherwise skip byte by byte to the
 * next position holding such a page. Everything else is non-page bytes.
 */
export function canonicalPages(audio: Uint8Array): WalkedPage[] {
  const isPage = (pos: number): WalkedPage | null => {
    const p = pageIn(audio, pos);
    if (p === null) return null;
    const end = p.offset + p.size;
    return end === audio.length || captureAt(audio, end) || crcOk(audio, p) ? p : null;
  };
  const pages: WalkedPage[] = [];
  let pos = 0;
  while (pos < audio.length) {
    const p = isPage(pos);
    if (p !== null) {
      pages.push(p);
      pos += p.size;
      continue;
    }
    pos++;
    while (pos < audio.length && isPage(pos) === null) pos++;
  }
  return pages;
}

/**
 * The audio region re-patched the slow way: every page's seq += delta, its
 * CRC moved by the CRC difference computed from scratch (a page whose CRC
 * was wrong stays wrong by the same amount); non-page bytes untouched.
 */
export function naiveRepatch(audio: Uint8Array, delta: number): Uint8Array {
  const out = audio.slice();
  for (const p of canonicalPages(audio)) {
    const page = out.subarray(p.offset, p.offset + p.size);
    const oldTrue = naivePageCrc(page);
    const oldStored = u32le(page, CRC_AT);
    putU32le(page, SEQ_AT, (p.seq + delta) >>> 0);
    setPageCrc(page, (naivePageCrc(page) ^ oldTrue ^ oldStored) >>> 0);
  }
  return out;
}

/** ogginfo and ffmpeg (-v error) find nothing wrong: no CRC, hole or sequence complaints. */
export async function assertToolsHappy(path: string): Promise<void> {
  const info = await run(["ogginfo", path]);
  const complaints = info.stdout.length > 0
    ? new TextDecoder().decode(info.stdout).split("\n").filter((l) =>
      // Comment lines (base64 art) can contain any word: only look at ogginfo's own lines.
      !l.startsWith("\t") && /warning|error|hole|corrupt|crc/i.test(l)
    )
    : [];
  assert.equal(info.code, 0, `ogginfo exit code (${info.stderr})`);
  assert.deepEqual(complaints, [], "ogginfo complaints");
  const ff = await run(["ffmpeg", "-v", "error", "-i", path, "-map", "0:a", "-f", "null", "-"]);
  assert.equal(ff.code, 0, "ffmpeg exit code");
  assert.equal(ff.stderr.trim(), "", "ffmpeg -v error output");
}

/** The description a picture comes back with: padded so its FLAC prefix is a multiple of 3. */
export function paddedDescription(art: ArtRef): string {
  const enc = new TextEncoder();
  const len = 32 + enc.encode(art.mime).length + enc.encode(art.description).length;
  return art.description + " ".repeat((3 - (len % 3)) % 3);
}

/**
 * A valid JPEG of about `size` bytes: the fixture cover with random COM
 * segments after SOI (decoders skip them), so ffmpeg has nothing to complain about.
 */
export function bigJpeg(cover: Uint8Array, size: number, rand: () => number): Uint8Array {
  assert(cover[0] === 0xff && cover[1] === 0xd8, "cover is a JPEG");
  const parts: Uint8Array[] = [cover.subarray(0, 2)];
  let total = cover.length;
  while (total < size) {
    const n = Math.min(65533, size - total);
    const seg = new Uint8Array(4 + n);
    seg.set([0xff, 0xfe, (n + 2) >> 8, (n + 2) & 0xff]);
    for (let i = 4; i < seg.length; i++) seg[i] = (rand() * 256) | 0;
    parts.push(seg);
    total += seg.length;
  }
  parts.push(cover.subarray(2));
  return concatBytes(parts);
}

/** A ByteSource over memory that counts reads and bytes (to check bounded access). */
export class CountingSource {
  reads = 0;
  bytes = 0;
  constructor(readonly data: Uint8Array) {}
  get size(): number {
    return this.data.length;
  }
  read(offset: number, length: number): Uint8Array {
    this.reads++;
    const out = this.data.slice(offset, Math.min(this.data.length, offset + length));
    this.bytes += out.length;
    return out;
  }
}

/**
 * A stream of pages with the given body sizes (random payload, correct CRCs,
 * sequence from `firstSeq`). Lacing: each body is one packet when it fits,
 * else a run of 255s (a packet continued on the next page).
 */
export function syntheticStream(
  bodySizes: number[],
  rand: () => number,
  firstSeq = 0,
  payload?: (page: number, body: Uint8Array) => void,
): Uint8Array {
  const pages: Uint8Array[] = [];
  bodySizes.forEach((size, i) => {
    const lacing: number[] = [];
    for (let rest = size; rest > 0; rest -= Math.min(255, rest)) lacing.push(Math.min(255, rest));
    assert(lacing.length <= 255, "body too large for one page");
    const header = buildPageHeader({ flags: 0, serial: 0x1234, seq: (firstSeq + i) >>> 0, lacing });
    const page = new Uint8Array(header.length + size);
    page.set(header);
    const body = page.subarray(header.length);
    for (let k = 0; k < body.length; k++) body[k] = (rand() * 256) | 0;
    payload?.(i, body);
    setPageCrc(page, naivePageCrc(page));
    pages.push(page);
  });
  const out = new Uint8Array(pages.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of pages) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/**
 * A served Ogg file is right by every check: probed back it is the input, its
 * pages are clean, its audio pages the original's (sequence numbers and CRCs
 * apart), it decodes to the same PCM, ogginfo/ffmpeg (and flac -t for
 * FLAC-in-Ogg) accept it and mutagen reads the input's tags.
 */
export async function assertServedOgg(rt: RoundTrip): Promise<void> {
  const fields = rt.input.format === "oggflac" ? [] : ["description" as const];
  assertReprobeMatchesInput(rt, { ignorePictureFields: fields });
  // Opus/Vorbis: the description gained 0–2 spaces so base64 streams in quanta.
  const expectDesc = rt.input.art.map((a) =>
    rt.input.format === "oggflac" ? a.description : paddedDescription(a)
  );
  assert.deepEqual(rt.reprobe.pictures.map((p) => p.description), expectDesc);
  const served = assertCleanStream(rt.bytes);
  assert(served.some((p) => p.offset === rt.reprobe.audioOffset));
  assertAudioSameExceptSeqCrc(
    rt.originalBytes.subarray(rt.original.audioOffset),
    rt.bytes.subarray(rt.reprobe.audioOffset),
  );
  await assertPcmEqual(rt);
  await assertToolsHappy(rt.outPath);
  if (rt.input.format === "oggflac") {
    // The reference FLAC decoder checks frames and its MD5 of the decoded audio.
    const t = await run(["flac", "-t", "-s", rt.outPath]);
    assert.equal(t.code, 0, `flac -t: ${t.stderr}`);
  }
  await assertMutagenMatchesInput(rt, { ignorePictureFields: fields });
  if (fields.length > 0) {
    const v = await mutagenTags(rt.outPath);
    assert.deepEqual(v.normalized.pictures.map((p) => p.description), expectDesc);
  }
  assertRandomRanges(rt, 150, 3);
}
