// Size-only Ogg synthesis (SynthInput.sizeOnly, what getattr asks for): with
// art, page CRCs are skipped and no art is read, yet the size and every byte
// but the header pages' CRC fields equal the full synthesis; without art the
// layout is the full one (unmarked, so it may be cached and served).

import assert from "node:assert/strict";
import { materialize, synthesize } from "../../src/format/mod.ts";
import { CRC_AT } from "../../src/format/ogg/page.ts";
import { BufferSource } from "../../src/format/source.ts";
import type { BlobSource } from "../../src/format/types.ts";
import { fixture, type FixtureName } from "../fixtures/fixtures.ts";
import { MemoryBlobs, roundTrip } from "./harness.ts";
import { walkPages } from "./ogg_util.ts";

/** Counts art reads (the work a size-only synthesis must avoid). */
class CountingBlobs implements BlobSource {
  artReads = 0;
  constructor(readonly inner: MemoryBlobs) {}
  art(artId: number, offset: number, length: number): Uint8Array {
    this.artReads++;
    return this.inner.art(artId, offset, length);
  }
  binaryTag(id: number, offset: number, length: number): Uint8Array {
    return this.inner.binaryTag(id, offset, length);
  }
}

const OGG_FIXTURES: FixtureName[] = ["opus", "ogg_vorbis", "ogg_flac"];

for (const name of OGG_FIXTURES) {
  Deno.test(`ogg ${name}: a size-only synthesis skips art and CRCs, same size and bytes`, async () => {
    await using rt = await roundTrip((await fixture(name)).path);
    assert.ok(rt.input.art.length > 0, "the fixture carries art");
    assert.equal(rt.layout.sizeOnly, undefined, "a full synthesis is not marked");
    const backing = new BufferSource(rt.originalBytes);
    const blobs = new CountingBlobs(rt.blobs);
    const sized = synthesize({ ...rt.input, sizeOnly: true }, backing, blobs);
    assert.equal(blobs.artReads, 0, "no art read for the size");
    assert.equal(sized.sizeOnly, true);
    assert.equal(sized.size, rt.layout.size);
    assert.deepEqual(sized.segments.map((s) => s.kind), rt.layout.segments.map((s) => s.kind));

    // Same bytes once the header pages' CRC fields are blanked in the full file.
    const bytes = materialize(sized, { backing, blobs: rt.blobs });
    const audioStart = rt.bytes.length - rt.input.audioLength;
    const headerPages = walkPages(rt.bytes, 0, audioStart);
    assert.ok(headerPages.length >= 2);
    const blanked = rt.bytes.slice();
    for (const p of headerPages) {
      blanked.fill(0, p.offset + CRC_AT, p.offset + CRC_AT + 4);
      assert.notEqual(
        rt.bytes.subarray(p.offset + CRC_AT, p.offset + CRC_AT + 4).join(),
        "0,0,0,0",
      );
    }
    assert.deepEqual(bytes, blanked);
  });
}

Deno.test("ogg: without art a size-only synthesis is the full one", async () => {
  await using rt = await roundTrip((await fixture("ogg_vorbis")).path, {
    edit: (input) => {
      input.art = [];
    },
  });
  const backing = new BufferSource(rt.originalBytes);
  const sized = synthesize({ ...rt.input, sizeOnly: true }, backing, rt.blobs);
  assert.equal(sized.sizeOnly, undefined, "nothing skipped, nothing marked");
  assert.deepEqual(materialize(sized, { backing, blobs: rt.blobs }), rt.bytes);
});
