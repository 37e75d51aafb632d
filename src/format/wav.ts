// WAV: RIFF/WAVE probe and synthesis.
//
// Probe: the chunk headers inside the RIFF form are walked with small reads
// (8 bytes each; the `data` payload is never read), so tags after a large
// data chunk are found too and the probe reads a few KiB regardless of the
// file size (the original read up to 64 MiB). Tags: the first `id3 `/`ID3 `
// chunk (ID3 rules as MP3) merged with the first LIST/INFO chunk (ID3 wins
// per key, INFO fills gaps; values cut at the first NUL, empty ones skipped).
//
// Decisions beyond the original:
// - riff_size 0 or 0xFFFFFFFF (streaming writers that never patched the
//   header), or any riff_size past the end of the file (a streaming guess,
//   a cut file), means "to the end of the file"; a `data` size of
//   0xFFFFFFFF, 0 inside such a form, or past the end of the file likewise
//   means "to the end of the file" (over 4 GiB that way is `too-large` at
//   probe time, as synthesis could not write it); ffmpeg and mutagen read
//   such files the same way;
// - a chunk after the audio whose size runs past the end of the file (a
//   damaged trailer) ends the walk; before the audio it fails the file;
// - an `id3 ` chunk that does not hold a readable ID3v2 tag is ignored
//   rather than failing the file;
// - at most 4096 chunks are walked.
//
// Synthesis re-reads `fmt ` and `fact` from the backing file (bounded) since
// the store keeps only the geometry: RIFF, fmt, fact, LIST/INFO, `id3 `, data.

import {
  ascii4,
  ByteCounter,
  type ByteSink,
  ByteWriter,
  latin1,
  u32le,
  utf8Length,
  utf8Strict,
} from "./bytes.ts";
import { assignOrdinals, buildId3v2, type Id3Parsed, id3v2Size, parseId3v2 } from "./id3v2.ts";
import { makeLayout } from "./layout.ts";
import { RIFF_INFO } from "./tagmap.ts";
import {
  type BlobSource,
  type ByteSource,
  FormatError,
  type Layout,
  MAX_PROBE_BYTES,
  type ProbeResult,
  type Segment,
  type SynthInput,
  type TagEntry,
  typed,
} from "./types.ts";

export const MAX_WAV_CHUNKS = 4096;
/** Largest `fmt `/`fact` body carried (WAVE_FORMAT_EXTENSIBLE needs 40 bytes). */
const MAX_FORMAT_CHUNK = 64 * 1024;
const MAX_INFO_CHUNK = 1024 * 1024;
const MAX_ID3_CHUNK = MAX_PROBE_BYTES / 2;
const U32_MAX = 0xffff_ffff;

interface ChunkSpan {
  id: string;
  /** Offset of the chunk body. */
  body: number;
  size: number;
}

interface WavChunks {
  fmt?: ChunkSpan;
  fact?: ChunkSpan;
  data?: ChunkSpan;
  info?: ChunkSpan;
  id3?: ChunkSpan;
}

function readExact(src: ByteSource, offset: number, length: number): Uint8Array {
  const b = src.read(offset, length);
  if (b.length !== length) {
    throw new FormatError("truncated", `file ends before ${offset}+${length}`);
  }
  return b;
}

/** Walks the RIFF/WAVE chunk headers and remembers the chunks we use. */
function walkChunks(src: ByteSource): WavChunks {
  if (src.size < 12) throw new FormatError("malformed", "too short for a RIFF header");
  const head = readExact(src, 0, 12);
  const magic = ascii4(head, 0);
  if (magic === "RF64" || magic === "BW64") {
    throw new FormatError("unsupported", `${magic} (64-bit RIFF) is not supported`);
  }
  if (magic !== "RIFF" || ascii4(head, 8) !== "WAVE") {
    throw new FormatError("malformed", "not a RIFF/WAVE file");
  }
  const riffSize = u32le(head, 4);
  const sentinel = riffSize === 0 || riffSize === U32_MAX;
  // A form claiming more than the file (a streaming writer's guess such as
  // 0x7FFFF024, or a file cut short) ends with the file, as readers take it.
  const formEnd = Math.min(sentinel ? src.size : 8 + riffSize, src.size);
  const found: WavChunks = {};
  let pos = 12;
  for (let count = 0; pos + 8 <= formEnd; count++) {
    if (count >= MAX_WAV_CHUNKS) throw new FormatError("malformed", "too many RIFF chunks");
    const h = readExact(src, pos, 8);
    const id = ascii4(h, 0);
    const body = pos + 8;
    let size = u32le(h, 4);
    if (id === "data" && !found.data) {
      // Streaming writers leave 0xFFFFFFFF (or 0, or a guess larger than the
      // file) in the data size: the audio then runs to the end of the file.
      if (size === U32_MAX || (size === 0 && sentinel) || size > src.size - body) {
        size = src.size - body;
        if (size > U32_MAX) throw new FormatError("too-large", "data chunk over 4 GiB");
      }
    } else if (size > formEnd - body) {
      // A damaged chunk after intact audio is dropped (readers stop there too).
      if (found.data && found.fmt) break;
      throw new FormatError(
        "malformed",
        `chunk '${printable(id)}' at ${pos} claims ${size} bytes, past the end of the file`,
      );
    }
    const span = { id, body, size };
    if (id === "fmt ") found.fmt ??= span;
    else if (id === "fact") found.fact ??= span;
    else if (id === "data") found.data ??= span;
    else if (id === "id3 " || id === "ID3 ") found.id3 ??= span;
    else if (
      id === "LIST" && !found.info && size >= 4 && ascii4(readExact(src, body, 4), 0) === "INFO"
    ) {
      found.info = span;
    }
    pos = body + size + (size & 1);
  }
  if (!found.fmt) throw new FormatError("malformed", "WAV without a 'fmt ' chunk");
  if (!found.data) throw new FormatError("malformed", "WAV without a 'data' chunk");
  if (found.fmt.size < 16 || found.fmt.size > MAX_FORMAT_CHUNK) {
    throw new FormatError("malformed", `'fmt ' chunk of ${found.fmt.size} bytes`);
  }
  return found;
}

/** A chunk id for a message: non-printable bytes as \xNN. */
function printable(id: string): string {
  return id.replace(/[^\x20-\x7e]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
}

// ---- probe ----------------------------------------------------------------

const INFO_KEYS = new Map([...RIFF_INFO].map(([key, id]) => [id, key]));

/** Mapped LIST/INFO entries as tag rows (value cut at the first NUL; empty skipped). */
function readInfo(src: ByteSource, span: ChunkSpan): TagEntry[] {
  if (span.size > MAX_INFO_CHUNK) return [];
  const b = readExact(src, span.body, span.size);
  const rows: TagEntry[] = [];
  let pos = 4; // after "INFO"
  while (pos + 8 <= b.length) {
    const id = ascii4(b, pos);
    const size = u32le(b, pos + 4);
    if (size > b.length - pos - 8) break;
    const raw = b.subarray(pos + 8, pos + 8 + size);
    const key = INFO_KEYS.get(id);
    if (key !== undefined) {
      const nul = raw.indexOf(0);
      const v = raw.subarray(0, nul < 0 ? raw.length : nul);
      const value = utf8Strict(v) ?? latin1(v);
      if (value !== "") rows.push({ key, value, ordinal: 0 });
    }
    pos += 8 + size + (size & 1);
  }
  return rows;
}

function readId3Chunk(src: ByteSource, span: ChunkSpan): Id3Parsed | null {
  if (span.size < 10 || span.size > MAX_ID3_CHUNK) return null;
  try {
    return parseId3v2(readExact(src, span.body, span.size));
  } catch (e) {
    if (e instanceof FormatError) return null; // not a readable tag: ignore the chunk
    throw e;
  }
}

export function probeWav(src: ByteSource): ProbeResult {
  return typed("wav", () => {
    const chunks = walkChunks(src);
    const id3 = chunks.id3 ? readId3Chunk(src, chunks.id3) : null;
    const info = chunks.info ? readInfo(src, chunks.info) : [];
    const tags = [...(id3?.tags ?? [])];
    const id3Keys = new Set(tags.map((t) => t.key));
    for (const t of info) if (!id3Keys.has(t.key)) tags.push(t);
    assignOrdinals(tags);
    return {
      format: "wav",
      audioOffset: chunks.data!.body,
      audioLength: chunks.data!.size,
      tags,
      pictures: id3?.pictures ?? [],
      binaryTags: id3?.binaryTags ?? [],
      structural: [],
      ...(id3?.warnings ? { warnings: id3.warnings } : {}),
    };
  });
}

// ---- synthesis --------------------------------------------------------------

function chunkBytes(id: string, body: Uint8Array): Uint8Array {
  const w = new ByteWriter(8 + body.length + 1).latin1(id).u32le(body.length).bytes(body);
  if (body.length & 1) w.u8(0);
  return w.finish();
}

/** A chunk's bytes with its header and pad byte. */
function chunkLength(bodyLength: number): number {
  return 8 + bodyLength + (bodyLength & 1);
}

/**
 * The LIST/INFO body ("INFO" and the first value of each mapped key in DB
 * order) into `w`; false when no key maps (no LIST chunk then).
 */
function infoBody(tags: readonly TagEntry[], w: ByteSink): boolean {
  w.latin1("INFO");
  const done = new Set<string>();
  for (const t of tags) {
    const id = RIFF_INFO.get(t.key);
    if (id === undefined || done.has(t.key) || t.value === "") continue;
    if (t.value.includes("\0")) throw new FormatError("invalid-input", "embedded NUL in a tag");
    done.add(t.key);
    const n = utf8Length(t.value) + 1;
    w.latin1(id).u32le(n).utf8(t.value).u8(0);
    if (n & 1) w.u8(0);
  }
  return done.size > 0;
}

/** The backing file's front as synthesis uses it: checked, with its fmt and fact bodies. */
function wavFront(input: SynthInput, backing: ByteSource) {
  const { audioOffset, audioLength } = input;
  if (audioOffset < 0 || audioLength < 0 || audioOffset + audioLength > input.backingSize) {
    throw new FormatError("invalid-input", "audio range outside the backing file");
  }
  if (audioLength > U32_MAX) throw new FormatError("too-large", "data chunk over 4 GiB");
  const chunks = walkChunks(backing);
  if (chunks.data!.body !== audioOffset) {
    throw new FormatError("malformed", "backing file's data chunk moved");
  }
  const fmt = readExact(backing, chunks.fmt!.body, chunks.fmt!.size);
  const fact = chunks.fact && chunks.fact.size <= MAX_FORMAT_CHUNK
    ? readExact(backing, chunks.fact.body, chunks.fact.size)
    : null;
  return { fmt, fact };
}

function checkRiffSize(size: number): void {
  if (size - 8 > U32_MAX) throw new FormatError("too-large", "RIFF form over 4 GiB");
}

/** The size of `synthesizeWav`'s file, counted without building its chunks and tag. */
export function wavSize(input: SynthInput, backing: ByteSource): number {
  return typed("wav synthesis", () => {
    const { fmt, fact } = wavFront(input, backing);
    const tag = id3v2Size(input);
    const info = new ByteCounter();
    const size = 12 + chunkLength(fmt.length) + (fact ? chunkLength(fact.length) : 0) +
      (infoBody(input.tags, info) ? chunkLength(info.length) : 0) +
      8 + tag + (tag & 1) + 8 + input.audioLength + (input.audioLength & 1);
    checkRiffSize(size);
    return size;
  });
}

/** RIFF, fmt, fact, LIST/INFO, `id3 `, then the data header and the original payload. */
export function synthesizeWav(input: SynthInput, backing: ByteSource, _blobs: BlobSource): Layout {
  return typed("wav synthesis", () => {
    const { audioOffset, audioLength } = input;
    const { fmt, fact } = wavFront(input, backing);
    const tag = buildId3v2(input);
    const head = new ByteWriter(256).latin1("RIFF").u32le(0).latin1("WAVE");
    head.bytes(chunkBytes("fmt ", fmt));
    if (fact) head.bytes(chunkBytes("fact", fact));
    const info = new ByteWriter();
    if (infoBody(input.tags, info)) head.bytes(chunkBytes("LIST", info.finish()));
    head.latin1("id3 ").u32le(tag.size);
    const prefix = head.finish();
    const dataHeader = new ByteWriter(9);
    if (tag.size & 1) dataHeader.u8(0);
    dataHeader.latin1("data").u32le(audioLength);
    const segments: Segment[] = [
      { kind: "inline", bytes: prefix },
      ...tag.segments,
      { kind: "inline", bytes: dataHeader.finish() },
      { kind: "backing", offset: audioOffset, length: audioLength },
    ];
    if (audioLength & 1) segments.push({ kind: "inline", bytes: new Uint8Array(1) });
    const layout = makeLayout(segments);
    checkRiffSize(layout.size);
    prefix.set(u32leBytes(layout.size - 8), 4);
    return layout;
  });
}

function u32leBytes(v: number): Uint8Array {
  return Uint8Array.of(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff);
}
