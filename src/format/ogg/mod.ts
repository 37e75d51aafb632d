// Ogg files (Opus, Vorbis, FLAC-in-Ogg): the probe reads the header
// packets of the first logical stream; synthesis re-paginates new header
// packets and serves the original audio pages with shifted sequence numbers
// (see audio.ts).

import { makeLayout } from "../layout.ts";
import { BoundedSource } from "../source.ts";
import {
  type BlobSource,
  type ByteSource,
  FormatError,
  type Layout,
  MAX_PROBE_BYTES,
  type ProbeResult,
  type SynthInput,
} from "../types.ts";
import type { OggCodec } from "./codec.ts";
import { isOggFlacFirst, oggFlacCodec } from "./oggflac.ts";
import { isOpusHead, opusCodec } from "./opus.ts";
import { HeaderPacketReader } from "./packets.ts";
import { packetsHaveArt, pagedLength, paginate } from "./paginate.ts";
import { isVorbisIdent, vorbisCodec } from "./vorbis.ts";

export { readOggAudio, readOggAudioInto } from "./audio.ts";

/** The codec of a stream from its first packet. */
function codecOf(first: Uint8Array): OggCodec {
  if (isOpusHead(first)) return opusCodec;
  if (isVorbisIdent(first)) return vorbisCodec;
  if (isOggFlacFirst(first)) return oggFlacCodec;
  throw new FormatError("unsupported", "ogg: not an Opus, Vorbis or FLAC stream");
}

/** Marks FormatErrors that wrap an unexpected exception. */
export const INTERNAL_ERROR = "internal error";

/** Runs `f`, turning any stray exception into a typed malformed error. */
function typed<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof FormatError) throw e;
    // Not expected: a bug surfacing on hostile bytes. Still typed, and marked for the fuzz tests.
    const what = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    throw new FormatError("malformed", `ogg: ${INTERNAL_ERROR}: ${what}`);
  }
}

function requireHeadersEndPage(reader: HeaderPacketReader): void {
  // Audio must start on a fresh page: the served header pages replace all of these.
  if (!reader.pageComplete) {
    throw new FormatError("unsupported", "ogg: audio data shares a page with header packets");
  }
}

export function probeOgg(src: ByteSource): ProbeResult {
  return typed(() => {
    const reader = new HeaderPacketReader(src);
    const first = reader.next(true).bytes!;
    const codec = codecOf(first);
    const found = codec.probe(first, reader);
    requireHeadersEndPage(reader);
    const audioOffset = reader.end;
    return {
      format: codec.format,
      audioOffset,
      audioLength: src.size - audioOffset,
      tags: found.tags,
      pictures: found.pictures,
      binaryTags: [],
      structural: [],
    };
  });
}

/**
 * What `make` returns for the stream's codec (the new header packets, or
 * their lengths), with the reader left past the old ones, checked.
 */
function headerPackets<T>(
  input: SynthInput,
  backing: ByteSource,
  make: (codec: OggCodec, first: Uint8Array, reader: HeaderPacketReader) => T,
): { packets: T; reader: HeaderPacketReader } {
  // The scanned audio offset ends the header region (the caller checked the
  // file's stamp): a long comment packet is stepped over from its end.
  const reader = new HeaderPacketReader(
    new BoundedSource(backing, MAX_PROBE_BYTES),
    MAX_PROBE_BYTES,
    input.audioOffset,
  );
  const first = reader.next(true).bytes!;
  const codec = codecOf(first);
  if (codec.format !== input.format) {
    throw new FormatError("invalid-input", `ogg: stream is ${codec.format}, not ${input.format}`);
  }
  const packets = make(codec, first, reader);
  requireHeadersEndPage(reader);
  if (reader.end !== input.audioOffset) {
    throw new FormatError("malformed", "ogg: header region differs from the scanned one");
  }
  if (
    !Number.isSafeInteger(input.audioLength) || input.audioLength < 0 ||
    input.audioOffset + input.audioLength > backing.size
  ) {
    throw new FormatError("truncated", "ogg: audio range beyond the backing file");
  }
  return { packets, reader };
}

/** The size of `synthesizeOgg`'s file, counted without paging its header packets. */
export function oggSize(input: SynthInput, backing: ByteSource): number {
  return typed(() => {
    const { packets } = headerPackets(input, backing, (c, f, r) => c.packetLengths(f, r, input));
    return pagedLength(packets) + input.audioLength;
  });
}

export function synthesizeOgg(input: SynthInput, backing: ByteSource, blobs: BlobSource): Layout {
  return typed(() => {
    const { packets, reader } = headerPackets(
      input,
      backing,
      (c, f, r) => c.synthesize(f, r, input),
    );
    const lastSeq = reader.pages[reader.pages.length - 1].header.seq;
    // Page CRCs over art read the art from the store and are most of the cost of
    // the first getattr of a file; a size-only request skips them.
    const skipCrc = input.sizeOnly === true && packetsHaveArt(packets);
    const pages = paginate(packets, reader.serial, blobs, !skipCrc);
    // Audio pages continue right after the new header pages.
    const seqDelta = (pages.pageCount - (lastSeq + 1)) >>> 0;
    pages.segments.push({
      kind: "ogg-audio",
      offset: input.audioOffset,
      length: input.audioLength,
      seqDelta,
    });
    const layout = makeLayout(pages.segments);
    if (skipCrc) layout.sizeOnly = true;
    return layout;
  });
}
