// The FLAC PICTURE body (also the payload of Ogg METADATA_BLOCK_PICTURE):
// u32be type, u32be mime length + mime, u32be description length +
// description (UTF-8), u32be width, height, depth, colors, u32be data length
// + data. Depth and colors are discarded on parse and written as 0.

import { encodeUtf8, putU32be, u32be, utf8, utf8Length } from "./bytes.ts";
import { type ArtRef, FormatError, MAX_DESCRIPTION_CHARS, MAX_MIME_CHARS } from "./types.ts";
import type { ProbedPicture } from "./types.ts";

/** Picture types defined by ID3v2 APIC / FLAC PICTURE; others are stored as 0. */
export function clampPictureType(t: number): number {
  return Number.isInteger(t) && t >= 0 && t <= 20 ? t : 0;
}

/**
 * Parses a PICTURE body. Every length is checked against the body before it
 * is used; `data` is a view into `body` (no copy). Fails with `malformed`.
 */
export function parsePictureBody(body: Uint8Array): ProbedPicture {
  let pos = 0;
  const need = (n: number, what: string): void => {
    if (n > body.length - pos) {
      throw new FormatError("malformed", `picture: ${what} runs past the block end`);
    }
  };
  need(8, "header");
  const type = u32be(body, pos);
  const mimeLen = u32be(body, pos + 4);
  pos += 8;
  if (mimeLen > MAX_MIME_CHARS) throw new FormatError("malformed", "picture: mime too long");
  need(mimeLen, "mime");
  const mime = utf8(body.subarray(pos, pos + mimeLen));
  pos += mimeLen;
  need(4, "description length");
  const descLen = u32be(body, pos);
  pos += 4;
  need(descLen, "description");
  const description = utf8(body.subarray(pos, pos + descLen));
  pos += descLen;
  if (description.length > MAX_DESCRIPTION_CHARS) {
    throw new FormatError("malformed", "picture: description too long");
  }
  need(20, "geometry");
  const width = u32be(body, pos);
  const height = u32be(body, pos + 4);
  const dataLen = u32be(body, pos + 16);
  pos += 20;
  need(dataLen, "image data");
  return {
    mime,
    pictureType: clampPictureType(type),
    description,
    width: width === 0 ? null : width,
    height: height === 0 ? null : height,
    data: body.subarray(pos, pos + dataLen),
  };
}

/**
 * The PICTURE body bytes that precede the image data for `art` (type, mime,
 * description, DB width/height or 0, depth 0, colors 0, data length), so the
 * image itself can be streamed after it.
 */
export function pictureBlockPrefix(art: ArtRef): Uint8Array {
  checkPicture(art);
  const mime = encodeUtf8(art.mime);
  const desc = encodeUtf8(art.description);
  const out = new Uint8Array(32 + mime.length + desc.length);
  let pos = 0;
  putU32be(out, pos, clampPictureType(art.pictureType));
  putU32be(out, pos + 4, mime.length);
  out.set(mime, pos + 8);
  pos += 8 + mime.length;
  putU32be(out, pos, desc.length);
  out.set(desc, pos + 4);
  pos += 4 + desc.length;
  putU32be(out, pos, art.width !== null && u32ok(art.width) ? art.width : 0);
  putU32be(out, pos + 4, art.height !== null && u32ok(art.height) ? art.height : 0);
  putU32be(out, pos + 8, 0); // depth
  putU32be(out, pos + 12, 0); // colors
  putU32be(out, pos + 16, art.byteLen);
  return out;
}

const u32ok = (v: number) => Number.isSafeInteger(v) && v >= 0 && v <= 0xffffffff;

/** What `pictureBlockPrefix` refuses. */
function checkPicture(art: ArtRef): void {
  // The same caps the probe applies: what we write must read back.
  if (art.mime.length > MAX_MIME_CHARS || art.description.length > MAX_DESCRIPTION_CHARS) {
    throw new FormatError("invalid-input", `art ${art.artId}: mime or description too long`);
  }
  if (!u32ok(art.byteLen)) throw new FormatError("too-large", "picture data too long");
}

/** The length of `pictureBlockPrefix(art)`, counted without building it. */
export function pictureBlockPrefixLength(art: ArtRef): number {
  checkPicture(art);
  return 32 + utf8Length(art.mime) + utf8Length(art.description);
}
