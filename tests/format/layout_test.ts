import assert from "node:assert/strict";
import {
  base64Encode,
  base64Length,
  base64Loop,
  base64Native,
  makeLayout,
  materialize,
  readLayoutInto,
  readLayoutRange,
  segmentAt,
} from "../../src/format/layout.ts";
import {
  compareKey,
  extensionOf,
  formatForPath,
  inputFromProbe,
  MemoryBlobs,
  probeKindForPath,
  probePath,
} from "../../src/format/mod.ts";
import { BufferSource } from "../../src/format/source.ts";
import type { Segment } from "../../src/format/types.ts";
import { isFormatError, randomBytes } from "./harness.ts";
import { mulberry32 } from "./mutate.ts";

/** Reference base64 through the platform's btoa. */
function refBase64(b: Uint8Array): string {
  let s = "";
  for (const x of b) s += String.fromCharCode(x);
  return btoa(s);
}

Deno.test("base64Encode matches btoa for every length up to 64", () => {
  for (let n = 0; n <= 64; n++) {
    const raw = randomBytes(n, n + 1);
    assert.equal(new TextDecoder().decode(base64Encode(raw)), refBase64(raw));
    assert.equal(base64Length(n), refBase64(raw).length);
  }
});

const toBase64 = (Uint8Array.prototype as { toBase64?: (this: Uint8Array) => string }).toBase64;

Deno.test({
  name:
    "base64Encode: the engine's encoder, chunk by chunk, and the loop match btoa up to a cover's size",
  // Without Uint8Array.prototype.toBase64, base64Encode is the loop (checked up to 64 bytes above).
  ignore: toBase64 === undefined,
  fn() {
    const chunk = 49152;
    const lengths = [0, 1, 2, 3, 255, 256, 257, 300_000, 300_001, 300_002];
    for (const around of [chunk, 2 * chunk, 6 * chunk]) {
      for (let d = -3; d <= 3; d++) lengths.push(around + d);
    }
    for (const n of lengths) {
      const raw = randomBytes(n, n + 7);
      const want = refBase64(raw);
      const dec = new TextDecoder();
      assert.equal(dec.decode(base64Native(raw, toBase64!)), want, `native, ${n} bytes`);
      assert.equal(dec.decode(base64Loop(raw)), want, `loop, ${n} bytes`);
      assert.equal(dec.decode(base64Encode(raw)), want, `${n} bytes`);
      // A view into a larger buffer encodes only its own bytes.
      const inside = new Uint8Array(n + 10);
      inside.set(raw, 5);
      assert.equal(dec.decode(base64Encode(inside.subarray(5, 5 + n))), want, `view, ${n} bytes`);
    }
  },
});

Deno.test("makeLayout sums lengths and rejects bad segments", () => {
  const l = makeLayout([
    { kind: "inline", bytes: new Uint8Array(3) },
    { kind: "backing", offset: 10, length: 0 },
    { kind: "art", artId: 1, length: 5 },
  ]);
  assert.equal(l.size, 8);
  const bad: Segment[][] = [
    [{ kind: "inline", bytes: new Uint8Array(0) }],
    [{ kind: "art", artId: 1, length: 0 }],
    [{ kind: "binary-tag", id: 1, length: 0 }],
    [{ kind: "art", artId: 1, length: -1 }],
    [{ kind: "art", artId: 1, length: 1.5 }],
    [{ kind: "backing", offset: -1, length: 4 }],
    [{ kind: "backing", offset: 0, length: Number.MAX_SAFE_INTEGER + 2 }],
    [{ kind: "ogg-audio", offset: 0, length: 4, seqDelta: 0.5 }],
    [{ kind: "ogg-art", artId: 1, offset: 0, length: 0, base64: true, artTotal: 3 }],
    // base64 of 4 bytes is 8 characters: 5+4 > 8
    [{ kind: "ogg-art", artId: 1, offset: 5, length: 4, base64: true, artTotal: 4 }],
    [{ kind: "ogg-art", artId: 1, offset: 2, length: 3, base64: false, artTotal: 4 }],
    [{ kind: "nonsense" } as unknown as Segment],
  ];
  for (const segs of bad) assert.throws(() => makeLayout(segs), isFormatError("invalid-input"));
  // Edges that are allowed: empty audio, a slice ending exactly at the image end.
  makeLayout([{ kind: "ogg-audio", offset: 0, length: 0, seqDelta: 3 }]);
  makeLayout([{ kind: "ogg-art", artId: 1, offset: 4, length: 4, base64: true, artTotal: 4 }]);
  makeLayout([{ kind: "ogg-art", artId: 1, offset: 1, length: 3, base64: false, artTotal: 4 }]);
});

function fixtureLayout() {
  const backingBytes = randomBytes(5000, 11);
  const blobs = new MemoryBlobs();
  const art = randomBytes(1001, 12);
  const artId = blobs.addArt(art);
  const tagId = blobs.addBinaryTag(randomBytes(77, 13));
  const b64 = base64Encode(art);
  const segments: Segment[] = [
    { kind: "inline", bytes: randomBytes(10, 14) },
    { kind: "art", artId, length: art.length },
    { kind: "backing", offset: 0, length: 0 },
    { kind: "binary-tag", id: tagId, length: 77 },
    { kind: "ogg-art", artId, offset: 0, length: 400, base64: true, artTotal: art.length },
    { kind: "inline", bytes: randomBytes(3, 15) },
    { kind: "ogg-art", artId, offset: 400, length: b64.length - 400, base64: true, artTotal: 1001 },
    { kind: "ogg-art", artId, offset: 17, length: 500, base64: false, artTotal: art.length },
    { kind: "backing", offset: 1234, length: 3000 },
  ];
  // The expected served bytes, built independently of readLayoutRange.
  const expected = new Uint8Array([
    ...segments[0].kind === "inline" ? segments[0].bytes : [],
    ...art,
    ...blobs.binaryTag(tagId, 0, 77),
    ...b64.subarray(0, 400),
    ...(segments[5].kind === "inline" ? segments[5].bytes : []),
    ...b64.subarray(400),
    ...art.subarray(17, 517),
    ...backingBytes.subarray(1234, 4234),
  ]);
  const layout = makeLayout(segments);
  return { layout, sources: { backing: new BufferSource(backingBytes), blobs }, expected };
}

Deno.test("materialize produces every kind of segment", () => {
  const { layout, sources, expected } = fixtureLayout();
  assert.equal(layout.size, expected.length);
  assert.deepEqual(materialize(layout, sources), expected);
});

Deno.test("readLayoutRange: any window equals the slice of the whole", () => {
  const { layout, sources, expected } = fixtureLayout();
  const rand = mulberry32(99);
  for (let i = 0; i < 3000; i++) {
    const offset = Math.floor(rand() * (layout.size + 5));
    const length = Math.floor(rand() * (i % 10 === 0 ? layout.size : 40));
    const got = readLayoutRange(layout, offset, length, sources);
    assert.deepEqual(got, expected.subarray(offset, Math.min(layout.size, offset + length)));
  }
  // Into a reused buffer.
  const buf = new Uint8Array(100);
  assert.equal(readLayoutInto(layout, layout.size - 30, buf, sources), 30);
  assert.deepEqual(buf.subarray(0, 30), expected.subarray(layout.size - 30));
  assert.equal(readLayoutRange(layout, layout.size, 10, sources).length, 0);
  assert.throws(() => readLayoutRange(layout, -1, 10, sources), isFormatError("invalid-input"));
});

Deno.test("base64 art windows are right at every offset", () => {
  const blobs = new MemoryBlobs();
  for (const n of [1, 2, 3, 4, 5, 31, 32, 33]) {
    const art = randomBytes(n, n);
    const artId = blobs.addArt(art);
    const text = refBase64(art);
    for (let off = 0; off < text.length; off++) {
      for (let len = 1; off + len <= text.length; len++) {
        const layout = makeLayout([
          { kind: "ogg-art", artId, offset: off, length: len, base64: true, artTotal: n },
        ]);
        const got = materialize(layout, { backing: new BufferSource(new Uint8Array()), blobs });
        assert.equal(new TextDecoder().decode(got), text.slice(off, off + len));
      }
    }
  }
});

Deno.test("segmentAt skips empty audio segments", () => {
  const layout = makeLayout([
    { kind: "inline", bytes: new Uint8Array(4) },
    { kind: "backing", offset: 0, length: 0 },
    { kind: "backing", offset: 0, length: 8 },
  ]);
  assert.equal(segmentAt(layout, 0), 0);
  assert.equal(segmentAt(layout, 3), 0);
  assert.equal(segmentAt(layout, 4), 2);
  assert.equal(segmentAt(layout, 11), 2);
});

Deno.test("a short read from any source is an error, never zero-filled", () => {
  const blobs = new MemoryBlobs();
  const artId = blobs.addArt(new Uint8Array(10));
  const tagId = blobs.addBinaryTag(new Uint8Array(2));
  const backing = new BufferSource(new Uint8Array(100));
  const sources = { backing, blobs };
  const layouts = [
    makeLayout([{ kind: "art", artId, length: 11 }]),
    makeLayout([{ kind: "binary-tag", id: tagId, length: 3 }]),
    makeLayout([{ kind: "backing", offset: 90, length: 20 }]),
    makeLayout([{ kind: "ogg-art", artId, offset: 0, length: 16, base64: true, artTotal: 12 }]),
  ];
  for (const l of layouts) assert.throws(() => materialize(l, sources), isFormatError("truncated"));
  // A missing blob is a typed error too.
  const missing = makeLayout([{ kind: "art", artId: 999, length: 1 }]);
  assert.throws(() => materialize(missing, sources), isFormatError());
});

// ---------------------------------------------------------------- mod.ts dispatch helpers

Deno.test("dispatch by extension; Ogg kinds decided by content", () => {
  assert.equal(extensionOf("/a/b.c/Song.FLAC"), "flac");
  assert.equal(extensionOf("/a/b.c/noext"), "");
  assert.equal(extensionOf(".hidden"), "");
  const cases: [string, string | null, string | null][] = [
    ["x.flac", "flac", "flac"],
    ["x.MP3", "mp3", "mp3"],
    ["x.m4a", "m4a", "m4a"],
    ["x.m4b", "m4a", "m4a"],
    ["x.ogg", "ogg", "vorbis"],
    ["x.oga", "ogg", "oggflac"],
    ["x.opus", "ogg", "opus"],
    ["x.wav", "wav", "wav"],
    ["x.txt", null, null],
    ["x.aac", null, null],
  ];
  for (const [path, kind, format] of cases) {
    assert.equal(probeKindForPath(path), kind, path);
    assert.equal(formatForPath(path), format, path);
  }
  assert.equal(probePath("x.txt", new BufferSource(new Uint8Array(4))), null);
  assert.throws(
    () => probePath("x.flac", new BufferSource(encodeAscii("OggS"))),
    isFormatError("malformed"),
  );
});

Deno.test("inputFromProbe orders rows as the store does (BINARY collation)", () => {
  const { input, blobs } = inputFromProbe({
    format: "flac",
    audioOffset: 10,
    audioLength: 5,
    tags: [
      { key: "title", value: "t", ordinal: 0 },
      { key: "artist", value: "b", ordinal: 1 },
      { key: "artist", value: "a", ordinal: 0 },
      { key: "TRACKTOTAL", value: "12", ordinal: 0 },
      { key: "été", value: "x", ordinal: 0 },
    ],
    pictures: [{
      mime: "image/png",
      pictureType: 3,
      description: "",
      width: null,
      height: 2,
      data: new Uint8Array([1, 2]),
    }],
    binaryTags: [
      { key: "CUESHEET", ordinal: 0, data: new Uint8Array([9]) },
      { key: "APPLICATION", ordinal: 0, data: new Uint8Array([8, 8]) },
    ],
    structural: [],
  }, 15);
  assert.deepEqual(input.tags.map((t) => `${t.key}${t.ordinal}`), [
    "TRACKTOTAL0",
    "artist0",
    "artist1",
    "title0",
    "été0",
  ]);
  assert.deepEqual(input.binaryTags.map((t) => [t.key, t.length]), [["APPLICATION", 2], [
    "CUESHEET",
    1,
  ]]);
  assert.deepEqual(blobs.binaryTag(input.binaryTags[0].id, 0, 2), new Uint8Array([8, 8]));
  assert.deepEqual(input.art.map((a) => [a.byteLen, a.width, a.height]), [[2, null, 2]]);
  assert.deepEqual(blobs.art(input.art[0].artId, 1, 5), new Uint8Array([2]));
  assert.ok(compareKey("Z", "a") < 0 && compareKey("é", "z") > 0 && compareKey("a", "ab") < 0);
  assert.ok(compareKey("\uFFFD", "\u{1F600}") < 0); // UTF-8 order, not UTF-16
});

function encodeAscii(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}
