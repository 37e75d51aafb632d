// Writing the new `udta/meta/ilst` from store rows. Text is generated inline;
// cover images and binary freeform payloads stay `art` / `binary-tag`
// segments so their bytes are streamed from the store, never copied.

import { ByteWriter, encodeLatin1, encodeUtf8, utf8Length } from "./bytes.ts";
import { boxHeader } from "./mp4_boxes.ts";
import { DATA_BE_SIGNED, DATA_IMPLICIT, DATA_JPEG, DATA_PNG, DATA_UTF8 } from "./mp4_ilst.ts";
import { ITUNES_MEAN, vocabByKey } from "./tagmap.ts";
import { SegmentList } from "./segments.ts";
import { type ArtRef, type BinaryTagRef, FormatError, type TagEntry } from "./types.ts";

const fourcc = (s: string): Uint8Array => encodeLatin1(s);

function dataHeader(type: number, valueLength: number): Uint8Array {
  const w = new ByteWriter(16);
  w.bytes(boxHeader("data", 16 + valueLength));
  w.u32be(type & 0xffffff); // version 0 + 24-bit type
  w.u32be(0); // locale
  return w.finish();
}

function dataAtom(type: number, value: Uint8Array): Uint8Array {
  const w = new ByteWriter(16 + value.length);
  return w.bytes(dataHeader(type, value.length)).bytes(value).finish();
}

function box(type: string, children: readonly Uint8Array[]): Uint8Array {
  const size = 8 + children.reduce((n, c) => n + c.length, 0);
  const w = new ByteWriter(size);
  w.bytes(boxHeader(type, size));
  for (const c of children) w.bytes(c);
  return w.finish();
}

/** `mean`/`name` atom: 4 bytes of version/flags, then the UTF-8 string. */
function freeformString(type: "mean" | "name", s: string): Uint8Array {
  return box(type, [new Uint8Array(4), encodeUtf8(s)]);
}

/** `N` or `N/M` with both parts fitting 16 bits; null when unparseable. */
export function parsePair(value: string): [number, number] | null {
  const m = /^\s*(\d{1,5})\s*(?:\/\s*(\d{1,5})\s*)?$/.exec(value);
  if (!m) return null;
  const n = Number(m[1]);
  const total = m[2] === undefined ? 0 : Number(m[2]);
  if (n > 0xffff || total > 0xffff) return null;
  return [n, total];
}

/**
 * A decimal integer for tmpo/cpil/pgap; a decimal fraction (BPM "128.00") is
 * rounded. Null when unparseable or outside the unsigned range of the width.
 */
export function parseAtomInteger(value: string, width: 1 | 2): number | null {
  const m = /^\s*\+?(\d+(?:\.\d*)?)\s*$/.exec(value);
  if (!m) return null;
  const v = Math.round(Number(m[1]));
  return Number.isSafeInteger(v) && v < 2 ** (8 * width) ? v : null;
}

function textGroup(key: string, values: readonly string[]): Uint8Array | null {
  const entry = vocabByKey(key);
  const mapping = entry?.mp4 ?? { kind: "freeform" as const, name: key };
  const texts = () => values.map((v) => dataAtom(DATA_UTF8, encodeUtf8(v)));
  switch (mapping.kind) {
    case "text":
      return box(mapping.atom, texts());
    case "trkn":
    case "disk": {
      const pair = parsePair(values[0]);
      if (!pair) return null;
      const w = new ByteWriter(8).u16be(0).u16be(pair[0]).u16be(pair[1]);
      if (mapping.kind === "trkn") w.u16be(0);
      return box(mapping.kind, [dataAtom(DATA_IMPLICIT, w.finish())]);
    }
    case "int": {
      const v = parseAtomInteger(values[0], mapping.width);
      if (v === null) return null;
      const body = mapping.width === 2 ? new ByteWriter(2).u16be(v).finish() : Uint8Array.of(v);
      return box(mapping.atom, [dataAtom(DATA_BE_SIGNED, body)]);
    }
    case "freeform":
      return box("----", [
        freeformString("mean", ITUNES_MEAN),
        freeformString("name", mapping.name),
        ...texts(),
      ]);
  }
}

/** A box's size (header included) as boxHeader would write it: over 32 bits is `too-large`. */
function boxSize(type: string, size: number): number {
  if (size > 0xffff_ffff) {
    throw new FormatError("too-large", `'${type}' box of ${size} bytes does not fit 32 bits`);
  }
  return size;
}

/** The length of `textGroup(key, values)` (0 for null), counted without building it. */
function textGroupLength(key: string, values: readonly string[]): number {
  const entry = vocabByKey(key);
  const mapping = entry?.mp4 ?? { kind: "freeform" as const, name: key };
  const texts = () => values.reduce((n, v) => n + boxSize("data", 16 + utf8Length(v)), 0);
  switch (mapping.kind) {
    case "text":
      return boxSize(mapping.atom, 8 + texts());
    case "trkn":
    case "disk":
      if (!parsePair(values[0])) return 0;
      return 8 + 16 + (mapping.kind === "trkn" ? 8 : 6);
    case "int":
      if (parseAtomInteger(values[0], mapping.width) === null) return 0;
      return 8 + 16 + mapping.width;
    case "freeform":
      return boxSize(
        "----",
        8 + freeformStringLength("mean", ITUNES_MEAN) + freeformStringLength("name", mapping.name) +
          texts(),
      );
  }
}

function freeformStringLength(type: "mean" | "name", s: string): number {
  return boxSize(type, 8 + 4 + utf8Length(s));
}

/** Splits a binary tag key `----:<mean>:<name>`; null for keys of other formats. */
export function parseFreeformKey(key: string): { mean: string; name: string } | null {
  if (!key.startsWith("----:")) return null;
  const rest = key.slice(5);
  const colon = rest.indexOf(":");
  if (colon <= 0) return null;
  return { mean: rest.slice(0, colon), name: rest.slice(colon + 1) };
}

/** Groups rows by exact key, in order of first appearance (DB order). */
function groupBy<T>(rows: readonly T[], keyOf: (r: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const r of rows) {
    const k = keyOf(r);
    const g = groups.get(k);
    if (g) g.push(r);
    else groups.set(k, [r]);
  }
  return groups;
}

/**
 * The ilst items, in order: text groups (DB key order), binary freeform
 * atoms (type 0, payload streamed), then one `covr` with one `data` per art
 * (PNG → 14, anything else → 13). Binary tags whose key is not
 * `----:<mean>:<name>` (ID3 frames, FLAC blocks) have no MP4 form and are
 * skipped, as are zero-length art and binary rows.
 */
export function buildIlstItems(
  tags: readonly TagEntry[],
  binaryTags: readonly BinaryTagRef[],
  art: readonly ArtRef[],
): SegmentList {
  const out = new SegmentList();
  for (const [key, rows] of groupBy(tags, (t) => t.key)) {
    const values = rows.map((r) => r.value).filter((v) => v !== "");
    if (values.length === 0) continue;
    const item = textGroup(key, values);
    if (item) out.inline(item);
  }

  for (const [key, rows] of groupBy(binaryTags, (t) => t.key)) {
    const ff = parseFreeformKey(key);
    const present = rows.filter((r) => r.length > 0);
    if (!ff || present.length === 0) continue;
    const mean = freeformString("mean", ff.mean);
    const name = freeformString("name", ff.name);
    const size = 8 + mean.length + name.length + present.reduce((n, r) => n + 16 + r.length, 0);
    out.inline(boxHeader("----", size)).inline(mean).inline(name);
    for (const r of present) {
      out.inline(dataHeader(DATA_IMPLICIT, r.length));
      out.segment({ kind: "binary-tag", id: r.id, length: r.length });
    }
  }

  const covers = art.filter((a) => a.byteLen > 0);
  if (covers.length > 0) {
    const size = 8 + covers.reduce((n, a) => n + 16 + a.byteLen, 0);
    out.inline(boxHeader("covr", size));
    for (const a of covers) {
      out.inline(
        dataHeader(a.mime.toLowerCase() === "image/png" ? DATA_PNG : DATA_JPEG, a.byteLen),
      );
      out.segment({ kind: "art", artId: a.artId, length: a.byteLen });
    }
  }
  return out;
}

/** The length of `buildIlstItems(tags, binaryTags, art)`, counted without building it. */
function ilstItemsLength(
  tags: readonly TagEntry[],
  binaryTags: readonly BinaryTagRef[],
  art: readonly ArtRef[],
): number {
  let size = 0;
  for (const [key, rows] of groupBy(tags, (t) => t.key)) {
    const values = rows.map((r) => r.value).filter((v) => v !== "");
    if (values.length > 0) size += textGroupLength(key, values);
  }
  for (const [key, rows] of groupBy(binaryTags, (t) => t.key)) {
    const ff = parseFreeformKey(key);
    const present = rows.filter((r) => r.length > 0);
    if (!ff || present.length === 0) continue;
    size += boxSize(
      "----",
      8 + freeformStringLength("mean", ff.mean) + freeformStringLength("name", ff.name) +
        present.reduce((n, r) => n + boxSize("data", 16 + r.length), 0),
    );
  }
  const covers = art.filter((a) => a.byteLen > 0);
  if (covers.length > 0) {
    size += boxSize("covr", 8 + covers.reduce((n, a) => n + boxSize("data", 16 + a.byteLen), 0));
  }
  return size;
}

/** The `hdlr` of the new `meta`: 33 bytes. */
const HDLR_LENGTH = 33;

/** The size of `buildUdta(...)`, counted without building it. */
export function udtaLength(
  tags: readonly TagEntry[],
  binaryTags: readonly BinaryTagRef[],
  art: readonly ArtRef[],
  carried: readonly Uint8Array[] = [],
): number {
  const ilstSize = boxSize("ilst", 8 + ilstItemsLength(tags, binaryTags, art));
  const metaSize = boxSize("meta", 8 + 4 + HDLR_LENGTH + ilstSize);
  return boxSize("udta", 8 + carried.reduce((n, c) => n + c.length, 0) + metaSize);
}

/**
 * The complete new `udta` box: `carried` boxes verbatim (chapter lists),
 * then `meta(FullBox, hdlr mdir/appl)/ilst`. Box sizes beyond 32 bits are
 * `too-large` (boxHeader throws).
 */
export function buildUdta(
  tags: readonly TagEntry[],
  binaryTags: readonly BinaryTagRef[],
  art: readonly ArtRef[],
  carried: readonly Uint8Array[] = [],
): SegmentList {
  const items = buildIlstItems(tags, binaryTags, art);
  const hdlr = new ByteWriter(HDLR_LENGTH)
    .bytes(boxHeader("hdlr", HDLR_LENGTH))
    .u32be(0) // version/flags
    .u32be(0) // pre_defined
    .bytes(fourcc("mdir"))
    .bytes(fourcc("appl"))
    .u32be(0)
    .u32be(0)
    .u8(0) // empty name
    .finish();
  const ilstSize = 8 + items.size;
  const metaSize = 8 + 4 + hdlr.length + ilstSize;
  const udtaSize = 8 + carried.reduce((n, c) => n + c.length, 0) + metaSize;
  const out = new SegmentList();
  out.inline(boxHeader("udta", udtaSize));
  for (const c of carried) out.inline(c);
  out.inline(boxHeader("meta", metaSize)).inline(new Uint8Array(4)).inline(hdlr);
  out.inline(boxHeader("ilst", ilstSize));
  return out.append(items);
}
