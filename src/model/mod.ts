// The vocabulary the store and the formats share, below both of them: the
// stored format names, the size limits every layer enforces, and the plain
// row shapes (tags, pictures, binary tags, structural blocks, art links).
// Nothing here does anything; it only names things.

/** The `tracks.format` values of the store. */
export type Format = "flac" | "mp3" | "m4a" | "opus" | "vorbis" | "oggflac" | "wav";

export const FORMATS: readonly Format[] = [
  "flac",
  "mp3",
  "m4a",
  "opus",
  "vorbis",
  "oggflac",
  "wav",
];

/** Limits the store and every format enforce (the store's CHECKs hold the same numbers). */
export const MAX_ART_BYTES = 16_711_680;
export const MAX_BINARY_TAG_BYTES = 16_711_680;
export const MAX_TAG_KEY_CHARS = 256;
export const MAX_TAG_VALUE_BYTES = 262_144;
export const MAX_MIME_CHARS = 255;
export const MAX_DESCRIPTION_CHARS = 1024;
export const MAX_FLAC_BLOCK = 0xffffff;

/** One text tag row: canonical lowercase key for vocabulary fields, else the native key. */
export interface TagEntry {
  key: string;
  value: string;
  /** 0-based position among rows with this exact key, in file (or DB) order. */
  ordinal: number;
}

/** A picture found by a probe (data in memory; the scanner stores it as art). */
export interface ProbedPicture {
  mime: string;
  /** ID3/FLAC picture type clamped to 0–20. */
  pictureType: number;
  description: string;
  /** null when unknown or 0. */
  width: number | null;
  height: number | null;
  data: Uint8Array;
}

/** An opaque tag carried as bytes (ID3 PRIV/GEOB/…, FLAC APPLICATION/CUESHEET, MP4 binary freeform). */
export interface ProbedBinaryTag {
  key: string;
  ordinal: number;
  data: Uint8Array;
}

export type StructuralKind = "STREAMINFO" | "SEEKTABLE";

export interface StructuralBlock {
  kind: StructuralKind;
  ordinal: number;
  body: Uint8Array;
}

/** Art attached to a track, as the store holds it (metadata only; bytes come from a BlobSource). */
export interface ArtRef {
  artId: number;
  mime: string;
  pictureType: number;
  description: string;
  width: number | null;
  height: number | null;
  byteLen: number;
}

/** A binary tag row as the store holds it; `id` is the tags rowid the bytes are streamed from. */
export interface BinaryTagRef {
  id: number;
  key: string;
  ordinal: number;
  length: number;
}

export { sameContent, type Stamp, stampsMatch } from "./stamp.ts";
export { MusefsError, servedErrno, type ServedOsErrno } from "./errors.ts";
