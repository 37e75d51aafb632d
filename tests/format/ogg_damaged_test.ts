// Ogg files whose audio region is not a clean run of complete pages, as
// real files come: a cut-off final page, junk between pages, a partial page
// between pages — for Opus, Vorbis and FLAC in Ogg made by the encoders.
// They are ingested, and the served file (as is, and with a 200 KB cover that
// renumbers every audio page) decodes in ffmpeg to the same PCM as the
// original, reads the same in mutagen, and serves every byte range.

import assert from "node:assert/strict";
import { probeOgg } from "../../src/format/ogg/mod.ts";
import { BufferSource } from "../../src/format/source.ts";
import { coverJpeg, mutagenTags, pcmMd5 } from "../fixtures/fixtures.ts";
import {
  damageOgg,
  encodeOgg,
  longSourceWav,
  OGG_CODECS,
  OGG_DAMAGES,
  OGG_EXT,
} from "../fixtures/odd.ts";
import { addArt, assertRandomRanges, type RoundTrip, roundTrip, setTag } from "./harness.ts";
import { mulberry32 } from "./mutate.ts";
import { bigJpeg, canonicalPages, naiveRepatch, walkPages } from "./ogg_util.ts";
import { scratchDir } from "../scratch.ts";

/** mutagen's core view, or the error text when mutagen cannot read the file. */
async function mutagenCore(path: string): Promise<unknown> {
  try {
    const v = await mutagenTags(path);
    return { title: v.normalized.title, artist: v.normalized.artist, album: v.normalized.album };
  } catch (e) {
    return `unreadable: ${String(e).split("\n").at(-2)}`;
  }
}

async function checkServed(rt: RoundTrip, title: string): Promise<void> {
  // Every range served, and the served audio is the reference re-patch of the original's.
  assertRandomRanges(rt, 150, 11);
  const audio = rt.layout.segments.at(-1)!;
  assert(audio.kind === "ogg-audio");
  const original = rt.originalBytes.subarray(audio.offset, audio.offset + audio.length);
  const served = rt.bytes.subarray(rt.bytes.length - audio.length);
  assert.deepEqual(served, naiveRepatch(original, audio.seqDelta), "served audio region");
  assert.equal(
    await pcmMd5(rt.outPath),
    await pcmMd5(rt.path),
    "ffmpeg decodes the served file as it decodes the original",
  );
  const m = await mutagenTags(rt.outPath);
  assert.equal(m.normalized.title, title, "mutagen reads the served tags");
}

for (const codec of OGG_CODECS) {
  Deno.test(`ogg damaged ${codec}: cut-off, junk and partial pages serve and decode`, async () => {
    using tmp = scratchDir("musefs-ogg-damaged-");
    const dir = tmp.path;
    const clean = await Deno.readFile(await encodeOgg(codec, await longSourceWav(dir), dir));
    const cover = bigJpeg(await coverJpeg(), 200 * 1024, mulberry32(5));
    for (const kind of OGG_DAMAGES) {
      const bytes = damageOgg(clean, kind);
      const path = `${dir}/${kind.replaceAll(" ", "_")}.${OGG_EXT[codec]}`;
      await Deno.writeFile(path, bytes);
      const probe = probeOgg(new BufferSource(bytes));
      assert.equal(probe.format, codec);
      assert.equal(probe.audioOffset + probe.audioLength, bytes.length, "the audio runs to EOF");
      // Every real page is a page; the damage is not.
      const cleanPages = walkPages(clean, probe.audioOffset).length;
      assert.equal(
        canonicalPages(bytes.subarray(probe.audioOffset)).length,
        kind === "cut-off final page" ? cleanPages - 1 : cleanPages,
      );
      const asIs = await roundTrip(path, { dir: `${dir}` });
      try {
        await checkServed(asIs, "Damaged");
        assert.deepEqual(await mutagenCore(asIs.outPath), await mutagenCore(path), kind);
      } catch (e) {
        throw new Error(`${kind}, served as is: ${e}`);
      }
      // A 200 KB cover adds header pages: every audio page is renumbered.
      const edited = await roundTrip(path, {
        dir: `${dir}`,
        edit(input, blobs) {
          setTag(input, "title", ["With cover"]);
          addArt(input, blobs, cover, { mime: "image/jpeg", pictureType: 3 });
        },
      });
      try {
        const seg = edited.layout.segments.at(-1)!;
        assert(seg.kind === "ogg-audio" && seg.seqDelta !== 0, "audio pages renumbered");
        await checkServed(edited, "With cover");
      } catch (e) {
        throw new Error(`${kind}, with a 200 KB cover: ${e}`);
      }
    }
  });
}
