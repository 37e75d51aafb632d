// Page CRCs over a cover image without reading the whole image for every
// file. An Ogg header page's CRC covers the slice of the image it carries
// (base64 text in Vorbis and Opus comments, raw bytes in FLAC-in-Ogg
// PICTURE packets), and where the slices start depends on the length of the
// tags before the image, so every file cuts the album's one image
// differently. The Ogg CRC is linear with no initial value or final xor:
// crc(T[a, b)) = P(b) xor (P(a) followed by b - a zero bytes), with P(x) the
// CRC of the first x bytes. A table keeps P at every CHECKPOINT bytes of the
// image's text, computed in one pass; P anywhere else needs at most
// CHECKPOINT bytes of text read and checked. A 300 KB cover cost its every
// Vorbis file ~0.8 ms of base64 and CRC; with a table, a few µs per slice.

import { readSegment } from "../layout.ts";
import type { BlobSource, ByteSource } from "../types.ts";
import { crcShiftZeros, crcUpdate } from "./page.ts";

/** Text bytes between stored prefix CRCs; a multiple of 4 (one base64 quantum is 4 characters). */
export const CHECKPOINT = 1024;

const NO_BACKING: ByteSource = { size: 0, read: () => new Uint8Array(0) };

/** The image's text as its Ogg pages carry it. */
export interface ArtText {
  artId: number;
  /** Base64 text of the image (Vorbis, Opus); else its raw bytes (FLAC in Ogg). */
  base64: boolean;
  /** The image's raw byte length. */
  artTotal: number;
}

/** Bytes [from, to) of the text, read through `blobs`. */
function textOf(art: ArtText, blobs: BlobSource, from: number, to: number): Uint8Array {
  const length = to - from;
  if (length === 0) return new Uint8Array(0);
  return readSegment(
    { kind: "ogg-art", ...art, offset: from, length },
    0,
    length,
    { backing: NO_BACKING, blobs },
  );
}

/** Prefix CRCs of one image's text: slices' CRCs from a few bytes around their ends. */
export class ArtCrcTable {
  private constructor(
    readonly art: ArtText,
    readonly textLength: number,
    /** checkpoints[i] = CRC of the text's first i·CHECKPOINT bytes. */
    readonly checkpoints: Uint32Array,
  ) {}

  /** The table of `art`, computed from the whole image, read through `blobs` once. */
  static build(art: ArtText, blobs: BlobSource): ArtCrcTable {
    const textLength = art.base64 ? Math.ceil(art.artTotal / 3) * 4 : art.artTotal;
    const checkpoints = new Uint32Array(Math.floor(textLength / CHECKPOINT) + 1);
    // One read of the whole text: a store reads an image's whole value for
    // any slice of it, so reading it a checkpoint at a time cost that per KiB.
    const text = textOf(art, blobs, 0, (checkpoints.length - 1) * CHECKPOINT);
    let crc = 0;
    for (let i = 1; i < checkpoints.length; i++) {
      crc = crcUpdate(crc, text, (i - 1) * CHECKPOINT, i * CHECKPOINT);
      checkpoints[i] = crc;
    }
    return new ArtCrcTable(art, textLength, checkpoints);
  }

  /** CRC of the first `x` bytes of the text. */
  #prefix(x: number, blobs: BlobSource): number {
    const i = Math.floor(x / CHECKPOINT);
    return crcUpdate(this.checkpoints[i], textOf(this.art, blobs, i * CHECKPOINT, x));
  }

  /** CRC (from zero) of text bytes [from, from + length). */
  slice(from: number, length: number, blobs: BlobSource): number {
    const to = from + length;
    if (from < 0 || length < 0 || to > this.textLength) {
      throw new RangeError(`art ${this.art.artId}: text slice ${from}+${length} out of range`);
    }
    return (this.#prefix(to, blobs) ^ crcShiftZeros(this.#prefix(from, blobs), length)) >>> 0;
  }
}
