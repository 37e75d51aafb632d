// readOggAudio: audio pages served with sequence += delta and the CRC patched
// algebraically, checked against a naive full re-patch (reference CRC over
// every page) for random and sequential ranges, real and synthetic streams,
// false "OggS" captures in payloads, wrap-around, overruns and read bounds.

import assert from "node:assert/strict";
import { readOggAudio, readOggAudioInto } from "../../src/format/ogg/audio.ts";
import { MAX_PAGE_SIZE } from "../../src/format/ogg/page.ts";
import { BufferSource } from "../../src/format/source.ts";
import { FormatError } from "../../src/format/types.ts";
import { coverJpeg, run, sourceWav } from "../fixtures/fixtures.ts";
import { concatBytes as concat } from "../fixtures/tools.ts";
import { addArt, assertPcmEqual, assertRandomRanges, roundTrip, sha256 } from "./harness.ts";
import { mulberry32 } from "./mutate.ts";
import {
  assertCleanStream,
  assertToolsHappy,
  bigJpeg,
  canonicalPages,
  CountingSource,
  naiveRepatch,
  syntheticStream,
  walkPages,
} from "./ogg_util.ts";
import { scratchDir } from "../scratch.ts";

function seg(bytes: Uint8Array, seqDelta: number, offset = 0, length = bytes.length - offset) {
  return { offset, length, seqDelta };
}

/** Random ranges of readOggAudio equal the same slices of the naive re-patch. */
function checkRandomRanges(
  file: Uint8Array,
  s: { offset: number; length: number; seqDelta: number },
  count: number,
  seed: number,
): void {
  const want = naiveRepatch(file.subarray(s.offset, s.offset + s.length), s.seqDelta);
  const rand = mulberry32(seed);
  const backing = new BufferSource(file);
  for (let i = 0; i < count; i++) {
    const from = Math.floor(rand() * s.length);
    const max = s.length - from;
    const length = rand() < 0.6
      ? Math.min(max, Math.floor(rand() * 200))
      : Math.floor(rand() * max);
    let got: Uint8Array;
    if (i % 3 === 0) {
      // The in-place variant fills a window of a larger reused buffer.
      const buf = new Uint8Array(length + 16).fill(0xee);
      readOggAudioInto(backing, s, from, buf.subarray(8, 8 + length));
      assert(
        buf.subarray(0, 8).every((v) => v === 0xee) &&
          buf.subarray(8 + length).every((v) => v === 0xee),
      );
      got = buf.subarray(8, 8 + length);
    } else {
      got = readOggAudio(backing, s, from, length);
    }
    assert.equal(got.length, length);
    assert(
      sha256(got) === sha256(want.subarray(from, from + length)),
      `range ${from}+${length} (delta ${s.seqDelta})`,
    );
  }
  // The backing bytes are never modified in place.
  assert.equal(sha256(backing.bytes), sha256(file));
}

Deno.test("ogg audio: a real multi-page Opus stream behind a 1 MiB picture", async () => {
  using tmp = scratchDir("musefs-ogg-audio-");
  const dir = tmp.path;
  // Short container delay: one page per few packets, so the audio has many pages.
  const path = `${dir}/paged.opus`;
  await run(["opusenc", "--quiet", "--max-delay", "10", await sourceWav(), path], {
    check: true,
  });
  const big = bigJpeg(await coverJpeg(), 1 << 20, mulberry32(8));
  const rt = await roundTrip(path, {
    dir,
    edit(input, blobs) {
      addArt(input, blobs, big, { mime: "image/jpeg", pictureType: 3, width: 32, height: 32 });
    },
  });
  const audio = rt.layout.segments.at(-1)!;
  assert(audio.kind === "ogg-audio");
  assert(audio.seqDelta > 10, `seqDelta ${audio.seqDelta}`);
  const pages = walkPages(rt.originalBytes, audio.offset);
  assert(pages.length >= 20, `${pages.length} audio pages`);
  checkRandomRanges(rt.originalBytes, audio, 300, 17);
  // Whole-page reads and page-boundary-straddling reads.
  const backing = new BufferSource(rt.originalBytes);
  const want = naiveRepatch(rt.originalBytes.subarray(audio.offset), audio.seqDelta);
  for (const p of pages) {
    const rel: number = p.offset - audio.offset;
    const probes: [number, number][] = [[rel, p.size], [rel + 20, 10], [
      Math.max(0, rel - 3),
      30,
    ]];
    for (const [from, len] of probes) {
      const n = Math.min(len, audio.length - from);
      assert.deepEqual(readOggAudio(backing, audio, from, n), want.subarray(from, from + n));
    }
  }
  assertCleanStream(rt.bytes);
  assertRandomRanges(rt, 200, 5);
  await assertPcmEqual(rt);
  await assertToolsHappy(rt.outPath);
});

Deno.test("ogg audio: sequential reads use the page memo (no backward search)", () => {
  const rand = mulberry32(3);
  const sizes = Array.from({ length: 60 }, () => 100 + Math.floor(rand() * 9000));
  const file = syntheticStream(sizes, rand, 5);
  const s = seg(file, 1234);
  const want = naiveRepatch(file, 1234);
  const src = new CountingSource(file);
  const chunk = 4096;
  for (let from = 0; from < file.length; from += chunk) {
    const n = Math.min(chunk, file.length - from);
    assert.deepEqual(readOggAudio(src, s, from, n), want.subarray(from, from + n));
  }
  // Requested bytes plus page headers only: no 64 KiB search windows.
  assert(src.bytes < file.length + 60 * 2 * 282, `read ${src.bytes} for ${file.length}`);
});

Deno.test("ogg audio: synthetic streams, page sizes from 27 to 65,307 bytes, wrap-around", () => {
  const rand = mulberry32(21);
  const sizes = [0, 1, 254, 255, 65025, 40000, 0, 0, 3, 65025, 12000, 510, 65025, 7];
  for (const [firstSeq, delta] of [[0, 1], [2 ** 32 - 3, 7], [100, 2 ** 32 - 100], [9, 2 ** 31]]) {
    const file = syntheticStream(sizes, rand, firstSeq);
    const pages = walkPages(file);
    assert.equal(Math.max(...pages.map((p) => p.size)), MAX_PAGE_SIZE);
    checkRandomRanges(file, seg(file, delta), 150, firstSeq + delta);
  }
});

Deno.test("ogg audio: false 'OggS' captures in payloads are rejected by CRC", () => {
  const rand = mulberry32(77);
  const sizes = Array.from({ length: 12 }, () => 20000 + Math.floor(rand() * 40000));
  // Plant plausible headers (version 0, small lacing) with wrong CRCs all over the payloads.
  const fake = [0x4f, 0x67, 0x67, 0x53, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x34, 0x12, 0, 0];
  const file = syntheticStream(sizes, rand, 0, (_page, body) => {
    for (let at = 100; at + 40 < body.length; at += 997 + Math.floor(rand() * 3000)) {
      body.set(fake, at);
      body.fill(0, at + 18, at + 26);
      body[at + 26] = 1;
      body[at + 27] = 10;
    }
  });
  checkRandomRanges(file, seg(file, 5), 200, 4);
});

Deno.test("ogg audio: a segment inside a larger file, delta 0 passes bytes through", () => {
  const rand = mulberry32(9);
  const audio = syntheticStream([500, 3000, 70, 9000], rand, 3);
  const file = new Uint8Array(777 + audio.length);
  file.set(audio, 777);
  const backing = new BufferSource(file);
  const s = { offset: 777, length: audio.length, seqDelta: 0 };
  assert.deepEqual(readOggAudio(backing, s, 10, 600), audio.subarray(10, 610));
  checkRandomRanges(file, { ...s, seqDelta: 2 }, 100, 1);
  assert.equal(readOggAudio(backing, s, 5, 0).length, 0);
});

Deno.test("ogg audio: non-page bytes are served verbatim, reads stay bounded", () => {
  const rand = mulberry32(31);
  const file = syntheticStream([4000, 4000, 4000], rand);
  const backing = new BufferSource(file);
  const malformed = (f: () => unknown) =>
    assert.throws(f, (e) => e instanceof FormatError && e.kind === "malformed");
  // The last page runs past the segment end: it is non-page bytes, served as they are.
  const cut = { offset: 0, length: file.length - 10, seqDelta: 1 };
  const cutWant = naiveRepatch(file.subarray(0, cut.length), 1);
  assert.deepEqual(readOggAudio(backing, cut, 0, 100), cutWant.subarray(0, 100));
  assert.deepEqual(
    readOggAudio(backing, cut, file.length - 50, 40),
    file.subarray(file.length - 50, file.length - 10),
  );
  checkRandomRanges(file, cut, 100, 2);
  // Ranges outside the segment are still errors (a caller bug, not a file problem).
  malformed(() => readOggAudio(backing, seg(file, 1), file.length - 5, 10));
  malformed(() => readOggAudio(backing, seg(file, 1), -1, 10));
  // No page at all: every byte as it is.
  const junk = new Uint8Array(50000).map(() => (rand() * 256) | 0);
  assert.deepEqual(
    readOggAudio(new BufferSource(junk), seg(junk, 1), 0, 100),
    junk.subarray(0, 100),
  );
  assert.deepEqual(
    readOggAudio(new BufferSource(junk), seg(junk, 1), 30000, 100),
    junk.subarray(30000, 30100),
  );
  // More than 64 plausible headers before the real page start: the search gives up.
  const crowded = syntheticStream([65025], rand, 0, (_p, body) => {
    for (let i = 0; i < 100; i++) {
      const at = 60000 - i * 40;
      body.set([0x4f, 0x67, 0x67, 0x53, 0, 0], at);
      body[at + 26] = 0;
    }
  });
  const src = new CountingSource(crowded);
  malformed(() => readOggAudio(src, seg(crowded, 1), 60500, 10));
  assert(src.reads <= 2 && src.bytes <= 10 + 2 * MAX_PAGE_SIZE, `${src.reads} reads`);
  // A random read in a normal stream: one window of at most two pages plus headers.
  const big = syntheticStream([65025, 65025, 65025, 65025], rand);
  const counted = new CountingSource(big);
  readOggAudio(counted, seg(big, 3), 150000, 1000);
  assert(counted.bytes <= 1000 + 2 * MAX_PAGE_SIZE + 282, `read ${counted.bytes}`);
  assert(counted.reads <= 3, `${counted.reads} reads for one random range`);
});

/** Sequential reads of `chunk` bytes (the memo path) equal the reference. */
function checkSequential(file: Uint8Array, delta: number, chunk: number): void {
  const want = naiveRepatch(file, delta);
  const src = new BufferSource(file);
  const s = seg(file, delta);
  for (let from = 0; from < file.length; from += chunk) {
    const n = Math.min(chunk, file.length - from);
    const got = readOggAudio(src, s, from, n);
    assert(sha256(got) === sha256(want.subarray(from, from + n)), `chunk ${from}+${n}`);
  }
}

Deno.test("ogg audio: junk, partial pages and a cut-off tail between real pages", () => {
  const rand = mulberry32(404);
  const pages = (n: number, seq: number) =>
    syntheticStream(Array.from({ length: n }, () => 50 + Math.floor(rand() * 9000)), rand, seq);
  const noise = (n: number) => new Uint8Array(n).map(() => (rand() * 256) | 0);
  const a = pages(8, 10);
  const b = pages(8, 18);
  const c = pages(8, 26);
  const partial = syntheticStream([5000], rand, 99).subarray(0, 1500); // a page cut short, then a real page
  const zeros = new Uint8Array(70000); // longer than any page: no page covers its middle
  const tail = pages(1, 40);
  const cases: Record<string, Uint8Array> = {
    "junk between pages": concat([a, noise(333), b, noise(1), c]),
    "partial page between pages": concat([a, partial, b]),
    "junk at the start": concat([noise(77), a, b]),
    "a long zero run": concat([a, zeros, b]),
    "a cut-off final page": concat([a, b, tail.subarray(0, tail.length - 7)]),
    "a final page cut inside its header": concat([a, b, tail.subarray(0, 20)]),
    "trailing junk after the last page": concat([a, b, noise(128)]),
    "a page with a broken CRC in a run": (() => {
      const f = concat([a, b]);
      f[a.length + 100] ^= 0x10; // first page of b, payload: CRC now wrong
      return f;
    })(),
  };
  for (const [name, file] of Object.entries(cases)) {
    // The reference sees every real page and nothing else.
    const want = name === "junk between pages" ? 24 : 16;
    assert.equal(canonicalPages(file).length, want, name);
    for (const delta of [1, 2 ** 32 - 5, 777]) {
      try {
        checkRandomRanges(file, seg(file, delta), 120, delta);
        for (const chunk of [4096, 1000, 65536, 7]) {
          if (chunk === 7 && file.length > 40000) continue;
          checkSequential(file, delta, chunk);
        }
      } catch (e) {
        throw new Error(`${name}, delta ${delta}: ${e}`);
      }
    }
  }
});
