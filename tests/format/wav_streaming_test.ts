// WAV files as streaming tools and cut copies leave them, which ffmpeg and
// mutagen read: a RIFF size near 2^32 or past the end of the file, a data
// size past the end of the file, a damaged chunk (or junk) after an intact
// data chunk. They are ingested and served with correct sizes, and ffmpeg
// decodes the served file to the same PCM as the original. A damaged chunk
// before the audio still fails alone, with a message naming the chunk.

import assert from "node:assert/strict";
import { probeWav } from "../../src/format/wav.ts";
import { BufferSource } from "../../src/format/source.ts";
import { FormatError } from "../../src/format/types.ts";
import { mutagenTags, pcmMd5, riffChunks, run, sourceWav, tempDir } from "../fixtures/fixtures.ts";
import { assertAudioIdentical, assertRandomRanges, roundTrip } from "./harness.ts";

const dv = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);

/** Offset of the header of the first chunk `id` (top level). */
function chunkAt(b: Uint8Array, id: string): number {
  let p = 12;
  while (p + 8 <= b.length) {
    if (String.fromCharCode(...b.subarray(p, p + 4)) === id) return p;
    const size = dv(b).getUint32(p + 4, true);
    p += 8 + size + (size & 1);
  }
  throw new Error(`no ${id} chunk`);
}

function withSizes(b: Uint8Array, riff?: number, data?: number): Uint8Array {
  const out = b.slice();
  if (riff !== undefined) dv(out).setUint32(4, riff, true);
  if (data !== undefined) dv(out).setUint32(chunkAt(out, "data") + 4, data, true);
  return out;
}

function append(b: Uint8Array, tail: Uint8Array): Uint8Array {
  const out = new Uint8Array(b.length + tail.length);
  out.set(b);
  out.set(tail, b.length);
  dv(out).setUint32(4, out.length - 8, true);
  return out;
}

/** An ffmpeg WAV with LIST/INFO (title) and an odd-sized final sample frame trimmed by cuts. */
async function baseWav(dir: string): Promise<Uint8Array> {
  const path = `${dir}/base.wav`;
  await run([
    "ffmpeg",
    "-v",
    "error",
    "-y",
    "-i",
    await sourceWav(),
    "-map_metadata",
    "-1",
    "-metadata",
    "title=Streamed",
    "-c:a",
    "pcm_s16le",
    "-bitexact",
    path,
  ], { check: true });
  return Deno.readFile(path);
}

function variants(base: Uint8Array): Record<string, Uint8Array> {
  const dataAt = chunkAt(base, "data");
  const dataSize = dv(base).getUint32(dataAt + 4, true);
  const junkChunk = new Uint8Array(40);
  junkChunk.set([0x6a, 0x75, 0x6e, 0x6b]); // "junk"
  dv(junkChunk).setUint32(4, 0x7fff_fff0, true); // claims far more than follows
  const garbage = new Uint8Array(37).map((_, i) => (i * 97 + 13) & 0xff);
  return {
    // arecord and friends: a 2 GiB guess in both sizes.
    "riff and data sizes guessed past the end (0x7FFFF024/0x7FFFF000)": withSizes(
      base,
      0x7fff_f024,
      0x7fff_f000,
    ),
    "riff size near 2^32 (0xFFFFFFF0)": withSizes(base, 0xffff_fff0),
    "riff size larger than the file": withSizes(base, base.length * 3),
    "riff and data sizes 0xFFFFFFFF (a pipe)": withSizes(base, 0xffff_ffff, 0xffff_ffff),
    "data size past the end of a cut file": base.slice(
      0,
      dataAt + 8 + Math.floor(dataSize / 3) + 1,
    ),
    "data size near 2^32 (0xFFFFFFF8)": withSizes(base, undefined, 0xffff_fff8),
    "a damaged chunk after the data": append(base, junkChunk),
    "garbage after the data": append(base, garbage),
  };
}

Deno.test("wav streaming: odd sizes and damaged trailers are served, same PCM in ffmpeg", async () => {
  const dir = await tempDir("musefs-wav-stream-");
  try {
    const base = await baseWav(dir);
    let i = 0;
    for (const [name, bytes] of Object.entries(variants(base))) {
      const path = `${dir}/v${i++}.wav`;
      await Deno.writeFile(path, bytes);
      try {
        const probe = probeWav(new BufferSource(bytes));
        const dataAt = chunkAt(bytes, "data");
        assert.equal(probe.audioOffset, dataAt + 8);
        assert(probe.audioOffset + probe.audioLength <= bytes.length);
        assert.deepEqual(probe.tags.find((t) => t.key === "title")?.value, "Streamed");
        const rt = await roundTrip(path, { dir });
        assertAudioIdentical(rt);
        assertRandomRanges(rt, 60, 4);
        // The served header is exact: RIFF size = file - 8, data size = payload.
        assert.equal(dv(rt.bytes).getUint32(4, true), rt.bytes.length - 8);
        const servedData = chunkAt(rt.bytes, "data");
        assert.equal(dv(rt.bytes).getUint32(servedData + 4, true), probe.audioLength);
        assert.deepEqual(riffChunks(rt.bytes).at(-1), "data");
        assert.equal(await pcmMd5(rt.outPath), await pcmMd5(path), "same PCM as the original");
        const m = await mutagenTags(rt.outPath);
        assert.equal(m.normalized.title, "Streamed");
      } catch (e) {
        throw new Error(`${name}: ${e}`);
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("wav streaming: a damaged chunk before the data still fails, naming the chunk", async () => {
  const dir = await tempDir("musefs-wav-stream-");
  try {
    const base = await baseWav(dir);
    const list = chunkAt(base, "LIST");
    const bad = base.slice();
    dv(bad).setUint32(list + 4, 0x7fff_0000, true);
    assert.throws(
      () => probeWav(new BufferSource(bad)),
      (e) =>
        e instanceof FormatError && e.kind === "malformed" &&
        /chunk 'LIST' at \d+ claims \d+ bytes, past the end of the file/.test(e.message),
    );
    // Unprintable chunk ids are escaped in the message.
    const garbled = bad.slice();
    garbled.set([0x01, 0xff], list);
    assert.throws(
      () => probeWav(new BufferSource(garbled)),
      (e) => e instanceof FormatError && e.message.includes("chunk '\\x01\\xffST'"),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
