import assert from "node:assert/strict";
import { concat, encodeUtf8, putU32le } from "../../src/format/bytes.ts";
import { FormatError } from "../../src/format/types.ts";
import {
  encodeVorbisComment,
  isVorbisFieldName,
  parseVorbisComment,
  pictureEntryHeader,
  vorbisCommentPrefix,
  vorbisFieldFor,
} from "../../src/format/vorbis_comment.ts";

const u32 = (v: number) => {
  const b = new Uint8Array(4);
  putU32le(b, 0, v);
  return b;
};
const entry = (s: string) => {
  const e = encodeUtf8(s);
  return concat([u32(e.length), e]);
};
const comment = (vendor: string, entries: string[]) =>
  concat([entry(vendor), u32(entries.length), ...entries.map(entry)]);

Deno.test("parse: canonical keys, original case for unknown fields, ordinals per key", () => {
  const body = comment("ref libFLAC", [
    "TITLE=Hello",
    "Artist=A",
    "ARTIST=B",
    "MyField=x",
    "MYFIELD=y",
    "MyField=z",
    "=no name",
    "no equals sign",
    "EMPTY=",
    "NOTE=a=b=c",
  ]);
  const p = parseVorbisComment(body);
  assert.equal(p.vendor, "ref libFLAC");
  assert.equal(p.end, body.length);
  assert.deepEqual(p.tags, [
    { key: "title", value: "Hello", ordinal: 0 },
    { key: "artist", value: "A", ordinal: 0 },
    { key: "artist", value: "B", ordinal: 1 },
    { key: "MyField", value: "x", ordinal: 0 },
    { key: "MYFIELD", value: "y", ordinal: 0 },
    { key: "MyField", value: "z", ordinal: 1 },
    { key: "NOTE", value: "a=b=c", ordinal: 0 },
  ]);
  assert.deepEqual(p.pictures, []);
});

Deno.test("parse: METADATA_BLOCK_PICTURE entries come back separately, in order", () => {
  const p = parseVorbisComment(
    comment("v", ["metadata_block_picture=QUJD", "TITLE=t", "METADATA_BLOCK_PICTURE=REVG"]),
  );
  assert.deepEqual(p.pictures, ["QUJD", "REVG"]);
  assert.deepEqual(p.tags, [{ key: "title", value: "t", ordinal: 0 }]);
});

Deno.test("parse: trailing bytes are left for the caller (framing bit)", () => {
  const body = concat([comment("v", ["A=1"]), new Uint8Array([1])]);
  const p = parseVorbisComment(body);
  assert.equal(p.end, body.length - 1);
  const shifted = concat([new Uint8Array([9, 9, 9]), body]);
  assert.equal(parseVorbisComment(shifted, 3).end, shifted.length - 1);
});

Deno.test("parse: hostile lengths fail as truncated without allocating", () => {
  const cases: Uint8Array[] = [
    new Uint8Array(0),
    new Uint8Array([1, 0]),
    concat([u32(0xffffffff), encodeUtf8("v")]), // vendor longer than the block
    concat([entry("v"), u32(0xffffffff)]), // 4 billion entries
    concat([entry("v"), u32(2), entry("A=1")]), // second entry missing
    concat([entry("v"), u32(1), u32(0xfffffff0), encodeUtf8("A=1")]),
  ];
  for (const c of cases) {
    const t0 = performance.now();
    assert.throws(
      () => parseVorbisComment(c),
      (e: unknown) => e instanceof FormatError && e.kind === "truncated",
    );
    assert.ok(performance.now() - t0 < 100);
  }
});

Deno.test("field grammar: printable ASCII 0x20–0x7D without '='", () => {
  assert.ok(isVorbisFieldName("TITLE"));
  assert.ok(isVorbisFieldName(" a b }"));
  assert.ok(!isVorbisFieldName(""));
  assert.ok(!isVorbisFieldName("A=B"));
  assert.ok(!isVorbisFieldName("A~")); // 0x7E
  assert.ok(!isVorbisFieldName("TAB\t"));
  assert.ok(!isVorbisFieldName("ÄRTIST"));
  assert.equal(vorbisFieldFor("albumartist"), "ALBUMARTIST");
  assert.equal(vorbisFieldFor("MusicBrainz_AlbumId"), "MUSICBRAINZ_ALBUMID");
  assert.equal(vorbisFieldFor("my key"), "MY KEY");
  assert.equal(vorbisFieldFor("id3:COMM:eng:x"), "ID3:COMM:ENG:X");
  assert.equal(vorbisFieldFor("bad=key"), null);
});

/** The entries of a comment as text, read by their own lengths. */
function entryTexts(comment: Uint8Array): string[] {
  const view = new DataView(comment.buffer, comment.byteOffset, comment.length);
  let pos = 4 + view.getUint32(0, true);
  const count = view.getUint32(pos, true);
  pos += 4;
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const n = view.getUint32(pos, true);
    out.push(new TextDecoder().decode(comment.subarray(pos + 4, pos + 4 + n)));
    pos += 4 + n;
  }
  assert.equal(pos, comment.length, "the entries fill the comment");
  return out;
}

Deno.test("build: entries in DB order, canonical → vocabulary name, others uppercased", () => {
  const comment = encodeVorbisComment("musefs", [
    { key: "TRACKTOTAL", value: "12", ordinal: 0 },
    { key: "artist", value: "A", ordinal: 0 },
    { key: "artist", value: "B", ordinal: 1 },
    { key: "bad=key", value: "dropped", ordinal: 0 },
    { key: "ünicode", value: "dropped", ordinal: 0 },
    { key: "mood", value: "Ça 🎵", ordinal: 0 },
  ]);
  assert.deepEqual(entryTexts(comment), ["TRACKTOTAL=12", "ARTIST=A", "ARTIST=B", "MOOD=Ça 🎵"]);
  const parsed = parseVorbisComment(comment);
  assert.equal(parsed.vendor, "musefs");
  assert.deepEqual(parsed.tags.map((t) => `${t.key}=${t.value}`), [
    "TRACKTOTAL=12",
    "artist=A",
    "artist=B",
    "MOOD=Ça 🎵",
  ]);
});

Deno.test("build: a prefix with extra entries lets the caller append pictures", () => {
  const prefix = vorbisCommentPrefix("musefs", [{ key: "title", value: "T", ordinal: 0 }], 1);
  const b64 = encodeUtf8("QUJD");
  const whole = concat([prefix, pictureEntryHeader(b64.length), b64]);
  const parsed = parseVorbisComment(whole);
  assert.equal(parsed.end, whole.length);
  assert.deepEqual(parsed.pictures, ["QUJD"]);
  assert.deepEqual(parsed.tags, [{ key: "title", value: "T", ordinal: 0 }]);
});
