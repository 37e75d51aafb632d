// Vorbis comment blocks (FLAC VORBIS_COMMENT, Opus OpusTags, Vorbis comment
// packet, OggFLAC): parse into tag rows and build from tag rows.
// Layout: u32le vendor length, vendor, u32le count, count × (u32le length,
// "NAME=value"). Every length is checked against the bytes that remain
// before anything is allocated, so a hostile count cannot reserve memory.

import { encodeUtf8, putU32le, u32le, utf8, utf8Length } from "./bytes.ts";
import { keyPassesFloor, vocabByKey, vocabByVorbis } from "./tagmap.ts";
import { FormatError, type TagEntry } from "./types.ts";

/** Field name of base64 FLAC PICTURE bodies inside Vorbis comments (Ogg art). */
export const PICTURE_FIELD = "METADATA_BLOCK_PICTURE";

export interface ParsedVorbisComment {
  vendor: string;
  /** Text rows: canonical lowercase key for vocabulary fields, else the field in its original case. */
  tags: TagEntry[];
  /** Values of METADATA_BLOCK_PICTURE entries (base64 text), in file order. */
  pictures: string[];
  /** Offset just past the comment list (Vorbis framing bit or trailing bytes follow). */
  end: number;
}

/**
 * Parses a Vorbis comment starting at `start` of `bytes`. Fails with
 * `truncated` when a declared length runs past the end.
 */
export function parseVorbisComment(bytes: Uint8Array, start = 0): ParsedVorbisComment {
  let pos = start;
  const need = (n: number, what: string): void => {
    if (n > bytes.length - pos) {
      throw new FormatError("truncated", `vorbis comment: ${what} runs past the block end`);
    }
  };
  need(4, "vendor length");
  const vendorLen = u32le(bytes, pos);
  pos += 4;
  need(vendorLen, "vendor string");
  const vendor = utf8(bytes.subarray(pos, pos + vendorLen));
  pos += vendorLen;
  need(4, "comment count");
  const count = u32le(bytes, pos);
  pos += 4;
  // Each entry takes at least its 4-byte length: a count beyond that is a lie.
  if (count > (bytes.length - pos) / 4) {
    throw new FormatError("truncated", `vorbis comment: ${count} entries cannot fit`);
  }
  const tags: TagEntry[] = [];
  const pictures: string[] = [];
  const ordinals = new Map<string, number>();
  for (let i = 0; i < count; i++) {
    need(4, "entry length");
    const len = u32le(bytes, pos);
    pos += 4;
    need(len, "entry");
    const entry = bytes.subarray(pos, pos + len);
    pos += len;
    const eq = entry.indexOf(0x3d);
    if (eq <= 0) continue; // no '=' or empty field name
    const field = utf8(entry.subarray(0, eq));
    if (field.toUpperCase() === PICTURE_FIELD) {
      pictures.push(utf8(entry.subarray(eq + 1)));
      continue;
    }
    const value = utf8(entry.subarray(eq + 1));
    const key = vocabByVorbis(field)?.key ?? field;
    if (!keyPassesFloor(key) || value.length === 0) continue;
    const ordinal = ordinals.get(key) ?? 0;
    ordinals.set(key, ordinal + 1);
    tags.push({ key, value, ordinal });
  }
  return { vendor, tags, pictures, end: pos };
}

/** Whether `name` is a legal Vorbis field name: printable ASCII 0x20–0x7D except '='. */
export function isVorbisFieldName(name: string): boolean {
  if (name.length === 0) return false;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c < 0x20 || c > 0x7d || c === 0x3d) return false;
  }
  return true;
}

/** The Vorbis field name a stored key is written under, or null when it cannot be written. */
export function vorbisFieldFor(key: string): string | null {
  const vocab = vocabByKey(key);
  if (vocab) return vocab.vorbis;
  return isVorbisFieldName(key) ? key.toUpperCase() : null;
}

/**
 * Comment entries ("NAME=value" as UTF-8) for tag rows in DB order:
 * canonical keys → vocabulary name, other keys uppercased, keys outside the
 * field grammar dropped.
 */
export function vorbisEntriesFromTags(tags: readonly TagEntry[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const t of tags) {
    const field = vorbisFieldFor(t.key);
    if (field === null) continue;
    out.push(encodeUtf8(`${field}=${t.value}`));
  }
  return out;
}

/**
 * The comment bytes up to and including `entries`, with the entry count set
 * to `entries.length + extraEntries`. Ogg appends its picture entries
 * (`METADATA_BLOCK_PICTURE=` + base64, each with its own u32le length) after
 * this prefix.
 */
export function vorbisCommentPrefix(
  vendor: string,
  entries: readonly Uint8Array[],
  extraEntries = 0,
): Uint8Array {
  const vendorBytes = encodeUtf8(vendor);
  let size = 4 + vendorBytes.length + 4;
  for (const e of entries) {
    if (e.length > 0xffffffff) throw new FormatError("too-large", "vorbis comment entry too long");
    size += 4 + e.length;
  }
  const count = entries.length + extraEntries;
  if (count > 0xffffffff) throw new FormatError("too-large", "too many vorbis comment entries");
  const out = new Uint8Array(size);
  let pos = 0;
  putU32le(out, pos, vendorBytes.length);
  out.set(vendorBytes, pos + 4);
  pos += 4 + vendorBytes.length;
  putU32le(out, pos, count);
  pos += 4;
  for (const e of entries) {
    putU32le(out, pos, e.length);
    out.set(e, pos + 4);
    pos += 4 + e.length;
  }
  return out;
}

/**
 * The length of `vorbisCommentPrefix(vendor, vorbisEntriesFromTags(tags),
 * extraEntries)`, counted without encoding it.
 */
export function vorbisCommentLength(
  vendor: string,
  tags: readonly TagEntry[],
  extraEntries = 0,
): number {
  let size = 4 + utf8Length(vendor) + 4;
  let count = extraEntries;
  for (const t of tags) {
    const field = vorbisFieldFor(t.key);
    if (field === null) continue;
    const length = utf8Length(field) + 1 + utf8Length(t.value);
    if (length > 0xffffffff) throw new FormatError("too-large", "vorbis comment entry too long");
    size += 4 + length;
    count++;
  }
  if (count > 0xffffffff) throw new FormatError("too-large", "too many vorbis comment entries");
  return size;
}

/** A picture entry's bytes (its u32le length, the field name, the base64 text). */
export function pictureEntryLength(base64Length: number): number {
  const total = PICTURE_FIELD.length + 1 + base64Length;
  if (total > 0xffffffff) throw new FormatError("too-large", "picture comment entry too long");
  return 4 + total;
}

/** A complete Vorbis comment (no framing bit) from a vendor and entries. */
export function encodeVorbisComment(vendor: string, entries: readonly Uint8Array[]): Uint8Array {
  return vorbisCommentPrefix(vendor, entries, 0);
}

/** The u32le length + `METADATA_BLOCK_PICTURE=` that precede a picture's base64 text. */
export function pictureEntryHeader(base64Length: number): Uint8Array {
  const name = encodeUtf8(PICTURE_FIELD + "=");
  const total = pictureEntryLength(base64Length) - 4;
  const out = new Uint8Array(4 + name.length);
  putU32le(out, 0, total);
  out.set(name, 4);
  return out;
}
