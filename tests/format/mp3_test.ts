// MP3: probe of the real fixtures, round trips through ffmpeg and mutagen,
// edits, the improvements (junk, stacked tags, APE/Lyrics3/ID3v2
// trailers) on files made from the fixtures, and hostile inputs.

import { concat, encodeLatin1 } from "../../src/format/bytes.ts";
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { mpegHeader, probeMp3, synthesizeMp3 } from "../../src/format/mp3.ts";
import { BoundedSource, BufferSource } from "../../src/format/source.ts";
import type { ProbeResult } from "../../src/format/types.ts";
import { fixture, type FixtureName, id3v23Tag, pcmMd5, run } from "../fixtures/fixtures.ts";
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
  pictureViews,
  probeCounted,
  randomBytes,
  roundTrip,
  setTag,
  sha256,
} from "./harness.ts";
import { fuzzProbe, mulberry32 } from "./mutate.ts";

const MP3S: FixtureName[] = ["mp3_v23", "mp3_v24"];

const probeBytes = (bytes: Uint8Array) => probeCounted(probeMp3, bytes);

function audioOf(bytes: Uint8Array, r: ProbeResult): Uint8Array {
  return bytes.subarray(r.audioOffset, r.audioOffset + r.audioLength);
}

const cat = (...parts: Uint8Array[]) => concat(parts);
const latin = encodeLatin1;

// ---------------------------------------------------------------- frame headers

Deno.test("mpegHeader: lengths of real headers; reserved fields rejected", () => {
  const h = (...b: number[]) => mpegHeader(Uint8Array.from(b), 0);
  assertEquals(h(0xff, 0xfb, 0x90, 0x64)?.frameLength, 417); // MPEG-1 L3 128k 44.1k
  assertEquals(h(0xff, 0xfb, 0x92, 0x64)?.frameLength, 418); // + padding
  assertEquals(h(0xff, 0xf3, 0x40, 0xc4)?.frameLength, 104); // MPEG-2 L3 32k 22.05k: 72*32000/22050
  assertEquals(h(0xff, 0xfd, 0x90, 0x64)?.layer, 2);
  assertEquals(h(0xff, 0xeb, 0x90, 0x64), null); // version "01" reserved
  assertEquals(h(0xff, 0xf9, 0x90, 0x64), null); // layer "00" reserved
  assertEquals(h(0xff, 0xfb, 0xf0, 0x64), null); // bitrate index 15
  assertEquals(h(0xff, 0xfb, 0x9c, 0x64), null); // sample rate index 3
  assertEquals(h(0xff, 0xfb, 0x90, 0x66), null); // emphasis 2 reserved
  assertEquals(h(0xff, 0xfb, 0x00, 0x64)?.frameLength, 0); // free format: length unknown
});

// ---------------------------------------------------------------- fixtures

for (const name of MP3S) {
  Deno.test(`${name}: the probe finds the encoder's tags and art, reading only the head and tail`, async () => {
    const f = await fixture(name);
    const bytes = await Deno.readFile(f.path);
    const { result: r, read } = probeBytes(bytes);
    assert(read < 8 * 1024, `read ${read} bytes`);
    const first = (k: string) => r.tags.find((t) => t.key === k && t.ordinal === 0)?.value;
    assertEquals(first("title"), f.expect.title);
    assertEquals(r.tags.filter((t) => t.key === "artist").map((t) => t.value), f.expect.artists);
    assertEquals(first("album"), f.expect.album);
    assertEquals(first("albumartist"), f.expect.albumartist);
    assertEquals(first("tracknumber"), f.expect.tracknumber);
    assertEquals(
      pictureViews(r.pictures).map((p) => [p.mime, p.pictureType, p.description, p.sha256]),
      f.expect.pictures.map((p) => [p.mime, p.pictureType, p.description, p.sha256]),
    );
    assertEquals(mpegHeader(bytes, r.audioOffset) !== null, true);
    const tail = bytes.length - (r.audioOffset + r.audioLength);
    // mp3_v24 carries an ID3v1 trailer, excluded from the audio range.
    assertEquals(tail, name === "mp3_v24" ? 128 : 0);
  });

  Deno.test(`${name}: round trip (reprobe, audio bytes, ffmpeg PCM, mutagen, ranges)`, async () => {
    await using rt = await roundTrip((await fixture(name)).path);
    assertReprobeMatchesInput(rt);
    assertAudioIdentical(rt);
    await assertPcmEqual(rt);
    await assertMutagenSameAsOriginal(rt);
    assertRandomRanges(rt);
    assertEquals(rt.reprobe.audioOffset + rt.reprobe.audioLength, rt.bytes.length);
  });
}

// ---------------------------------------------------------------- edits

const FRAMES_PY = `
import json, sys, hashlib
from mutagen.id3 import ID3
t = ID3(sys.argv[1], translate=False, load_v1=False)
out = {}
for k, f in sorted(t.items()):
    if f.FrameID == "APIC":
        out[k] = [f.mime, int(f.type), f.desc, hashlib.sha256(f.data).hexdigest()]
    elif f.FrameID == "POPM":
        out[k] = [f.email, f.rating, getattr(f, "count", None)]
    elif f.FrameID in ("UFID", "PRIV"):
        out[k] = [f.owner, f.data.hex()]
    elif f.FrameID in ("COMM", "USLT"):
        out[k] = [f.lang, f.desc, str(f)]
    elif hasattr(f, "text"):
        out[k] = [str(x) for x in f.text]
print(json.dumps(out, ensure_ascii=False, sort_keys=True))
`;
import { scratchDir } from "../scratch.ts";

async function id3Frames(path: string): Promise<Record<string, unknown[]>> {
  const r = await run(["/usr/bin/python3", "-c", FRAMES_PY, path], { check: true });
  return JSON.parse(new TextDecoder().decode(r.stdout));
}

Deno.test("edits: new title, second artist, art removed; PRIV, POPM, UFID, COMM language via mutagen", async () => {
  const priv = cat(latin("musefs.test"), Uint8Array.of(0, 0, 1, 0xff, 0xfe, 0x80));
  await using rt = await roundTrip((await fixture("mp3_v23")).path, {
    edit(input, blobs) {
      setTag(input, "title", ["New Title ✓"]);
      setTag(input, "artist", ["Artist One", "Second Artist"]);
      setTag(input, "rating", ["128"]);
      setTag(input, "playcount", ["42"]);
      setTag(input, "musicbrainz_trackid", ["0b5b4a3c-1111-2222-3333-444455556666"]);
      setTag(input, "id3:COMM:deu:Notiz", ["Eine Notiz"]);
      input.art = [];
      addBinaryTag(input, blobs, "PRIV", priv);
    },
  });
  await assertMutagenMatchesInput(rt);
  await assertPcmEqual(rt);
  assertReprobeMatchesInput(rt);
  const frames = await id3Frames(rt.outPath);
  assertEquals(frames["TIT2"], ["New Title ✓"]);
  assertEquals(frames["TPE1"], ["Artist One", "Second Artist"]);
  assertEquals(frames["POPM:"], ["", 128, 42]);
  assertEquals(frames["UFID:http://musicbrainz.org"], [
    "http://musicbrainz.org",
    Array.from(
      latin("0b5b4a3c-1111-2222-3333-444455556666"),
      (b) => b.toString(16).padStart(2, "0"),
    ).join(""),
  ]);
  assertEquals(frames["COMM:Notiz:deu"], ["deu", "Notiz", "Eine Notiz"]);
  const privKey = Object.keys(frames).find((k) => k.startsWith("PRIV:"));
  assert(privKey, "PRIV frame present");
  assertEquals(frames[privKey], ["musefs.test", "0001fffe80"]);
  assertEquals(Object.keys(frames).some((k) => k.startsWith("APIC")), false);
});

Deno.test("edits: a 1 MiB picture is streamed as an art segment and read back by mutagen", async () => {
  const big = randomBytes(1 << 20, 11);
  await using rt = await roundTrip((await fixture("mp3_v24")).path, {
    edit(input, blobs) {
      addArt(input, blobs, big, { mime: "image/jpeg", pictureType: 4, description: "Big back" });
    },
  });
  assert(rt.layout.segments.some((s) => s.kind === "art" && s.length === big.length));
  assert(
    rt.layout.segments.every((s) => s.kind !== "inline" || s.bytes.length < 64 * 1024),
    "art bytes are not copied into inline segments",
  );
  await assertMutagenMatchesInput(rt);
  await assertPcmEqual(rt);
  assertReprobeMatchesInput(rt);
  assertRandomRanges(rt, 100, 3);
});

// ---------------------------------------------------------------- improvements

/** The fixture split into [leading tag][audio][trailer]. */
async function parts(name: FixtureName) {
  const f = await fixture(name);
  const bytes = await Deno.readFile(f.path);
  const r = probeMp3(new BufferSource(bytes));
  return {
    path: f.path,
    tag: bytes.subarray(0, r.audioOffset),
    audio: audioOf(bytes, r),
    trailer: bytes.subarray(r.audioOffset + r.audioLength),
    result: r,
  };
}

/** Writes `bytes` as an mp3, checks its audio range equals `audio`, and that the served file decodes like `refPath`. */
async function checkVariant(bytes: Uint8Array, audio: Uint8Array, refPath: string) {
  const { result, read } = probeBytes(bytes);
  assert(read < 96 * 1024, `read ${read}`);
  assertEquals(result.audioLength, audio.length, "audio length");
  assertEquals(sha256(audioOf(bytes, result)), sha256(audio), "audio range identical");
  using tmp = scratchDir("musefs-mp3v-");
  const dir = tmp.path;
  const path = `${dir}/variant.mp3`;
  await Deno.writeFile(path, bytes);
  const rt = await roundTrip(path, { dir });
  assertAudioIdentical(rt);
  assertEquals(
    await pcmMd5(rt.outPath),
    await pcmMd5(refPath),
    "served PCM equals the fixture's",
  );
  return result;
}

Deno.test("junk and zero padding between the tag and the first frame are skipped", async () => {
  const p = await parts("mp3_v24");
  const rand = mulberry32(5);
  // Random junk with sync-like bytes sprinkled in: only a confirmed frame ends the scan.
  const junk = Uint8Array.from(
    { length: 3000 },
    (_, i) => i % 97 === 0 ? 0xff : (rand() * 256) | 0,
  );
  const r = await checkVariant(cat(p.tag, junk, p.audio, p.trailer), p.audio, p.path);
  assertEquals(r.tags, p.result.tags);
  await checkVariant(cat(p.tag, new Uint8Array(5000), p.audio, p.trailer), p.audio, p.path);
  // Junk before any tag or frame at all (no ID3 tag).
  await checkVariant(cat(junk.subarray(0, 700), p.audio), p.audio, p.path);
  // More than 64 KiB of junk: not an MP3 we accept.
  const far = cat(p.tag, new Uint8Array(70 * 1024), p.audio);
  assertEquals(errorKind(() => probeMp3(new BufferSource(far))), "malformed");
});

Deno.test("junk scan confirms frames of other MPEG versions and layers (MPEG-2 L3, MPEG-1 L2, VBR)", async () => {
  using tmp = scratchDir("musefs-mp3k-");
  const dir = tmp.path;
  const variants: [string, string[]][] = [
    ["mpeg2-l3", ["-ar", "22050", "-c:a", "libmp3lame", "-b:a", "32k", "-f", "mp3"]],
    ["mpeg1-l2", ["-c:a", "mp2", "-b:a", "128k", "-f", "mp2"]],
    ["vbr", ["-c:a", "libmp3lame", "-q:a", "4", "-f", "mp3"]],
  ];
  for (const [name, args] of variants) {
    const path = `${dir}/${name}.mp3`;
    await run([
      "ffmpeg",
      "-nostdin",
      "-v",
      "error",
      "-y",
      "-f",
      "lavfi",
      "-i",
      "sine=f=440:d=0.3",
      "-id3v2_version",
      "0",
      ...args,
      path,
    ], { check: true });
    const plain = await Deno.readFile(path);
    const r = probeMp3(new BufferSource(plain));
    assertEquals(r.audioOffset, 0, name);
    const audio = audioOf(plain, r);
    const tag = id3v23Tag([["TIT2", name]]);
    const junk = Uint8Array.from({ length: 777 }, (_, i) => (i % 5 === 0 ? 0xff : i & 0x7f));
    const got = await checkVariant(cat(tag, junk, audio), audio, path);
    assertEquals(got.tags.map((t) => t.value), [name]);
  }
});

Deno.test("stacked ID3v2 tags: all skipped, the first tag wins per key", async () => {
  const p = await parts("mp3_v24");
  const extra = id3v23Tag([["TIT2", "Stacked title"], ["TCOM", "Stacked composer"]]);
  const later = await checkVariant(cat(p.tag, extra, p.audio, p.trailer), p.audio, p.path);
  const v = (r: ProbeResult, k: string) => r.tags.filter((t) => t.key === k).map((t) => t.value);
  assertEquals(v(later, "title"), v(p.result, "title"));
  assertEquals(v(later, "composer"), ["Stacked composer"]);
  assertEquals(later.pictures.length, 1);
  const earlier = await checkVariant(cat(extra, p.tag, p.audio, p.trailer), p.audio, p.path);
  assertEquals(v(earlier, "title"), ["Stacked title"]);
  assertEquals(v(earlier, "artist"), v(p.result, "artist"));
  // A second tag after some padding is found too.
  const gap = await checkVariant(
    cat(p.tag, new Uint8Array(100), extra, p.audio, p.trailer),
    p.audio,
    p.path,
  );
  assertEquals(v(gap, "composer"), ["Stacked composer"]);
});

function apeTag(items: [string, string][], withHeader: boolean): Uint8Array {
  const enc = new TextEncoder();
  const body: Uint8Array[] = [];
  for (const [k, val] of items) {
    const v = enc.encode(val);
    const h = new Uint8Array(8);
    new DataView(h.buffer).setUint32(0, v.length, true);
    body.push(h, latin(k), Uint8Array.of(0), v);
  }
  const itemsBytes = cat(...body);
  const hf = (isHeader: boolean) => {
    const b = new Uint8Array(32);
    b.set(latin("APETAGEX"));
    const dv = new DataView(b.buffer);
    dv.setUint32(8, 2000, true);
    dv.setUint32(12, itemsBytes.length + 32, true);
    dv.setUint32(16, items.length, true);
    dv.setUint32(20, (withHeader ? 0x8000_0000 : 0) | (isHeader ? 0x2000_0000 : 0), true);
    return b;
  };
  return withHeader ? cat(hf(true), itemsBytes, hf(false)) : cat(itemsBytes, hf(false));
}

function lyrics3v2(text: string): Uint8Array {
  const lyr = `LYR${String(text.length).padStart(5, "0")}${text}`;
  const body = `LYRICSBEGININD0000211${lyr}`;
  return latin(`${body}${String(body.length).padStart(6, "0")}LYRICS200`);
}

Deno.test("APEv2 trailers (with and without header) are excluded from the audio range", async () => {
  const p = await parts("mp3_v24");
  const ape = apeTag([["Title", "APE title"], ["Artist", "APE ärtist"]], true);
  await checkVariant(cat(p.tag, p.audio, ape, p.trailer), p.audio, p.path);
  const q = await parts("mp3_v23");
  await checkVariant(cat(q.tag, q.audio, apeTag([["Album", "x"]], false)), q.audio, q.path);
});

Deno.test("Lyrics3 v2 and v1 trailers (before ID3v1) are excluded from the audio range", async () => {
  const p = await parts("mp3_v24");
  await checkVariant(
    cat(p.tag, p.audio, lyrics3v2("la la la\r\nsecond"), p.trailer),
    p.audio,
    p.path,
  );
  const v1 = latin("LYRICSBEGINsome old lyrics\r\nmoreLYRICSEND");
  await checkVariant(cat(p.tag, p.audio, v1, p.trailer), p.audio, p.path);
  // Everything at once: APE, then Lyrics3v2, then ID3v1.
  const all = cat(p.tag, p.audio, apeTag([["Title", "t"]], true), lyrics3v2("x"), p.trailer);
  await checkVariant(all, p.audio, p.path);
});

Deno.test("appended ID3v2.4 tags (3DI footer) are excluded from the audio and fill missing keys", async () => {
  const p = await parts("mp3_v23");
  const frame = (id: string, value: string) =>
    cat(latin(id), Uint8Array.of(0, 0, 0, value.length + 1, 0, 0, 3), latin(value));
  const body = cat(frame("TIT2", "appended title"), frame("TCOM", "appended composer"));
  const size = [0, 0, (body.length >> 7) & 0x7f, body.length & 0x7f];
  const appended = cat(
    Uint8Array.of(0x49, 0x44, 0x33, 4, 0, 0x10, ...size),
    body,
    Uint8Array.of(0x33, 0x44, 0x49, 4, 0, 0x10, ...size),
  );
  const r = await checkVariant(cat(p.tag, p.audio, appended, p.trailer), p.audio, p.path);
  const v = (k: string) => r.tags.filter((t) => t.key === k).map((t) => t.value);
  const leading = p.result.tags.filter((t) => t.key === "title").map((t) => t.value);
  assertEquals(v("title"), leading, "the leading tag wins per key");
  assertEquals(v("composer"), ["appended composer"]);
  // Before an ID3v1 trailer as well.
  const q = await parts("mp3_v24");
  await checkVariant(cat(q.tag, q.audio, appended, q.trailer), q.audio, q.path);
});

// ---------------------------------------------------------------- hostile inputs

Deno.test("hostile: seeded mutations of both fixtures give a result or a FormatError", async () => {
  for (const name of MP3S) {
    const bytes = await Deno.readFile((await fixture(name)).path);
    const r = probeMp3(new BufferSource(bytes));
    const report = fuzzProbe(bytes, probeMp3, {
      hot: r.audioOffset + 512,
      seed: name === "mp3_v23" ? 1000 : 2000,
      synthesize: true,
    });
    assertEquals(report.failures, [], `${name}: ${JSON.stringify(report.failures.slice(0, 3))}`);
    assert(
      report.ok > 0 && report.formatErrors > 0,
      `${name}: ${report.ok} ok, ${report.formatErrors} errors`,
    );
  }
});

Deno.test("allocation bomb: an APIC frame claiming 200 MB, and a tag header claiming 200 MB", async () => {
  const p = await parts("mp3_v24");
  // v2.4 tag whose only frame claims 200 MB (synchsafe) in a 30-byte tag.
  const ss = (n: number) => [(n >> 21) & 0x7f, (n >> 14) & 0x7f, (n >> 7) & 0x7f, n & 0x7f];
  const frame = cat(latin("APIC"), Uint8Array.of(...ss(200_000_000), 0, 0), new Uint8Array(10));
  const tag = cat(Uint8Array.of(0x49, 0x44, 0x33, 4, 0, 0, ...ss(frame.length)), frame);
  const { result, read } = probeBytes(cat(tag, p.audio));
  assertEquals(result.pictures, []);
  assertEquals(result.audioOffset, tag.length);
  assert(read < 16 * 1024, `read ${read}`);
  // A tag header claiming 200 MB in a small file: truncated, nothing allocated.
  const huge = cat(Uint8Array.of(0x49, 0x44, 0x33, 3, 0, 0, ...ss(200_000_000)), p.audio);
  const src = new BoundedSource(new BufferSource(huge));
  assertEquals(errorKind(() => probeMp3(src)), "truncated");
  assert(src.bytesRead < 1024);
});

Deno.test("not MP3: text, an empty file, and a bad audio range at synthesis", () => {
  assertEquals(
    errorKind(() => probeMp3(new BufferSource(latin("hello world, no frames here")))),
    "malformed",
  );
  assertEquals(errorKind(() => probeMp3(new BufferSource(new Uint8Array()))), "malformed");
  const input = {
    format: "mp3" as const,
    audioOffset: 10,
    audioLength: 100,
    backingSize: 50,
    tags: [],
    binaryTags: [],
    art: [],
    structural: [],
  };
  const src = new BufferSource(new Uint8Array(50));
  assertEquals(errorKind(() => synthesizeMp3(input, src, new MemoryBlobs())), "invalid-input");
});
