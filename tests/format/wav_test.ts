// WAV: probe of the real fixture (LIST/INFO + `id3 `), round trips through
// ffmpeg and mutagen, edits, chunk layouts the original could not read
// (tags after data, size sentinels), odd payloads, and hostile inputs.

import { concat, encodeLatin1 } from "../../src/format/bytes.ts";
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { probeWav, synthesizeWav } from "../../src/format/wav.ts";
import { BufferSource } from "../../src/format/source.ts";
import type { ProbeResult, SynthInput } from "../../src/format/types.ts";
import { fixture, mutagenTags, pcmMd5, riffChunks, run, sourceWav } from "../fixtures/fixtures.ts";
import {
  addArt,
  addBinaryTag,
  assertAudioIdentical,
  assertMutagenMatchesInput,
  assertMutagenSameAsOriginal,
  assertPcmEqual,
  assertRandomRanges,
  assertReprobeMatchesInput,
  errorKind,
  MemoryBlobs,
  probeCounted,
  randomBytes,
  roundTrip,
  setTag,
  sha256,
} from "./harness.ts";
import { fuzzProbe } from "./mutate.ts";
import { scratchDir } from "../scratch.ts";

// ---------------------------------------------------------------- helpers

/** ffmpeg reading the fixture source WAV, with `args`, writing `out`. */
async function ffmpegFromSource(out: string, args: string[]): Promise<void> {
  await run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", await sourceWav(), ...args, out], {
    check: true,
  });
}

const latin = encodeLatin1;
const cat = (...parts: Uint8Array[]) => concat(parts);
const u32le = (n: number) => Uint8Array.of(n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24);

type Chunk = [id: string, body: Uint8Array];

/** Top-level chunks of a RIFF file with their bodies. */
function chunksOf(b: Uint8Array): Chunk[] {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const out: Chunk[] = [];
  let p = 12;
  while (p + 8 <= b.length) {
    const size = dv.getUint32(p + 4, true);
    out.push([String.fromCharCode(...b.subarray(p, p + 4)), b.subarray(p + 8, p + 8 + size)]);
    p += 8 + size + (size & 1);
  }
  return out;
}

/** A RIFF/WAVE file from chunks (word-aligned); `riffSize`/`dataSize` override the real sizes. */
function riff(chunks: Chunk[], opts: { riffSize?: number; dataSize?: number } = {}): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const [id, body] of chunks) {
    const size = id === "data" && opts.dataSize !== undefined ? opts.dataSize : body.length;
    parts.push(latin(id), u32le(size), body);
    if (body.length & 1) parts.push(new Uint8Array(1));
  }
  const rest = cat(latin("WAVE"), ...parts);
  return cat(latin("RIFF"), u32le(opts.riffSize ?? rest.length), rest);
}

const probeBytes = (bytes: Uint8Array) => probeCounted(probeWav, bytes);

const tagValues = (r: ProbeResult, key: string) =>
  r.tags.filter((t) => t.key === key).map((t) => t.value);

async function fixtureBytes(): Promise<{ path: string; bytes: Uint8Array }> {
  const f = await fixture("wav");
  return { path: f.path, bytes: await Deno.readFile(f.path) };
}

/** Writes `bytes` to a temp .wav, round-trips it, and checks the served file decodes like `refPath`. */
async function serveVariant(bytes: Uint8Array, refPath: string): Promise<void> {
  using tmp = scratchDir("musefs-wavv-");
  const dir = tmp.path;
  const path = `${dir}/variant.wav`;
  await Deno.writeFile(path, bytes);
  const rt = await roundTrip(path, { dir });
  assertReprobeMatchesInput(rt);
  assertAudioIdentical(rt);
  assertEquals(
    await pcmMd5(rt.outPath),
    await pcmMd5(refPath),
    "served PCM equals the reference",
  );
}

// ---------------------------------------------------------------- fixture

Deno.test("wav: the probe finds the id3 and INFO tags, reading only chunk headers and tags", async () => {
  const f = await fixture("wav");
  const { bytes } = await fixtureBytes();
  const { result: r, read } = probeBytes(bytes);
  assert(read < 8 * 1024, `read ${read} of ${bytes.length}`);
  assertEquals(tagValues(r, "title"), [f.expect.title]);
  assertEquals(tagValues(r, "artist"), f.expect.artists); // id3 wins over INFO's single IART
  assertEquals(tagValues(r, "album"), [f.expect.album]);
  assertEquals(tagValues(r, "albumartist"), [f.expect.albumartist]);
  assertEquals(tagValues(r, "tracknumber"), [f.expect.tracknumber]);
  assertEquals(tagValues(r, "date"), ["2021"]);
  assertEquals(r.pictures, []);
  const data = chunksOf(bytes).find(([id]) => id === "data")![1];
  assertEquals(r.audioLength, data.length);
  assertEquals(bytes.subarray(r.audioOffset, r.audioOffset + r.audioLength), data);
});

Deno.test("wav: round trip (reprobe, audio bytes, ffmpeg PCM, mutagen, ranges, chunk order)", async () => {
  await using rt = await roundTrip((await fixture("wav")).path);
  assertReprobeMatchesInput(rt);
  assertAudioIdentical(rt);
  await assertPcmEqual(rt);
  await assertMutagenSameAsOriginal(rt);
  assertRandomRanges(rt);
  assertEquals(riffChunks(rt.bytes), ["fmt ", "LIST/INFO", "id3 ", "data"]);
  const orig = chunksOf(rt.originalBytes).find(([id]) => id === "fmt ")![1];
  assertEquals(chunksOf(rt.bytes)[0][1], orig, "fmt preserved");
  const v = await mutagenTags(rt.outPath);
  assertEquals(v.riff_info?.INAM, rt.input.tags.find((t) => t.key === "title")!.value);
  assertEquals(v.riff_info?.IART, "Artist One", "INFO carries the first artist");
});

Deno.test("wav edits: new title, second artist, a 1 MiB picture and a PRIV tag come back via mutagen", async () => {
  const big = randomBytes(1 << 20, 5);
  const priv = cat(latin("musefs"), Uint8Array.of(0, 1, 2, 3, 0xff));
  await using rt = await roundTrip((await fixture("wav")).path, {
    edit(input, blobs) {
      setTag(input, "title", ["Edited ✓"]);
      setTag(input, "artist", ["Only One", "Second"]);
      addArt(input, blobs, big, { mime: "image/png", pictureType: 3, description: "big" });
      addBinaryTag(input, blobs, "PRIV", priv);
    },
  });
  await assertMutagenMatchesInput(rt);
  await assertPcmEqual(rt);
  assertReprobeMatchesInput(rt);
  const v = await mutagenTags(rt.outPath);
  const privKey = Object.keys(v.raw).find((k) => k.startsWith("PRIV:"));
  assert(privKey, "mutagen sees the PRIV frame");
  assertEquals(v.raw[privKey], [`<4 bytes sha256=${sha256(Uint8Array.of(1, 2, 3, 0xff))}>`]);
  assertEquals(v.riff_info?.INAM, "Edited ✓");
  assert(rt.layout.segments.some((s) => s.kind === "art" && s.length === big.length));
  assertRandomRanges(rt, 100, 9);
});

Deno.test("INFO-only WAV: tags come from LIST/INFO (unmapped ids ignored)", async () => {
  using tmp = scratchDir("musefs-wavi-");
  const dir = tmp.path;
  const out = `${dir}/info.wav`;
  await ffmpegFromSource(out, [
    "-t",
    "0.1",
    "-metadata",
    "title=Info Title",
    "-metadata",
    "artist=Info Ärtist",
    "-metadata",
    "album=Alb",
    "-metadata",
    "date=1999",
    "-metadata",
    "genre=Jazz",
    "-metadata",
    "comment=Note",
    "-metadata",
    "encoder=ignored",
    "-c:a",
    "pcm_s16le",
  ]);
  const r = probeWav(new BufferSource(await Deno.readFile(out)));
  assertEquals(
    r.tags.map((t) => `${t.key}=${t.value}`).sort(),
    [
      "album=Alb",
      "artist=Info Ärtist",
      "comment=Note",
      "date=1999",
      "genre=Jazz",
      "title=Info Title",
    ],
  );
});

// ---------------------------------------------------------------- beyond the original

Deno.test("tags after the data chunk are found with small reads", async () => {
  const { path, bytes } = await fixtureBytes();
  const chunks = chunksOf(bytes);
  const get = (id: string) => chunks.find(([c]) => c === id)!;
  const moved = riff([get("fmt "), get("data"), get("LIST"), get("id3 ")]);
  const { result, read } = probeBytes(moved);
  const orig = probeWav(new BufferSource(bytes));
  assertEquals(result.tags, orig.tags);
  assert(read < 8 * 1024, `read ${read}`);
  await serveVariant(moved, path);
  // The uppercase `ID3 ` spelling some writers use is read the same way.
  const upper = riff([get("fmt "), ["ID3 ", get("id3 ")[1]], get("data")]);
  assertEquals(tagValues(probeWav(new BufferSource(upper)), "artist"), ["Artist One", "Zoë Two"]);
});

Deno.test("riff/data size sentinels (0xFFFFFFFF, 0) mean 'to the end of the file'", async () => {
  const { path, bytes } = await fixtureBytes();
  const chunks = chunksOf(bytes);
  const data = chunks.find(([c]) => c === "data")![1];
  const front = chunks.filter(([c]) => c !== "data");
  for (const sentinel of [0xffff_ffff, 0]) {
    const b = riff([...front, ["data", data]], { riffSize: sentinel, dataSize: sentinel });
    const r = probeWav(new BufferSource(b));
    assertEquals(r.audioLength, data.length);
    assertEquals(r.audioOffset + r.audioLength, b.length);
    await serveVariant(b, path);
  }
  // A real riff size with a data size sentinel 0xFFFFFFFF: data runs to the form end.
  const c = riff([...front, ["data", data]], { dataSize: 0xffff_ffff });
  assertEquals(probeWav(new BufferSource(c)).audioLength, data.length);
});

Deno.test("odd-length data keeps its pad byte; fact chunks are carried over", async () => {
  using tmp = scratchDir("musefs-wavo-");
  const dir = tmp.path;
  const odd = `${dir}/odd.wav`;
  await ffmpegFromSource(odd, [
    "-af",
    "atrim=end_sample=3001",
    "-ac",
    "1",
    "-ar",
    "8000",
    "-c:a",
    "pcm_u8",
  ]);
  const oddBytes = await Deno.readFile(odd);
  const r = probeWav(new BufferSource(oddBytes));
  assertEquals(r.audioLength % 2, 1, "odd payload");
  await serveVariant(oddBytes, odd);
  const alaw = `${dir}/alaw.wav`;
  await ffmpegFromSource(alaw, ["-t", "0.1", "-metadata", "title=A-law", "-c:a", "pcm_alaw"]);
  const alawBytes = await Deno.readFile(alaw);
  const fact = chunksOf(alawBytes).find(([c]) => c === "fact");
  assert(fact, "ffmpeg writes a fact chunk for A-law");
  const rt = await roundTrip(alaw, { dir });
  assertEquals(riffChunks(rt.bytes), ["fmt ", "fact", "LIST/INFO", "id3 ", "data"]);
  assertEquals(chunksOf(rt.bytes)[1][1], fact[1]);
  await assertPcmEqual(rt);
});

// ---------------------------------------------------------------- errors and hostile inputs

Deno.test("RF64 is unsupported; missing fmt/data and bad forms are typed errors", async () => {
  const { bytes } = await fixtureBytes();
  const chunks = chunksOf(bytes);
  const data = chunks.find(([c]) => c === "data")!;
  const fmt = chunks.find(([c]) => c === "fmt ")!;
  const kind = (b: Uint8Array) => errorKind(() => probeWav(new BufferSource(b)));
  const rf64 = bytes.slice();
  rf64.set(latin("RF64"));
  assertEquals(kind(rf64), "unsupported");
  assertEquals(kind(riff([data])), "malformed");
  assertEquals(kind(riff([fmt])), "malformed");
  // Sizes past the end of the file are streaming guesses: the audio runs to the end.
  assertEquals(kind(riff([fmt, data], { riffSize: bytes.length * 2 })), "none");
  assertEquals(kind(riff([fmt, data], { dataSize: data[1].length + 100 })), "none");
  // A chunk before the audio that runs past the end leaves no audio to find.
  const overrun = riff([fmt, ["LIST", new Uint8Array(8)], data]);
  overrun.set(u32le(0x7fff_0000), 12 + 8 + fmt[1].length + 4);
  assertEquals(kind(overrun), "malformed");
  assertEquals(kind(latin("RIFF")), "malformed");
  // An odd data chunk whose final pad byte is missing (riff size still counts it) is tolerated.
  const unpadded = riff([fmt, ["data", Uint8Array.of(1, 2, 3)]]);
  assertEquals(
    probeWav(new BufferSource(unpadded.subarray(0, unpadded.length - 1))).audioLength,
    3,
  );
  // Cut inside the data: what is there is the audio.
  assertEquals(
    probeWav(new BufferSource(unpadded.subarray(0, unpadded.length - 2))).audioLength,
    2,
  );
  assertEquals(kind(cat(latin("RIFF"), u32le(4), latin("AVI "))), "malformed");
  const many: Chunk[] = Array.from({ length: 5000 }, () => ["junk", new Uint8Array()]);
  assertEquals(kind(riff([fmt, ...many, data])), "malformed");
});

Deno.test("synthesis: data over 4 GiB is too-large; a bad audio range is invalid-input", async () => {
  const { bytes } = await fixtureBytes();
  const r = probeWav(new BufferSource(bytes));
  const input: SynthInput = {
    format: "wav",
    audioOffset: r.audioOffset,
    audioLength: 5 * 1024 ** 3,
    backingSize: r.audioOffset + 5 * 1024 ** 3,
    tags: [],
    binaryTags: [],
    art: [],
    structural: [],
  };
  const src = new BufferSource(bytes);
  const kind = (i: SynthInput) => errorKind(() => synthesizeWav(i, src, new MemoryBlobs()));
  assertEquals(kind(input), "too-large");
  assertEquals(kind({ ...input, audioLength: 10, backingSize: 5 }), "invalid-input");
  assertEquals(kind({ ...input, audioOffset: r.audioOffset + 2, audioLength: 10 }), "malformed");
});

Deno.test("allocation bomb via the id3 chunk: a frame claiming 200 MB is ignored", async () => {
  const { bytes } = await fixtureBytes();
  const chunks = chunksOf(bytes).filter(([c]) => c !== "id3 ");
  const ss = (n: number) => [(n >> 21) & 0x7f, (n >> 14) & 0x7f, (n >> 7) & 0x7f, n & 0x7f];
  const frame = cat(latin("APIC"), Uint8Array.of(...ss(200_000_000), 0, 0), new Uint8Array(10));
  const tag = cat(Uint8Array.of(0x49, 0x44, 0x33, 4, 0, 0, ...ss(frame.length)), frame);
  const { result, read } = probeBytes(riff([...chunks, ["id3 ", tag]]));
  assertEquals(result.pictures, []);
  assertEquals(tagValues(result, "artist"), ["Artist One"], "INFO still fills the gaps");
  assert(read < 8 * 1024);
  // An id3 chunk that is not an ID3 tag at all is ignored, not fatal.
  const junk = riff([...chunks, ["id3 ", latin("not a tag, just text")]]);
  assertEquals(tagValues(probeWav(new BufferSource(junk)), "artist"), ["Artist One"]);
});

Deno.test("hostile: seeded mutations of the wav fixture give a result or a FormatError", async () => {
  const { bytes } = await fixtureBytes();
  const r = probeWav(new BufferSource(bytes));
  const report = fuzzProbe(bytes, probeWav, {
    hot: r.audioOffset + 64,
    seed: 3000,
    synthesize: true,
  });
  assertEquals(report.failures, [], JSON.stringify(report.failures.slice(0, 3)));
  assert(
    report.ok > 0 && report.formatErrors > 0,
    `${report.ok} ok, ${report.formatErrors} errors`,
  );
});

Deno.test("a streamed WAV (size sentinels) over 4 GiB is too-large at probe time, reading only headers", async () => {
  const { bytes } = await fixtureBytes();
  const fmt = chunksOf(bytes).find(([c]) => c === "fmt ")!;
  const head = riff([fmt, ["data", new Uint8Array()]], {
    riffSize: 0xffff_ffff,
    dataSize: 0xffff_ffff,
  });
  // A 5 GiB file whose bytes past the header are never looked at.
  const size = 5 * 1024 ** 3;
  let read = 0;
  const src = {
    size,
    read(offset: number, length: number): Uint8Array {
      const n = Math.max(0, Math.min(length, size - offset));
      read += n;
      const out = new Uint8Array(n);
      if (offset < head.length) out.set(head.subarray(offset, offset + n));
      return out;
    },
  };
  assertEquals(errorKind(() => probeWav(src)), "too-large");
  assert(read < 1024, `read ${read}`);
});
