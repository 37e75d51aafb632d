// M4A/M4B against real ffmpeg-made fixtures: probe, round trip (probe back,
// audio bytes, ffmpeg PCM, mutagen), edits, chunk-offset oracle, partial
// reads, and "the probe never reads the mdat payload".

import assert from "node:assert/strict";
import { mp4Size, probeMp4, synthesizeMp4 } from "../../src/format/mp4.ts";
import { inputFromProbe } from "../../src/format/mod.ts";
import { BoundedSource, BufferSource } from "../../src/format/source.ts";
import { fixture, type FixtureName, run } from "../fixtures/fixtures.ts";
import { PY } from "../fixtures/tools.ts";
import {
  addArt,
  addBinaryTag,
  assertAudioIdentical,
  assertMutagenMatchesInput,
  assertMutagenSameAsOriginal,
  assertPcmEqual,
  assertRandomRanges,
  assertReprobeMatchesInput,
  probeBytes,
  randomBytes,
  type RoundTrip,
  setTag,
  sha256,
} from "./harness.ts";
import {
  assertChunkOracle,
  chunkOffsets,
  mp4RoundTrip,
  RecordingSource,
  walk,
} from "./mp4_util.ts";
import { scratchDir } from "../scratch.ts";

const MP4_FIXTURES: FixtureName[] = ["m4a_moov_first", "m4a_moov_last", "m4b"];

function assertChunkOracleRt(rt: RoundTrip): void {
  assert.ok(chunkOffsets(rt.originalBytes).length > 0, "fixture has chunks");
  assertChunkOracle(
    rt.originalBytes,
    rt.bytes,
    rt.original.audioOffset,
    rt.reprobe.audioOffset,
    rt.original.audioOffset + rt.original.audioLength,
  );
}

async function mutagenJson(path: string, script: string): Promise<unknown> {
  const r = await run([PY, "-c", script, path], { check: true });
  return JSON.parse(new TextDecoder().decode(r.stdout));
}

for (const name of MP4_FIXTURES) {
  Deno.test(`mp4 ${name}: probe finds the encoder's tags and cover`, async () => {
    const f = await fixture(name);
    const bytes = await Deno.readFile(f.path);
    const src = new BoundedSource(new BufferSource(bytes));
    const p = probeMp4(src);
    assert.deepEqual(p.format, "m4a");
    const first = (k: string) => p.tags.find((t) => t.key === k && t.ordinal === 0)?.value;
    assert.deepEqual(first("title"), f.expect.title);
    assert.deepEqual(
      p.tags.filter((t) => t.key === "artist").map((t) => t.value),
      f.expect.artists,
    );
    assert.deepEqual(first("album"), f.expect.album);
    assert.deepEqual(first("albumartist"), f.expect.albumartist);
    assert.deepEqual(first("tracknumber"), f.expect.tracknumber);
    assert.deepEqual(first("date"), f.expect.date);
    assert.deepEqual(first("genre"), f.expect.genre);
    assert.deepEqual(first("comment"), f.expect.comment);
    // ffmpeg's encoder tag (©too) is not in the vocabulary: dropped.
    assert.ok(p.tags.every((t) => !t.key.includes("too")));
    assert.deepEqual(
      p.pictures.map((x) => ({ mime: x.mime, pictureType: x.pictureType, sha256: sha256(x.data) })),
      f.expect.pictures.map((x) => ({
        mime: x.mime,
        pictureType: x.pictureType,
        sha256: x.sha256,
      })),
    );
    // Geometry: the mdat payload.
    const mdat = walk(bytes).find((b) => b.path === "mdat")!;
    assert.deepEqual(p.audioOffset, mdat.start + mdat.header);
    assert.deepEqual(p.audioLength, mdat.size - mdat.header);
    assert.ok(src.bytesRead < 8192, `small read: ${src.bytesRead} bytes`);
  });

  Deno.test(`mp4 ${name}: the probe reads no byte of the mdat payload`, async () => {
    const bytes = await Deno.readFile((await fixture(name)).path);
    const rec = new RecordingSource(new BufferSource(bytes));
    const p = probeMp4(rec);
    const [lo, hi] = [p.audioOffset, p.audioOffset + p.audioLength];
    for (const [off, len] of rec.reads) {
      assert.ok(
        off + len <= lo || off >= hi,
        `read ${off}+${len} touches the payload [${lo}, ${hi})`,
      );
    }
  });

  Deno.test(`mp4 ${name}: synthesis and sizing read none of the old tags and cover`, async () => {
    const bytes = await Deno.readFile((await fixture(name)).path);
    const original = probeBytes(`x.${name === "m4b" ? "m4b" : "m4a"}`, bytes);
    const { input, blobs } = inputFromProbe(original, bytes.length);
    // The old udta/meta (ilst with its covr): only its header may be read.
    const meta = walk(bytes).find((b) => b.path === "moov/udta/meta")!;
    assert.ok(meta.size > 1000, `the fixture's old tags and cover take ${meta.size} bytes`);
    const [lo, hi] = [meta.start + 16, meta.start + meta.size];
    const sizes: number[] = [];
    for (const make of [synthesizeMp4, mp4Size] as const) {
      const rec = new RecordingSource(new BufferSource(bytes));
      const made = make(input, rec, blobs);
      sizes.push(typeof made === "number" ? made : made.size);
      for (const [off, len] of rec.reads) {
        assert.ok(
          off + len <= lo || off >= hi,
          `${make.name}: read ${off}+${len} touches the old meta [${lo}, ${hi})`,
        );
      }
    }
    assert.equal(sizes[0], sizes[1]);
  });

  Deno.test(`mp4 ${name}: unedited round trip`, async () => {
    await using rt = await mp4RoundTrip((await fixture(name)).path);
    assertReprobeMatchesInput(rt);
    assert.deepEqual(rt.reprobe.audioLength, rt.original.audioLength);
    assertAudioIdentical(rt);
    assertChunkOracleRt(rt);
    await assertPcmEqual(rt);
    await assertMutagenSameAsOriginal(rt);
    assertRandomRanges(rt, 150, 3);
    // moov first, then mdat; other top-level boxes gone.
    assert.deepEqual(walk(rt.bytes).filter((b) => !b.path.includes("/")).map((b) => b.type), [
      "ftyp",
      "moov",
      "mdat",
    ]);
    // ftyp verbatim.
    const ftyp = walk(rt.originalBytes).find((b) => b.path === "ftyp")!;
    assert.deepEqual(
      sha256(rt.bytes.subarray(0, ftyp.size)),
      sha256(rt.originalBytes.subarray(ftyp.start, ftyp.start + ftyp.size)),
    );
    // Synthesis is deterministic: the served file probes to a fixed point.
    const again = await mp4RoundTrip(rt.outPath);
    assert.deepEqual(sha256(again.bytes), sha256(rt.bytes), "re-synthesis is a fixed point");
    await again.cleanup();
  });

  Deno.test(`mp4 ${name}: every other moov box is kept verbatim`, async () => {
    await using rt = await mp4RoundTrip((await fixture(name)).path);
    const leaves = (b: Uint8Array) =>
      walk(b)
        .filter((x) =>
          x.path.startsWith("moov/") && !x.path.startsWith("moov/udta") &&
          !["trak", "mdia", "minf", "stbl", "stco", "co64"].includes(x.type)
        )
        .map((x) => `${x.path}:${sha256(b.subarray(x.start, x.start + x.size))}`);
    assert.deepEqual(leaves(rt.bytes), leaves(rt.originalBytes));
  });
}

Deno.test("mp4 edits: title, second artist, art removed; read back by mutagen and ffmpeg", async () => {
  await using rt = await mp4RoundTrip((await fixture("m4a_moov_last")).path, (input) => {
    setTag(input, "title", ["A new title"]);
    setTag(input, "artist", ["Only One", "Second Artist"]);
    input.art = [];
  });
  assertReprobeMatchesInput(rt);
  await assertMutagenMatchesInput(rt);
  await assertPcmEqual(rt);
  assertChunkOracleRt(rt);
  assert.deepEqual(rt.reprobe.pictures, []);
});

Deno.test("mp4 edits: a 1 MiB PNG cover next to the JPEG, streamed as an art segment", async () => {
  using tmp = scratchDir("musefs-mp4png-");
  const dir = tmp.path;
  await run([
    "ffmpeg",
    "-v",
    "error",
    "-y",
    "-f",
    "lavfi",
    "-i",
    "nullsrc=s=800x600,geq=random(1)*255:random(2)*255:random(3)*255",
    "-frames:v",
    "1",
    `${dir}/big.png`,
  ], { check: true });
  const png = await Deno.readFile(`${dir}/big.png`);
  assert.ok(png.length > 1_048_576, `PNG of ${png.length} bytes`);
  await using rt = await mp4RoundTrip((await fixture("m4a_moov_first")).path, (input, blobs) => {
    addArt(input, blobs, png, { mime: "image/png" });
  });
  assert.ok(
    rt.layout.segments.some((s) => s.kind === "art" && s.length === png.length),
    "the PNG is an art segment",
  );
  assert.ok(rt.layout.segments.every((s) => s.kind !== "inline" || s.bytes.length < 10_000));
  assertReprobeMatchesInput(rt);
  const v = await assertMutagenMatchesInput(rt);
  assert.deepEqual(v.normalized.pictures.map((p) => p.mime), ["image/jpeg", "image/png"]);
  await assertPcmEqual(rt);
  assertChunkOracleRt(rt);
  assertRandomRanges(rt, 100, 9);
});

Deno.test("mp4 edits: binary freeform, integers, disk, unknown text key — exact through mutagen", async () => {
  const payload = randomBytes(777, 11);
  await using rt = await mp4RoundTrip((await fixture("m4b")).path, (input, blobs) => {
    addBinaryTag(input, blobs, "----:com.apple.iTunes:musefs blob", payload);
    addBinaryTag(input, blobs, "----:org.example:other", Uint8Array.of(1, 2, 3));
    addBinaryTag(input, blobs, "PRIV", Uint8Array.of(9, 9)); // ID3 frame: no MP4 form, dropped
    setTag(input, "bpm", ["128.00"]);
    setTag(input, "compilation", ["1"]);
    setTag(input, "gapless", ["0"]);
    setTag(input, "discnumber", ["2/3"]);
    setTag(input, "tracknumber", ["7"]);
    setTag(input, "isrc", ["USRC17607839"]);
    setTag(input, "MY_CUSTOM", ["first", "second"]);
  });
  const got = await mutagenJson(
    rt.outPath,
    `import sys, json, hashlib
from mutagen.mp4 import MP4
t = MP4(sys.argv[1]).tags
ff = lambda k: [[v.dataformat, hashlib.sha256(bytes(v)).hexdigest(), bytes(v).decode('latin1') if v.dataformat == 1 else None] for v in t.get(k, [])]
print(json.dumps({"tmpo": t.get("tmpo"), "cpil": t.get("cpil"), "pgap": t.get("pgap"),
  "disk": t.get("disk"), "trkn": t.get("trkn"),
  "blob": ff("----:com.apple.iTunes:musefs blob"), "other": ff("----:org.example:other"),
  "isrc": ff("----:com.apple.iTunes:ISRC"), "custom": [bytes(v).decode() for v in t.get("----:com.apple.iTunes:MY_CUSTOM", [])],
  "keys": sorted(k for k in t.keys() if k.startswith("----"))}))`,
  );
  assert.deepEqual(got, {
    tmpo: [128],
    cpil: true,
    pgap: false,
    disk: [[2, 3]],
    trkn: [[7, 0]],
    blob: [[0, sha256(payload), null]],
    other: [[0, sha256(Uint8Array.of(1, 2, 3)), null]],
    isrc: [[1, sha256(new TextEncoder().encode("USRC17607839")), "USRC17607839"]],
    custom: ["first", "second"],
    keys: [
      "----:com.apple.iTunes:ISRC",
      "----:com.apple.iTunes:MY_CUSTOM",
      "----:com.apple.iTunes:musefs blob",
      "----:org.example:other",
    ],
  });
  // Probe back: integers normalized, the ID3-only binary tag dropped.
  const want = rt.input.tags.map((t) => t.key === "bpm" ? { ...t, value: "128" } : t);
  assert.deepEqual(
    rt.reprobe.tags.map((t) => `${t.key}[${t.ordinal}]=${t.value}`).sort(),
    want.map((t) => `${t.key}[${t.ordinal}]=${t.value}`).sort(),
  );
  assert.deepEqual(
    rt.reprobe.binaryTags.map((t) => [t.key, t.ordinal, sha256(t.data)]).sort(),
    [
      ["----:com.apple.iTunes:musefs blob", 0, sha256(payload)],
      ["----:org.example:other", 0, sha256(Uint8Array.of(1, 2, 3))],
    ].sort(),
  );
  assert.ok(rt.layout.segments.some((s) => s.kind === "binary-tag" && s.length === 777));
  await assertPcmEqual(rt);
  assertChunkOracleRt(rt);
});

Deno.test("mp4 edits: unparseable track/disk/bpm values are dropped, not written as garbage", async () => {
  await using rt = await mp4RoundTrip((await fixture("m4a_moov_first")).path, (input) => {
    setTag(input, "tracknumber", ["three"]);
    setTag(input, "discnumber", ["70000/2"]);
    setTag(input, "bpm", ["fast"]);
    setTag(input, "compilation", ["300"]);
  });
  const keys = new Set(rt.reprobe.tags.map((t) => t.key));
  for (const k of ["tracknumber", "discnumber", "bpm", "compilation"]) assert.ok(!keys.has(k), k);
  assert.deepEqual(
    rt.reprobe.tags.find((t) => t.key === "title")?.value,
    rt.input.tags.find((t) => t.key === "title")?.value,
  );
});

Deno.test("mp4 chaptered audiobook: text chapter track and Nero chpl survive synthesis", async () => {
  using tmp = scratchDir("musefs-mp4ch-");
  const dir = tmp.path;
  const meta = `${dir}/chapters.txt`;
  await Deno.writeTextFile(
    meta,
    ";FFMETADATA1\ntitle=Book\n[CHAPTER]\nTIMEBASE=1/1000\nSTART=0\nEND=200\ntitle=One\n" +
      "[CHAPTER]\nTIMEBASE=1/1000\nSTART=200\nEND=500\ntitle=Two\n",
  );
  const path = `${dir}/book.m4b`;
  await run([
    "ffmpeg",
    "-v",
    "error",
    "-y",
    "-i",
    (await fixture("m4b")).path,
    "-i",
    meta,
    "-map",
    "0:a",
    "-map_metadata",
    "1",
    "-map_chapters",
    "1",
    "-c",
    "copy",
    "-f",
    "ipod",
    path,
  ], { check: true });
  const handlers = walk(await Deno.readFile(path)).filter((b) => b.type === "trak").length;
  assert.equal(handlers, 2, "ffmpeg wrote a chapter track");
  await using rt = await mp4RoundTrip(path, (input) => setTag(input, "title", ["Renamed book"]));
  const chapters = async (p: string) =>
    new TextDecoder().decode(
      (await run(["ffprobe", "-v", "error", "-show_chapters", "-of", "compact", p], {
        check: true,
      })).stdout,
    );
  const before = await chapters(path);
  assert.match(before, /title=Two/);
  assert.equal(await chapters(rt.outPath), before, "ffprobe reads the same chapters");
  const nero = (p: string) =>
    mutagenJson(
      p,
      `import sys, json
from mutagen.mp4 import MP4
print(json.dumps([[c.start, c.title] for c in MP4(sys.argv[1]).chapters]))`,
    );
  assert.deepEqual(await nero(rt.outPath), await nero(path), "mutagen reads the chpl chapters");
  assert.ok(walk(rt.bytes).some((b) => b.path === "moov/udta/chpl"));
  assert.equal(rt.reprobe.tags.find((t) => t.key === "title")?.value, "Renamed book");
  await assertPcmEqual(rt);
  assertChunkOracleRt(rt);
});
