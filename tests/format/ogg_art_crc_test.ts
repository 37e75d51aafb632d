// Page CRCs over cover images from tables of prefix CRCs
// (src/format/ogg/art_crc.ts): a slice's CRC equals the reference CRC of its
// bytes wherever it starts and ends, and Ogg files with covers larger than a
// page build the same bytes with the tables as by reading every slice, every
// page CRC right by the bit-at-a-time reference.

import assert from "node:assert/strict";
import {
  type BlobSource,
  inputFromProbe,
  materialize,
  MemoryBlobs,
  probePath,
  synthesize,
} from "../../src/format/mod.ts";
import { ArtCrcTable, CHECKPOINT } from "../../src/format/ogg/art_crc.ts";
import { base64Encode } from "../../src/format/layout.ts";
import { BufferSource } from "../../src/format/source.ts";
import { fixture } from "../fixtures/fixtures.ts";
import { mulberry32 } from "./mutate.ts";
import { assertCleanStream, naiveCrc } from "./ogg_util.ts";

function randomImage(length: number, seed: number): Uint8Array {
  const rand = mulberry32(seed);
  return Uint8Array.from({ length }, () => Math.floor(rand() * 256));
}

Deno.test("a slice's CRC from the table equals the reference CRC of its bytes", () => {
  const rand = mulberry32(7);
  for (const length of [1, 2, 3, 700, CHECKPOINT, 3 * CHECKPOINT + 5, 50_001]) {
    const blobs = new MemoryBlobs();
    const image = randomImage(length, length);
    const artId = blobs.addArt(image);
    for (const base64 of [true, false]) {
      const text = base64 ? base64Encode(image) : image;
      const table = ArtCrcTable.build({ artId, base64, artTotal: length }, blobs);
      const cuts: [number, number][] = [[0, text.length], [0, 0], [text.length, 0]];
      for (let i = 0; i < 40; i++) {
        const from = Math.floor(rand() * (text.length + 1));
        cuts.push([from, Math.floor(rand() * (text.length - from + 1))]);
      }
      for (const k of [CHECKPOINT - 1, CHECKPOINT, CHECKPOINT + 1]) {
        if (k <= text.length) cuts.push([k, text.length - k], [0, k]);
      }
      for (const [from, n] of cuts) {
        assert.equal(
          table.slice(from, n, blobs),
          naiveCrc(text.subarray(from, from + n)),
          `${base64 ? "base64" : "raw"} ${length}: [${from}, ${from + n})`,
        );
      }
      assert.throws(() => table.slice(text.length, 1, blobs), RangeError);
    }
  }
});

Deno.test("a table is built from one read of the image (a store reads the whole value for any slice)", () => {
  const blobs = new MemoryBlobs();
  const image = randomImage(300_000, 3);
  const artId = blobs.addArt(image);
  for (const base64 of [true, false]) {
    const reads: [number, number][] = [];
    const counting: BlobSource = {
      art: (id, offset, length) => {
        reads.push([offset, length]);
        return blobs.art(id, offset, length);
      },
      binaryTag: (id, offset, length) => blobs.binaryTag(id, offset, length),
    };
    const table = ArtCrcTable.build({ artId, base64, artTotal: image.length }, counting);
    assert.equal(reads.length, 1, `${base64 ? "base64" : "raw"}: ${JSON.stringify(reads)}`);
    const text = base64 ? base64Encode(image) : image;
    assert.equal(table.slice(0, text.length, blobs), naiveCrc(text));
  }
});

/** The same blobs without slice CRCs: every slice read and checksummed. */
function withoutTables(blobs: MemoryBlobs): BlobSource {
  return {
    art: (id, offset, length) => blobs.art(id, offset, length),
    binaryTag: (id, offset, length) => blobs.binaryTag(id, offset, length),
  };
}

for (const name of ["opus", "ogg_vorbis", "ogg_flac"] as const) {
  Deno.test(`ogg ${name}: covers over a page long build the same bytes with CRC tables, every page CRC right`, async () => {
    const fx = await fixture(name);
    const bytes = await Deno.readFile(fx.path);
    const probed = probePath(fx.path, new BufferSource(bytes));
    assert.ok(probed !== null);
    const { input, blobs } = inputFromProbe(probed, bytes.length);
    const backing = new BufferSource(bytes);
    // Two covers (front and back), 150 KB and 70 001 bytes: each spans pages.
    input.art = [150_000, 70_001].map((length, i) => ({
      artId: blobs.addArt(randomImage(length, 100 + i)),
      mime: "image/jpeg",
      pictureType: i === 0 ? 3 : 4,
      description: i === 0 ? "" : "back",
      width: null,
      height: null,
      byteLen: length,
    }));
    for (const title of ["x", "A much longer title that moves every page boundary of the covers"]) {
      input.tags = [{ key: "title", value: title, ordinal: 0 }];
      const tabled = materialize(synthesize(input, backing, blobs), { backing, blobs });
      const read = withoutTables(blobs);
      const plain = materialize(synthesize(input, backing, read), { backing, blobs: read });
      assert.deepEqual(tabled, plain, `${name}, title ${title.length} chars: same bytes`);
      const audioStart = tabled.length - input.audioLength;
      const pages = assertCleanStream(tabled.subarray(0, audioStart));
      assert.ok(pages.length >= 4, `${name}: the covers take several pages (${pages.length})`);
    }
  });
}
