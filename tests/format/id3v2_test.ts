// ID3v2 reading (v2.2/v2.3/v2.4, hand-built tags) and the ID3v2.4 writer,
// checked against mutagen as an independent reader.

import { encodeLatin1 } from "../../src/format/bytes.ts";
import {
  deepStrictEqual as assertEquals,
  ok as assert,
  throws as assertThrows,
} from "node:assert/strict";
import { buildId3v2, id3v2TagSize, parseId3v2 } from "../../src/format/id3v2.ts";
import { makeLayout, materialize } from "../../src/format/layout.ts";
import { inputFromProbe, MemoryBlobs } from "../../src/format/mod.ts";
import { fuzzIterations, mulberry32, mutate } from "./mutate.ts";
import { BufferSource } from "../../src/format/source.ts";
import { FormatError, type SynthInput } from "../../src/format/types.ts";
import { run } from "../fixtures/fixtures.ts";
import { scratchDir } from "../scratch.ts";

// ---------------------------------------------------------------- builders

const enc = new TextEncoder();
const cat = (...parts: (Uint8Array | number[])[]) => {
  const arrs = parts.map((p) => p instanceof Uint8Array ? p : Uint8Array.from(p));
  const out = new Uint8Array(arrs.reduce((n, a) => n + a.length, 0));
  let o = 0;
  for (const a of arrs) {
    out.set(a, o);
    o += a.length;
  }
  return out;
};
const latin = encodeLatin1;
const synchsafe = (n: number) => [(n >> 21) & 0x7f, (n >> 14) & 0x7f, (n >> 7) & 0x7f, n & 0x7f];
const u32 = (n: number) => [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];

function utf16(s: string, { bom = true, le = true } = {}): Uint8Array {
  const out: number[] = bom ? (le ? [0xff, 0xfe] : [0xfe, 0xff]) : [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    out.push(...(le ? [c & 0xff, c >> 8] : [c >> 8, c & 0xff]));
  }
  return Uint8Array.from(out);
}

/** One frame: v2.2 (3-char id, 24-bit size), v2.3 (plain 32-bit), v2.4 (synchsafe). */
function frame(version: 2 | 3 | 4, id: string, body: Uint8Array, flags = 0): Uint8Array {
  if (version === 2) {
    return cat(latin(id), [
      (body.length >> 16) & 0xff,
      (body.length >> 8) & 0xff,
      body.length & 0xff,
    ], body);
  }
  const size = version === 3 ? u32(body.length) : synchsafe(body.length);
  return cat(latin(id), size, [flags >> 8, flags & 0xff], body);
}

function tag(version: 2 | 3 | 4, body: Uint8Array, flags = 0): Uint8Array {
  return cat([0x49, 0x44, 0x33, version, 0, flags], synchsafe(body.length), body);
}

/** Unsynchronisation scheme: 0x00 inserted after every 0xFF followed by 0x00 or ≥ 0xE0 (and at the end). */
function unsynchronise(b: Uint8Array): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < b.length; i++) {
    out.push(b[i]);
    if (b[i] === 0xff && (i + 1 === b.length || b[i + 1] === 0 || b[i + 1] >= 0xe0)) out.push(0);
  }
  return Uint8Array.from(out);
}

const text = (s: string) => cat([3], enc.encode(s)); // UTF-8 text frame body
const rows = (tags: { key: string; value: string; ordinal: number }[]) =>
  tags.map((t) => `${t.key}[${t.ordinal}]=${t.value}`);

// ---------------------------------------------------------------- header size

Deno.test("id3v2TagSize: valid headers, footer, and everything that is not a header", () => {
  assertEquals(id3v2TagSize(tag(3, new Uint8Array(5))), 15);
  assertEquals(id3v2TagSize(cat([0x49, 0x44, 0x33, 4, 0, 0x10], synchsafe(300))), 320);
  assertEquals(
    id3v2TagSize(cat([0x49, 0x44, 0x33, 2, 0, 0], synchsafe(0x0fffffff))),
    0x0fffffff + 10,
  );
  assertEquals(id3v2TagSize(cat([0x49, 0x44, 0x33, 5, 0, 0], synchsafe(1))), null);
  assertEquals(id3v2TagSize(cat([0x49, 0x44, 0x33, 1, 0, 0], synchsafe(1))), null);
  assertEquals(id3v2TagSize(cat([0x49, 0x44, 0x33, 3, 0, 0], [0, 0, 0x80, 0])), null);
  assertEquals(id3v2TagSize(cat(latin("ID4"), [3, 0, 0], synchsafe(1))), null);
  assertEquals(id3v2TagSize(latin("ID3")), null);
});

// ---------------------------------------------------------------- v2.3 / v2.4 frames

Deno.test("v2.3: encodings, NUL-separated values, TXXX and vocabulary mapping", () => {
  const body = cat(
    frame(3, "TIT2", cat([1], utf16("Tïtle ♫"))),
    frame(3, "TPE1", cat([1], utf16("One"), [0, 0], utf16("Two", { le: false }), [0, 0])),
    frame(3, "TALB", cat([2], utf16("Älbum", { bom: false, le: false }))),
    frame(3, "TCOM", cat([0], latin("Comp\xf6ser"))),
    frame(3, "TPE2", cat([3], enc.encode("Ärtists"), [0], [0])), // empty value dropped
    frame(3, "TYER", cat([0], latin("2001"))),
    frame(3, "TXXX", cat([0], latin("replaygain_track_gain"), [0], latin("-3.1 dB"))),
    frame(3, "TXXX", cat([1], utf16("My Key"), [0, 0], utf16("v1"), [0, 0], utf16("v2"))),
    frame(3, "TCON", cat([7], latin("bad encoding"))), // unknown encoding: frame dropped
  );
  const r = parseId3v2(tag(3, body));
  assertEquals(rows(r.tags), [
    "title[0]=Tïtle ♫",
    "artist[0]=One",
    "artist[1]=Two",
    "album[0]=Älbum",
    "composer[0]=Compöser",
    "albumartist[0]=Ärtists",
    "date[0]=2001",
    "replaygain_track_gain[0]=-3.1 dB",
    "My Key[0]=v1",
    "My Key[1]=v2",
  ]);
  assertEquals(r.pictures, []);
  assertEquals(r.binaryTags, []);
});

Deno.test("COMM/USLT: placeholder languages with empty descriptor are comment/lyrics", () => {
  const comm = (lang: number[], desc: string, value: string, id = "COMM") =>
    frame(4, id, cat([3], lang, enc.encode(desc), [0], enc.encode(value)));
  const body = cat(
    comm([0, 0, 0], "", "c-empty"),
    comm([...latin("XXX")], "", "c-xxx"),
    comm([...latin("und")], "", "c-und"),
    comm([...latin("eng")], "", "c-eng"),
    comm([...latin("und")], "desc", "c-und-desc"),
    comm([...latin("deu")], "", "l-deu", "USLT"),
    comm([...latin("xxx")], "", "l-generic", "USLT"),
  );
  assertEquals(rows(parseId3v2(tag(4, body)).tags), [
    "comment[0]=c-empty",
    "comment[1]=c-xxx",
    "comment[2]=c-und",
    "id3:COMM:eng:[0]=c-eng",
    "id3:COMM:und:desc[0]=c-und-desc",
    "id3:USLT:deu:[0]=l-deu",
    "lyrics[0]=l-generic",
  ]);
});

Deno.test("POPM, UFID, APIC and binary frames", () => {
  const big = [0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08];
  const image = Uint8Array.from({ length: 300 }, (_, i) => (i * 7) & 0xff);
  const body = cat(
    frame(4, "POPM", cat(latin("a@b"), [0, 196], [0, 0, 0, 42])),
    frame(4, "POPM", cat([0, 0], big)), // rating 0, 8-byte counter
    frame(4, "POPM", cat(latin("x"), [0, 255], [0, 0, 0, 0])), // playcount 0 omitted
    frame(4, "UFID", cat(latin("http://musicbrainz.org"), [0], latin("mbid-123"))),
    frame(4, "UFID", cat(latin("other"), [0], [9, 9])),
    frame(4, "PRIV", cat(latin("owner"), [0], [0, 1, 2, 0xff])),
    frame(4, "WXXX", cat([0], [0], latin("http://x"))),
    frame(4, "ZZZ9", Uint8Array.of(1, 2, 3)), // unknown id → binary
    frame(4, "APIC", cat([3], latin("image/png"), [0], [4], enc.encode("Bäck"), [0], image)),
    frame(4, "APIC", cat([0], latin("image/jpeg"), [0], [77], [0], image)), // type clamped
  );
  const r = parseId3v2(tag(4, body));
  assertEquals(rows(r.tags), [
    "rating[0]=196",
    "playcount[0]=42",
    "rating[1]=0",
    "playcount[1]=72623859790382856",
    "rating[2]=255",
    "musicbrainz_trackid[0]=mbid-123",
  ]);
  assertEquals(r.binaryTags.map((b) => [b.key, b.ordinal, Array.from(b.data)]), [
    ["UFID", 0, [...latin("other"), 0, 9, 9]],
    ["PRIV", 0, [...latin("owner"), 0, 0, 1, 2, 0xff]],
    ["WXXX", 0, [0, 0, ...latin("http://x")]],
    ["ZZZ9", 0, [1, 2, 3]],
  ]);
  assertEquals(r.pictures.map((p) => [p.mime, p.pictureType, p.description, p.width, p.height]), [
    ["image/png", 4, "Bäck", null, null],
    ["image/jpeg", 0, "", null, null],
  ]);
  assertEquals(r.pictures[0].data, image);
});

// ---------------------------------------------------------------- v2.2

Deno.test("v2.2: three-character ids map to their modern frames; PIC image formats", () => {
  const image = Uint8Array.of(0xff, 0xd8, 0xff, 0xe0, 1, 2, 3);
  const body = cat(
    frame(2, "TT2", cat([1], utf16("Old title"))),
    frame(2, "TP1", cat([0], latin("A1"), [0], latin("A2"))),
    frame(2, "TYE", cat([0], latin("1999"))),
    frame(2, "TXX", cat([0], latin("MusicBrainz Album Id"), [0], latin("alb-1"))),
    frame(2, "COM", cat([0], latin("eng"), [0], latin("hello"))),
    frame(2, "ULT", cat([0], latin("und"), [0], latin("la la"))),
    frame(2, "POP", cat(latin("m"), [0, 10])),
    frame(2, "PIC", cat([0], latin("JPG"), [3], latin("front"), [0], image)),
    frame(2, "GEO", Uint8Array.of(1, 2, 3)), // v2.2 binary: not extracted
    frame(2, "XYZ", Uint8Array.of(1)), // unknown: not extracted
  );
  const r = parseId3v2(tag(2, body));
  assertEquals(rows(r.tags), [
    "title[0]=Old title",
    "artist[0]=A1",
    "artist[1]=A2",
    "date[0]=1999",
    "musicbrainz_albumid[0]=alb-1",
    "id3:COMM:eng:[0]=hello",
    "lyrics[0]=la la",
    "rating[0]=10",
  ]);
  assertEquals(r.pictures.length, 1);
  assertEquals(r.pictures[0].mime, "image/jpeg");
  assertEquals(r.pictures[0].description, "front");
  assertEquals(r.pictures[0].data, image);
  assertEquals(r.binaryTags, []);
});

// ---------------------------------------------------------------- what the original skipped

const ffImage = Uint8Array.of(0xff, 0xfb, 0x90, 0xff, 0x00, 0xff, 0xe2, 0x10, 0xff);

Deno.test("v2.3 tag-level unsynchronisation is decoded (frame headers included)", () => {
  const body = cat(
    frame(3, "TIT2", cat([1], utf16("\u00ff\u00e0 title"))), // BOM FF FE and FF E0 inside
    frame(3, "APIC", cat([0], latin("image/jpeg"), [0], [3], [0], ffImage)),
  );
  const encoded = unsynchronise(body);
  assert(encoded.length > body.length, "the test data really needs unsynchronisation");
  const r = parseId3v2(tag(3, encoded, 0x80));
  assertEquals(rows(r.tags), ["title[0]=\u00ff\u00e0 title"]);
  assertEquals(r.pictures[0].data, ffImage);
});

Deno.test("v2.4 per-frame flags: unsync, data length indicator, grouping; status flags ignored", () => {
  const apic = cat([0], latin("image/png"), [0], [3], [0], ffImage);
  const un = unsynchronise(apic);
  const body = cat(
    frame(4, "APIC", cat(synchsafe(apic.length), un), 0x0003), // unsync + data length
    frame(4, "TIT2", cat([0x42], text("grouped")), 0x0040), // grouping id byte
    frame(4, "TALB", text("status flags"), 0x6000), // tag/file alter preservation
    frame(4, "TPE1", text("compressed"), 0x0009), // compressed: dropped alone
    frame(4, "TPE2", text("encrypted"), 0x0004), // encrypted: dropped alone
    frame(4, "TCON", text("after")),
  );
  const r = parseId3v2(tag(4, body));
  assertEquals(r.pictures[0].data, ffImage);
  assertEquals(rows(r.tags), ["title[0]=grouped", "album[0]=status flags", "genre[0]=after"]);
});

Deno.test("v2.3 frame flags: grouping byte stripped, compressed/encrypted frames dropped", () => {
  const body = cat(
    frame(3, "TIT2", cat([7], text("g")), 0x0020),
    frame(3, "TALB", cat([0, 0, 0, 9], text("zlib")), 0x0080),
    frame(3, "TPE1", cat([1], text("enc")), 0x0040),
    frame(3, "TCON", text("kept"), 0x8000),
  );
  assertEquals(rows(parseId3v2(tag(3, body)).tags), ["title[0]=g", "genre[0]=kept"]);
});

Deno.test("extended headers (v2.3 and v2.4) are skipped; a bad one loses only the tag's rows", () => {
  const frames = frame(3, "TIT2", text("x"));
  const v3 = tag(3, cat(u32(6), [0, 0], u32(0), frames), 0x40);
  assertEquals(rows(parseId3v2(v3).tags), ["title[0]=x"]);
  const frames4 = frame(4, "TIT2", text("y"));
  const v4 = tag(4, cat(synchsafe(6), [1, 0], frames4), 0x40);
  assertEquals(rows(parseId3v2(v4).tags), ["title[0]=y"]);
  const bad = tag(3, cat(u32(0x7fffffff), frames), 0x40);
  assertEquals(parseId3v2(bad).tags, []);
});

Deno.test("v2.4 tags with plain (non-synchsafe) frame sizes are read (iTunes bug)", () => {
  const long = "L".repeat(200); // size 201 = 0x000000C9: not synchsafe
  const b = text(long);
  const body = cat(latin("TIT2"), u32(b.length), [0, 0], b, frame(4, "TALB", text("after")));
  assertEquals(rows(parseId3v2(tag(4, body)).tags), [`title[0]=${long}`, "album[0]=after"]);
});

Deno.test("CHAP/CTOC kept as binary in v2.4, dropped in v2.3", () => {
  const chap = cat(latin("ch1"), [0], u32(0), u32(1000), u32(0xffffffff), u32(0xffffffff));
  const v4 = parseId3v2(tag(4, cat(frame(4, "CHAP", chap), frame(4, "TIT2", text("t")))));
  assertEquals(v4.binaryTags.map((b) => b.key), ["CHAP"]);
  assertEquals(v4.binaryTags[0].data, chap);
  const v3 = parseId3v2(tag(3, cat(frame(3, "CHAP", chap), frame(3, "TIT2", text("t")))));
  assertEquals(v3.binaryTags, []);
  assertEquals(rows(v3.tags), ["title[0]=t"]);
});

// ---------------------------------------------------------------- hostile tags

Deno.test("allocation bomb: a frame claiming 200 MB in a tiny tag ends the walk, keeps earlier frames", () => {
  for (const version of [3, 4] as const) {
    const size = version === 3 ? u32(200_000_000) : synchsafe(200_000_000);
    const body = cat(frame(version, "TIT2", text("ok")), latin("APIC"), size, [0, 0], [3, 0, 0]);
    const t0 = performance.now();
    const r = parseId3v2(tag(version, body));
    assert(performance.now() - t0 < 100, "fast");
    assertEquals(rows(r.tags), ["title[0]=ok"]);
    assertEquals(r.pictures, []);
  }
  // v2.2: 24-bit size beyond the tag
  const v2 = cat(frame(2, "TT2", text("ok")), latin("PIC"), [0xff, 0xff, 0xff], [0]);
  assertEquals(rows(parseId3v2(tag(2, v2)).tags), ["title[0]=ok"]);
});

Deno.test("padding and garbage ids end the walk; zero-size frames are skipped", () => {
  const body = cat(
    frame(4, "TIT2", new Uint8Array()),
    frame(4, "TALB", text("a")),
    new Uint8Array(20),
    frame(4, "TPE1", text("after padding")),
  );
  assertEquals(rows(parseId3v2(tag(4, body)).tags), ["album[0]=a"]);
  const junk = cat(frame(3, "TALB", text("a")), latin("t!t2"), u32(1), [0, 0], [0]);
  assertEquals(rows(parseId3v2(tag(3, junk)).tags), ["album[0]=a"]);
});

Deno.test("parseId3v2 errors: not a header → malformed, short input → truncated", () => {
  const kind = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      assert(e instanceof FormatError);
      return e.kind;
    }
    return "none";
  };
  assertEquals(kind(() => parseId3v2(latin("not a tag at all"))), "malformed");
  assertEquals(kind(() => parseId3v2(tag(4, text("x")).subarray(0, 11))), "truncated");
});

// ---------------------------------------------------------------- writer

function emptyInput(): SynthInput {
  return {
    format: "mp3",
    audioOffset: 0,
    audioLength: 0,
    backingSize: 0,
    tags: [],
    binaryTags: [],
    art: [],
    structural: [],
  };
}

function materializeTag(input: SynthInput, blobs: MemoryBlobs): Uint8Array {
  const built = buildId3v2(input);
  const layout = makeLayout(built.segments);
  assertEquals(layout.size, built.size);
  return materialize(layout, { backing: new BufferSource(new Uint8Array()), blobs });
}

/** Frame ids of a v2.4 tag in order. */
function frameIds(t: Uint8Array): string[] {
  const ids: string[] = [];
  let p = 10;
  while (p + 10 <= t.length) {
    ids.push(String.fromCharCode(...t.subarray(p, p + 4)));
    p += 10 + ((t[p + 4] << 21) | (t[p + 5] << 14) | (t[p + 6] << 7) | t[p + 7]);
  }
  return ids;
}

function writerInput(blobs: MemoryBlobs): SynthInput {
  const input = emptyInput();
  const t = (key: string, ...values: string[]) =>
    values.forEach((value, ordinal) => input.tags.push({ key, value, ordinal }));
  t("My Custom", "c1", "c2");
  t("TSSE", "LAME");
  t("album", "Älbum");
  t("artist", "One", "Zoë Two");
  t("comment", "plain comment");
  t("id3:COMM:eng:Notes", "english note");
  t("id3:USLT:deu:", "deutsch");
  t("lyrics", "la la");
  t("musicbrainz_trackid", "mb-track", "ignored");
  t("playcount", "x", "7", "300");
  t("rating", "bad", "200", "5");
  t("replaygain_track_gain", "-6.5 dB");
  t("title", "Ça va");
  const priv = Uint8Array.of(...latin("owner"), 0, 0, 0xff, 0x10);
  input.binaryTags.push({ id: blobs.addBinaryTag(priv), key: "PRIV", ordinal: 0, length: 6 + 3 });
  input.binaryTags.push({
    id: blobs.addBinaryTag(Uint8Array.of(1)),
    key: "bad key",
    ordinal: 0,
    length: 1,
  });
  const img = Uint8Array.from({ length: 1000 }, (_, i) => i & 0xff);
  input.art.push({
    artId: blobs.addArt(img),
    mime: "image/png",
    pictureType: 3,
    description: "Front — cover",
    width: 32,
    height: 32,
    byteLen: img.length,
  });
  return input;
}

Deno.test("writer: frame order and rules, and the tag reads back to the same rows", () => {
  const blobs = new MemoryBlobs();
  const input = writerInput(blobs);
  const bytes = materializeTag(input, blobs);
  assertEquals(Array.from(bytes.subarray(0, 6)), [0x49, 0x44, 0x33, 4, 0, 0]);
  assertEquals(frameIds(bytes), [
    "TXXX",
    "TXXX",
    "TSSE",
    "TALB",
    "TPE1",
    "COMM",
    "COMM",
    "USLT",
    "USLT",
    "TXXX",
    "TIT2",
    "POPM",
    "UFID",
    "PRIV",
    "APIC",
  ]);
  const back = parseId3v2(bytes);
  assertEquals(rows(back.tags).sort(), [
    "My Custom[0]=c1",
    "My Custom[1]=c2",
    "TSSE[0]=LAME",
    "album[0]=Älbum",
    "artist[0]=One",
    "artist[1]=Zoë Two",
    "comment[0]=plain comment",
    "id3:COMM:eng:Notes[0]=english note",
    "id3:USLT:deu:[0]=deutsch",
    "lyrics[0]=la la",
    "musicbrainz_trackid[0]=mb-track",
    "playcount[0]=300",
    "rating[0]=200",
    "replaygain_track_gain[0]=-6.5 dB",
    "title[0]=Ça va",
  ]);
  assertEquals(back.binaryTags.map((b) => [b.key, Array.from(b.data)]), [
    ["PRIV", [...latin("owner"), 0, 0, 0xff, 0x10]],
  ]);
  assertEquals(back.pictures[0].data, blobs.art(1, 0, 1000));
  assertEquals(back.pictures[0].description, "Front — cover");
});

Deno.test("writer output is read by mutagen (independent reader)", async () => {
  const blobs = new MemoryBlobs();
  const bytes = materializeTag(writerInput(blobs), blobs);
  using tmp = scratchDir("musefs-id3w-");
  const dir = tmp.path;
  await Deno.writeFile(`${dir}/tag.id3`, bytes);
  const py = `
import json, sys, hashlib
from mutagen.id3 import ID3
t = ID3(sys.argv[1])
out = {"version": list(t.version)}
for k, f in sorted(t.items()):
    if f.FrameID == "APIC":
        out[k] = [f.mime, int(f.type), f.desc, hashlib.sha256(f.data).hexdigest()]
    elif f.FrameID == "POPM":
        out[k] = [f.email, f.rating, f.count]
    elif f.FrameID in ("UFID", "PRIV"):
        out[k] = [f.owner, f.data.hex()]
    elif f.FrameID in ("COMM", "USLT"):
        out[k] = [f.lang, f.desc, str(f)]
    else:
        out[k] = [str(x) for x in f.text]
print(json.dumps(out, ensure_ascii=False, sort_keys=True))
`;
  const r = await run(["/usr/bin/python3", "-c", py, `${dir}/tag.id3`], { check: true });
  const got = JSON.parse(new TextDecoder().decode(r.stdout));
  const sha = Array.from(
    new Uint8Array(
      await crypto.subtle.digest("SHA-256", blobs.art(1, 0, 1000) as Uint8Array<ArrayBuffer>),
    ),
    (b) => b.toString(16).padStart(2, "0"),
  ).join("");
  assertEquals(got, {
    "version": [2, 4, 0],
    "APIC:Front — cover": ["image/png", 3, "Front — cover", sha],
    "COMM::XXX": ["XXX", "", "plain comment"],
    "COMM:Notes:eng": ["eng", "Notes", "english note"],
    "POPM:": ["", 200, 300],
    "PRIV:owner:\u0000\u00ff\u0010": ["owner", "00ff10"],
    "TALB": ["Älbum"],
    "TIT2": ["Ça va"],
    "TPE1": ["One", "Zoë Two"],
    "TSSE": ["LAME"],
    "TXXX:My Custom": ["c1", "c2"],
    "TXXX:REPLAYGAIN_TRACK_GAIN": ["-6.5 dB"],
    "UFID:http://musicbrainz.org": [
      "http://musicbrainz.org",
      Array.from(latin("mb-track"), (b) => b.toString(16).padStart(2, "0")).join(""),
    ],
    "USLT::XXX": ["XXX", "", "la la"],
    "USLT::deu": ["deu", "", "deutsch"],
  });
});

Deno.test("writer: embedded NUL in key, value, mime or description is invalid-input", () => {
  const invalid = (edit: (i: SynthInput) => void) => {
    const i = emptyInput();
    edit(i);
    assertThrows(
      () => buildId3v2(i),
      (e: unknown) => e instanceof FormatError && e.kind === "invalid-input",
    );
  };
  invalid((i) => i.tags.push({ key: "ti\0tle", value: "x", ordinal: 0 }));
  invalid((i) => i.tags.push({ key: "title", value: "a\0b", ordinal: 0 }));
  const art = {
    artId: 1,
    mime: "image/png",
    pictureType: 3,
    description: "",
    width: null,
    height: null,
    byteLen: 4,
  };
  invalid((i) => i.art.push({ ...art, mime: "image/\0png" }));
  invalid((i) => i.art.push({ ...art, description: "d\0" }));
  invalid((i) => i.art.push({ ...art, pictureType: 300 }));
});

Deno.test("writer: sizes beyond a synchsafe field are too-large; an empty input is a bare header", () => {
  const i = emptyInput();
  i.binaryTags.push({ id: 1, key: "PRIV", ordinal: 0, length: 0x1000_0000 });
  assertThrows(
    () => buildId3v2(i),
    (e: unknown) => e instanceof FormatError && e.kind === "too-large",
  );
  const j = emptyInput();
  for (let n = 0; n < 20; n++) {
    j.art.push({
      artId: n,
      mime: "image/png",
      pictureType: 3,
      description: "",
      width: null,
      height: null,
      byteLen: 16_000_000,
    });
  }
  assertThrows(
    () => buildId3v2(j),
    (e: unknown) => e instanceof FormatError && e.kind === "too-large",
  );
  const empty = buildId3v2(emptyInput());
  assertEquals(empty.size, 10);
  assertEquals(parseId3v2(materializeTag(emptyInput(), new MemoryBlobs())).tags, []);
});

// ---------------------------------------------------------------- hostile tags, rebuild

/** Rich tags of every version (UTF-16, unsync, extended header, flags, pictures, binaries). */
function richTags(): Uint8Array[] {
  const img = Uint8Array.from({ length: 64 }, (_, i) => (i * 37) & 0xff);
  const v3body = cat(
    frame(3, "TIT2", cat([1], utf16("Tïtle"))),
    frame(3, "TPE1", cat([0], latin("A"), [0], latin("B"))),
    frame(3, "TXXX", cat([1], utf16("desc"), [0, 0], utf16("value"))),
    frame(3, "COMM", cat([0], latin("eng"), latin("d"), [0], latin("comment"))),
    frame(3, "POPM", cat(latin("e"), [0, 9], [0, 0, 1, 0])),
    frame(3, "PRIV", cat(latin("o"), [0], [1, 2])),
    frame(3, "APIC", cat([0], latin("image/png"), [0], [3], [0], img)),
  );
  const v4body = cat(
    frame(4, "TIT2", text("x"), 0x0040),
    frame(4, "TDRC", text("2020")),
    frame(4, "UFID", cat(latin("http://musicbrainz.org"), [0], latin("id"))),
    frame(
      4,
      "APIC",
      cat(synchsafe(80), unsynchronise(cat([3], latin("image/jpeg"), [0], [4], [0], img))),
      3,
    ),
  );
  const v2body = cat(
    frame(2, "TT2", cat([1], utf16("t"))),
    frame(2, "PIC", cat([0], latin("PNG"), [3], [0], img)),
  );
  return [
    tag(3, unsynchronise(v3body), 0x80),
    tag(3, cat(u32(6), [0, 0], u32(0), v3body), 0x40),
    tag(4, v4body),
    tag(2, v2body),
  ];
}

Deno.test("hostile: mutated tags of every version parse to rows or a FormatError", () => {
  const iterations = fuzzIterations(1500);
  for (const [n, t] of richTags().entries()) {
    const rand = mulberry32(100 + n);
    for (let i = 0; i < iterations; i++) {
      const m = mutate(t, rand).bytes;
      const t0 = performance.now();
      try {
        const r = parseId3v2(m);
        for (const row of r.tags) assert(typeof row.value === "string" && row.value !== "");
        assert(r.pictures.every((p) => p.data.length <= m.length));
      } catch (e) {
        if (!(e instanceof FormatError)) throw new Error(`tag ${n} iteration ${i}: ${e}`);
      }
      assert(performance.now() - t0 < 500, "bounded time");
    }
  }
});

Deno.test("parse → build → parse keeps every row, picture and binary tag", () => {
  for (const t of richTags()) {
    const first = parseId3v2(t);
    const { input, blobs } = inputFromProbe(
      { format: "mp3", audioOffset: 0, audioLength: 0, ...first, structural: [] },
      0,
    );
    const again = parseId3v2(materializeTag(input, blobs));
    assertEquals(rows(again.tags).sort(), rows(first.tags).sort());
    assertEquals(again.pictures, first.pictures);
    assertEquals(again.binaryTags, first.binaryTags);
  }
});
