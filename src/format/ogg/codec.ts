// What each Ogg codec mapping (Opus, Vorbis, FLAC-in-Ogg) contributes: which
// header packets follow the first one, where their tags and pictures are,
// and the header packets a synthesized file carries instead.

import type { Format, ProbedPicture, SynthInput, TagEntry } from "../types.ts";
import { FormatError } from "../types.ts";
import type { HeaderPacketReader } from "./packets.ts";
import type { OutPacket } from "./paginate.ts";

export interface FoundMetadata {
  tags: TagEntry[];
  pictures: ProbedPicture[];
}

export interface OggCodec {
  format: Format;
  /** Reads the header packets after `first` and returns their tags and pictures. */
  probe(first: Uint8Array, reader: HeaderPacketReader): FoundMetadata;
  /**
   * Reads (or steps over) the header packets after `first` and returns the
   * header packets of the synthesized file, `first` included.
   */
  synthesize(first: Uint8Array, reader: HeaderPacketReader, input: SynthInput): OutPacket[];
  /**
   * The lengths of the packets `synthesize` returns, counted without building
   * them; reads the same packets and throws where synthesize would.
   */
  packetLengths(first: Uint8Array, reader: HeaderPacketReader, input: SynthInput): number[];
}

export function startsWith(bytes: Uint8Array, magic: Uint8Array): boolean {
  if (bytes.length < magic.length) return false;
  for (let i = 0; i < magic.length; i++) if (bytes[i] !== magic[i]) return false;
  return true;
}

/** Bytes of a magic string given with \x escapes (all code points < 256). */
export function magic(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/**
 * A predicate for `HeaderPacketReader.next` that steps over a packet after
 * checking whatever part of `expected` its first page holds.
 */
export function skipExpecting(expected: Uint8Array, what: string): (head: Uint8Array) => false {
  return (head) => {
    const n = Math.min(head.length, expected.length);
    if (!startsWith(expected, head.subarray(0, n)) || head.length === 0) {
      throw new FormatError("malformed", `ogg: ${what} packet expected`);
    }
    return false;
  };
}
