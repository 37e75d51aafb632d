// Ogg (Opus, Vorbis, FLAC-in-Ogg) against files made by opusenc, oggenc and
// flac: the probe finds what the encoder wrote; served files probe back,
// keep their audio pages (apart from sequence/CRC), decode to the same PCM,
// pass ogginfo and ffmpeg's CRC checks and read the same in mutagen — also
// after edits (title, a second artist, art removed, a 1 MiB picture).

import assert from "node:assert/strict";
import { probeOgg } from "../../src/format/ogg/mod.ts";
import { BoundedSource, BufferSource } from "../../src/format/source.ts";
import type { SynthInput } from "../../src/format/types.ts";
import { coverJpeg, fixture, type FixtureName, mutagenTags } from "../fixtures/fixtures.ts";
import { mulberry32 } from "./mutate.ts";
import { addArt, MemoryBlobs, roundTrip, setTag, sha256 } from "./harness.ts";
import { assertCleanStream, assertServedOgg, assertToolsHappy, bigJpeg } from "./ogg_util.ts";

const OGG_FIXTURES: FixtureName[] = ["opus", "ogg_vorbis", "ogg_flac"];

for (const name of OGG_FIXTURES) {
  Deno.test(`ogg ${name}: the probe finds the encoder's tags and pictures`, async () => {
    const fx = await fixture(name);
    const bytes = await Deno.readFile(fx.path);
    const src = new BoundedSource(new BufferSource(bytes));
    const p = probeOgg(src);
    assert.equal(p.format, fx.format);
    const values = (k: string) => p.tags.filter((t) => t.key === k).map((t) => t.value);
    assert.deepEqual(values("title"), [fx.expect.title]);
    assert.deepEqual(values("artist"), fx.expect.artists);
    assert.deepEqual(values("album"), [fx.expect.album]);
    assert.deepEqual(values("albumartist"), [fx.expect.albumartist]);
    assert.deepEqual(values("tracknumber"), [fx.expect.tracknumber]);
    assert.deepEqual(values("TRACKTOTAL"), ["12"], "unknown fields keep their case");
    assert(!p.tags.some((t) => t.key.toUpperCase() === "METADATA_BLOCK_PICTURE"));
    assert.deepEqual(p.tags.filter((t) => t.key === "artist").map((t) => t.ordinal), [0, 1]);
    assert.deepEqual(
      p.pictures.map((x) => ({
        mime: x.mime,
        pictureType: x.pictureType,
        description: x.description,
        sha256: sha256(x.data),
        width: x.width,
        height: x.height,
      })),
      fx.expect.pictures,
    );
    assert.deepEqual(p.binaryTags, []);
    assert.deepEqual(p.structural, []);
    // audio_offset is the end of the page completing the last header packet.
    const pages = assertCleanStream(bytes);
    assert(pages.some((pg) => pg.offset === p.audioOffset), "audio starts at a page boundary");
    assert(pages.some((pg) => pg.offset + pg.size === p.audioOffset));
    assert.equal(p.audioOffset + p.audioLength, bytes.length);
    // Bounded: reads the header pages, not the audio.
    assert(src.bytesRead <= p.audioOffset + 282, `read ${src.bytesRead} bytes`);
  });
}

for (const name of OGG_FIXTURES) {
  Deno.test(`ogg ${name}: served file round-trips (probe, audio, PCM, CRCs, mutagen)`, async () => {
    await using rt = await roundTrip((await fixture(name)).path);
    assert.equal(rt.input.art.length, 1);
    await assertServedOgg(rt);
    const orig = await mutagenTags(rt.path);
    const served = await mutagenTags(rt.outPath);
    assert.equal(served.type, orig.type);
    assert.deepEqual(
      served.normalized.pictures.map((p) => p.sha256),
      orig.normalized.pictures.map((p) => p.sha256),
    );
  });

  Deno.test(`ogg ${name}: edits (title, second artist, art removed)`, async () => {
    await using rt = await roundTrip((await fixture(name)).path, {
      edit(input: SynthInput) {
        setTag(input, "title", ["Edited — タイトル"]);
        setTag(input, "artist", ["Solo Artist", "Second Artist"]);
        setTag(input, "tracknumber", ["7"]);
        input.art = [];
      },
    });
    assert.deepEqual(rt.reprobe.pictures, []);
    await assertServedOgg(rt);
    const v = await mutagenTags(rt.outPath);
    assert.equal(v.normalized.title, "Edited — タイトル");
    assert.deepEqual(v.normalized.artist, ["Solo Artist", "Second Artist"]);
    assert.deepEqual(v.normalized.pictures, []);
  });

  Deno.test(`ogg ${name}: a 1 MiB picture spans many header pages`, async () => {
    const big = bigJpeg(await coverJpeg(), 1 << 20, mulberry32(42));
    await using rt = await roundTrip((await fixture(name)).path, {
      edit(input: SynthInput, blobs: MemoryBlobs) {
        addArt(input, blobs, big, {
          mime: "image/jpeg",
          pictureType: 4,
          description: "Big one",
          width: 32,
          height: 32,
        });
      },
    });
    assert.equal(rt.input.art.length, 2);
    const audio = rt.layout.segments.at(-1)!;
    assert.equal(audio.kind, "ogg-audio");
    assert(audio.kind === "ogg-audio" && audio.seqDelta > 10, "audio pages renumbered");
    assert(
      rt.layout.segments.filter((s) => s.kind === "ogg-art").length > 10,
      "art streamed in page-sized slices",
    );
    const inlineBytes = rt.layout.segments.reduce(
      (n, s) => n + (s.kind === "inline" ? s.bytes.length : 0),
      0,
    );
    assert(inlineBytes < 64 * 1024, `art not copied inline (${inlineBytes} inline bytes)`);
    await assertServedOgg(rt);
    assert.equal(sha256(rt.reprobe.pictures[1].data), sha256(big));
    // The probe reads the header pages (plus header overlap per page), never the audio.
    const src = new BoundedSource(new BufferSource(rt.bytes));
    probeOgg(src);
    const offset = rt.reprobe.audioOffset;
    assert(src.bytesRead <= offset + 300 * Math.ceil(offset / 65000), `read ${src.bytesRead}`);
  });
}

Deno.test("ogg checks: the stream and tool checks catch a corrupted served page", async () => {
  await using rt = await roundTrip((await fixture("ogg_vorbis")).path, {
    edit(input: SynthInput) {
      setTag(input, "title", ["x"]);
    },
  });
  const bad = rt.bytes.slice();
  bad[bad.length - 100] ^= 0x40; // payload of the last audio page: its CRC no longer matches
  assert.throws(() => assertCleanStream(bad));
  await Deno.writeFile(rt.outPath, bad);
  await assert.rejects(() => assertToolsHappy(rt.outPath), /ogginfo|ffmpeg/);
  const renumbered = rt.bytes.slice();
  renumbered[rt.reprobe.audioOffset + 18] ^= 1; // a sequence number off by one
  assert.throws(() => assertCleanStream(renumbered));
});
