// The binary records the synthesis worker writes into the shared ring
// (src/core/synth_wire.ts) read back field for field: every segment kind,
// inline bytes copied out of the ring, a path that is not ASCII, nanosecond
// times and inode numbers beyond 2^53.

import assert from "node:assert/strict";
import {
  isSizeRecord,
  readSizeResult,
  readSynthResult,
  WireReader,
  WireWriter,
  writeSizeResult,
  writeSynthResult,
} from "../../src/core/synth_wire.ts";
import type { SizeResult, SynthResult } from "../../src/core/synth_messages.ts";

const stamp = { size: 123_456_789, mtimeNs: 1_733_389_200_123_456_789n, ctimeNs: 2n ** 62n + 5n };

/** The head, then the inline bytes, at an odd offset in a larger buffer, as in the ring. */
function inRing(head: Uint8Array, inline: Uint8Array): { ring: Uint8Array; at: number } {
  const ring = new Uint8Array(8 + head.length + inline.length + 3);
  ring.set(head, 3);
  ring.set(inline, 3 + head.length);
  return { ring, at: 3 };
}

Deno.test("a built file's record reads back as the file, its ring bytes copied out", () => {
  const inline = Uint8Array.of(1, 2, 3, 4, 5, 6, 7);
  const result: SynthResult = {
    seq: 4095,
    file: {
      trackId: 2 ** 40 + 7,
      backingPath: "/music/Björk/Homogenic/01 — Hunter 🎵.ogg",
      format: "vorbis",
      audioOffset: 4321,
      audioLength: 2 ** 45,
      contentVersion: 17,
      updatedAt: 1_733_389_200,
      stamp,
      layout: {
        size: 2 ** 45 + 99,
        segments: [
          { kind: "ring", at: 0, length: 3 },
          { kind: "art", artId: 9, length: 1000 },
          { kind: "binary-tag", id: 77, length: 12 },
          { kind: "ring", at: 3, length: 4 },
          { kind: "backing", offset: 4321, length: 2 ** 44 },
          { kind: "ogg-audio", offset: 5000, length: 2 ** 44, seqDelta: 0xffff_fffe },
          { kind: "ogg-art", artId: 3, offset: 10, length: 20, base64: true, artTotal: 30 },
          { kind: "ogg-art", artId: 4, offset: 0, length: 8, base64: false, artTotal: 8 },
        ],
      },
      streamsRows: true,
      mtimeSec: 1_733_389_200,
      mtimeNsec: 999_999_999,
      inlineBytes: 7,
    },
    geometryChecked: true,
    backing: { fd: 1023, dev: 2049, ino: 2n ** 64n - 3n, stamp },
  };
  const head = writeSynthResult(new WireWriter(), result).slice();
  const { ring, at } = inRing(head, inline);
  assert.equal(isSizeRecord(ring, at), false);
  const back = readSynthResult(new WireReader(ring, at), at + head.length);
  assert.deepStrictEqual(back.file.layout.segments, [
    { kind: "inline", bytes: Uint8Array.of(1, 2, 3) },
    { kind: "art", artId: 9, length: 1000 },
    { kind: "binary-tag", id: 77, length: 12 },
    { kind: "inline", bytes: Uint8Array.of(4, 5, 6, 7) },
    { kind: "backing", offset: 4321, length: 2 ** 44 },
    { kind: "ogg-audio", offset: 5000, length: 2 ** 44, seqDelta: 0xffff_fffe },
    { kind: "ogg-art", artId: 3, offset: 10, length: 20, base64: true, artTotal: 30 },
    { kind: "ogg-art", artId: 4, offset: 0, length: 8, base64: false, artTotal: 8 },
  ]);
  const { layout: _, ...rest } = result.file;
  const { layout: __, ...restBack } = back.file;
  assert.deepStrictEqual(restBack, rest);
  assert.equal(back.file.layout.size, result.file.layout.size);
  assert.equal(back.seq, 4095);
  assert.equal(back.geometryChecked, true);
  assert.deepStrictEqual(back.backing, result.backing);
  // The worker's stamp equal to the recorded one travels as a flag: one object serves both.
  assert.equal(back.backing.stamp, back.file.stamp);
  // A different one (the file changed in ctime only, say) travels whole.
  const moved = { ...stamp, ctimeNs: stamp.ctimeNs + 1n };
  for (const format of ["flac", "mp3", "m4a", "opus", "vorbis", "oggflac", "wav"] as const) {
    const other = {
      ...result,
      file: { ...result.file, format },
      backing: { ...result.backing, stamp: moved },
    };
    const h = writeSynthResult(new WireWriter(), other).slice();
    const r = inRing(h, inline);
    const got = readSynthResult(new WireReader(r.ring, r.at), r.at + h.length);
    assert.deepStrictEqual(got.backing.stamp, moved, format);
    assert.equal(got.file.format, format);
    assert.deepStrictEqual(got.file.stamp, stamp);
  }
  // The inline bytes are copies: the ring can be overwritten.
  ring.fill(0);
  assert.deepEqual(back.file.layout.segments[0], { kind: "inline", bytes: Uint8Array.of(1, 2, 3) });
});

Deno.test("a size record reads back as the size and the row state it was made from", () => {
  const result: SizeResult = {
    seq: 12,
    sized: {
      trackId: 5,
      contentVersion: 3,
      updatedAt: 1_700_000_000,
      format: "m4a",
      audioOffset: 48,
      audioLength: 1_000_000,
      backingPath: "/m/ünïcode/a.m4a",
      stamp,
      size: 1_002_345,
    },
  };
  const head = writeSizeResult(new WireWriter(), result).slice();
  const { ring, at } = inRing(head, new Uint8Array(0));
  assert.equal(isSizeRecord(ring, at), true);
  assert.deepStrictEqual(readSizeResult(new WireReader(ring, at)), result);
});

/** A size record for `backingPath` (the other fields fixed). */
function sized(seq: number, backingPath: string, format: "flac" | "mp3" = "flac"): SizeResult {
  return {
    seq,
    sized: {
      trackId: seq,
      contentVersion: 0,
      updatedAt: 0,
      format,
      audioOffset: 0,
      audioLength: 0,
      backingPath,
      stamp,
      size: seq,
    },
  };
}

Deno.test("the writer grows for a long path and is reused from the start after each record", () => {
  const w = new WireWriter();
  const long = "/" + "é".repeat(5000);
  const a = writeSizeResult(w, sized(1, long)).slice();
  assert.equal(readSizeResult(new WireReader(a, 0)).sized.backingPath, long);
  // ASCII is read straight from the bytes up to 4096 of them, decoded beyond: both exact.
  for (const ascii of ["/a.flac", "/" + "a".repeat(4095), "/" + "b".repeat(5000)]) {
    const r = writeSizeResult(w, sized(1, ascii)).slice();
    assert.equal(readSizeResult(new WireReader(r, 0)).sized.backingPath, ascii);
  }
  const b = writeSizeResult(w, sized(2, "/x.mp3", "mp3"));
  assert.ok(b.length < 200, "the second record starts at the buffer's start");
  assert.equal(readSizeResult(new WireReader(b, 0)).sized.backingPath, "/x.mp3");
});
