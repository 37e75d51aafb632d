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
import { mutagenTags, pcmMd5, riffChunks, sourceWav } from "../fixtures/fixtures.ts";
import { chunkAt, streamingWav, wavVariants } from "../fixtures/odd.ts";
import { assertAudioIdentical, assertRandomRanges, roundTrip } from "./harness.ts";
import { scratchDir } from "../scratch.ts";

const dv = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);

const baseWav = async (dir: string) => streamingWav(dir, await sourceWav());

Deno.test("wav streaming: odd sizes and damaged trailers are served, same PCM in ffmpeg", async () => {
  using tmp = scratchDir("musefs-wav-stream-");
  const dir = tmp.path;
  const base = await baseWav(dir);
  let i = 0;
  for (const [name, bytes] of Object.entries(wavVariants(base))) {
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
});

Deno.test("wav streaming: a damaged chunk before the data still fails, naming the chunk", async () => {
  using tmp = scratchDir("musefs-wav-stream-");
  const dir = tmp.path;
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
});
