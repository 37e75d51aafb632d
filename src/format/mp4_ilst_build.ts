// Writing the new `udta/meta/ilst` from store rows. Text is generated inline;
// cover images and binary freeform payloads stay `art` / `binary-tag`
// segments so their bytes are streamed from the store, never copied. The
// same code counts the box's size without writing it (what a stat needs):
// every box's size is worked out from its contents' lengths before its
// header is written, so nothing is built twice.

import { type ByteSink, utf8Length } from "./bytes.ts";
import { DATA_BE_SIGNED, DATA_IMPLICIT, DATA_JPEG, DATA_PNG, DATA_UTF8 } from "./mp4_ilst.ts";
import { ITUNES_MEAN, vocabByKey } from "./tagmap.ts";
import { HeaderBuilder } from "./segments.ts";
import {
  type ArtRef,
  type BinaryTagRef,
  FormatError,
  type Segment,
  type TagEntry,
} from "./types.ts";

/** A box header; a size over 32 bits is `too-large`. */
function boxHeader(w: ByteSink, type: string, size: number): ByteSink {
  if (size > 0xffff_ffff) {
    throw new FormatError("too-large", `'${type}' box of ${size} bytes does not fit 32 bits`);
  }
  return w.u32be(size).latin1(type);
}

/** A `data` atom's header for a value of `valueLength` bytes (the value follows). */
function dataHeader(w: ByteSink, type: number, valueLength: number): ByteSink {
  return boxHeader(w, "data", 16 + valueLength)
    .u32be(type & 0xffffff) // version 0 + 24-bit type
    .u32be(0); // locale
}

/** `mean`/`name` atom: 4 bytes of version/flags, then the UTF-8 string. */
function freeformString(w: ByteSink, type: "mean" | "name", s: string): void {
  boxHeader(w, type, 12 + utf8Length(s)).u32be(0).utf8(s);
}

function freeformStringLength(s: string): number {
  return 12 + utf8Length(s);
}

/** UTF-8 `data` atoms of `values`: their length, then (with `w`) the atoms. */
function texts(values: readonly string[], w?: ByteSink): number {
  let n = 0;
  for (const v of values) {
    const length = utf8Length(v);
    n += 16 + length;
    if (w) dataHeader(w, DATA_UTF8, length).utf8(v);
  }
  return n;
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

/** The item of one stored key, written to `w` (nothing when the value has no MP4 form). */
function textGroup(w: ByteSink, key: string, values: readonly string[]): void {
  const entry = vocabByKey(key);
  const mapping = entry?.mp4 ?? { kind: "freeform" as const, name: key };
  switch (mapping.kind) {
    case "text":
      boxHeader(w, mapping.atom, 8 + texts(values));
      texts(values, w);
      return;
    case "trkn":
    case "disk": {
      const pair = parsePair(values[0]);
      if (!pair) return;
      const length = mapping.kind === "trkn" ? 8 : 6;
      boxHeader(w, mapping.kind, 8 + 16 + length);
      dataHeader(w, DATA_IMPLICIT, length).u16be(0).u16be(pair[0]).u16be(pair[1]);
      if (mapping.kind === "trkn") w.u16be(0);
      return;
    }
    case "int": {
      const v = parseAtomInteger(values[0], mapping.width);
      if (v === null) return;
      boxHeader(w, mapping.atom, 8 + 16 + mapping.width);
      dataHeader(w, DATA_BE_SIGNED, mapping.width);
      if (mapping.width === 2) w.u16be(v);
      else w.u8(v);
      return;
    }
    case "freeform":
      boxHeader(
        w,
        "----",
        8 + freeformStringLength(ITUNES_MEAN) + freeformStringLength(mapping.name) + texts(values),
      );
      freeformString(w, "mean", ITUNES_MEAN);
      freeformString(w, "name", mapping.name);
      texts(values, w);
      return;
  }
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
function ilstItems(
  h: HeaderBuilder,
  tags: readonly TagEntry[],
  binaryTags: readonly BinaryTagRef[],
  art: readonly ArtRef[],
): void {
  for (const [key, rows] of groupBy(tags, (t) => t.key)) {
    const values = rows.map((r) => r.value).filter((v) => v !== "");
    if (values.length > 0) textGroup(h.w, key, values);
  }

  for (const [key, rows] of groupBy(binaryTags, (t) => t.key)) {
    const ff = parseFreeformKey(key);
    const present = rows.filter((r) => r.length > 0);
    if (!ff || present.length === 0) continue;
    const size = 8 + freeformStringLength(ff.mean) + freeformStringLength(ff.name) +
      present.reduce((n, r) => n + 16 + r.length, 0);
    boxHeader(h.w, "----", size);
    freeformString(h.w, "mean", ff.mean);
    freeformString(h.w, "name", ff.name);
    for (const r of present) {
      dataHeader(h.w, DATA_IMPLICIT, r.length);
      h.payload({ kind: "binary-tag", id: r.id, length: r.length });
    }
  }

  const covers = art.filter((a) => a.byteLen > 0);
  if (covers.length > 0) {
    boxHeader(h.w, "covr", 8 + covers.reduce((n, a) => n + 16 + a.byteLen, 0));
    for (const a of covers) {
      dataHeader(h.w, a.mime.toLowerCase() === "image/png" ? DATA_PNG : DATA_JPEG, a.byteLen);
      h.payload({ kind: "art", artId: a.artId, length: a.byteLen });
    }
  }
}

/** The `hdlr` of the new `meta`: 33 bytes. */
const HDLR_LENGTH = 33;

/**
 * The new `udta` box into `h`: `carried` boxes verbatim (chapter lists),
 * then `meta(FullBox, hdlr mdir/appl)/ilst`. Box sizes beyond 32 bits are
 * `too-large`.
 */
function udta(
  h: HeaderBuilder,
  tags: readonly TagEntry[],
  binaryTags: readonly BinaryTagRef[],
  art: readonly ArtRef[],
  carried: readonly Uint8Array[],
): void {
  const items = new HeaderBuilder(true);
  ilstItems(items, tags, binaryTags, art);
  const ilstSize = 8 + items.size;
  const metaSize = 8 + 4 + HDLR_LENGTH + ilstSize;
  const w = boxHeader(h.w, "udta", 8 + carried.reduce((n, c) => n + c.length, 0) + metaSize);
  for (const c of carried) w.bytes(c);
  boxHeader(w, "meta", metaSize).u32be(0); // version/flags
  boxHeader(w, "hdlr", HDLR_LENGTH)
    .u32be(0) // version/flags
    .u32be(0) // pre_defined
    .latin1("mdir")
    .latin1("appl")
    .u32be(0)
    .u32be(0)
    .u8(0); // empty name
  boxHeader(w, "ilst", ilstSize);
  ilstItems(h, tags, binaryTags, art);
}

/** The complete new `udta` box as segments, and its size. */
export function buildUdta(
  tags: readonly TagEntry[],
  binaryTags: readonly BinaryTagRef[],
  art: readonly ArtRef[],
  carried: readonly Uint8Array[] = [],
): { segments: Segment[]; size: number } {
  const h = new HeaderBuilder(false);
  udta(h, tags, binaryTags, art, carried);
  const size = h.size;
  return { segments: h.finish(), size };
}

/** The size of `buildUdta(...)`, counted without building it. */
export function udtaLength(
  tags: readonly TagEntry[],
  binaryTags: readonly BinaryTagRef[],
  art: readonly ArtRef[],
  carried: readonly Uint8Array[] = [],
): number {
  const h = new HeaderBuilder(true);
  udta(h, tags, binaryTags, art, carried);
  return h.size;
}
