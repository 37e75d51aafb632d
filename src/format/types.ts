// Shared shapes of the format layer: what a probe finds, what a synthesizer
// needs, and the layout (list of segments) it produces. Plain objects only:
// the format layer never sees a database or a file handle.

/** The `tracks.format` values of the store (F§2). */
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

/** The ID3v2 versions synthesis can write: 2.3 (for old players) and 2.4. */
export type Id3Version = 3 | 4;

/** Limits shared by every format (F§4 "Limits summary"). */
export const MAX_ART_BYTES = 16_711_680;
export const MAX_BINARY_TAG_BYTES = 16_711_680;
export const MAX_PROBE_BYTES = 64 * 1024 * 1024;
export const PROBE_INITIAL_WINDOW = 64 * 1024;
export const MAX_MP4_METADATA_BYTES = 256 * 1024 * 1024;
export const MAX_TAG_KEY_CHARS = 256;
export const MAX_TAG_VALUE_BYTES = 262_144;
export const MAX_MIME_CHARS = 255;
export const MAX_DESCRIPTION_CHARS = 1024;
export const MAX_FLAC_BLOCK = 0xffffff;

/** Why a format operation failed. Every parser failure is one of these. */
export type FormatErrorKind =
  | "malformed" // the bytes do not follow the format
  | "unsupported" // valid but outside what we handle (RF64, fragmented MP4, chained Ogg …)
  | "too-large" // a size beyond a cap, or an output field that cannot hold the value
  | "truncated" // the file ends before a structure it declares
  | "invalid-input"; // synthesis input rows that cannot be written (embedded NUL, bad STREAMINFO …)

export class FormatError extends Error {
  override readonly name = "FormatError";
  constructor(readonly kind: FormatErrorKind, message: string) {
    super(message);
  }
}

/**
 * Random access to the bytes of one file (the backing file at scan or serve
 * time, or an in-memory buffer in tests). `read` returns exactly `length`
 * bytes unless the file ends first (then fewer). Implementations enforce
 * their own caps and count what they read; see `reader.ts`.
 */
export interface ByteSource {
  readonly size: number;
  read(offset: number, length: number): Uint8Array;
}

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

export interface ProbeResult {
  format: Format;
  audioOffset: number;
  audioLength: number;
  tags: TagEntry[];
  pictures: ProbedPicture[];
  binaryTags: ProbedBinaryTag[];
  structural: StructuralBlock[];
  /** Damage the probe repaired or skipped (the scan logs each one with the path). */
  warnings?: string[];
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

/** Everything a synthesizer needs from the store for one track. */
export interface SynthInput {
  format: Format;
  audioOffset: number;
  audioLength: number;
  backingSize: number;
  /** Text tags in DB order: (key BINARY, ordinal). */
  tags: TagEntry[];
  binaryTags: BinaryTagRef[];
  /** Track art in track_art ordinal order. */
  art: ArtRef[];
  structural: StructuralBlock[];
  /** ID3v2 version of the tags written for MP3 and WAV `id3 ` chunks (default 4). */
  id3Version?: Id3Version;
  /**
   * Only the layout's size will be used (getattr): a synthesizer may skip work
   * that cannot change the size, and then marks the layout `sizeOnly`.
   */
  sizeOnly?: boolean;
}

/** Where the bytes of art and binary tags come from (the store at serve time, memory in tests). */
export interface BlobSource {
  art(artId: number, offset: number, length: number): Uint8Array;
  binaryTag(id: number, offset: number, length: number): Uint8Array;
}

/** One piece of a served file (F§5 segment model). */
export type Segment =
  | { kind: "inline"; bytes: Uint8Array }
  | { kind: "art"; artId: number; length: number }
  | { kind: "binary-tag"; id: number; length: number }
  | { kind: "backing"; offset: number; length: number }
  /** Ogg audio pages of the backing file, served with page sequence += seqDelta (mod 2^32) and CRC patched. */
  | { kind: "ogg-audio"; offset: number; length: number; seqDelta: number }
  /**
   * Bytes [offset, offset+length) of the art image as carried inside an Ogg
   * comment: base64 text of the image when `base64`, else the raw image
   * (OggFLAC PICTURE packets). `artTotal` is the image's raw byte length.
   */
  | {
    kind: "ogg-art";
    artId: number;
    offset: number;
    length: number;
    base64: boolean;
    artTotal: number;
  };

export interface Layout {
  segments: Segment[];
  /** Sum of segment lengths: the served file size. */
  size: number;
  /**
   * Synthesized for `SynthInput.sizeOnly` with work skipped (Ogg page CRCs
   * left zero): the size is exact, the bytes must never be served or cached.
   */
  sizeOnly?: true;
}
