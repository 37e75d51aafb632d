// Canonical tags from older tag forms (iTunes' v2.2 ids in v2.3 tags,
// TYER/TDAT/TIME, ID3v1 trailers, MP4 gnre) and the ID3v2.3 writer, the
// latter checked with mutagen, ffprobe and TagLib (kid3-cli) on real files.

import { concat, encodeLatin1 } from "../../src/format/bytes.ts";
import assert from "node:assert/strict";
import { parseId3v1 } from "../../src/format/id3v1.ts";
import { buildId3v2, parseId3v2 } from "../../src/format/id3v2.ts";
import { foldDate, splitDate } from "../../src/format/id3v2_dates.ts";
import { inputFromProbe, materialize, probe, synthesize } from "../../src/format/mod.ts";
import { BufferSource } from "../../src/format/source.ts";
import type { TagEntry } from "../../src/format/types.ts";
import { fixture, id3v23Tag, mutagenTags, pcmMd5 } from "../fixtures/fixtures.ts";
import { readView } from "../e2e/readers.ts";
import { scratchDir } from "../scratch.ts";

const rows = (tags: TagEntry[]) => tags.map((t) => `${t.key}[${t.ordinal}]=${t.value}`);
const latin = encodeLatin1;
const cat = (...parts: Uint8Array[]) => concat(parts);

// ---------------------------------------------------------------- v2.2 ids in v2.3 tags

Deno.test("v2.3 tag whose first frames carry NUL-padded v2.2 ids keeps every frame, warns once", () => {
  const tag = id3v23Tag([
    ["TP1\0", "Artist"],
    ["TRK\0", "3/12"],
    ["XYZ\0", "no modern form"],
    ["TIT2", "Title"],
    ["TALB", "Album"],
  ]);
  const r = parseId3v2(tag);
  assert.deepEqual(rows(r.tags), [
    "artist[0]=Artist",
    "tracknumber[0]=3/12",
    "title[0]=Title",
    "album[0]=Album",
  ]);
  assert.equal(r.warnings?.length, 1);
  assert.match(r.warnings![0], /TP1 as TPE1, TRK as TRCK, XYZ \(skipped\)/);
  assert.equal(parseId3v2(id3v23Tag([["TIT2", "x"]])).warnings, undefined);
});

Deno.test("the mp3_itunes_ids fixture: probe keeps all frames and carries one warning", async () => {
  const f = await fixture("mp3_itunes_ids");
  const bytes = await Deno.readFile(f.path);
  const p = probe("mp3", new BufferSource(bytes));
  const keys = new Map(p.tags.map((t) => [t.key, t.value]));
  assert.equal(keys.get("artist"), f.expect.artists[0]);
  assert.equal(keys.get("tracknumber"), f.expect.tracknumber);
  assert.equal(keys.get("title"), f.expect.title);
  assert.equal(keys.get("album"), f.expect.album);
  assert.equal(keys.get("date"), f.expect.date);
  assert.equal(p.warnings?.length, 1);
});

Deno.test("a FLAC file's leading ID3 tag with v2.2 ids: its values fill gaps, one warning", async () => {
  const f = await fixture("flac");
  const flac = await Deno.readFile(f.path);
  const id3 = id3v23Tag([["TCM\0", "Composer"], ["TIT2", "shadowed"]]);
  const p = probe("flac", new BufferSource(cat(id3, flac)));
  assert.deepEqual(p.tags.filter((t) => t.key === "composer").map((t) => t.value), ["Composer"]);
  assert.deepEqual(p.tags.filter((t) => t.key === "title").map((t) => t.value), [f.expect.title]);
  assert.equal(p.warnings?.length, 1);
});

// ---------------------------------------------------------------- dates

Deno.test("TYER/TDAT/TIME fold into date; date splits back", () => {
  const t = (key: string, value: string): TagEntry => ({ key, value, ordinal: 0 });
  assert.deepEqual(
    foldDate([t("title", "x"), t("TYER", "2004"), t("TDAT", "0605"), t("TIME", "0708")]),
    [t("title", "x"), t("date", "2004-05-06T07:08")],
  );
  assert.deepEqual(foldDate([t("TYER", "2004"), t("TDAT", "65")]), [t("date", "2004")]);
  // A tag with its own date, or a year that is not one, keeps the frames.
  const kept = [t("date", "2001"), t("TYER", "2004")];
  assert.deepEqual(foldDate(kept), kept);
  assert.deepEqual(foldDate([t("TYER", "c. 1970")]), [t("TYER", "c. 1970")]);
  assert.deepEqual(splitDate("2004-05-06T07:08:09"), {
    TYER: "2004",
    TDAT: "0605",
    TIME: "0708",
  });
  assert.deepEqual(splitDate("2004-05"), { TYER: "2004" });
  assert.equal(splitDate("spring 2004"), null);
});

Deno.test("every MP3 and FLAC fixture stores the same date (ffmpeg's v2.3 TYER included)", async () => {
  for (const name of ["flac", "mp3_v23", "mp3_v24", "mp3_itunes_ids"] as const) {
    const f = await fixture(name);
    const p = probe(f.format, new BufferSource(await Deno.readFile(f.path)));
    const dates = p.tags.filter((t) => t.key === "date").map((t) => t.value);
    assert.deepEqual(dates, ["2021"], name);
    assert.ok(!p.tags.some((t) => t.key === "TYER"), name);
  }
});

// ---------------------------------------------------------------- ID3v1

function id3v1(
  o: { title?: string; year?: string; comment?: string; track?: number; genre: number },
) {
  const b = new Uint8Array(128);
  b.set(latin("TAG"));
  b.set(latin(o.title ?? ""), 3);
  b.set(latin(o.year ?? ""), 93);
  b.set(latin(o.comment ?? ""), 97);
  if (o.track !== undefined) b[126] = o.track;
  b[127] = o.genre;
  return b;
}

Deno.test("ID3v1: fields, v1.1 track, genre by index, 255 = none", () => {
  assert.deepEqual(
    rows(parseId3v1(id3v1({ title: "T\xe9 ", year: "1999", comment: "c", track: 7, genre: 17 }))!),
    ["title[0]=Té", "date[0]=1999", "comment[0]=c", "tracknumber[0]=7", "genre[0]=Rock"],
  );
  assert.deepEqual(rows(parseId3v1(id3v1({ genre: 255 }))!), []);
  assert.equal(parseId3v1(new Uint8Array(128)), null);
});

Deno.test("MP3: ID3v1 values fill only the keys the ID3v2 tag lacks", async () => {
  const f = await fixture("mp3_itunes_ids");
  const bytes = await Deno.readFile(f.path);
  const v1 = id3v1({ title: "v1 title", comment: "only in v1", track: 9, genre: 17 });
  const p = probe("mp3", new BufferSource(cat(bytes, v1)));
  const byKey = (k: string) => p.tags.filter((t) => t.key === k).map((t) => t.value);
  assert.deepEqual(byKey("title"), [f.expect.title]); // ID3v2 wins
  assert.deepEqual(byKey("tracknumber"), [f.expect.tracknumber]);
  assert.deepEqual(byKey("comment"), ["only in v1"]); // a gap filled
  assert.equal(p.audioOffset + p.audioLength, bytes.length); // the trailer is not audio
});

// ---------------------------------------------------------------- MP4 gnre

Deno.test("MP4 gnre (ID3v1 index + 1) becomes genre and is served as ©gen", async () => {
  const f = await fixture("m4a_moov_first");
  using tmp = scratchDir("musefs-gnre-");
  const dir = tmp.path;
  // No tool writes gnre any more: turn the ©gen item into a gnre item of
  // the same size (gnre + data with the 16-bit index 18 = "Rock", then an
  // empty 8-byte atom no reader knows) so no box size changes.
  const bytes = await Deno.readFile(f.path);
  const at =
    bytes.findIndex((_, i) =>
      bytes[i] === 0xa9 && bytes[i + 1] === 0x67 && bytes[i + 2] === 0x65 && bytes[i + 3] === 0x6e
    ) - 4;
  const dv = new DataView(bytes.buffer);
  const itemSize = dv.getUint32(at);
  assert.ok(itemSize >= 34, `©gen item of ${itemSize} bytes`);
  const gnre = new Uint8Array(itemSize);
  const g = new DataView(gnre.buffer);
  g.setUint32(0, 26);
  gnre.set(latin("gnre"), 4);
  gnre.set(latin("data"), 12);
  g.setUint32(8, 18);
  g.setUint16(24, 18);
  g.setUint32(26, itemSize - 26);
  gnre.set(latin("zzzz"), 30);
  bytes.set(gnre, at);
  const path = `${dir}/g.m4a`;
  await Deno.writeFile(path, bytes);
  const p = probe("m4a", new BufferSource(bytes));
  assert.deepEqual(
    p.tags.filter((t) => t.key === "genre").map((t) => t.value),
    ["Rock"],
  );
  const { input, blobs } = inputFromProbe(p, bytes.length);
  const backing = new BufferSource(bytes);
  await Deno.writeFile(
    `${dir}/served.m4a`,
    materialize(synthesize(input, backing, blobs), {
      backing,
      blobs,
    }),
  );
  assert.equal((await mutagenTags(`${dir}/served.m4a`)).normalized.genre, "Rock");
});

// ---------------------------------------------------------------- the v2.3 writer

Deno.test("buildId3v2 v2.3: header, plain sizes, encodings, '/'-joined values, TYER/TDAT/TIME", () => {
  const tag = buildId3v2({
    id3Version: 3,
    tags: [
      { key: "artist", value: "One", ordinal: 0 },
      { key: "artist", value: "Zoë", ordinal: 1 },
      { key: "date", value: "2004-05-06T07:08", ordinal: 0 },
      { key: "title", value: "ascii", ordinal: 0 },
    ],
    binaryTags: [],
    art: [],
  });
  assert.equal(tag.segments.length, 1);
  const b = (tag.segments[0] as { bytes: Uint8Array }).bytes;
  assert.deepEqual([...b.subarray(0, 4)], [0x49, 0x44, 0x33, 3]);
  // TPE1: plain 32-bit size, UTF-16 with BOM for non-ASCII text, values joined with "/".
  assert.equal(String.fromCharCode(...b.subarray(10, 14)), "TPE1");
  const size = new DataView(b.buffer, b.byteOffset).getUint32(14);
  assert.equal(size, 1 + 2 + 2 * "One/Zoë".length);
  assert.deepEqual([...b.subarray(20, 23)], [1, 0xff, 0xfe]);
  const r = parseId3v2(b);
  assert.deepEqual(rows(r.tags), [
    "artist[0]=One/Zoë",
    "date[0]=2004-05-06T07:08",
    "title[0]=ascii",
  ]);
  // ASCII text is ISO-8859-1 (encoding 0).
  const tit2 = b.indexOf(0x54, b.length - 20); // "TIT2" near the end
  assert.equal(String.fromCharCode(...b.subarray(tit2, tit2 + 4)), "TIT2");
  assert.equal(b[tit2 + 10], 0);
});

/** A fixture served with an ID3v2.3 tag, written to `dir`. */
async function servedV23(name: "mp3_v24" | "wav", dir: string): Promise<string> {
  const f = await fixture(name);
  const bytes = await Deno.readFile(f.path);
  const { input, blobs } = inputFromProbe(probe(f.format, new BufferSource(bytes)), bytes.length);
  input.id3Version = 3;
  const backing = new BufferSource(bytes);
  const out = `${dir}/${name}${f.ext}`;
  await Deno.writeFile(out, materialize(synthesize(input, backing, blobs), { backing, blobs }));
  return out;
}

Deno.test("ID3v2.3 served MP3 and WAV read right in mutagen, ffprobe and TagLib", async () => {
  using tmp = scratchDir("musefs-v23-");
  const dir = tmp.path;
  for (const name of ["mp3_v24", "wav"] as const) {
    const f = await fixture(name);
    const path = await servedV23(name, dir);
    const joined = f.expect.artists.join("/");
    const m = await mutagenTags(path);
    assert.equal(m.id3_version, "2.3", name);
    assert.equal(m.normalized.title, f.expect.title, name);
    assert.deepEqual(m.normalized.artist, [joined], name);
    assert.equal(m.normalized.date, f.expect.date, name);
    assert.equal(m.normalized.pictures.length, f.expect.pictures.length, name);
    m.normalized.pictures.forEach((p, i) => assert.equal(p.sha256, f.expect.pictures[i].sha256));
    const ff = await readView("ffprobe", path);
    // ffmpeg's WAV demuxer prefers LIST/INFO (one artist) over the id3 chunk.
    const artist = name === "mp3_v24" ? [`tag:artist=${joined}`] : [];
    for (const want of [`tag:title=${f.expect.title}`, ...artist, "tag:date=2021"]) {
      assert.ok(ff.includes(want), `${name}: ffprobe lacks ${want}: ${ff.join("\n")}`);
    }
    const tl = await readView("taglib", path);
    for (
      const want of [
        "tag2:format=ID3v2.3.0",
        `tag2:Title=${f.expect.title}`,
        `tag2:Artist=${joined}`,
        "tag2:Date=2021",
        `tag2:Album=${f.expect.album}`,
      ]
    ) {
      assert.ok(tl.includes(want), `${name}: TagLib lacks ${want}: ${tl.join("\n")}`);
    }
    assert.equal(await pcmMd5(path), await pcmMd5(f.path), name);
  }
});
