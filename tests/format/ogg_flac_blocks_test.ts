// FLAC in Ogg with SEEKTABLE, CUESHEET and APPLICATION blocks (as flac
// writes them from a native FLAC made with --cuesheet, a seek table and
// --keep-foreign-metadata): the Ogg FLAC mapping wants the VORBIS_COMMENT as
// the first packet after the identification packet, and mutagen (so beets,
// Picard, Quod Libet) reads tags only there. The served file keeps that
// order, keeps the other blocks, and decodes to the same PCM.

import assert from "node:assert/strict";
import { u16be } from "../../src/format/bytes.ts";
import { coverPng, mutagenTags, pcmMd5, run } from "../fixtures/fixtures.ts";
import { oggFlacWithBlocks } from "../fixtures/odd.ts";
import { addArt, type RoundTrip, roundTrip, setTag } from "./harness.ts";
import { walkPages } from "./ogg_util.ts";
import { scratchDir } from "../scratch.ts";

const VORBIS_COMMENT = 4;
const NAMES: Record<number, string> = {
  1: "PADDING",
  2: "APPLICATION",
  3: "SEEKTABLE",
  4: "VORBIS_COMMENT",
  5: "CUESHEET",
  6: "PICTURE",
};

/** The metadata block types of an Ogg FLAC file's header packets, in order. */
function headerBlocks(bytes: Uint8Array): { types: string[]; declared: number } {
  const packets: Uint8Array[] = [];
  let current: number[] = [];
  for (const p of walkPages(bytes)) {
    const nseg = bytes[p.offset + 26];
    let at = p.offset + 27 + nseg;
    for (let i = 0; i < nseg; i++) {
      const n = bytes[p.offset + 27 + i];
      current.push(...bytes.subarray(at, at + n));
      at += n;
      if (n < 255) {
        packets.push(Uint8Array.from(current));
        current = [];
      }
    }
    if (packets.length > 0 && (packets.at(-1)![0] & 0x80) !== 0) break; // last-block flag
    if (packets.length > 64) break;
  }
  const declared = u16be(packets[0], 7);
  const types = packets.slice(1).map((p) => NAMES[p[0] & 0x7f] ?? `type ${p[0] & 0x7f}`);
  return { types, declared };
}

async function checkServed(rt: RoundTrip, title: string): Promise<void> {
  const served = headerBlocks(rt.bytes);
  assert.equal(served.types[0], NAMES[VORBIS_COMMENT], `order ${served.types}`);
  assert.equal(served.declared, served.types.length, "header packet count");
  for (const kept of ["SEEKTABLE", "CUESHEET", "APPLICATION"]) {
    assert(served.types.includes(kept), `${kept} kept: ${served.types}`);
  }
  const m = await mutagenTags(rt.outPath);
  assert.equal(m.type, "OggFLAC");
  assert.equal(m.normalized.title, title, "mutagen reads the tags");
  assert.deepEqual(m.normalized.artist, ["Cue Sheet"]);
  assert.equal(await pcmMd5(rt.outPath), await pcmMd5(rt.path), "same PCM");
  const t = await run(["flac", "-t", "-s", rt.outPath]);
  assert.equal(t.code, 0, `flac -t: ${t.stderr}`);
}

Deno.test("ogg flac: SEEKTABLE/CUESHEET/APPLICATION blocks stay behind the VORBIS_COMMENT", async () => {
  using tmp = scratchDir("musefs-oggflac-blocks-");
  const dir = tmp.path;
  const path = await oggFlacWithBlocks(dir);
  const original = headerBlocks(await Deno.readFile(path));
  for (const t of ["VORBIS_COMMENT", "SEEKTABLE", "CUESHEET", "APPLICATION"]) {
    assert(original.types.includes(t), `fixture has ${t}: ${original.types}`);
  }
  const asIs = await roundTrip(path, { dir });
  await checkServed(asIs, "Blocks");
  const cover = await coverPng();
  const edited = await roundTrip(path, {
    dir,
    edit(input, blobs) {
      setTag(input, "title", ["Edited blocks"]);
      addArt(input, blobs, cover, { mime: "image/png", pictureType: 3 });
    },
  });
  await checkServed(edited, "Edited blocks");
  assert.equal(headerBlocks(edited.bytes).types.at(-1), "PICTURE");
  assert.equal((await mutagenTags(edited.outPath)).normalized.pictures.length, 1);
});
