// MP4 structure on hand-made and transformed files: co64, stco → co64
// promotion over a 4 GiB virtual file, extra text tracks, top-level boxes,
// mdat header forms, and the ilst reader's details.

import assert from "node:assert/strict";
import { probeMp4, synthesizeMp4 } from "../../src/format/mp4.ts";
import { inputFromProbe, materialize, MemoryBlobs, readLayoutRange } from "../../src/format/mod.ts";
import { BoundedSource, BufferSource } from "../../src/format/source.ts";
import { FormatError, MAX_ART_BYTES, type SynthInput } from "../../src/format/types.ts";
import { fixture, pcmMd5 } from "../fixtures/fixtures.ts";
import { sha256 } from "./harness.ts";
import {
  assertChunkOracle,
  box,
  buildMp4,
  cat,
  chunkOffsets,
  data,
  fourcc,
  freeform,
  FTYP,
  item,
  mp4RoundTrip,
  pattern,
  rd32,
  textItem,
  toCo64,
  u32,
  VirtualSource,
  walk,
  zeros,
} from "./mp4_util.ts";
import { scratchDir } from "../scratch.ts";

const probeBytes = (b: Uint8Array) => probeMp4(new BoundedSource(new BufferSource(b)));

/** Probe → input (→ edit) → synthesize → materialize, all in memory. */
function serve(file: Uint8Array, edit?: (i: SynthInput, b: MemoryBlobs) => void) {
  const p = probeBytes(file);
  const { input, blobs } = inputFromProbe(p, file.length);
  edit?.(input, blobs);
  const backing = new BufferSource(file);
  const layout = synthesizeMp4(input, backing, blobs);
  const bytes = materialize(layout, { backing, blobs });
  return { probe: p, input, blobs, layout, bytes, reprobe: probeBytes(bytes) };
}

function assertServedOracle(file: Uint8Array) {
  const s = serve(file);
  assertChunkOracle(
    file,
    s.bytes,
    s.probe.audioOffset,
    s.reprobe.audioOffset,
    s.probe.audioOffset + s.probe.audioLength,
  );
  return s;
}

const tagLine = (t: { key: string; ordinal: number; value: string }) =>
  `${t.key}[${t.ordinal}]=${t.value}`;

Deno.test("mp4 co64: a real fixture rewritten with co64 plays and round-trips", async () => {
  using tmp = scratchDir("musefs-co64-");
  const dir = tmp.path;
  for (const name of ["m4a_moov_first", "m4a_moov_last"] as const) {
    const f = await fixture(name);
    const co64 = toCo64(await Deno.readFile(f.path));
    assert.ok(
      walk(co64).some((b) => b.type === "co64") && !walk(co64).some((b) => b.type === "stco"),
    );
    const path = `${dir}/${name}_co64.m4a`;
    await Deno.writeFile(path, co64);
    // The transformed input is itself valid: ffmpeg decodes it like the fixture.
    const pcm = await pcmMd5(f.path);
    assert.equal(await pcmMd5(path), pcm);
    await using rt = await mp4RoundTrip(path, (input) => {
      input.tags.push({ key: "zz_long", value: "x".repeat(5000), ordinal: 0 });
    });
    assert.ok(walk(rt.bytes).some((b) => b.type === "co64"), "co64 stays co64");
    assertChunkOracle(
      co64,
      rt.bytes,
      rt.original.audioOffset,
      rt.reprobe.audioOffset,
      rt.original.audioOffset + rt.original.audioLength,
    );
    assert.equal(await pcmMd5(rt.outPath), pcm, `${name}: served co64 file decodes identically`);
  }
});

Deno.test("mp4 hand-made: stco and co64, moov first and last, chunk oracle holds", () => {
  for (const co64 of [false, true]) {
    for (const moovFirst of [false, true]) {
      const file = buildMp4({
        moovFirst,
        tracks: [{ handler: "soun", chunks: [0, 7, 3999], co64 }],
      });
      const s = assertServedOracle(file);
      assert.equal(walk(s.bytes).filter((b) => b.type === (co64 ? "co64" : "stco")).length, 1);
      assert.deepEqual(s.reprobe.tags.map(tagLine), ["title[0]=Hand made"]);
    }
  }
});

Deno.test("mp4 promotion: stco entries near 4 GiB become co64 when the moov moves first", () => {
  // A virtual ~4 GiB file: [ftyp][mdat: 0xFFFFFF00 payload bytes][moov]. The
  // sound track's stco points near the end of the payload; a text (chapter)
  // track's stco stays low and must remain stco.
  const payloadStart = FTYP.length + 8;
  const payloadLength = 0xffff_ff00;
  const soundChunks = [0, 5000, payloadLength - 0x80];
  const moov = box(
    "moov",
    box("mvhd", u32(0), zeros(96)),
    ...[["soun", soundChunks], ["text", [10, 20]]].map(([h, chunks]) =>
      box(
        "trak",
        box(
          "mdia",
          box("hdlr", u32(0), u32(0), fourcc(h as string), zeros(13)),
          box(
            "minf",
            box(
              "stbl",
              box(
                "stco",
                u32(0),
                u32((chunks as number[]).length),
                ...(chunks as number[]).map((c) => u32(payloadStart + c)),
              ),
            ),
          ),
        ),
      )
    ),
  );
  const mdatHeader = cat(u32(payloadLength + 8), fourcc("mdat"));
  const moovAt = payloadStart + payloadLength;
  const src = new VirtualSource(moovAt + moov.length, [[0, FTYP], [FTYP.length, mdatHeader], [
    moovAt,
    moov,
  ]]);
  const p = probeMp4(new BoundedSource(src));
  assert.equal(p.audioOffset, payloadStart);
  assert.equal(p.audioLength, payloadLength);
  const { input, blobs } = inputFromProbe(p, src.size);
  input.tags.push({ key: "title", value: "t".repeat(400), ordinal: 0 });
  const layout = synthesizeMp4(input, src, blobs);
  const sources = { backing: src, blobs };
  const headEnd = layout.size - payloadLength;
  const head = readLayoutRange(layout, 0, headEnd, sources);
  const boxes = walk(head.subarray(0, headEnd - 8)); // the mdat runs on into the payload
  assert.deepEqual(boxes.filter((b) => b.type === "co64" || b.type === "stco").map((b) => b.type), [
    "co64",
    "stco",
  ]);
  const newStart = headEnd; // the mdat header is the last thing before the payload
  assert.equal(rd32(head, headEnd - 4), rd32(fourcc("mdat"), 0), "mdat header ends the head");
  const delta = newStart - payloadStart;
  assert.ok(payloadStart + soundChunks[2] + delta > 0xffff_ffff, "the shift overflows 32 bits");
  const offsets = chunkOffsets(head.subarray(0, headEnd - 8));
  assert.deepEqual(offsets, [...soundChunks, 10, 20].map((c) => payloadStart + c + delta));
  // Oracle over the virtual payload: bytes at each new offset are the old ones.
  for (const c of [...soundChunks, 10, 20]) {
    const served = readLayoutRange(layout, payloadStart + c + delta, 32, sources);
    assert.deepEqual(served, src.read(payloadStart + c, 32), `chunk at payload+${c}`);
  }
  assert.equal(layout.size, headEnd + payloadLength);
});

Deno.test("mp4 tracks: chapter text track accepted and shifted; video or two sound tracks refused", () => {
  const ok = buildMp4({
    tracks: [{ handler: "soun", chunks: [0, 100] }, { handler: "text", chunks: [3000] }],
  });
  const s = assertServedOracle(ok);
  assert.equal(walk(s.bytes).filter((b) => b.type === "trak").length, 2);
  for (
    const tracks of [
      [{ handler: "soun", chunks: [0] }, { handler: "vide", chunks: [10] }],
      [{ handler: "soun", chunks: [0] }, { handler: "soun", chunks: [10] }],
      [{ handler: "text", chunks: [0] }],
      [],
    ]
  ) {
    assert.throws(
      () => probeBytes(buildMp4({ tracks })),
      (e) => e instanceof FormatError && e.kind === "unsupported",
    );
  }
});

Deno.test("mp4 top level: free/skip/uuid skipped and dropped; moof, mvex, duplicates refused", () => {
  const extra = [box("free", zeros(10)), box("uuid", zeros(16)), box("skip")];
  const file = buildMp4({ extraTop: extra, moovFirst: true });
  const s = serve(file);
  assert.deepEqual(walk(s.bytes).filter((b) => !b.path.includes("/")).map((b) => b.type), [
    "ftyp",
    "moov",
    "mdat",
  ]);
  const kind = (k: string) => (e: unknown) => e instanceof FormatError && e.kind === k;
  assert.throws(
    () => probeBytes(buildMp4({ extraTop: [box("moof", zeros(8))] })),
    kind("unsupported"),
  );
  assert.throws(() => probeBytes(buildMp4({ moovExtra: [box("mvex")] })), kind("unsupported"));
  assert.throws(() => probeBytes(cat(buildMp4(), box("mdat", zeros(4)))), kind("unsupported"));
  assert.throws(() => probeBytes(buildMp4().subarray(FTYP.length)), kind("malformed"));
  assert.throws(() => probeBytes(cat(buildMp4(), zeros(3))), kind("truncated"));
});

Deno.test("mp4 mdat header forms: largesize and size 0 probe right and are served with 8 bytes", () => {
  for (
    const spec of [{ mdatLarge: true }, { mdatLarge: true, moovFirst: true }, {
      mdatSizeZero: true,
    }]
  ) {
    const file = buildMp4(spec);
    const s = assertServedOracle(file);
    assert.equal(s.probe.audioLength, 4000);
    const mdat = walk(file).find((b) => b.path === "mdat")!;
    assert.equal(s.probe.audioOffset, mdat.start + mdat.header);
    const served = walk(s.bytes).find((b) => b.path === "mdat")!;
    assert.deepEqual([served.header, served.size], [8, 4008]);
    assert.equal(
      sha256(s.bytes.subarray(served.start + 8)),
      sha256(file.subarray(s.probe.audioOffset, s.probe.audioOffset + 4000)),
    );
  }
});

Deno.test("mp4 a last moov declared with size 0 (to EOF) probes and serves", () => {
  const file = buildMp4({ moovSizeZero: true, ilst: [textItem("\u00a9nam", "zero")] });
  assert.equal(rd32(file, walk(file).find((b) => b.type === "moov")!.start), 0);
  const s = assertServedOracle(file);
  assert.deepEqual(s.reprobe.tags.map(tagLine), ["title[0]=zero"]);
});

Deno.test("mp4 chunk offsets outside the mdat payload are refused", () => {
  for (const chunks of [[4001], [-1]]) {
    assert.throws(
      () => probeBytes(buildMp4({ tracks: [{ handler: "soun", chunks }] })),
      (e) => e instanceof FormatError && e.kind === "unsupported",
    );
  }
});

Deno.test("mp4 ilst reader: QuickTime-style meta, freeform, integers, pairs, covers", () => {
  const big = zeros(MAX_ART_BYTES + 1);
  const jpeg = Uint8Array.of(0xff, 0xd8, 1, 2, 3);
  const png = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 9);
  const ilst = [
    textItem("\u00a9ART", "One", "", "Two"),
    textItem("\u00a9too", "ffmpeg"), // not vocabulary: dropped
    item("trkn", data(0, Uint8Array.of(0, 0, 0, 5, 0, 0, 0, 0))),
    item("disk", data(0, Uint8Array.of(0, 0, 0, 1, 0, 2))),
    item("tmpo", data(21, Uint8Array.of(0, 120))),
    item("cpil", data(21, Uint8Array.of(1))),
    item("pgap", data(21, Uint8Array.of(0xff))), // signed 8-bit
    freeform("com.apple.iTunes", "MusicBrainz Album Id", data(1, fourcc("mbid"))),
    freeform("COM.APPLE.ITUNES", "isrc", data(1, fourcc("ISRC1"))),
    freeform("org.example", "Mood", data(1, fourcc("calm"))),
    freeform("org.example", "Blob", data(0, Uint8Array.of(1, 2)), data(0, zeros(0))),
    item("covr", data(13, jpeg), data(27, Uint8Array.of(1)), data(14, png), data(13, big)),
    // A broken item ends the walk, keeping what came before.
    cat(u32(0xffff), fourcc("\u00a9alb"), zeros(8)),
    textItem("\u00a9gen", "never read"),
  ];
  for (const metaFullBox of [true, false]) {
    const p = probeBytes(buildMp4({ ilst, metaFullBox }));
    assert.deepEqual(p.tags.map(tagLine), [
      "artist[0]=One",
      "artist[1]=Two",
      "tracknumber[0]=5",
      "discnumber[0]=1/2",
      "bpm[0]=120",
      "compilation[0]=1",
      "gapless[0]=-1",
      "musicbrainz_albumid[0]=mbid",
      "isrc[0]=ISRC1",
      "Mood[0]=calm",
    ]);
    assert.deepEqual(p.binaryTags.map((t) => [t.key, t.ordinal, [...t.data]]), [
      ["----:org.example:Blob", 0, [1, 2]],
    ]);
    assert.deepEqual(
      p.pictures.map((x) => [x.mime, x.pictureType, x.description, x.width, [...x.data]]),
      [["image/jpeg", 3, "", null, [...jpeg]], ["image/png", 3, "", null, [...png]]],
    );
  }
});

Deno.test("mp4 synthesis refuses a backing file whose geometry changed", () => {
  const file = buildMp4();
  const { input, blobs } = inputFromProbe(probeBytes(file), file.length);
  input.audioOffset += 1;
  input.audioLength -= 1;
  assert.throws(
    () => synthesizeMp4(input, new BufferSource(file), blobs),
    (e) => e instanceof FormatError && e.kind === "malformed",
  );
});

Deno.test("mp4 synthesis: boxes beyond 32 bits are too-large (covr of 4 GiB)", () => {
  const file = buildMp4();
  const { input, blobs } = inputFromProbe(probeBytes(file), file.length);
  input.art.push({
    artId: 99,
    mime: "image/jpeg",
    pictureType: 3,
    description: "",
    width: null,
    height: null,
    byteLen: 2 ** 32,
  });
  assert.throws(
    () => synthesizeMp4(input, new BufferSource(file), blobs),
    (e) => e instanceof FormatError && e.kind === "too-large",
  );
});

Deno.test("mp4 synthesis: only moov/udta is replaced; other moov children stay", () => {
  const file = buildMp4({
    moovExtra: [box("meta", u32(0), box("hdlr", zeros(25)))],
    ilst: [textItem("\u00a9nam", "old")],
  });
  const s = serve(file, (input) => {
    input.tags = [{ key: "title", value: "new", ordinal: 0 }];
  });
  const paths = walk(s.bytes).map((b) => b.path);
  assert.equal(paths.filter((p) => p === "moov/udta").length, 1);
  assert.ok(paths.includes("moov/meta"), "other moov children kept");
  assert.deepEqual(s.reprobe.tags.map(tagLine), ["title[0]=new"]);
  assert.equal(pattern(0), s.bytes[s.reprobe.audioOffset]);
});
