// Laying new header packets out as Ogg pages: every
// packet starts a fresh page, granule 0, BOS on the first page, the serial
// kept, ≤ 255 lacing values per page. Packets are lists of pieces: generated
// bytes, or slices of an art image (raw or as base64 text) that stay in the
// store. A page's CRC covers its art bytes too, so those are streamed
// through the blob source one page slice at a time.

import { readSegment } from "../layout.ts";
import { SegmentList } from "../segments.ts";
import type { BlobSource, ByteSource, Segment } from "../types.ts";
import {
  buildPageHeader,
  crcShiftZeros,
  crcUpdate,
  FLAG_BOS,
  FLAG_CONTINUED,
  lacePages,
  PAGE_HEADER_FIXED,
  setPageCrc,
} from "./page.ts";
import { CHECKPOINT } from "./art_crc.ts";

/** Bytes [offset, offset+length) of an art image (as base64 text when `base64`). */
export interface ArtPiece {
  artId: number;
  base64: boolean;
  /** Raw image length. */
  artTotal: number;
  offset: number;
  length: number;
}

export type Piece = Uint8Array | ArtPiece;
export type OutPacket = Piece[];

export function pieceLength(p: Piece): number {
  return p instanceof Uint8Array ? p.length : p.length;
}

export function packetLength(packet: OutPacket): number {
  let n = 0;
  for (const p of packet) n += pieceLength(p);
  return n;
}

/** The part [from, from+len) of a piece. */
function slicePiece(p: Piece, from: number, len: number): Piece {
  if (p instanceof Uint8Array) return p.subarray(from, from + len);
  return { ...p, offset: p.offset + from, length: len };
}

function artSegment(p: ArtPiece): Segment & { length: number } {
  return {
    kind: "ogg-art",
    artId: p.artId,
    offset: p.offset,
    length: p.length,
    base64: p.base64,
    artTotal: p.artTotal,
  };
}

/** Slices of an image shorter than this are read for their CRC, not taken from a table. */
const TABLE_SLICE_MIN = 4 * CHECKPOINT;

const NO_BACKING: ByteSource = {
  size: 0,
  read: () => new Uint8Array(0),
};

export interface Pages {
  segments: Segment[];
  /** How many pages the packets took (the next sequence number). */
  pageCount: number;
}

/** Whether some packet streams art from the store (its page CRCs then read the art). */
export function packetsHaveArt(packets: readonly OutPacket[]): boolean {
  return packets.some((packet) => packet.some((p) => !(p instanceof Uint8Array)));
}

/** The bytes `paginate` makes of packets of these lengths: each packet's pages, headers included. */
export function pagedLength(packetLengths: readonly number[]): number {
  let size = 0;
  for (const length of packetLengths) {
    // One lacing value per 255 bytes and a last one below 255; 255 values a page.
    const values = Math.floor(length / 255) + 1;
    size += PAGE_HEADER_FIXED * Math.ceil(values / 255) + values + length;
  }
  return size;
}

/**
 * The pages of `packets` as segments, sequence numbers from 0. Without
 * `withCrc` the CRC fields stay zero and no art is read: the same segments
 * and size, for callers that only need the size.
 */
export function paginate(
  packets: readonly OutPacket[],
  serial: number,
  blobs: BlobSource,
  withCrc = true,
): Pages {
  const out = new SegmentList();
  let seq = 0;
  for (const packet of packets) {
    let piece = 0; // cursor: piece index and offset inside it
    let pieceAt = 0;
    let j = 0;
    for (const lacing of lacePages(packetLength(packet))) {
      const header = buildPageHeader({
        flags: (seq === 0 ? FLAG_BOS : 0) | (j > 0 ? FLAG_CONTINUED : 0),
        serial,
        seq,
        lacing,
      });
      let crc = withCrc ? crcUpdate(0, header) : 0;
      const body: Piece[] = [];
      let need = 0;
      for (const v of lacing) need += v;
      while (need > 0) {
        const p = packet[piece];
        const take = Math.min(need, pieceLength(p) - pieceAt);
        const part = slicePiece(p, pieceAt, take);
        if (!withCrc) {
          // Size only: the CRC field stays zero.
        } else if (part instanceof Uint8Array) {
          crc = crcUpdate(crc, part);
        } else if (take > 0) {
          // A long slice from a table of the image's prefix CRCs when the source
          // has one: crc(X ‖ S) = (crc(X) followed by |S| zero bytes) xor crc(S).
          // A short one is read and checksummed: that costs less.
          const sliceCrc = take >= TABLE_SLICE_MIN
            ? blobs.artCrc?.(part, part.offset, take)
            : undefined;
          if (sliceCrc !== undefined) crc = (crcShiftZeros(crc, take) ^ sliceCrc) >>> 0;
          else {
            const bytes = readSegment(artSegment(part), 0, take, { backing: NO_BACKING, blobs });
            crc = crcUpdate(crc, bytes);
          }
        }
        if (take > 0) body.push(part);
        need -= take;
        pieceAt += take;
        if (pieceAt === pieceLength(p)) {
          piece++;
          pieceAt = 0;
        }
      }
      setPageCrc(header, crc);
      out.inline(header);
      for (const part of body) {
        if (part instanceof Uint8Array) out.inline(part);
        else out.segment(artSegment(part));
      }
      seq++;
      j++;
    }
  }
  out.flush();
  return { segments: out.segments, pageCount: seq };
}
