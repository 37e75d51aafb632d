// Ogg page primitives: the CRC against an independent bitwise implementation
// and real encoder output, the algebraic sequence-number CRC patch against a
// full recomputation, lacing, and header parsing of hostile bytes.

import assert from "node:assert/strict";
import {
  buildPageHeader,
  CRC_AT,
  crcShiftZeros,
  crcUpdate,
  lacePages,
  MAX_PAGE_SIZE,
  pageCrc,
  pageCrcValid,
  parsePageHeader,
  patchedCrc,
  SEQ_AT,
  setPageCrc,
} from "../../src/format/ogg/page.ts";
import { putU32le, u32le } from "../../src/format/bytes.ts";

/** All the lacing pages of one packet of `length` bytes. */
const lacePacket = (length: number): number[][] => [...lacePages(length)];
import { FormatError } from "../../src/format/types.ts";
import { fixture } from "../fixtures/fixtures.ts";
import { mulberry32 } from "./mutate.ts";
import { naiveCrc, naivePageCrc } from "./ogg_util.ts";

function randomPage(rand: () => number): Uint8Array {
  const nseg = Math.floor(rand() * 256);
  const lacing = Array.from({ length: nseg }, () => Math.floor(rand() * 256));
  const header = buildPageHeader({
    flags: Math.floor(rand() * 8),
    serial: Math.floor(rand() * 2 ** 32),
    seq: Math.floor(rand() * 2 ** 32),
    lacing,
  });
  let body = 0;
  for (const v of lacing) body += v;
  const page = new Uint8Array(header.length + body);
  page.set(header);
  for (let i = header.length; i < page.length; i++) page[i] = Math.floor(rand() * 256);
  for (let i = 6; i < 14; i++) page[i] = Math.floor(rand() * 256); // granule
  setPageCrc(page, naivePageCrc(page));
  return page;
}

Deno.test("ogg CRC: table CRC equals the bitwise reference", () => {
  const rand = mulberry32(11);
  assert.equal(crcUpdate(0, new Uint8Array(0)), 0);
  for (let n = 0; n < 300; n++) {
    const bytes = new Uint8Array(n * 7);
    for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(rand() * 256);
    assert.equal(crcUpdate(0, bytes), naiveCrc(bytes), `length ${bytes.length}`);
  }
});

Deno.test("ogg CRC: continued over sub-ranges equals the reference over the whole", () => {
  const rand = mulberry32(12);
  for (let round = 0; round < 200; round++) {
    const bytes = new Uint8Array(1 + Math.floor(rand() * 600));
    for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(rand() * 256);
    // Arbitrary cut points, so the fast loop starts at every alignment with a non-zero CRC.
    const cuts = [0, ...Array.from({ length: 3 }, () => Math.floor(rand() * bytes.length))]
      .sort((a, b) => a - b);
    cuts.push(bytes.length);
    let c = 0;
    for (let k = 0; k + 1 < cuts.length; k++) c = crcUpdate(c, bytes, cuts[k], cuts[k + 1]);
    assert.equal(c, naiveCrc(bytes), `round ${round}, cuts ${cuts}`);
  }
});

Deno.test("ogg CRC: every page written by opusenc, oggenc and flac validates", async () => {
  for (const name of ["opus", "ogg_vorbis", "ogg_flac"] as const) {
    const bytes = await Deno.readFile((await fixture(name)).path);
    let at = 0;
    let pages = 0;
    while (at < bytes.length) {
      const h = parsePageHeader(bytes, at);
      assert(h !== null, `${name}: page at ${at}`);
      const page = bytes.subarray(at, at + h.headerSize + h.bodySize);
      assert(pageCrcValid(page), `${name}: CRC of page ${pages}`);
      assert.equal(pageCrc(page), naivePageCrc(page));
      // A single flipped body bit must break it.
      const broken = page.slice();
      broken[broken.length - 1] ^= 0x10;
      assert(!pageCrcValid(broken));
      at += page.length;
      pages++;
    }
    assert(pages >= 3, `${name}: ${pages} pages`);
  }
});

Deno.test("ogg CRC: shifting by zero bytes equals appending zeros", () => {
  const rand = mulberry32(5);
  for (let t = 0; t < 200; t++) {
    const bytes = new Uint8Array(1 + Math.floor(rand() * 16));
    for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(rand() * 256);
    const n = t < 100 ? t : Math.floor(rand() * MAX_PAGE_SIZE);
    const padded = new Uint8Array(bytes.length + n);
    padded.set(bytes);
    assert.equal(crcShiftZeros(crcUpdate(0, bytes), n), naiveCrc(padded), `n=${n}`);
  }
});

Deno.test("ogg CRC: the sequence patch equals a full recomputation for many pages", () => {
  const rand = mulberry32(99);
  for (let t = 0; t < 400; t++) {
    const page = randomPage(rand);
    const oldSeq = u32le(page, SEQ_AT);
    const newSeq = t % 7 === 0 ? oldSeq : Math.floor(rand() * 2 ** 32);
    const patched = page.slice();
    putU32le(patched, SEQ_AT, newSeq);
    const want = naivePageCrc(patched);
    assert.equal(
      patchedCrc(u32le(page, CRC_AT), oldSeq, newSeq, page.length),
      want,
      `page ${t} (${page.length} bytes)`,
    );
  }
});

Deno.test("ogg lacing: values, page splits and 255-multiples", () => {
  assert.deepEqual(lacePacket(0), [[0]]);
  assert.deepEqual(lacePacket(254), [[254]]);
  assert.deepEqual(lacePacket(255), [[255, 0]]);
  assert.deepEqual(lacePacket(600), [[255, 255, 90]]);
  const full = lacePacket(255 * 255);
  assert.equal(full.length, 2);
  assert.equal(full[0].length, 255);
  assert.deepEqual(full[1], [0]);
  for (const n of [1, 65024, 65025, 65026, 1_000_000, 3_000_001]) {
    const pages = lacePacket(n);
    let sum = 0;
    pages.forEach((p, i) => {
      assert(p.length <= 255 && p.length > 0);
      // Only the last page ends the packet (a value < 255).
      assert.equal(p.some((v) => v < 255), i === pages.length - 1);
      for (const v of p) sum += v;
    });
    assert.equal(sum, n);
  }
});

Deno.test("ogg page header: parse, non-pages and cut-off headers", () => {
  const header = buildPageHeader({ flags: 2, serial: 0xdeadbeef, seq: 7, lacing: [255, 3] });
  const page = new Uint8Array(header.length + 258);
  page.set(header);
  setPageCrc(page, pageCrc(page));
  const h = parsePageHeader(page)!;
  assert.equal(h.serial, 0xdeadbeef);
  assert.equal(h.seq, 7);
  assert.equal(h.flags, 2);
  assert.equal(h.headerSize, 29);
  assert.equal(h.bodySize, 258);
  assert(pageCrcValid(page));
  assert.equal(parsePageHeader(new TextEncoder().encode("OggX".padEnd(40, "\0"))), null);
  const v1 = page.slice();
  v1[4] = 1;
  assert.equal(parsePageHeader(v1), null, "version 1 is not a page");
  const flags = page.slice();
  flags[5] = 8;
  assert.equal(parsePageHeader(flags), null, "unknown flags");
  assert.throws(() => parsePageHeader(page.subarray(0, 20)), FormatError);
  assert.throws(() => parsePageHeader(page.subarray(0, 28)), FormatError);
  assert.throws(() =>
    buildPageHeader({ flags: 0, serial: 0, seq: 0, lacing: new Array(256).fill(1) })
  );
});
