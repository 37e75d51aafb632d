// Reading iTunes-style tags from `moov/udta/meta/ilst`. The walk is lenient:
// taggers disagree on details (the `meta` FullBox prefix, stray bytes), so a
// child that does not parse ends its list instead of failing the file.

import { encodeUtf8, u16be, u32be, utf8 } from "./bytes.ts";
import { type Box, boxEnd, boxPayloadStart, childBoxesLenient, findChild } from "./mp4_boxes.ts";
import { ID3V1_GENRES } from "./id3v1.ts";
import { keyPassesFloor, vocabByFreeform, vocabByMp4Atom } from "./tagmap.ts";
import {
  MAX_ART_BYTES,
  MAX_BINARY_TAG_BYTES,
  MAX_TAG_KEY_CHARS,
  MAX_TAG_VALUE_BYTES,
  type ProbedBinaryTag,
  type ProbedPicture,
  type TagEntry,
} from "./types.ts";

/** `data` atom type codes (the 24-bit "well-known type"). */
export const DATA_IMPLICIT = 0;
export const DATA_UTF8 = 1;
export const DATA_UTF16 = 2;
export const DATA_JPEG = 13;
export const DATA_PNG = 14;
export const DATA_BE_SIGNED = 21;

export interface IlstTags {
  tags: TagEntry[];
  pictures: ProbedPicture[];
  binaryTags: ProbedBinaryTag[];
}

interface DataAtom {
  type: number;
  /** The value bytes after the 8-byte type/locale header. */
  value: Uint8Array;
}

function dataAtoms(buf: Uint8Array, item: Box): DataAtom[] {
  const out: DataAtom[] = [];
  for (const b of childBoxesLenient(buf, boxPayloadStart(item), boxEnd(item))) {
    if (b.type !== "data") continue;
    const p = boxPayloadStart(b);
    if (boxEnd(b) - p < 8) continue;
    out.push({ type: u32be(buf, p) & 0xffffff, value: buf.subarray(p + 8, boxEnd(b)) });
  }
  return out;
}

/** The string of a `mean`/`name` atom: UTF-8 after its 4-byte version/flags. */
function freeformString(buf: Uint8Array, item: Box, type: string): string | null {
  const b = findChild(childBoxesLenient(buf, boxPayloadStart(item), boxEnd(item)), type);
  if (!b || b.size < 12) return null;
  return utf8(buf.subarray(boxPayloadStart(b) + 4, boxEnd(b)));
}

function textOf(d: DataAtom): string | null {
  if (d.type === DATA_UTF8 || d.type === DATA_IMPLICIT) return utf8(d.value);
  if (d.type === DATA_UTF16) return new TextDecoder("utf-16be").decode(d.value);
  return null;
}

/** Big-endian integer of 1–8 bytes; signed for type 21 (as iTunes writes tmpo/cpil/pgap). */
function integerOf(d: DataAtom): string | null {
  const n = d.value.length;
  if (n < 1 || n > 8) return null;
  let v = 0n;
  for (const byte of d.value) v = (v << 8n) | BigInt(byte);
  if (d.type === DATA_BE_SIGNED) v = BigInt.asIntN(n * 8, v);
  return v.toString();
}

/** `trkn`/`disk` body: 2 reserved bytes, number, total (each u16). */
function pairOf(d: DataAtom): string | null {
  if (d.value.length < 6) return null;
  const n = u16be(d.value, 2);
  const total = u16be(d.value, 4);
  if (n === 0 && total === 0) return null;
  return total > 0 ? `${n}/${total}` : `${n}`;
}

/** `gnre` body: a 16-bit ID3v1 genre index plus one, as the genre's name. */
function genreOf(d: DataAtom): string | null {
  if (d.value.length !== 2) return null;
  return ID3V1_GENRES[u16be(d.value, 0) - 1] ?? null;
}

/** Collects rows with per-key ordinals and the store's floors applied. */
class Collector {
  readonly tags: TagEntry[] = [];
  readonly pictures: ProbedPicture[] = [];
  readonly binaryTags: ProbedBinaryTag[] = [];
  #tagCounts = new Map<string, number>();
  #binCounts = new Map<string, number>();

  tag(key: string, value: string | null): void {
    // Rows the store would reject (CHECKs on key/value length) are dropped like floor failures.
    if (value === null || value === "" || !keyPassesFloor(key)) return;
    if (key.length > MAX_TAG_KEY_CHARS) return;
    if (value.length * 3 > MAX_TAG_VALUE_BYTES && encodeUtf8(value).length > MAX_TAG_VALUE_BYTES) {
      return;
    }
    const ordinal = this.#tagCounts.get(key) ?? 0;
    this.#tagCounts.set(key, ordinal + 1);
    this.tags.push({ key, value, ordinal });
  }

  binary(key: string, data: Uint8Array): void {
    if (data.length === 0 || data.length > MAX_BINARY_TAG_BYTES) return;
    if (!keyPassesFloor(key) || key.length > MAX_TAG_KEY_CHARS) return;
    const ordinal = this.#binCounts.get(key) ?? 0;
    this.#binCounts.set(key, ordinal + 1);
    this.binaryTags.push({ key, ordinal, data: data.slice() });
  }

  picture(d: DataAtom): void {
    const mime = d.type === DATA_JPEG ? "image/jpeg" : d.type === DATA_PNG ? "image/png" : null;
    // Oversize images are skipped before their bytes are copied out of the moov.
    if (mime === null || d.value.length === 0 || d.value.length > MAX_ART_BYTES) return;
    this.pictures.push({
      mime,
      pictureType: 3,
      description: "",
      width: null,
      height: null,
      data: d.value.slice(),
    });
  }
}

/** Finds `udta/meta/ilst` under the moov (whole box at offset 0 of `moov`). */
export function findIlst(moov: Uint8Array, root: Box): Box | undefined {
  const within = (b: Box, type: string, skip = 0) =>
    childBoxesLenient(moov, boxPayloadStart(b) + skip, boxEnd(b)).filter((c) => c.type === type);
  // The first ilst of any udta/meta (a udta may hold other metas, e.g. ID3 ones).
  for (const udta of within(root, "udta")) {
    for (const meta of within(udta, "meta")) {
      // ISO `meta` is a FullBox (4 zero bytes of version/flags before its
      // children); QuickTime-style writers omit them. A box size is never 0,
      // so a zero first word means the prefix is there.
      const p = boxPayloadStart(meta);
      const skip = boxEnd(meta) - p >= 4 && u32be(moov, p) === 0 ? 4 : 0;
      const ilst = within(meta, "ilst", skip)[0];
      if (ilst) return ilst;
    }
  }
  return undefined;
}

/** The number/total atoms and their canonical keys. */
const PAIR_ATOMS: ReadonlyMap<string, string> = new Map([
  ["trkn", "tracknumber"],
  ["disk", "discnumber"],
]);

/** Reads the tags, cover art and binary freeform atoms of a moov. */
export function readIlst(moov: Uint8Array, root: Box): IlstTags {
  const out = new Collector();
  const ilst = findIlst(moov, root);
  if (!ilst) return out;
  for (const item of childBoxesLenient(moov, boxPayloadStart(ilst), boxEnd(ilst))) {
    if (item.type === "covr") {
      for (const d of dataAtoms(moov, item)) out.picture(d);
      continue;
    }
    if (item.type === "----") {
      const mean = freeformString(moov, item, "mean");
      const name = freeformString(moov, item, "name");
      if (mean === null || name === null) continue;
      const key = vocabByFreeform(mean, name)?.key ?? name;
      for (const d of dataAtoms(moov, item)) {
        if (d.type === DATA_UTF8) out.tag(key, utf8(d.value));
        else out.binary(`----:${mean}:${name}`, d.value);
      }
      continue;
    }
    if (item.type === "gnre") {
      // The numeric genre iTunes once wrote; written back as `©gen` text.
      for (const d of dataAtoms(moov, item)) out.tag("genre", genreOf(d));
      continue;
    }
    const pair = PAIR_ATOMS.get(item.type);
    const entry = vocabByMp4Atom(item.type);
    const key = pair ?? entry?.key;
    if (key === undefined) continue; // non-vocabulary atoms are dropped
    const kind = pair ? "pair" : entry?.mp4.kind;
    for (const d of dataAtoms(moov, item)) {
      if (kind === "pair") out.tag(key, pairOf(d));
      else if (kind === "int") out.tag(key, integerOf(d));
      else out.tag(key, textOf(d));
    }
  }
  return out;
}
