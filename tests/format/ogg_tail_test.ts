// Finding the last header packets of an Ogg stream from the end of its
// header region (format/ogg/packets.ts `tailStart`, `HeaderPacketReader.skip`):
// over pages packed as libogg packs them (packets ending mid-page, lacing
// values of 0, pages of any size), with capture patterns and whole fake page
// headers inside the packet data, with damaged pages; and synthesis of real
// files with real-size covers (written by mutagen, which pages them 4 KiB at
// a time) reading a few pages instead of walking every one.

import assert from "node:assert/strict";
import { HeaderPacketReader, tailStart } from "../../src/format/ogg/packets.ts";
import {
  buildPageHeader,
  crcUpdate,
  FLAG_BOS,
  FLAG_CONTINUED,
  parsePageHeader,
  setPageCrc,
} from "../../src/format/ogg/page.ts";
import { oggSize, probeOgg, synthesizeOgg } from "../../src/format/ogg/mod.ts";
import { BoundedSource, BufferSource } from "../../src/format/source.ts";
import { inputFromProbe } from "../../src/format/mod.ts";
import { coverJpeg, fixture, run } from "../fixtures/fixtures.ts";
import { PY } from "../fixtures/tools.ts";
import { mulberry32 } from "./mutate.ts";
import { RecordingSource } from "./mp4_util.ts";
import { assertServedOgg, bigJpeg, walkPages } from "./ogg_util.ts";
import { roundTrip, sha256 } from "./harness.ts";
import { scratchDir } from "../scratch.ts";

const SERIAL = 0x1234abcd;

/** A page with a valid CRC. */
function page(flags: number, seq: number, lacing: number[], body: Uint8Array): Uint8Array {
  const header = buildPageHeader({ flags, serial: SERIAL, seq, lacing });
  setPageCrc(header, crcUpdate(crcUpdate(0, header), body));
  const out = new Uint8Array(header.length + body.length);
  out.set(header);
  out.set(body, header.length);
  return out;
}

interface Packed {
  bytes: Uint8Array;
  /** For each packet: the offset of the page it starts on and the index of its first lacing value. */
  starts: { page: number; lace: number }[];
}

/**
 * Packets laid into pages as libogg does: lacing values in order, a page
 * flushed when it holds `pageBody` bytes or 255 values, and after the
 * packets in `flushAfter` (the first packet alone on page 0, the last one
 * ending the region).
 */
function pack(packets: Uint8Array[], pageBody: number, flushAfter: Set<number>): Packed {
  const out: Uint8Array[] = [];
  const starts: { page: number; lace: number }[] = [];
  let at = 0;
  let seq = 0;
  let lacing: number[] = [];
  let body: number[] = [];
  let continued = false;
  const flush = (next: boolean) => {
    const flags = (seq === 0 ? FLAG_BOS : 0) | (continued ? FLAG_CONTINUED : 0);
    const p = page(flags, seq, lacing, new Uint8Array(body));
    out.push(p);
    at += p.length;
    seq++;
    lacing = [];
    body = [];
    continued = next;
  };
  packets.forEach((packet, k) => {
    starts.push({ page: at, lace: lacing.length });
    let left = packet.length;
    let from = 0;
    for (;;) {
      if (lacing.length === 255 || body.length >= pageBody) {
        // A packet that starts on a fresh page is recorded there.
        if (from === 0 && starts[k].lace === lacing.length) {
          flush(false);
          starts[k] = { page: at, lace: 0 };
        } else flush(true);
      }
      const v = Math.min(255, left);
      lacing.push(v);
      for (let i = 0; i < v; i++) body.push(packet[from + i]);
      from += v;
      left -= v;
      if (v < 255) break;
    }
    if (flushAfter.has(k)) flush(false);
  });
  if (lacing.length > 0) flush(false);
  const bytes = new Uint8Array(at);
  let o = 0;
  for (const p of out) {
    bytes.set(p, o);
    o += p.length;
  }
  return { bytes, starts };
}

/** Random packet bytes, some holding capture patterns and whole page headers of the stream. */
function packetOf(rand: () => number, length: number, fakes: boolean): Uint8Array {
  const b = new Uint8Array(length);
  for (let i = 0; i < length; i++) b[i] = (rand() * 256) | 0;
  if (fakes && length > 400) {
    for (let n = 0; n < 4; n++) {
      const at = (rand() * (length - 300)) | 0;
      const nseg = 1 + ((rand() * 40) | 0);
      const fake = buildPageHeader({
        flags: rand() < 0.5 ? FLAG_CONTINUED : 0,
        serial: SERIAL,
        seq: 7,
        lacing: Array.from({ length: nseg }, () => (rand() * 256) | 0),
      });
      b.set(fake.subarray(0, Math.min(fake.length, length - at)), at);
    }
  }
  return b;
}

Deno.test("ogg tail: the last packets' start is found from the end, or no answer is given", () => {
  const rand = mulberry32(7);
  let answered = 0;
  for (let trial = 0; trial < 400; trial++) {
    const fakes = trial % 2 === 1;
    const count = 2 + ((rand() * 4) | 0);
    const lengths = Array.from({ length: count }, (_, k) => {
      if (k === 0) return 30;
      const r = rand();
      // Multiples of 255 end with a 0 lacing value; some packets are empty.
      if (r < 0.1) return 255 * (1 + ((rand() * 20) | 0));
      if (r < 0.15) return 0;
      return (rand() * (r < 0.5 ? 600 : 40000)) | 0;
    });
    const packets = lengths.map((n) => packetOf(rand, n, fakes));
    const pageBody = [255, 4096, 4096, 16384, 65025][(rand() * 5) | 0];
    const { bytes, starts } = pack(packets, pageBody, new Set([0, count - 1]));
    for (let following = 0; following <= Math.min(2, count - 2); following++) {
      // The region's last bytes, from some point after the first page.
      const firstPage = walkPages(bytes)[0];
      const from = firstPage.offset + firstPage.size +
        ((rand() * (bytes.length - firstPage.size - firstPage.offset)) | 0);
      const got = tailStart(bytes.subarray(from), SERIAL, following);
      if (got === null) continue;
      answered++;
      const at = got.page + from;
      if (following === 0) {
        const last = walkPages(bytes).at(-1)!;
        const lacing = parsePageHeader(bytes, last.offset)!.lacing.length;
        assert.deepEqual({ at, lace: got.lace }, { at: last.offset, lace: lacing });
      } else {
        const want = starts[count - following];
        assert.deepEqual(
          { at, lace: got.lace },
          { at: want.page, lace: want.lace },
          `trial ${trial}: packets ${lengths}, pages of ${pageBody}, following ${following}`,
        );
      }
    }
  }
  assert.ok(answered > 300, `answers given: ${answered}`);
});

Deno.test("ogg tail: a page header inside packet data, chaining to the end, is not taken for a page", () => {
  const rand = mulberry32(3);
  const packets = [30, 20000, 6000].map((n) => packetOf(rand, n, false));
  const { bytes, starts } = pack(packets, 4096, new Set([0, 2]));
  const pages = walkPages(bytes);
  const s = pages.findIndex((p) => p.offset === starts[2].page);
  assert.ok(
    s >= 2 && starts[2].lace > 0 && s + 1 < pages.length,
    "the last packet starts mid-page",
  );
  // In the body of the page before that one: a header of this stream whose
  // "page" ends where the page after it starts, so it chains to the end in
  // place of the page where the last packet starts. Its lacing values: one
  // ending a packet, then 255s running on into the next page.
  const host = pages[s - 1];
  const hostHeader = parsePageHeader(bytes, host.offset)!;
  const f = host.offset + hostHeader.headerSize + 100;
  const span = pages[s + 1].offset - f;
  const nseg = Math.floor((span - 27 + 255) / 256);
  const lacing = new Array<number>(nseg).fill(255);
  lacing[0] = span - 27 - nseg - 255 * (nseg - 1);
  assert.ok(lacing[0] >= 0 && lacing[0] < 255);
  const fake = buildPageHeader({ flags: 0, serial: SERIAL, seq: 9, lacing });
  const crafted = bytes.slice();
  crafted.set(fake, f);
  // The host page stays a valid page (the fake is data inside its body).
  const body = crafted.slice(host.offset + hostHeader.headerSize, host.offset + host.size);
  crafted.set(page(hostHeader.flags, host.seq, [...hostHeader.lacing], body), host.offset);
  for (let from = host.offset + 1; from <= f; from += 7) {
    assert.equal(tailStart(crafted.subarray(from), SERIAL, 1), null, `window from ${from}`);
  }
  // With the real page in the window, the right answer.
  assert.deepEqual(tailStart(crafted.subarray(host.offset), SERIAL, 1), {
    page: starts[2].page - host.offset,
    lace: starts[2].lace,
  });
});

Deno.test("ogg tail: a damaged page where the last packets lie gives no answer", () => {
  const rand = mulberry32(11);
  const packets = [30, 50000, 3000].map((n) => packetOf(rand, n, false));
  const { bytes, starts } = pack(packets, 4096, new Set([0, 2]));
  assert.deepEqual(tailStart(bytes.subarray(100), SERIAL, 1)?.lace, starts[2].lace);
  const bad = bytes.slice();
  bad[bad.length - 10] ^= 1; // inside the last page's body
  assert.equal(tailStart(bad.subarray(100), SERIAL, 1), null);
  assert.equal(tailStart(bad.subarray(100), SERIAL, 0), null);
  // Another stream's pages are not this one's.
  assert.equal(tailStart(bytes.subarray(100), SERIAL + 1, 1), null);
});

Deno.test("ogg tail: the reader jumps over a long packet and reads the same packets", () => {
  const rand = mulberry32(5);
  for (const fakes of [false, true]) {
    const packets = [30, 300000, 3500].map((n) => packetOf(rand, n, fakes));
    const { bytes } = pack(packets, 4096, new Set([0, 2]));
    const walked = new RecordingSource(new BufferSource(bytes));
    const jumped = new RecordingSource(new BufferSource(bytes));
    const results = [null, bytes.length].map((end, i) => {
      const reader = new HeaderPacketReader(i === 0 ? walked : jumped, 1 << 26, end);
      reader.next(true);
      reader.skip(() => false, 1);
      const last = reader.next(true).bytes!;
      assert.ok(reader.pageComplete);
      assert.equal(reader.end, bytes.length);
      return { last: sha256(last), seq: reader.pages.at(-1)!.header.seq };
    });
    assert.deepEqual(results[1], results[0]);
    assert.equal(results[0].last, sha256(packets[2]));
    assert.ok(walked.reads.length > 70, `walking reads every page: ${walked.reads.length}`);
    assert.ok(jumped.reads.length <= 6, `the jump reads a few: ${jumped.reads.length}`);
  }
});

/** A copy of fixture `name` with a `kib` KiB JPEG cover embedded by mutagen (4 KiB pages). */
async function withMutagenCover(name: "opus" | "ogg_vorbis", kib: number, dir: string) {
  const path = `${dir}/${name}.${name === "opus" ? "opus" : "ogg"}`;
  await Deno.copyFile((await fixture(name)).path, path);
  const jpeg = bigJpeg(await coverJpeg(), kib * 1024, mulberry32(kib));
  await Deno.writeFile(`${dir}/cover.jpg`, jpeg);
  const script = `
import sys, base64
from mutagen import File
from mutagen.flac import Picture
f = File(sys.argv[1])
p = Picture()
p.type, p.mime, p.desc, p.data = 3, "image/jpeg", "cover", open(sys.argv[2], "rb").read()
f["METADATA_BLOCK_PICTURE"] = [base64.b64encode(p.write()).decode("ascii")]
f.save()
`;
  await run([PY, "-c", script, path, `${dir}/cover.jpg`], { check: true });
  return { path, jpeg };
}

for (const name of ["opus", "ogg_vorbis"] as const) {
  Deno.test(`ogg tail: ${name} with a 300 KiB cover from mutagen is synthesized from a few reads`, async () => {
    using dir = scratchDir("musefs-oggtail-");
    const { path, jpeg } = await withMutagenCover(name, 300, dir.path);
    const bytes = await Deno.readFile(path);
    const original = probeOgg(new BoundedSource(new BufferSource(bytes)));
    const pages = walkPages(bytes, 0, original.audioOffset);
    assert.ok(pages.length > 60, `mutagen paged the header: ${pages.length} pages`);
    assert.equal(sha256(original.pictures[0].data), sha256(jpeg));
    const { input, blobs } = inputFromProbe(original, bytes.length);
    const rec = new RecordingSource(new BufferSource(bytes));
    const layout = synthesizeOgg(input, rec, blobs);
    assert.ok(rec.reads.length <= 8, `synthesis reads ${rec.reads.length} times`);
    const sized = new RecordingSource(new BufferSource(bytes));
    assert.equal(oggSize(input, sized), layout.size);
    assert.ok(sized.reads.length <= 8, `sizing reads ${sized.reads.length} times`);
    // The served file is right by every check: reprobe, pages, audio, PCM, tools, mutagen.
    await using rt = await roundTrip(path, { dir: dir.path });
    assert.equal(rt.layout.size, layout.size);
    assert.equal(sha256(rt.reprobe.pictures[0].data), sha256(jpeg));
    await assertServedOgg(rt);
  });
}
