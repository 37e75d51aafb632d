// FLAC in Ogg: a first packet 0x7F "FLAC", mapping version (2 bytes), the
// count of header packets that follow (u16be, 0 = unknown), "fLaC" and the
// STREAMINFO block; then one metadata block per packet (4-byte block header:
// last-block flag + type, u24be length). Tags come from VORBIS_COMMENT,
// pictures from PICTURE blocks.

import { u16be, u24be } from "../bytes.ts";
import { parsePictureBody, pictureBlockPrefix, pictureBlockPrefixLength } from "../flac_picture.ts";
import { parseVorbisComment, vorbisCommentLength, vorbisCommentPrefix } from "../vorbis_comment.ts";
import {
  FormatError,
  MAX_ART_BYTES,
  MAX_FLAC_BLOCK,
  type ProbedPicture,
  type TagEntry,
} from "../types.ts";
import { magic, type OggCodec, startsWith } from "./codec.ts";
import { checkArt, VENDOR } from "./comment.ts";
import type { HeaderPacketReader } from "./packets.ts";
import type { OutPacket, Piece } from "./paginate.ts";

const FIRST = magic("\x7fFLAC");
const FLAC_MARKER = magic("fLaC");
const FIRST_LENGTH = 13 + 4 + 34;

const BLOCK_APPLICATION = 2;
const BLOCK_SEEKTABLE = 3;
const BLOCK_VORBIS_COMMENT = 4;
const BLOCK_CUESHEET = 5;
const BLOCK_PICTURE = 6;
/** Blocks carried over from the original on synthesis. */
const PRESERVED = new Set([BLOCK_APPLICATION, BLOCK_SEEKTABLE, BLOCK_CUESHEET]);

/** Header packets followed when the first packet says "unknown" (0). */
const MAX_UNCOUNTED_PACKETS = 4096;

export function isOggFlacFirst(first: Uint8Array): boolean {
  return first.length >= FIRST_LENGTH && startsWith(first, FIRST) &&
    startsWith(first.subarray(9), FLAC_MARKER) && (first[13] & 0x7f) === 0 &&
    u24be(first, 14) === 34;
}

const malformed = (why: string): never => {
  throw new FormatError("malformed", `ogg flac: ${why}`);
};

interface BlockHeader {
  last: boolean;
  type: number;
  length: number;
}

function blockHeader(packet: Uint8Array): BlockHeader {
  if (packet.length < 4) malformed("metadata packet shorter than a block header");
  const length = u24be(packet, 1);
  const type = packet[0] & 0x7f;
  if (type === 0 || type === 127) malformed(`metadata block type ${type} after STREAMINFO`);
  return { last: (packet[0] & 0x80) !== 0, type, length };
}

/**
 * Walks the metadata packets after the first: `count` of them, or when the
 * count is unknown (0), up to the block with the last-block flag. `visit`
 * sees each block header and returns whether it wants the bytes.
 */
function eachBlock(
  first: Uint8Array,
  reader: HeaderPacketReader,
  visit: (h: BlockHeader, packet: Uint8Array | null) => boolean,
): void {
  const count = u16be(first, 7);
  const limit = count === 0 ? MAX_UNCOUNTED_PACKETS : count;
  for (let i = 0; i < limit; i++) {
    let header: BlockHeader | null = null;
    const packet = reader.next((head) => {
      header = blockHeader(head.length >= 4 ? head : new Uint8Array(0));
      return visit(header, null);
    });
    if (header === null) header = blockHeader(packet.bytes ?? new Uint8Array(0));
    const h: BlockHeader = header;
    if (h.length !== packet.length - 4) malformed("metadata block length differs from its packet");
    if (packet.bytes !== null) visit(h, packet.bytes);
    if (count === 0 && h.last) return;
  }
  if (count === 0) malformed("no last metadata block");
}

export const oggFlacCodec: OggCodec = {
  format: "oggflac",
  probe(first, reader) {
    let tags: TagEntry[] | null = null;
    let pictures: ProbedPicture[] = [];
    let badPicture = false;
    eachBlock(first, reader, (h, packet) => {
      if (packet === null) return h.type === BLOCK_VORBIS_COMMENT || h.type === BLOCK_PICTURE;
      const body = packet.subarray(4);
      if (h.type === BLOCK_VORBIS_COMMENT && tags === null) {
        tags = parseVorbisComment(body).tags;
      } else if (h.type === BLOCK_PICTURE && !badPicture) {
        try {
          const pic = parsePictureBody(body);
          if (pic.data.length <= MAX_ART_BYTES) pictures.push({ ...pic, data: pic.data.slice() });
        } catch (e) {
          if (!(e instanceof FormatError)) throw e;
          badPicture = true; // one malformed picture discards the file's pictures
          pictures = [];
        }
      }
      return true;
    });
    return { tags: tags ?? [], pictures };
  },

  synthesize(first, reader, input) {
    const kept = keptBlocks(first, reader);
    for (const a of input.art) checkArt(a);
    // The Ogg FLAC mapping requires the VORBIS_COMMENT to be the first packet
    // after the identification packet; readers such as mutagen look for the
    // tags there only.
    const blocks: { type: number; pieces: Piece[] }[] = [{
      type: BLOCK_VORBIS_COMMENT,
      pieces: [vorbisCommentPrefix(VENDOR, input.tags)],
    }];
    for (const p of kept) blocks.push({ type: p[0] & 0x7f, pieces: [p.subarray(4)] });
    for (const a of input.art) {
      const pieces: Piece[] = [pictureBlockPrefix(a)];
      if (a.byteLen > 0) {
        pieces.push({
          artId: a.artId,
          base64: false,
          artTotal: a.byteLen,
          offset: 0,
          length: a.byteLen,
        });
      }
      blocks.push({ type: BLOCK_PICTURE, pieces });
    }
    checkBlockCount(blocks.length);
    const head = first.slice();
    head[7] = blocks.length >>> 8;
    head[8] = blocks.length & 0xff;
    head[13] &= 0x7f; // STREAMINFO is never the last block: a comment follows
    const packets: OutPacket[] = [[head]];
    blocks.forEach((b, i) => {
      let length = 0;
      for (const p of b.pieces) length += p.length;
      checkBlockLength(length);
      const header = new Uint8Array(4);
      header[0] = (i === blocks.length - 1 ? 0x80 : 0) | b.type;
      header[1] = length >>> 16;
      header[2] = (length >>> 8) & 0xff;
      header[3] = length & 0xff;
      packets.push([header, ...b.pieces]);
    });
    return packets;
  },

  packetLengths(first, reader, input) {
    const kept = keptBlocks(first, reader);
    for (const a of input.art) checkArt(a);
    const bodies = [vorbisCommentLength(VENDOR, input.tags)];
    for (const p of kept) bodies.push(p.length - 4);
    for (const a of input.art) bodies.push(pictureBlockPrefixLength(a) + a.byteLen);
    checkBlockCount(bodies.length);
    const lengths = [first.length];
    for (const body of bodies) {
      checkBlockLength(body);
      lengths.push(4 + body);
    }
    return lengths;
  },
};

/** The metadata blocks after the first packet that synthesis carries over, whole. */
function keptBlocks(first: Uint8Array, reader: HeaderPacketReader): Uint8Array[] {
  const kept: Uint8Array[] = [];
  eachBlock(first, reader, (h, packet) => {
    if (packet === null) return PRESERVED.has(h.type);
    kept.push(packet.slice());
    return true;
  });
  return kept;
}

function checkBlockCount(n: number): void {
  if (n > 0xffff) throw new FormatError("too-large", "ogg flac: too many header packets");
}

function checkBlockLength(length: number): void {
  if (length > MAX_FLAC_BLOCK) throw new FormatError("too-large", "ogg flac: block too large");
}
