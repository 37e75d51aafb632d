// Vorbis comment blocks (FLAC VORBIS_COMMENT, Opus OpusTags, Vorbis comment
// packet, OggFLAC): parse into tag rows and build from tag rows.
// Layout: u32le vendor length, vendor, u32le count, count × (u32le length,
// "NAME=value"). Every length is checked against the bytes that remain
// before anything is allocated, so a hostile count cannot reserve memory.

import { ByteWriter, encodeUtf8, putU32le, u32le, utf8, utf8Length } from "./bytes.ts";
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
 * The fields `tags` are written under (null: not written), the comment's
 * length and its entry count: canonical keys → vocabulary name, other keys
 * uppercased, keys outside the field grammar dropped.
 */
function commentPlan(vendor: string, tags: readonly TagEntry[], extraEntries: number) {
  const fields: (string | null)[] = [];
  let size = 4 + utf8Length(vendor) + 4;
  let count = extraEntries;
  for (const t of tags) {
    const field = vorbisFieldFor(t.key);
    fields.push(field);
    if (field === null) continue;
    const length = utf8Length(field) + 1 + utf8Length(t.value);
    if (length > 0xffffffff) throw new FormatError("too-large", "vorbis comment entry too long");
    size += 4 + length;
    count++;
  }
  if (count > 0xffffffff) throw new FormatError("too-large", "too many vorbis comment entries");
  return { fields, size, count };
}

/** The length of `vorbisCommentPrefix(vendor, tags, extraEntries)`, counted without encoding it. */
export function vorbisCommentLength(
  vendor: string,
  tags: readonly TagEntry[],
  extraEntries = 0,
): number {
  return commentPlan(vendor, tags, extraEntries).size;
}

/**
 * The comment bytes up to and including the entries ("NAME=value") of
 * `tags` in DB order, with the entry count set to theirs + `extraEntries`.
 * Ogg appends its picture entries (`METADATA_BLOCK_PICTURE=` + base64, each
 * with its own u32le length) after this prefix. One buffer of the exact size.
 */
export function vorbisCommentPrefix(
  vendor: string,
  tags: readonly TagEntry[],
  extraEntries = 0,
): Uint8Array {
  const { fields, size, count } = commentPlan(vendor, tags, extraEntries);
  const w = new ByteWriter(size).u32le(utf8Length(vendor)).utf8(vendor).u32le(count);
  tags.forEach((t, i) => {
    const field = fields[i];
    if (field === null) return;
    w.u32le(utf8Length(field) + 1 + utf8Length(t.value)).utf8(field).u8(0x3d).utf8(t.value);
  });
  return w.finish();
}

/** A complete Vorbis comment (no framing bit) of `tags`. */
export function encodeVorbisComment(vendor: string, tags: readonly TagEntry[]): Uint8Array {
  return vorbisCommentPrefix(vendor, tags, 0);
}

/** A picture entry's bytes (its u32le length, the field name, the base64 text). */
export function pictureEntryLength(base64Length: number): number {
  const total = PICTURE_FIELD.length + 1 + base64Length;
  if (total > 0xffffffff) throw new FormatError("too-large", "picture comment entry too long");
  return 4 + total;
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
