// Does the stored geometry point at audio? A crafted or corrupted row can
// shift or zero `audio_offset` while the backing file stays unchanged, and the
// stamp check cannot see that. Before a file is served, the bytes at (and,
// for containers, just before) the audio offset must look the way the
// format's audio begins:
//   FLAC       a frame sync code (0xFFF8 or 0xFFF9)
//   MP3        a valid MPEG audio frame header
//   Ogg        a page ("OggS") that does not begin the stream (the headers do)
//   WAV        the payload of a `data` chunk (its header right before)
//   M4A/M4B    the payload of the `mdat` box (its 8- or 16-byte header right before)

import { mpegHeader } from "./mp3.ts";
import type { ByteSource, Format } from "./types.ts";

/** Bytes read before the audio offset (the longest container header checked). */
const BEFORE = 16;
/** Bytes read from the audio offset on (an Ogg page's capture pattern, version and flags). */
const AFTER = 6;
/** Ogg page header flag: first page of a logical stream. */
const OGG_BOS = 0x02;

function ascii(b: Uint8Array, at: number, text: string): boolean {
  if (at < 0 || at + text.length > b.length) return false;
  for (let i = 0; i < text.length; i++) if (b[at + i] !== text.charCodeAt(i)) return false;
  return true;
}

function u32be(b: Uint8Array, at: number): number {
  return ((b[at] << 24) >>> 0) + (b[at + 1] << 16) + (b[at + 2] << 8) + b[at + 3];
}

/**
 * Why the bytes at `audioOffset` of `backing` are not the start of `format`
 * audio, or null when they are (or when there is no audio to check:
 * `audioLength` 0). Reads at most 22 bytes through `backing`.
 */
export function audioStartProblem(
  format: Format,
  backing: ByteSource,
  audioOffset: number,
  audioLength: number,
): string | null {
  if (audioLength <= 0) return null;
  const from = Math.max(0, audioOffset - BEFORE);
  const b = backing.read(from, audioOffset - from + AFTER);
  const at = audioOffset - from;
  if (b.length < at + 1) return `audio offset ${audioOffset} is past the end of the file`;
  switch (format) {
    case "flac":
      return b[at] === 0xff && (b[at + 1] & 0xfe) === 0xf8
        ? null
        : `no FLAC frame sync at audio offset ${audioOffset}`;
    case "mp3":
      return mpegHeader(b, at) !== null
        ? null
        : `no MPEG frame header at audio offset ${audioOffset}`;
    case "opus":
    case "vorbis":
    case "oggflac":
      if (!ascii(b, at, "OggS")) return `no Ogg page at audio offset ${audioOffset}`;
      return (b[at + 5] & OGG_BOS) === 0
        ? null
        : `audio offset ${audioOffset} is the first page of the stream, not audio`;
    case "wav":
      return ascii(b, at - 8, "data")
        ? null
        : `audio offset ${audioOffset} is not a data chunk's payload`;
    case "m4a": {
      const plain = ascii(b, at - 4, "mdat");
      const large = ascii(b, at - 12, "mdat") && at >= 16 && u32be(b, at - 16) === 1;
      return plain || large ? null : `audio offset ${audioOffset} is not the mdat payload`;
    }
  }
}
