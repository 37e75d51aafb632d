// Probe and synthesis edge cases on hand-built Ogg streams: chained and
// multiplexed files, audio sharing the last header page, unknown codecs,
// bad CRCs, truncation, FLAC-in-Ogg with an unknown header count, broken
// pictures, and synthesis against a backing file that changed.

import assert from "node:assert/strict";
import { concat, encodeLatin1, encodeUtf8, putU32le } from "../../src/format/bytes.ts";
import { materialize } from "../../src/format/layout.ts";
import { inputFromProbe } from "../../src/format/mod.ts";
import { probeOgg, synthesizeOgg } from "../../src/format/ogg/mod.ts";
import { buildPageHeader, FLAG_BOS, pageCrc, setPageCrc } from "../../src/format/ogg/page.ts";
import { BoundedSource, BufferSource } from "../../src/format/source.ts";
import { FormatError, type FormatErrorKind, type ProbeResult } from "../../src/format/types.ts";
import { assertCleanStream } from "./ogg_util.ts";

const u32 = (v: number) => {
  const b = new Uint8Array(4);
  putU32le(b, 0, v);
  return b;
};
const str = (s: string) => encodeUtf8(s);
const latin = encodeLatin1;

function comment(entries: string[]): Uint8Array {
  const vendor = str("test vendor");
  return concat([
    u32(vendor.length),
    vendor,
    u32(entries.length),
    ...entries.flatMap((e) => [u32(str(e).length), str(e)]),
  ]);
}

const OPUS_HEAD = concat([
  latin("OpusHead"),
  new Uint8Array([1, 2, 0x38, 1, 0x80, 0xbb, 0, 0, 0, 0, 0]),
]);
const opusTags = (entries: string[]) => concat([latin("OpusTags"), comment(entries)]);

interface PageSpec {
  /** Whole packets on the page (the last may be `open`: continued on the next page). */
  packets: Uint8Array[];
  open?: boolean;
  continued?: boolean;
  bos?: boolean;
  serial?: number;
  seq?: number;
}

/** Lacing for packets on a page (an open last packet has only 255s: must be a 255-multiple). */
function lacingOf(spec: PageSpec): number[] {
  const out: number[] = [];
  spec.packets.forEach((p, i) => {
    const open = spec.open && i === spec.packets.length - 1;
    let rest = p.length;
    while (rest >= 255) {
      out.push(255);
      rest -= 255;
    }
    if (open) assert.equal(rest, 0, "an open packet piece must be a multiple of 255");
    else out.push(rest);
  });
  return out;
}

function oggFile(pages: PageSpec[]): Uint8Array {
  return concat(pages.map((spec, i) => {
    const header = buildPageHeader({
      flags: (spec.bos ?? i === 0 ? FLAG_BOS : 0) | (spec.continued ? 1 : 0),
      serial: spec.serial ?? 77,
      seq: spec.seq ?? i,
      lacing: lacingOf(spec),
    });
    const page = concat([header, ...spec.packets]);
    setPageCrc(page, pageCrc(page));
    return page;
  }));
}

const audioPage = (seq: number, n = 300): PageSpec => ({
  packets: [new Uint8Array(n).fill(seq)],
  seq,
});

function probeBytes(bytes: Uint8Array): ProbeResult {
  return probeOgg(new BoundedSource(new BufferSource(bytes)));
}

function assertKind(f: () => unknown, kind: FormatErrorKind): void {
  assert.throws(f, (e) => e instanceof FormatError && e.kind === kind, `expected ${kind}`);
}

Deno.test("ogg probe: minimal Opus stream, tags and audio geometry", () => {
  const bytes = oggFile([
    { packets: [OPUS_HEAD] },
    { packets: [opusTags(["TITLE=Hi", "artist=A", "ARTIST=B", "Mood=calm", "=x", "EMPTY="])] },
    audioPage(2),
    audioPage(3),
  ]);
  const p = probeBytes(bytes);
  assert.equal(p.format, "opus");
  assert.deepEqual(p.tags.map((t) => `${t.key}[${t.ordinal}]=${t.value}`), [
    "title[0]=Hi",
    "artist[0]=A",
    "artist[1]=B",
    "Mood[0]=calm",
  ]);
  const headerEnd = 27 + 1 + OPUS_HEAD.length + 27 + 1 +
    opusTags(["TITLE=Hi", "artist=A", "ARTIST=B", "Mood=calm", "=x", "EMPTY="]).length;
  assert.equal(p.audioOffset, headerEnd);
  assert.equal(p.audioLength, bytes.length - headerEnd);
});

Deno.test("ogg probe: a header packet continued over pages", () => {
  const big = opusTags(["TITLE=" + "x".repeat(600)]);
  const cut = 510; // multiple of 255: the first page ends inside the packet
  const bytes = oggFile([
    { packets: [OPUS_HEAD] },
    { packets: [big.subarray(0, cut)], open: true },
    { packets: [big.subarray(cut)], continued: true },
    audioPage(3),
  ]);
  const p = probeBytes(bytes);
  assert.equal(p.tags[0].value, "x".repeat(600));
  // The served file lays it out again, audio renumbered after the new pages.
  const { input, blobs } = inputFromProbe(p, bytes.length);
  const backing = new BufferSource(bytes);
  const served = materialize(synthesizeOgg(input, backing, blobs), { backing, blobs });
  assertCleanStream(served);
  assert.equal(probeBytes(served).tags[0].value, "x".repeat(600));
});

Deno.test("ogg probe: chained, multiplexed and shared-page streams are unsupported", () => {
  // A second BOS page among the header pages (chained / multiplexed start).
  assertKind(() =>
    probeBytes(oggFile([
      { packets: [OPUS_HEAD] },
      { packets: [OPUS_HEAD], bos: true, serial: 78, seq: 0 },
      { packets: [opusTags([])] },
    ])), "unsupported");
  // Another serial inside the header region.
  assertKind(() =>
    probeBytes(oggFile([
      { packets: [OPUS_HEAD] },
      { packets: [opusTags([])], serial: 99 },
      audioPage(2),
    ])), "unsupported");
  // The first audio packet on the page that completes the headers.
  assertKind(() =>
    probeBytes(oggFile([
      { packets: [OPUS_HEAD] },
      { packets: [opusTags([]), new Uint8Array(40)] },
    ])), "unsupported");
  // Not Opus, Vorbis or FLAC.
  assertKind(
    () => probeBytes(oggFile([{ packets: [latin("Speex   ").slice(), new Uint8Array(72)] }])),
    "unsupported",
  );
});

Deno.test("ogg probe: malformed and truncated streams", () => {
  const good = oggFile([{ packets: [OPUS_HEAD] }, { packets: [opusTags(["A=b"])] }, audioPage(2)]);
  assert.equal(probeBytes(good).format, "opus");
  const badCrc = good.slice();
  badCrc[60] ^= 1;
  assertKind(() => probeBytes(badCrc), "malformed");
  assertKind(() => probeBytes(good.subarray(0, 50)), "truncated");
  assertKind(() => probeBytes(good.subarray(0, 20)), "truncated");
  assertKind(() => probeBytes(new Uint8Array(0)), "truncated");
  assertKind(() => probeBytes(str("ID3 not an ogg file at all, sorry".padEnd(300))), "malformed");
  // First page without BOS.
  assertKind(
    () => probeBytes(oggFile([{ packets: [OPUS_HEAD], bos: false }, { packets: [opusTags([])] }])),
    "malformed",
  );
  // A page claiming to continue a packet when none is open.
  assertKind(
    () =>
      probeBytes(oggFile([{ packets: [OPUS_HEAD] }, { packets: [opusTags([])], continued: true }])),
    "malformed",
  );
  // OpusTags missing.
  assertKind(
    () => probeBytes(oggFile([{ packets: [OPUS_HEAD] }, { packets: [comment([])] }, audioPage(2)])),
    "malformed",
  );
  // A comment count that cannot fit.
  const lying = opusTags([]);
  putU32le(lying, lying.length - 4, 0xffffffff);
  assertKind(
    () => probeBytes(oggFile([{ packets: [OPUS_HEAD] }, { packets: [lying] }])),
    "truncated",
  );
});

Deno.test("ogg probe: a broken METADATA_BLOCK_PICTURE drops the pictures, not the file", () => {
  const pic = concat([
    new Uint8Array([0, 0, 0, 3, 0, 0, 0, 9]),
    latin("image/png"),
    new Uint8Array([0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3]),
    new Uint8Array([1, 2, 3]),
  ]);
  const b64 = btoa(String.fromCharCode(...pic));
  const ok = probeBytes(oggFile([
    { packets: [OPUS_HEAD] },
    { packets: [opusTags(["TITLE=t", `METADATA_BLOCK_PICTURE=${b64}`])] },
    audioPage(2),
  ]));
  assert.equal(ok.pictures.length, 1);
  assert.deepEqual([...ok.pictures[0].data], [1, 2, 3]);
  assert.equal(ok.pictures[0].width, 1);
  for (const bad of ["!!notbase64!!", b64.slice(0, -8), btoa("short")]) {
    const p = probeBytes(oggFile([
      { packets: [OPUS_HEAD] },
      {
        packets: [
          opusTags(["TITLE=t", `METADATA_BLOCK_PICTURE=${b64}`, `METADATA_BLOCK_PICTURE=${bad}`]),
        ],
      },
      audioPage(2),
    ]));
    assert.deepEqual(p.pictures, [], `pictures dropped for ${bad}`);
    assert.deepEqual(p.tags.map((t) => t.value), ["t"]);
  }
});

const STREAMINFO = new Uint8Array(34).fill(7);
function flacFirst(count: number): Uint8Array {
  return concat([
    latin("\x7fFLAC\x01\x00"),
    new Uint8Array([count >> 8, count & 0xff]),
    latin("fLaC"),
    new Uint8Array([0, 0, 0, 34]),
    STREAMINFO,
  ]);
}
function block(type: number, body: Uint8Array, last = false): Uint8Array {
  const n = body.length;
  return concat([
    new Uint8Array([(last ? 0x80 : 0) | type, n >> 16, (n >> 8) & 0xff, n & 0xff]),
    body,
  ]);
}

Deno.test("ogg flac: unknown header count, preserved blocks, padding dropped", () => {
  const seektable = new Uint8Array(18).fill(0xab);
  const app = concat([latin("TEST"), new Uint8Array([9, 9, 9])]);
  const bytes = oggFile([
    { packets: [flacFirst(0)] },
    { packets: [block(3, seektable)] },
    { packets: [block(4, comment(["TITLE=ogg flac", "ARTIST=x"]))] },
    { packets: [block(2, app)] },
    { packets: [block(1, new Uint8Array(100))] },
    { packets: [block(5, new Uint8Array(20).fill(5), true)] },
    audioPage(6),
  ]);
  const p = probeBytes(bytes);
  assert.equal(p.format, "oggflac");
  assert.deepEqual(p.tags.map((t) => t.value), ["ogg flac", "x"]);
  const { input, blobs } = inputFromProbe(p, bytes.length);
  const backing = new BufferSource(bytes);
  const layout = synthesizeOgg(input, backing, blobs);
  const served = materialize(layout, { backing, blobs });
  const pages = assertCleanStream(served);
  // Packets: first (count 4), VORBIS_COMMENT (the mapping wants it first), then SEEKTABLE,
  // APPLICATION, CUESHEET in their original order (the last one flagged last).
  const bodies = pages.slice(0, 5).map((pg) =>
    served.subarray(pg.offset + 28, pg.offset + pg.size)
  );
  assert.deepEqual([bodies[0][7], bodies[0][8]], [0, 4]);
  assert.equal(bodies[0][13], 0, "STREAMINFO is not last");
  assert.deepEqual(bodies.slice(1).map((b) => b[0]), [4, 3, 2, 0x85]);
  assert.deepEqual(bodies[2], block(3, seektable));
  assert.deepEqual(bodies[3], block(2, app));
  assert.equal(probeBytes(served).audioLength, p.audioLength);
  // No last-block flag anywhere: count 0 cannot be resolved.
  assertKind(() =>
    probeBytes(oggFile([
      { packets: [flacFirst(0)] },
      { packets: [block(4, comment([]))] },
      audioPage(2),
    ])), "malformed");
});

Deno.test("ogg synthesis: refuses a backing file whose header region changed", () => {
  const bytes = oggFile([{ packets: [OPUS_HEAD] }, { packets: [opusTags(["A=b"])] }, audioPage(2)]);
  const p = probeBytes(bytes);
  const { input, blobs } = inputFromProbe(p, bytes.length);
  const changed = oggFile([
    { packets: [OPUS_HEAD] },
    { packets: [opusTags(["A=bc"])] },
    audioPage(2),
  ]);
  assertKind(() => synthesizeOgg(input, new BufferSource(changed), blobs), "malformed");
  assertKind(
    () => synthesizeOgg({ ...input, format: "vorbis" }, new BufferSource(bytes), blobs),
    "invalid-input",
  );
  assertKind(
    () =>
      synthesizeOgg(
        { ...input, audioLength: input.audioLength + 1 },
        new BufferSource(bytes),
        blobs,
      ),
    "truncated",
  );
  // Art over the cap cannot be written.
  assertKind(
    () =>
      synthesizeOgg(
        {
          ...input,
          art: [{
            artId: 1,
            mime: "image/png",
            pictureType: 3,
            description: "",
            width: null,
            height: null,
            byteLen: 16_711_681,
          }],
        },
        new BufferSource(bytes),
        blobs,
      ),
    "too-large",
  );
});
