import assert from "node:assert/strict";
import { concat, encodeUtf8, putU24be, putU32be } from "../../src/format/bytes.ts";
import { probeFlac, synthesizeFlac, walkFlacBlocks, WindowReader } from "../../src/format/flac.ts";
import { skipLeadingId3 } from "../../src/format/flac.ts";
import { parsePictureBody, pictureBlockPrefix } from "../../src/format/flac_picture.ts";
import { inputFromProbe, materialize, MemoryBlobs } from "../../src/format/mod.ts";
import { BoundedSource, BufferSource } from "../../src/format/source.ts";
import { FormatError, type SynthInput } from "../../src/format/types.ts";
import { type Fixture, fixture, mutagenTags, pcmMd5, run, TAGS } from "../fixtures/fixtures.ts";
import {
  addArt,
  addBinaryTag,
  assertAudioIdentical,
  assertMutagenMatchesInput,
  assertMutagenSameAsOriginal,
  assertPcmEqual,
  assertRandomRanges,
  assertReprobeMatchesInput,
  isFormatError,
  pictureViews,
  randomBytes,
  roundTrip,
  setTag,
  sha256,
  tagLines,
} from "./harness.ts";
import { assertFuzzClean, fuzzProbe, mutatedBySeed } from "./mutate.ts";
import { type ScratchDir, scratchDir } from "../scratch.ts";

const FLAC_FIXTURES = ["flac", "flac_id3"] as const;

// ---------------------------------------------------------------- file builders

interface RawBlock {
  type: number;
  body: Uint8Array;
}

function blockBytes(blocks: RawBlock[]): Uint8Array {
  return concat(blocks.flatMap((b, i) => {
    const h = new Uint8Array(4);
    h[0] = b.type | (i === blocks.length - 1 ? 0x80 : 0);
    putU24be(h, 1, b.body.length);
    return [h, b.body];
  }));
}

/** Rebuilds a FLAC file with its metadata blocks edited (front ID3 tags kept). */
function rebuildFlac(bytes: Uint8Array, edit: (blocks: RawBlock[]) => RawBlock[]): Uint8Array {
  const r = new WindowReader(new BufferSource(bytes));
  const { flacStart } = skipLeadingId3(r);
  const { blocks, audioOffset } = walkFlacBlocks(r, flacStart);
  const raw = blocks.map((b) => ({
    type: b.type,
    body: bytes.slice(b.offset + 4, b.offset + 4 + b.length),
  }));
  return concat([
    bytes.subarray(0, flacStart + 4),
    blockBytes(edit(raw)),
    bytes.subarray(audioOffset),
  ]);
}

/** One SEEKTABLE placeholder point (sample number all ones). */
const SEEKTABLE_BODY = concat([new Uint8Array(8).fill(0xff), new Uint8Array(10)]);
const APP_BODY = concat([encodeUtf8("musf"), randomBytes(300, 5)]);

/** The flac fixture with an APPLICATION and a SEEKTABLE block after STREAMINFO. */
async function flacWithAppAndSeektable(): Promise<Uint8Array> {
  const bytes = await Deno.readFile((await fixture("flac")).path);
  return rebuildFlac(bytes, (blocks) => [
    blocks[0],
    { type: 2, body: APP_BODY },
    { type: 3, body: SEEKTABLE_BODY },
    ...blocks.slice(1),
  ]);
}

/** `bytes` written to `<fresh temp dir>/<name>`; the dir goes when the scope ends. */
async function writeTemp(bytes: Uint8Array, name = "in.flac"): Promise<ScratchDir> {
  const dir = scratchDir("musefs-flac-");
  const path = `${dir.path}/${name}`;
  await Deno.writeFile(path, bytes);
  return { ...dir, path };
}

/** mutagen's list of FLAC metadata blocks: [code, sha256 of the body]. */
async function mutagenBlocks(path: string): Promise<[number, string][]> {
  const py = [
    "import sys, json, hashlib",
    "from mutagen.flac import FLAC",
    "f = FLAC(sys.argv[1])",
    "print(json.dumps([[b.code, hashlib.sha256(b.write()).hexdigest()] for b in f.metadata_blocks]))",
  ].join("\n");
  const r = await run(["/usr/bin/python3", "-c", py, path], { check: true });
  return JSON.parse(new TextDecoder().decode(r.stdout));
}

// ---------------------------------------------------------------- probe

function assertProbeFindsFixture(f: Fixture): void {
  const bytes = Deno.readFileSync(f.path);
  const src = new BoundedSource(new BufferSource(bytes));
  const p = probeFlac(src);
  const values = (k: string) => p.tags.filter((t) => t.key === k).map((t) => t.value);
  assert.equal(p.format, "flac");
  assert.deepEqual(values("title"), [f.expect.title]);
  assert.deepEqual(values("artist"), f.expect.artists);
  assert.deepEqual(values("album"), [f.expect.album]);
  assert.deepEqual(values("albumartist"), [f.expect.albumartist]);
  assert.deepEqual(values("tracknumber"), [f.expect.tracknumber]);
  assert.deepEqual(
    pictureViews(p.pictures).map(({ pictureType, ...rest }) => ({ ...rest, type: pictureType })),
    f.expect.pictures.map((e) => ({
      mime: e.mime,
      type: e.pictureType,
      description: e.description,
      width: e.width,
      height: e.height,
      sha256: e.sha256,
    })),
  );
  assert.deepEqual(p.structural.map((s) => [s.kind, s.body.length]), [["STREAMINFO", 34]]);
  assert.equal(p.audioOffset + p.audioLength, bytes.length);
  // The audio starts with a FLAC frame sync (0xFFF8/0xFFF9).
  assert.equal(bytes[p.audioOffset], 0xff);
  assert.equal(bytes[p.audioOffset + 1] & 0xfe, 0xf8);
  // Bounded: the metadata plus one read window, not the whole file.
  assert.ok(src.bytesRead <= p.audioOffset + 8192, `read ${src.bytesRead}`);
}

Deno.test("probe finds the tags and art the encoder wrote (flac)", async () => {
  assertProbeFindsFixture(await fixture("flac"));
});

Deno.test("probe of a FLAC with a leading ID3 tag: Vorbis wins, ID3 fills gaps", async () => {
  const f = await fixture("flac_id3");
  assertProbeFindsFixture(f);
  const p = probeFlac(new BufferSource(await Deno.readFile(f.path)));
  // TIT2 is shadowed by the Vorbis TITLE (all-or-nothing per key); TCOM only exists in ID3.
  assert.deepEqual(p.tags.filter((t) => t.key === "title").map((t) => t.value), [TAGS.title]);
  assert.deepEqual(p.tags.filter((t) => t.key === "composer").map((t) => t.value), [
    TAGS.composerId3,
  ]);
  assert.ok(!p.tags.some((t) => t.value === TAGS.id3ShadowTitle));
  assert.ok(f.expect.id3, "fixture declares its ID3 frames");
});

// ---------------------------------------------------------------- round trips

for (const name of FLAC_FIXTURES) {
  Deno.test(`round trip ${name}: probe-back, audio bytes, PCM, mutagen, ranges`, async () => {
    await using rt = await roundTrip((await fixture(name)).path);
    assertReprobeMatchesInput(rt);
    assert.deepEqual(rt.reprobe.structural, rt.original.structural);
    assertAudioIdentical(rt);
    await assertPcmEqual(rt);
    await assertMutagenSameAsOriginal(rt);
    await assertMutagenMatchesInput(rt);
    assertRandomRanges(rt, 300, 42);
    // Only streamed parts: art never copied into inline bytes.
    const arts = rt.layout.segments.filter((s) => s.kind === "art");
    assert.equal(arts.length, rt.input.art.length);
    assert.equal(rt.layout.segments.at(-1)?.kind, "backing");
    // Vendor is ours, no PADDING block.
    const blocks = await mutagenBlocks(rt.outPath);
    assert.ok(!blocks.some(([code]) => code === 1), "no padding");
    assert.equal(blocks[0][0], 0);
  });
}

Deno.test("edits come back exactly through mutagen and decode identically", async () => {
  const f = await fixture("flac");
  const png1MiB = randomBytes(1024 * 1024, 99);
  const edits: [string, (input: SynthInput, blobs: MemoryBlobs) => void][] = [
    ["new title", (i) => setTag(i, "title", ["Ein neuer Titel — ✓"])],
    ["second artist", (i) => setTag(i, "artist", ["Artist One", "Zoë Two", "Third Artist"])],
    ["art removed", (i) => i.art = []],
    ["1 MiB picture", (i, b) => {
      i.art = [];
      addArt(i, b, png1MiB, { mime: "image/png", pictureType: 3, description: "big", width: 1 });
    }],
    ["APPLICATION binary tag", (i, b) => addBinaryTag(i, b, "APPLICATION", APP_BODY)],
  ];
  for (const [what, edit] of edits) {
    await using rt = await roundTrip(f.path, { edit });
    try {
      assertReprobeMatchesInput(rt);
      await assertMutagenMatchesInput(rt);
      await assertPcmEqual(rt);
      assertAudioIdentical(rt);
      if (what === "APPLICATION binary tag") {
        const blocks = await mutagenBlocks(rt.outPath);
        assert.ok(blocks.some(([c, h]) => c === 2 && h === sha256(APP_BODY)), what);
      }
      if (what === "1 MiB picture") {
        const seg = rt.layout.segments.find((s) => s.kind === "art");
        assert.equal(seg?.kind === "art" && seg.length, png1MiB.length);
        assertRandomRanges(rt, 100, 7);
      }
    } catch (e) {
      throw new Error(`edit "${what}": ${(e as Error).message}`);
    }
  }
});

Deno.test("APPLICATION and SEEKTABLE blocks survive as binary tag and structural rows", async () => {
  using file = await writeTemp(await flacWithAppAndSeektable());
  await using rt = await roundTrip(file.path);
  assert.deepEqual(
    rt.original.binaryTags.map((t) => [t.key, t.ordinal, sha256(t.data)]),
    [["APPLICATION", 0, sha256(APP_BODY)]],
  );
  assert.deepEqual(rt.original.structural.map((s) => s.kind), ["STREAMINFO", "SEEKTABLE"]);
  assertReprobeMatchesInput(rt);
  assert.deepEqual(rt.reprobe.structural, rt.original.structural);
  assert.ok(rt.layout.segments.some((s) => s.kind === "binary-tag"), "streamed, not inline");
  await assertPcmEqual(rt);
  const codes = (await mutagenBlocks(rt.outPath)).map(([c]) => c);
  assert.deepEqual(codes, [0, 3, 4, 2, 6, 6]);
});

Deno.test("legacy fallback: no structural rows → original front carried inline", async () => {
  const bytes = await flacWithAppAndSeektable();
  using file = await writeTemp(bytes);
  await using rt = await roundTrip(file.path, {
    edit: (input, blobs) => {
      input.structural = [];
      // Streamed binary tags are suppressed in legacy mode (the front carries them).
      addBinaryTag(input, blobs, "CUESHEET", randomBytes(50, 3));
    },
  });
  assert.ok(!rt.layout.segments.some((s) => s.kind === "binary-tag"));
  assert.deepEqual(rt.reprobe.structural, rt.original.structural);
  assert.deepEqual(
    rt.reprobe.binaryTags.map((t) => [t.key, sha256(t.data)]),
    [["APPLICATION", sha256(APP_BODY)]],
  );
  assert.deepEqual(tagLines(rt.reprobe.tags), tagLines(rt.input.tags));
  assert.ok(rt.reprobe.tags.length > 0);
  await assertPcmEqual(rt);
  await assertMutagenSameAsOriginal(rt);
  const codes = (await mutagenBlocks(rt.outPath)).map(([c]) => c);
  assert.deepEqual(codes, [0, 2, 3, 4, 6, 6]);
  // A backing file whose front no longer matches the stored offset is an error.
  const { input, blobs } = inputFromProbe(probeFlac(new BufferSource(bytes)), bytes.length);
  input.structural = [];
  input.audioOffset -= 1;
  input.audioLength += 1;
  assert.throws(
    () => synthesizeFlac(input, new BufferSource(bytes), blobs),
    isFormatError("malformed"),
  );
});

Deno.test("ID3v1 trailer is trimmed only behind a leading ID3 tag", async () => {
  const trailer = concat([encodeUtf8("TAG"), new Uint8Array(125).fill(0x20)]);
  for (const name of FLAC_FIXTURES) {
    const bytes = await Deno.readFile((await fixture(name)).path);
    const plain = probeFlac(new BufferSource(bytes));
    const withTrailer = concat([bytes, trailer]);
    const p = probeFlac(new BufferSource(withTrailer));
    const expected = name === "flac_id3" ? plain.audioLength : plain.audioLength + 128;
    assert.equal(p.audioLength, expected, name);
    if (name === "flac_id3") {
      using file = await writeTemp(withTrailer);
      await using rt = await roundTrip(file.path);
      assert.equal(rt.bytes.length, rt.reprobe.audioOffset + plain.audioLength);
      assert.equal(await pcmMd5(rt.outPath), await pcmMd5((await fixture(name)).path));
    }
  }
});

Deno.test("Vorbis field grammar: unwritable keys dropped, unknown keys uppercased", async () => {
  await using rt = await roundTrip((await fixture("flac")).path, {
    edit: (input) => {
      setTag(input, "bad=key", ["x"]);
      setTag(input, "ünicode", ["y"]);
      setTag(input, "mood", ["calm"]);
    },
  });
  const keys = rt.reprobe.tags.map((t) => t.key);
  assert.ok(keys.includes("MOOD"));
  assert.ok(!keys.includes("mood") && !keys.includes("bad=key") && !keys.includes("ünicode"));
  const v = await mutagenTags(rt.outPath);
  assert.deepEqual(v.raw["MOOD"], ["calm"]);
  assert.equal(v.raw["bad=key"], undefined);
});

// ---------------------------------------------------------------- synthesis errors

Deno.test("synthesis rejects bad structural rows and oversized blocks", async () => {
  const bytes = await Deno.readFile((await fixture("flac")).path);
  const backing = new BufferSource(bytes);
  const fresh = () => inputFromProbe(probeFlac(backing), bytes.length);
  const cases: [string, (i: SynthInput, b: MemoryBlobs) => void, string][] = [
    [
      "no STREAMINFO",
      (i) => i.structural = [{ kind: "SEEKTABLE", ordinal: 0, body: SEEKTABLE_BODY }],
      "invalid-input",
    ],
    ["33-byte STREAMINFO", (i) => i.structural[0].body = new Uint8Array(33), "invalid-input"],
    [
      "two STREAMINFO",
      (i) => i.structural.push({ ...i.structural[0], ordinal: 1 }),
      "invalid-input",
    ],
    ["picture block > 0xFFFFFF", (i) => i.art[0].byteLen = 0xffffff, "too-large"],
    ["comment block > 0xFFFFFF", (i) => setTag(i, "lyrics", ["x".repeat(0x1000000)]), "too-large"],
    [
      "binary tag > 0xFFFFFF",
      (i) => i.binaryTags.push({ id: 1, key: "CUESHEET", ordinal: 0, length: 0x1000000 }),
      "too-large",
    ],
    ["audio beyond backing", (i) => i.audioLength += 1, "invalid-input"],
  ];
  for (const [what, edit, kind] of cases) {
    const { input, blobs } = fresh();
    edit(input, blobs);
    assert.throws(() => synthesizeFlac(input, backing, blobs), isFormatError(kind), what);
  }
  // SEEKTABLEs come out after STREAMINFO whatever the row order.
  const { input, blobs } = fresh();
  input.structural.unshift({ kind: "SEEKTABLE", ordinal: 0, body: SEEKTABLE_BODY });
  const out = materialize(synthesizeFlac(input, backing, blobs), { backing, blobs });
  const p = probeFlac(new BufferSource(out));
  assert.deepEqual(p.structural.map((s) => s.kind), ["STREAMINFO", "SEEKTABLE"]);
});

// ---------------------------------------------------------------- hostile input

function id3Tag(bodySize: number, version = 3, flags = 0): Uint8Array {
  const h = new Uint8Array(10 + bodySize + (version === 4 && flags & 0x10 ? 10 : 0));
  h.set(encodeUtf8("ID3"));
  h[3] = version;
  h[5] = flags;
  h[6] = (bodySize >> 21) & 0x7f;
  h[7] = (bodySize >> 14) & 0x7f;
  h[8] = (bodySize >> 7) & 0x7f;
  h[9] = bodySize & 0x7f;
  return h;
}

Deno.test("crafted hostile FLAC fronts fail with the right FormatError", async () => {
  const bytes = await Deno.readFile((await fixture("flac")).path);
  const streaminfo = bytes.slice(8, 42);
  const mk = (blocks: RawBlock[], tail = new Uint8Array(16)) =>
    concat([encodeUtf8("fLaC"), blockBytes(blocks), tail]);
  const u32 = (v: number) => {
    const b = new Uint8Array(4);
    putU32be(b, 0, v);
    return b;
  };
  const hugeId3 = id3Tag(0);
  hugeId3.fill(0x7f, 6, 10); // declares 256 MiB
  const cases: [string, Uint8Array, string][] = [
    ["empty file", new Uint8Array(0), "truncated"],
    ["no marker", encodeUtf8("OggS and more bytes"), "malformed"],
    ["marker only", encodeUtf8("fLaC"), "truncated"],
    ["first block not STREAMINFO", mk([{ type: 4, body: new Uint8Array(8) }]), "malformed"],
    ["33-byte STREAMINFO", mk([{ type: 0, body: new Uint8Array(33) }]), "malformed"],
    [
      "second STREAMINFO",
      mk([{ type: 0, body: streaminfo }, { type: 0, body: streaminfo }]),
      "malformed",
    ],
    [
      "type 127",
      mk([{ type: 0, body: streaminfo }, { type: 127, body: new Uint8Array(4) }]),
      "malformed",
    ],
    [
      "block past the end",
      concat([
        encodeUtf8("fLaC"),
        new Uint8Array([0x00, 0, 0, 34]),
        streaminfo,
        new Uint8Array([0x81, 0xff, 0xff, 0xff]),
      ]),
      "truncated",
    ],
    [
      "no last-block flag before EOF",
      concat([encodeUtf8("fLaC"), new Uint8Array([0x00, 0, 0, 34]), streaminfo]),
      "truncated",
    ],
    [
      "vorbis comment with 2^32-1 entries",
      mk([{ type: 0, body: streaminfo }, { type: 4, body: concat([u32(0), u32(0xffffffff)]) }]),
      "truncated",
    ],
    ["ID3 tag larger than the file", concat([hugeId3, encodeUtf8("fLaC")]), "truncated"],
  ];
  for (const [what, input, kind] of cases) {
    assert.throws(
      () => probeFlac(new BoundedSource(new BufferSource(input))),
      isFormatError(kind),
      what,
    );
  }
});

Deno.test("stacked ID3 tags: 64 are skipped (v2.4 footer honoured), 65 are not", async () => {
  const bytes = await Deno.readFile((await fixture("flac")).path);
  const footer = id3Tag(5, 4, 0x10);
  const plain = probeFlac(new BufferSource(bytes));
  const p64 = probeFlac(new BufferSource(concat([...Array(64).fill(footer), bytes])));
  assert.equal(p64.audioOffset, plain.audioOffset + 64 * footer.length);
  assert.equal(footer.length, 25);
  assert.throws(
    () => probeFlac(new BufferSource(concat([...Array(65).fill(footer), bytes]))),
    isFormatError("malformed"),
  );
});

Deno.test("a malformed PICTURE block is skipped, the file still probes", async () => {
  const bytes = await Deno.readFile((await fixture("flac")).path);
  const bad = rebuildFlac(bytes, (blocks) =>
    blocks.map((b) => {
      if (b.type !== 6) return b;
      const body = b.body.slice();
      putU32be(body, 4, 0xfffffff0); // mime length beyond the block
      return { type: 6, body };
    }));
  const p = probeFlac(new BufferSource(bad));
  assert.equal(p.pictures.length, 0);
  assert.ok(p.tags.length > 0);
});

Deno.test("many empty PADDING blocks walk quickly", () => {
  const streaminfo = new Uint8Array(34);
  const blocks: RawBlock[] = [{ type: 0, body: streaminfo }];
  for (let i = 0; i < 100_000; i++) blocks.push({ type: 1, body: new Uint8Array(0) });
  const file = concat([encodeUtf8("fLaC"), blockBytes(blocks), new Uint8Array(10)]);
  const t0 = performance.now();
  const p = probeFlac(new BoundedSource(new BufferSource(file)));
  assert.equal(p.audioOffset, file.length - 10);
  assert.ok(performance.now() - t0 < 2000);
});

/** Seeds that once failed; replayed on every run. */
const REGRESSION_SEEDS: Record<string, number[]> = { flac: [], flac_id3: [] };

for (const name of FLAC_FIXTURES) {
  Deno.test(`hostile mutations of ${name}: FormatError or a result, bounded`, async () => {
    const bytes = await Deno.readFile((await fixture(name)).path);
    const hot = probeFlac(new BufferSource(bytes)).audioOffset + 64;
    const report = fuzzProbe(bytes, probeFlac, { hot, synthesize: true, seed: 1000 });
    for (const seed of REGRESSION_SEEDS[name]) {
      const m = mutatedBySeed(bytes, seed, hot);
      try {
        probeFlac(new BoundedSource(new BufferSource(m)));
      } catch (e) {
        assert.ok(e instanceof FormatError, `regression seed ${seed}`);
      }
    }
    assertFuzzClean(report);
  });
}

/** An ID3v2.3 tag with one TCOM frame and one APIC frame. */
function id3WithApic(image: Uint8Array): Uint8Array {
  const frame = (id: string, body: Uint8Array) => {
    const h = new Uint8Array(10);
    h.set(encodeUtf8(id));
    putU32be(h, 4, body.length);
    return concat([h, body]);
  };
  const tcom = frame("TCOM", concat([new Uint8Array([0]), encodeUtf8("Someone")]));
  const apic = frame(
    "APIC",
    concat([
      new Uint8Array([0]),
      encodeUtf8("image/png\0"),
      new Uint8Array([4]),
      encodeUtf8("id3 art\0"),
      image,
    ]),
  );
  const body = concat([tcom, apic]);
  const tag = id3Tag(body.length, 3);
  tag.set(body, 10);
  return tag;
}

Deno.test("leading ID3 APIC is used only when there is no PICTURE block", async () => {
  const bytes = await Deno.readFile((await fixture("flac")).path);
  const image = randomBytes(500, 8);
  const withPictures = concat([id3WithApic(image), bytes]);
  const p1 = probeFlac(new BufferSource(withPictures));
  assert.equal(p1.pictures.length, 2);
  assert.ok(p1.pictures.every((p) => sha256(p.data) !== sha256(image)));
  assert.deepEqual(p1.tags.filter((t) => t.key === "composer").map((t) => t.value), ["Someone"]);

  const noPictures = concat([
    id3WithApic(image),
    rebuildFlac(bytes, (blocks) => blocks.filter((b) => b.type !== 6)),
  ]);
  const p2 = probeFlac(new BufferSource(noPictures));
  assert.deepEqual(
    p2.pictures.map((p) => [p.mime, p.pictureType, p.description, sha256(p.data)]),
    [["image/png", 4, "id3 art", sha256(image)]],
  );
});

// ---------------------------------------------------------------- PICTURE bodies

Deno.test("PICTURE prefix + image parses back; hostile bodies are malformed", () => {
  const image = randomBytes(77, 4);
  const art = {
    artId: 1,
    mime: "image/jpeg",
    pictureType: 4,
    description: "Back — cover",
    width: 640,
    height: null,
    byteLen: image.length,
  };
  const body = concat([pictureBlockPrefix(art), image]);
  const p = parsePictureBody(body);
  assert.deepEqual({ ...p, data: sha256(p.data) }, {
    mime: "image/jpeg",
    pictureType: 4,
    description: "Back — cover",
    width: 640,
    height: null,
    data: sha256(image),
  });
  // Types outside 0–20 are stored as 0.
  assert.equal(
    parsePictureBody(concat([pictureBlockPrefix({ ...art, pictureType: 21 }), image])).pictureType,
    0,
  );
  const outOfRange = body.slice();
  putU32be(outOfRange, 0, 0xffffffff);
  assert.equal(parsePictureBody(outOfRange).pictureType, 0);
  // Every truncation of the body fails as malformed, never anything else.
  for (let n = 0; n < body.length; n++) {
    assert.throws(
      () => parsePictureBody(body.subarray(0, n)),
      isFormatError("malformed"),
      `cut ${n}`,
    );
  }
  // Oversized mime/description are refused on both sides.
  assert.throws(
    () => pictureBlockPrefix({ ...art, mime: "x".repeat(256) }),
    isFormatError("invalid-input"),
  );
  const longMime = body.slice();
  putU32be(longMime, 4, 256);
  assert.throws(() => parsePictureBody(longMime), isFormatError("malformed"));
});
