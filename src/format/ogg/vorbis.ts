// Vorbis in Ogg: identification, comment ("\x03vorbis" + Vorbis comment +
// framing bit) and setup packets. The setup packet is carried over verbatim.

import { parseVorbisComment } from "../vorbis_comment.ts";
import { FormatError } from "../types.ts";
import { magic, type OggCodec, skipExpecting, startsWith } from "./codec.ts";
import { commentLength, commentPieces, picturesFromComment } from "./comment.ts";

const IDENT = magic("\x01vorbis");
const COMMENT = magic("\x03vorbis");
const SETUP = magic("\x05vorbis");
const FRAMING = new Uint8Array([1]);

export function isVorbisIdent(first: Uint8Array): boolean {
  return first.length >= 30 && startsWith(first, IDENT);
}

function readSetup(bytes: Uint8Array | null): Uint8Array {
  if (bytes === null || !startsWith(bytes, SETUP)) {
    throw new FormatError("malformed", "ogg: no vorbis setup packet");
  }
  return bytes;
}

export const vorbisCodec: OggCodec = {
  format: "vorbis",
  probe(_first, reader) {
    const comment = reader.next(true).bytes!;
    if (!startsWith(comment, COMMENT)) {
      throw new FormatError("malformed", "ogg: no vorbis comment packet");
    }
    const parsed = parseVorbisComment(comment, COMMENT.length);
    readSetup(reader.next(true).bytes);
    return { tags: parsed.tags, pictures: picturesFromComment(parsed.pictures) };
  },
  synthesize(first, reader, input) {
    reader.skip(skipExpecting(COMMENT, "vorbis comment"), 1);
    const setup = readSetup(reader.next(true).bytes);
    return [[first], [COMMENT, ...commentPieces(input.tags, input.art), FRAMING], [setup]];
  },
  packetLengths(first, reader, input) {
    reader.skip(skipExpecting(COMMENT, "vorbis comment"), 1);
    const setup = readSetup(reader.next(true).bytes);
    const comment = COMMENT.length + commentLength(input.tags, input.art) + FRAMING.length;
    return [first.length, comment, setup.length];
  },
};
