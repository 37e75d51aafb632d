// Opus in Ogg (RFC 7845): OpusHead, then OpusTags (a Vorbis comment after
// the 8-byte magic). Anything after the comment list in OpusTags is dropped.

import { parseVorbisComment } from "../vorbis_comment.ts";
import { FormatError } from "../types.ts";
import { magic, type OggCodec, skipExpecting, startsWith } from "./codec.ts";
import { commentLength, commentPieces, picturesFromComment } from "./comment.ts";

const OPUS_HEAD = magic("OpusHead");
const OPUS_TAGS = magic("OpusTags");

export function isOpusHead(first: Uint8Array): boolean {
  return first.length >= 19 && startsWith(first, OPUS_HEAD);
}

export const opusCodec: OggCodec = {
  format: "opus",
  probe(_first, reader) {
    const tags = reader.next(true).bytes!;
    if (!startsWith(tags, OPUS_TAGS)) throw new FormatError("malformed", "ogg: no OpusTags packet");
    const comment = parseVorbisComment(tags, OPUS_TAGS.length);
    return { tags: comment.tags, pictures: picturesFromComment(comment.pictures) };
  },
  synthesize(first, reader, input) {
    reader.skip(skipExpecting(OPUS_TAGS, "OpusTags"), 0);
    return [[first], [OPUS_TAGS, ...commentPieces(input.tags, input.art)]];
  },
  packetLengths(first, reader, input) {
    reader.skip(skipExpecting(OPUS_TAGS, "OpusTags"), 0);
    return [first.length, OPUS_TAGS.length + commentLength(input.tags, input.art)];
  },
};
