// Shared shapes of the format layer: what a probe finds, what a synthesizer
// needs, and the layout (list of segments) it produces. Plain objects only:
// the format layer never sees a database or a file handle.

// The vocabulary shared with the store (format names, limits, row shapes).
export * from "../model/mod.ts";
import { MusefsError } from "../model/mod.ts";
import type {
  ArtRef,
  BinaryTagRef,
  Format,
  ProbedBinaryTag,
  ProbedPicture,
  StructuralBlock,
  TagEntry,
} from "../model/mod.ts";

/** The ID3v2 versions synthesis can write: 2.3 (for old players) and 2.4. */
export type Id3Version = 3 | 4;

/** How much of a file a probe reads at most, and its first window. */
export const MAX_PROBE_BYTES = 64 * 1024 * 1024;
export const PROBE_INITIAL_WINDOW = 64 * 1024;
/** ftyp and moov are each read whole, up to this. */
export const MAX_MP4_METADATA_BYTES = 256 * 1024 * 1024;

/** Why a format operation failed. Every parser failure is one of these. */
export type FormatErrorKind =
  | "malformed" // the bytes do not follow the format
  | "unsupported" // valid but outside what we handle (RF64, fragmented MP4, chained Ogg …)
  | "too-large" // a size beyond a cap, or an output field that cannot hold the value
  | "truncated" // the file ends before a structure it declares
  | "invalid-input"; // synthesis input rows that cannot be written (embedded NUL, bad STREAMINFO …)

export class FormatError extends MusefsError {
  override readonly name = "FormatError";
  declare readonly kind: FormatErrorKind;
  constructor(kind: FormatErrorKind, message: string) {
    super(kind, message);
  }
}

/** Runs `fn`, turning any non-FormatError failure into a `malformed` FormatError. */
export function typed<T>(what: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof FormatError) throw e;
    throw new FormatError("malformed", `${what}: ${e instanceof Error ? e.message : String(e)}`);
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
  /**
   * Bytes [offset, offset + length) of an image's base64 text (what Vorbis
   * and Opus header pages carry), when the source keeps the whole text;
   * undefined: encode the slice from `art` bytes.
   */
  artText?(artId: number, offset: number, length: number): Uint8Array | undefined;
  /**
   * The CRC (from zero) of bytes [offset, offset + length) of an image's
   * text as Ogg pages carry it (base64, or raw), when the source keeps a
   * table of the image's prefix CRCs (format/ogg/art_crc.ts). Without it,
   * page CRCs read and checksum every slice of the image they cover.
   */
  artCrc?(
    art: { artId: number; base64: boolean; artTotal: number },
    offset: number,
    length: number,
  ): number;
}

/** One piece of a served file. */
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
