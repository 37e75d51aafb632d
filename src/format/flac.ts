// Native FLAC: probe the metadata blocks in front of the audio
// frames, and synthesize a new front (STREAMINFO/SEEKTABLE from the store,
// a regenerated VORBIS_COMMENT, APPLICATION/CUESHEET and PICTURE blocks with
// their payloads streamed) followed by the original audio frames.

import { ascii4, concat, putU24be, u24be } from "./bytes.ts";
import { parsePictureBody, pictureBlockPrefix, pictureBlockPrefixLength } from "./flac_picture.ts";
import { BoundedSource } from "./source.ts";
import { ID3_MB_TRACKID_KEY, ID3_PLAYCOUNT_KEY, ID3_RATING_KEY, keyPassesFloor } from "./tagmap.ts";
import {
  type BlobSource,
  type ByteSource,
  FormatError,
  type Layout,
  MAX_ART_BYTES,
  MAX_BINARY_TAG_BYTES,
  MAX_FLAC_BLOCK,
  MAX_PROBE_BYTES,
  type ProbedBinaryTag,
  type ProbedPicture,
  type ProbeResult,
  type Segment,
  type StructuralBlock,
  type SynthInput,
  type TagEntry,
  typed,
} from "./types.ts";
import { id3v2TagSize, parseId3v2 } from "./id3v2.ts";
import { makeLayout } from "./layout.ts";
import { encodeVorbisComment, parseVorbisComment, vorbisCommentLength } from "./vorbis_comment.ts";

export const BLOCK_STREAMINFO = 0;
export const BLOCK_PADDING = 1;
export const BLOCK_APPLICATION = 2;
export const BLOCK_SEEKTABLE = 3;
export const BLOCK_VORBIS_COMMENT = 4;
export const BLOCK_CUESHEET = 5;
export const BLOCK_PICTURE = 6;
const BLOCK_INVALID = 127;

/** Vendor string of every regenerated VORBIS_COMMENT. */
export const FLAC_VENDOR = "musefs";

const WINDOW = 8 * 1024;

/**
 * Reads through a source in 8 KiB windows so a walk over many small
 * blocks costs few reads; every request must be satisfied in full.
 */
export class WindowReader {
  #start = 0;
  #bytes: Uint8Array = new Uint8Array(0);
  constructor(readonly src: ByteSource) {}

  get size(): number {
    return this.src.size;
  }

  read(offset: number, length: number): Uint8Array {
    if (offset + length > this.src.size) {
      throw new FormatError("truncated", `file ends before ${offset}+${length}`);
    }
    const rel = offset - this.#start;
    if (rel >= 0 && rel + length <= this.#bytes.length) {
      return this.#bytes.subarray(rel, rel + length);
    }
    if (length >= WINDOW) return this.#exact(offset, length);
    this.#bytes = this.src.read(offset, Math.min(WINDOW, this.src.size - offset));
    this.#start = offset;
    if (this.#bytes.length < length) throw new FormatError("truncated", "short read");
    return this.#bytes.subarray(0, length);
  }

  #exact(offset: number, length: number): Uint8Array {
    const b = this.src.read(offset, length);
    if (b.length !== length) throw new FormatError("truncated", "short read");
    return b;
  }
}

/** A leading ID3v2 tag in front of `fLaC`: [offset, offset+size). */
export interface Id3Span {
  offset: number;
  size: number;
}

const MAX_STACKED_ID3 = 64;

/** Skips up to 64 stacked ID3v2 tags at the start (v2.4 footer honoured). */
export function skipLeadingId3(r: WindowReader): { flacStart: number; id3Tags: Id3Span[] } {
  const id3Tags: Id3Span[] = [];
  let pos = 0;
  while (id3Tags.length < MAX_STACKED_ID3 && pos + 10 <= r.size) {
    const size = id3v2TagSize(r.read(pos, 10));
    if (size === null) break;
    id3Tags.push({ offset: pos, size });
    pos += size;
  }
  return { flacStart: pos, id3Tags };
}

/** Largest leading ID3 tag whose frames we read (bigger ones are only skipped). */
const MAX_LEADING_ID3_READ = 16 * 1024 * 1024;

/** Text rows and pictures of the leading ID3 tags (earlier tags win per key). */
function readLeadingId3(
  r: WindowReader,
  spans: Id3Span[],
): { tags: TagEntry[]; pictures: ProbedPicture[]; warnings: string[] } {
  let tags: TagEntry[] = [];
  const pictures: ProbedPicture[] = [];
  const warnings: string[] = [];
  for (const span of spans) {
    if (span.size > MAX_LEADING_ID3_READ) continue;
    const parsed = parseId3(r.read(span.offset, span.size));
    if (!parsed) continue;
    tags = tags.concat(fillFromId3(tags, parsed.tags));
    if (pictures.length === 0) pictures.push(...parsed.pictures);
    warnings.push(...parsed.warnings);
  }
  return { tags, pictures, warnings };
}

/** ID3-only keys that come from POPM/UFID frames, which FLAC does not ingest. */
const ID3_FRAME_ONLY_KEYS = new Set([ID3_RATING_KEY, ID3_PLAYCOUNT_KEY, ID3_MB_TRACKID_KEY]);

function parseId3(
  bytes: Uint8Array,
): { tags: TagEntry[]; pictures: ProbedPicture[]; warnings: string[] } | null {
  try {
    const parsed = parseId3v2(bytes);
    return {
      tags: parsed.tags.filter((t) => !ID3_FRAME_ONLY_KEYS.has(t.key)),
      pictures: parsed.pictures.filter((p) => p.data.length <= MAX_ART_BYTES),
      warnings: parsed.warnings ?? [],
    };
  } catch (e) {
    // A broken leading ID3 tag costs only its fallback tags, not the file.
    if (e instanceof FormatError) return null;
    throw e;
  }
}

/** One metadata block as found in a file. */
export interface FlacBlock {
  type: number;
  /** Offset of the 4-byte block header. */
  offset: number;
  length: number;
  last: boolean;
}

/**
 * Walks the metadata blocks after `fLaC` at `flacStart`, enforcing the
 * STREAMINFO rules, and returns the blocks and the audio offset. Bodies are
 * not read.
 */
export function walkFlacBlocks(
  r: WindowReader,
  flacStart: number,
): { blocks: FlacBlock[]; audioOffset: number } {
  if (ascii4(r.read(flacStart, 4), 0) !== "fLaC") {
    throw new FormatError("malformed", "no fLaC marker");
  }
  const blocks: FlacBlock[] = [];
  let pos = flacStart + 4;
  for (;;) {
    const h = r.read(pos, 4);
    const type = h[0] & 0x7f;
    const last = (h[0] & 0x80) !== 0;
    const length = u24be(h, 1);
    if (blocks.length === 0 && (type !== BLOCK_STREAMINFO || length !== 34)) {
      throw new FormatError("malformed", "first block is not a 34-byte STREAMINFO");
    }
    if (blocks.length > 0 && type === BLOCK_STREAMINFO) {
      throw new FormatError("malformed", "second STREAMINFO block");
    }
    if (type === BLOCK_INVALID) throw new FormatError("malformed", "invalid block type 127");
    if (pos + 4 + length > r.size) {
      throw new FormatError("truncated", `block at ${pos} runs past the end of the file`);
    }
    blocks.push({ type, offset: pos, length, last });
    pos += 4 + length;
    if (last) return { blocks, audioOffset: pos };
  }
}

export function probeFlac(src: ByteSource): ProbeResult {
  return typed("flac", () => probeFlacInner(src));
}

function probeFlacInner(src: ByteSource): ProbeResult {
  const r = new WindowReader(src);
  const { flacStart, id3Tags } = skipLeadingId3(r);
  const { blocks, audioOffset } = walkFlacBlocks(r, flacStart);

  let tags: TagEntry[] = [];
  const pictures: ProbedPicture[] = [];
  const binaryTags: ProbedBinaryTag[] = [];
  const structural: StructuralBlock[] = [];
  const binOrdinal = new Map<string, number>();
  let seekOrdinal = 0;
  let sawPictureBlock = false;
  for (const b of blocks) {
    const body = () => r.read(b.offset + 4, b.length);
    switch (b.type) {
      case BLOCK_STREAMINFO:
        structural.push({ kind: "STREAMINFO", ordinal: 0, body: body().slice() });
        break;
      case BLOCK_SEEKTABLE:
        structural.push({ kind: "SEEKTABLE", ordinal: seekOrdinal++, body: body().slice() });
        break;
      case BLOCK_APPLICATION:
      case BLOCK_CUESHEET: {
        if (b.length === 0 || b.length > MAX_BINARY_TAG_BYTES) break;
        const key = b.type === BLOCK_APPLICATION ? "APPLICATION" : "CUESHEET";
        const ordinal = binOrdinal.get(key) ?? 0;
        binOrdinal.set(key, ordinal + 1);
        binaryTags.push({ key, ordinal, data: body().slice() });
        break;
      }
      case BLOCK_VORBIS_COMMENT:
        tags = tags.concat(parseVorbisComment(body()).tags);
        break;
      case BLOCK_PICTURE: {
        sawPictureBlock = true;
        let pic: ProbedPicture;
        try {
          pic = parsePictureBody(body());
        } catch (e) {
          if (e instanceof FormatError && e.kind === "malformed") break; // skip a bad picture
          throw e;
        }
        if (pic.data.length <= MAX_ART_BYTES) pictures.push({ ...pic, data: pic.data.slice() });
        break;
      }
      default: // PADDING and unknown blocks are dropped
    }
  }
  tags = renumber(tags);

  let audioLength = src.size - audioOffset;
  if (id3Tags.length > 0 && audioLength >= 128) {
    const tail = r.read(src.size - 128, 3);
    if (tail[0] === 0x54 && tail[1] === 0x41 && tail[2] === 0x47) audioLength -= 128; // "TAG"
  }

  let warnings: string[] = [];
  if (id3Tags.length > 0) {
    const id3 = readLeadingId3(r, id3Tags);
    tags = tags.concat(fillFromId3(tags, id3.tags));
    if (!sawPictureBlock) pictures.push(...id3.pictures);
    warnings = id3.warnings;
  }

  return {
    format: "flac",
    audioOffset,
    audioLength,
    tags,
    pictures,
    binaryTags,
    structural,
    ...(warnings.length > 0 ? { warnings } : {}),
  };
}

/** Ordinals per exact key in row order (several comment blocks merge). */
function renumber(tags: TagEntry[]): TagEntry[] {
  const seen = new Map<string, number>();
  return tags.map((t) => {
    const ordinal = seen.get(t.key) ?? 0;
    seen.set(t.key, ordinal + 1);
    return { ...t, ordinal };
  });
}

/**
 * ID3 rows whose key (case-insensitively) the Vorbis comment lacks; a key
 * present in the comment keeps none of its ID3 values (all-or-nothing).
 */
function fillFromId3(vorbis: TagEntry[], id3: TagEntry[]): TagEntry[] {
  const present = new Set(vorbis.map((t) => t.key.toLowerCase()));
  return id3.filter((t) => keyPassesFloor(t.key) && !present.has(t.key.toLowerCase()));
}

// ---------------------------------------------------------------------------
// Synthesis

interface OutBlock {
  type: number;
  /** Body pieces: inline bytes and streamed payloads. */
  parts: Segment[];
  length: number;
}

function inlineBlock(type: number, body: Uint8Array): OutBlock {
  return { type, parts: body.length ? [{ kind: "inline", bytes: body }] : [], length: body.length };
}

const STRUCTURAL_TYPE = { STREAMINFO: BLOCK_STREAMINFO, SEEKTABLE: BLOCK_SEEKTABLE } as const;
const BINARY_TAG_TYPE: Record<string, number> = {
  APPLICATION: BLOCK_APPLICATION,
  CUESHEET: BLOCK_CUESHEET,
};

export function synthesizeFlac(input: SynthInput, backing: ByteSource, _blobs: BlobSource): Layout {
  return typed("flac synthesis", () => synthesizeFlacInner(input, backing));
}

function checkAudioRange({ audioOffset, audioLength, backingSize }: SynthInput): void {
  if (
    !Number.isSafeInteger(audioOffset) || !Number.isSafeInteger(audioLength) || audioOffset < 0 ||
    audioLength < 0 || audioOffset + audioLength > backingSize
  ) {
    throw new FormatError("invalid-input", "audio range outside the backing file");
  }
}

function checkBlockLength(type: number, length: number): void {
  if (length > MAX_FLAC_BLOCK) {
    throw new FormatError("too-large", `FLAC block of type ${type} is ${length} bytes`);
  }
}

/**
 * The size of `synthesizeFlac`'s file, counted from the rows without building
 * its blocks (a track scanned before structural rows existed is built: its
 * blocks come from the backing file's front).
 */
export function flacSize(input: SynthInput, backing: ByteSource, blobs: BlobSource): number {
  return typed("flac synthesis", () => {
    if (input.structural.length === 0) return synthesizeFlac(input, backing, blobs).size;
    checkAudioRange(input);
    let size = 4; // "fLaC"
    const add = (type: number, length: number) => {
      checkBlockLength(type, length);
      size += 4 + length;
    };
    for (const b of structuralBlocks(input)) add(b.type, b.length);
    add(BLOCK_VORBIS_COMMENT, vorbisCommentLength(FLAC_VENDOR, input.tags));
    for (const bt of input.binaryTags) {
      const type = BINARY_TAG_TYPE[bt.key];
      if (type !== undefined && bt.length !== 0) add(type, bt.length);
    }
    for (const art of input.art) add(BLOCK_PICTURE, pictureBlockPrefixLength(art) + art.byteLen);
    return size + input.audioLength;
  });
}

function synthesizeFlacInner(input: SynthInput, backing: ByteSource): Layout {
  const { audioOffset, audioLength } = input;
  checkAudioRange(input);
  const legacy = input.structural.length === 0;
  const blocks: OutBlock[] = legacy
    ? legacyFrontBlocks(backing, audioOffset)
    : structuralBlocks(input);

  const comment = encodeVorbisComment(FLAC_VENDOR, input.tags);
  blocks.push(inlineBlock(BLOCK_VORBIS_COMMENT, comment));

  if (!legacy) {
    for (const bt of input.binaryTags) {
      const type = BINARY_TAG_TYPE[bt.key];
      if (type === undefined || bt.length === 0) continue;
      blocks.push({
        type,
        parts: [{ kind: "binary-tag", id: bt.id, length: bt.length }],
        length: bt.length,
      });
    }
  }

  for (const art of input.art) {
    const prefix = pictureBlockPrefix(art);
    const parts: Segment[] = [{ kind: "inline", bytes: prefix }];
    if (art.byteLen > 0) parts.push({ kind: "art", artId: art.artId, length: art.byteLen });
    blocks.push({ type: BLOCK_PICTURE, parts, length: prefix.length + art.byteLen });
  }

  const segments: Segment[] = [];
  let pending: Uint8Array[] = [new Uint8Array([0x66, 0x4c, 0x61, 0x43])]; // "fLaC"
  const flush = () => {
    if (pending.length) segments.push({ kind: "inline", bytes: concat(pending) });
    pending = [];
  };
  blocks.forEach((b, i) => {
    checkBlockLength(b.type, b.length);
    const h = new Uint8Array(4);
    h[0] = b.type | (i === blocks.length - 1 ? 0x80 : 0);
    putU24be(h, 1, b.length);
    pending.push(h);
    for (const p of b.parts) {
      if (p.kind === "inline") pending.push(p.bytes);
      else {
        flush();
        segments.push(p);
      }
    }
  });
  flush();
  segments.push({ kind: "backing", offset: audioOffset, length: audioLength });
  return makeLayout(segments);
}

/** STREAMINFO then SEEKTABLEs from the store; exactly one 34-byte STREAMINFO. */
function structuralBlocks(input: SynthInput): OutBlock[] {
  const infos = input.structural.filter((s) => s.kind === "STREAMINFO");
  if (infos.length !== 1 || infos[0].body.length !== 34) {
    throw new FormatError("invalid-input", "FLAC needs exactly one 34-byte STREAMINFO");
  }
  const sorted = input.structural
    .filter((s) => s.kind in STRUCTURAL_TYPE)
    .sort((a, b) => STRUCTURAL_TYPE[a.kind] - STRUCTURAL_TYPE[b.kind] || a.ordinal - b.ordinal);
  return sorted.map((s) => inlineBlock(STRUCTURAL_TYPE[s.kind], s.body));
}

/**
 * Tracks scanned before structural rows existed: carry STREAMINFO,
 * APPLICATION, SEEKTABLE and CUESHEET from the original front, in file order.
 */
function legacyFrontBlocks(backing: ByteSource, audioOffset: number): OutBlock[] {
  if (audioOffset > MAX_PROBE_BYTES) {
    throw new FormatError("too-large", "FLAC front beyond the probe budget");
  }
  const r = new WindowReader(new BoundedSource(backing, MAX_PROBE_BYTES));
  const { flacStart } = skipLeadingId3(r);
  const walked = walkFlacBlocks(r, flacStart);
  if (walked.audioOffset !== audioOffset) {
    throw new FormatError("malformed", "FLAC front no longer matches the stored audio offset");
  }
  const keep = new Set([BLOCK_STREAMINFO, BLOCK_APPLICATION, BLOCK_SEEKTABLE, BLOCK_CUESHEET]);
  return walked.blocks
    .filter((b) => keep.has(b.type))
    .map((b) => inlineBlock(b.type, r.read(b.offset + 4, b.length).slice()));
}
