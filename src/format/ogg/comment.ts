// Vorbis comments as Opus and Vorbis carry them: text rows, then art as
// METADATA_BLOCK_PICTURE entries (base64 of a FLAC PICTURE body). On
// synthesis each picture's description is right-padded with 0–2 spaces so
// its PICTURE prefix is a multiple of 3 bytes: then base64(prefix ‖ image)
// = base64(prefix) ‖ base64(image), and the image part streams from the
// store as base64 text without being held in memory.

import { base64Encode, base64Length } from "../layout.ts";
import { parsePictureBody, pictureBlockPrefix, pictureBlockPrefixLength } from "../flac_picture.ts";
import {
  pictureEntryHeader,
  pictureEntryLength,
  vorbisCommentLength,
  vorbisCommentPrefix,
} from "../vorbis_comment.ts";
import {
  type ArtRef,
  FormatError,
  MAX_ART_BYTES,
  type ProbedPicture,
  type TagEntry,
} from "../types.ts";
import { decodeBase64 } from "./base64.ts";
import type { Piece } from "./paginate.ts";

/** The vendor string of every comment we write. */
export const VENDOR = "musefs";

/**
 * Pictures from METADATA_BLOCK_PICTURE values. One that does not decode
 * discards all of them (the file is still ingested, without art).
 */
export function picturesFromComment(values: readonly string[]): ProbedPicture[] {
  const out: ProbedPicture[] = [];
  for (const value of values) {
    const body = decodeBase64(value);
    if (body === null) return [];
    let pic: ProbedPicture;
    try {
      pic = parsePictureBody(body);
    } catch (e) {
      if (e instanceof FormatError) return [];
      throw e;
    }
    if (pic.data.length > MAX_ART_BYTES) continue;
    out.push({ ...pic, data: pic.data.slice() });
  }
  return out;
}

/** Checks what a PICTURE needs before it is written. */
export function checkArt(art: ArtRef): void {
  if (!Number.isSafeInteger(art.byteLen) || art.byteLen < 0 || art.byteLen > MAX_ART_BYTES) {
    throw new FormatError("too-large", `art ${art.artId}: ${art.byteLen} bytes`);
  }
}

/** `art` with its description padded so its PICTURE prefix is a multiple of 3 bytes long. */
function padded(art: ArtRef): ArtRef {
  const pad = (3 - (pictureBlockPrefixLength(art) % 3)) % 3;
  return { ...art, description: art.description + " ".repeat(pad) };
}

/** The PICTURE prefix of `art` with its description padded to a multiple-of-3 length. */
export function paddedPicturePrefix(art: ArtRef): Uint8Array {
  return pictureBlockPrefix(padded(art));
}

/** The length of the pieces `commentPieces(tags, art)` makes, counted without building them. */
export function commentLength(tags: readonly TagEntry[], art: readonly ArtRef[]): number {
  let size = vorbisCommentLength(VENDOR, tags, art.length);
  for (const a of art) {
    checkArt(a);
    const text = base64Length(pictureBlockPrefixLength(padded(a))) + base64Length(a.byteLen);
    size += pictureEntryLength(text);
  }
  return size;
}

/**
 * The comment (vendor, count, entries) of `tags` and `art` as pieces:
 * text entries, then one METADATA_BLOCK_PICTURE entry per art.
 */
export function commentPieces(tags: readonly TagEntry[], art: readonly ArtRef[]): Piece[] {
  const pieces: Piece[] = [vorbisCommentPrefix(VENDOR, tags, art.length)];
  for (const a of art) {
    checkArt(a);
    const prefix = base64Encode(paddedPicturePrefix(a));
    const imageText = base64Length(a.byteLen);
    pieces.push(pictureEntryHeader(prefix.length + imageText), prefix);
    if (a.byteLen > 0) {
      pieces.push({
        artId: a.artId,
        base64: true,
        artTotal: a.byteLen,
        offset: 0,
        length: imageText,
      });
    }
  }
  return pieces;
}
