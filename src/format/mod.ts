// The format layer's front door: which prober a path goes to, probe and
// synthesize dispatch, and turning a probe into synthesis input (what the
// scanner stores and the core later reads back, without a database).

import { flacSize, probeFlac, synthesizeFlac } from "./flac.ts";
import { mp3Size, probeMp3, synthesizeMp3 } from "./mp3.ts";
import { mp4Size, probeMp4, synthesizeMp4 } from "./mp4.ts";
import { oggSize, probeOgg, synthesizeOgg } from "./ogg/mod.ts";
import { ArtCrcTable, type ArtText } from "./ogg/art_crc.ts";
import { probeWav, synthesizeWav, wavSize } from "./wav.ts";
import {
  type ArtRef,
  type BinaryTagRef,
  type BlobSource,
  type ByteSource,
  type Format,
  FormatError,
  type Layout,
  type ProbeResult,
  type SynthInput,
} from "./types.ts";

export {
  base64Encode,
  base64Length,
  materialize,
  readLayoutInto,
  readLayoutRange,
  readSegment,
  segmentLength,
} from "./layout.ts";
export { readOggAudio, readOggAudioInto } from "./ogg/mod.ts";
export { ArtCrcTable, type ArtText } from "./ogg/art_crc.ts";
export { BoundedSource } from "./source.ts";
export { audioStartProblem } from "./audio_start.ts";
export type { LayoutSources } from "./layout.ts";
export * from "./types.ts";

/**
 * What a path's extension says about its content. Ogg containers (`.ogg`,
 * `.oga`, `.opus`) are told apart by their first packet, so their kind is
 * just "ogg".
 */
export type ProbeKind = "flac" | "mp3" | "m4a" | "ogg" | "wav";

const KIND_BY_EXT: Record<string, ProbeKind> = {
  flac: "flac",
  mp3: "mp3",
  m4a: "m4a",
  m4b: "m4a",
  ogg: "ogg",
  oga: "ogg",
  opus: "ogg",
  wav: "wav",
};

/** The lowercase extension of a path's last component ("" when none). */
export function extensionOf(path: string): string {
  const name = path.slice(path.lastIndexOf("/") + 1);
  const dot = name.lastIndexOf(".");
  return dot <= 0 ? "" : name.slice(dot + 1).toLowerCase();
}

/** The prober for a path (by extension, case-insensitive), or null when not a music file. */
export function probeKindForPath(path: string): ProbeKind | null {
  return KIND_BY_EXT[extensionOf(path)] ?? null;
}

/**
 * A best guess at the stored format from the extension alone (`.ogg` →
 * vorbis, `.oga` → oggflac, `.opus` → opus). The probe's `format` is the
 * truth: an Ogg file is classified by its content.
 */
export function formatForPath(path: string): Format | null {
  const ext = extensionOf(path);
  if (ext === "ogg") return "vorbis";
  if (ext === "oga") return "oggflac";
  if (ext === "opus") return "opus";
  const kind = KIND_BY_EXT[ext];
  return kind === undefined || kind === "ogg" ? null : kind;
}

function kindOf(format: Format | ProbeKind): ProbeKind {
  return format === "opus" || format === "vorbis" || format === "oggflac" ? "ogg" : format;
}

/** Probes `src` with the prober for `format` (any Ogg format goes to the Ogg prober). */
export function probe(format: Format | ProbeKind, src: ByteSource): ProbeResult {
  switch (kindOf(format)) {
    case "flac":
      return probeFlac(src);
    case "mp3":
      return probeMp3(src);
    case "m4a":
      return probeMp4(src);
    case "ogg":
      return probeOgg(src);
    case "wav":
      return probeWav(src);
    default:
      throw new FormatError("invalid-input", `unknown format ${String(format)}`);
  }
}

/** Probes a file by its path's extension; null when the extension is not a music file. */
export function probePath(path: string, src: ByteSource): ProbeResult | null {
  const kind = probeKindForPath(path);
  return kind === null ? null : probe(kind, src);
}

/** The served file for `input`, as segments over the backing file and blobs. */
export function synthesize(input: SynthInput, backing: ByteSource, blobs: BlobSource): Layout {
  switch (input.format) {
    case "flac":
      return synthesizeFlac(input, backing, blobs);
    case "mp3":
      return synthesizeMp3(input, backing, blobs);
    case "m4a":
      return synthesizeMp4(input, backing, blobs);
    case "opus":
    case "vorbis":
    case "oggflac":
      return synthesizeOgg(input, backing, blobs);
    case "wav":
      return synthesizeWav(input, backing, blobs);
    default:
      throw new FormatError("invalid-input", `unknown format ${String(input.format)}`);
  }
}

/**
 * The size of the file `synthesize` makes of the same input, counted without
 * building its header bytes: what a stat needs. It throws where synthesize
 * would (the same checks run). MP3 and FLAC (with structural rows) are sized
 * from the rows alone; the other formats still read the backing file's front
 * (the moov, the codec header packets, the RIFF chunks).
 */
export function synthesizedSize(input: SynthInput, backing: ByteSource, blobs: BlobSource): number {
  switch (input.format) {
    case "flac":
      return flacSize(input, backing, blobs);
    case "mp3":
      return mp3Size(input);
    case "m4a":
      return mp4Size(input, backing);
    case "opus":
    case "vorbis":
    case "oggflac":
      return oggSize(input, backing);
    case "wav":
      return wavSize(input, backing);
    default:
      throw new FormatError("invalid-input", `unknown format ${String(input.format)}`);
  }
}

/** Blobs held in memory, keyed by art id and binary tag id (tests, the scanner's staging). */
export class MemoryBlobs implements BlobSource {
  readonly arts = new Map<number, Uint8Array>();
  readonly binaryTags = new Map<number, Uint8Array>();
  #nextArt = 1;
  #nextTag = 1;

  /** Stores image bytes and returns their art id. */
  addArt(bytes: Uint8Array): number {
    const id = this.#nextArt++;
    this.arts.set(id, bytes);
    return id;
  }

  /** Stores a binary tag payload and returns its id. */
  addBinaryTag(bytes: Uint8Array): number {
    const id = this.#nextTag++;
    this.binaryTags.set(id, bytes);
    return id;
  }

  art(artId: number, offset: number, length: number): Uint8Array {
    return slice(this.arts.get(artId), offset, length, `art ${artId}`);
  }

  binaryTag(id: number, offset: number, length: number): Uint8Array {
    return slice(this.binaryTags.get(id), offset, length, `binary tag ${id}`);
  }

  readonly #crcTables = new Map<string, ArtCrcTable>();

  /** Slice CRCs from a table per image (the bytes of an art id never change here). */
  artCrc(art: ArtText, offset: number, length: number): number {
    const key = `${art.artId}:${art.base64}:${art.artTotal}`;
    let table = this.#crcTables.get(key);
    if (table === undefined) {
      table = ArtCrcTable.build(art, this);
      this.#crcTables.set(key, table);
    }
    return table.slice(offset, length, this);
  }
}

function slice(b: Uint8Array | undefined, offset: number, length: number, what: string) {
  if (!b) throw new FormatError("invalid-input", `${what} does not exist`);
  return b.subarray(offset, Math.min(b.length, offset + length));
}

/**
 * Synthesis input equal to what the store would hold after scanning
 * `probe`: tags sorted by (key, ordinal) as the DB returns them, art and
 * binary tags in file order with their bytes in a MemoryBlobs.
 */
export function inputFromProbe(
  probe: ProbeResult,
  backingSize: number,
): { input: SynthInput; blobs: MemoryBlobs } {
  const blobs = new MemoryBlobs();
  const art: ArtRef[] = probe.pictures.map((p) => ({
    artId: blobs.addArt(p.data),
    mime: p.mime,
    pictureType: p.pictureType,
    description: p.description,
    width: p.width,
    height: p.height,
    byteLen: p.data.length,
  }));
  const binaryTags: BinaryTagRef[] = probe.binaryTags.map((t) => ({
    id: blobs.addBinaryTag(t.data),
    key: t.key,
    ordinal: t.ordinal,
    length: t.data.length,
  }));
  binaryTags.sort((a, b) => compareKey(a.key, b.key) || a.ordinal - b.ordinal);
  const tags = [...probe.tags].sort((a, b) => compareKey(a.key, b.key) || a.ordinal - b.ordinal);
  return {
    input: {
      format: probe.format,
      audioOffset: probe.audioOffset,
      audioLength: probe.audioLength,
      backingSize,
      tags,
      binaryTags,
      art,
      structural: probe.structural.map((s) => ({ ...s })),
    },
    blobs,
  };
}

/** SQLite BINARY collation: bytewise UTF-8 order. */
export function compareKey(a: string, b: string): number {
  if (a === b) return 0;
  // UTF-16 order equals UTF-8 byte order below the surrogates (the common case).
  const n0 = Math.min(a.length, b.length);
  for (let i = 0; i < n0; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    if (x < 0xd800 && y < 0xd800) return x - y;
    break;
  }
  const ea = new TextEncoder().encode(a);
  const eb = new TextEncoder().encode(b);
  const n = Math.min(ea.length, eb.length);
  for (let i = 0; i < n; i++) if (ea[i] !== eb[i]) return ea[i] - eb[i];
  return ea.length - eb.length;
}
export { type ImageInfo, sniffImage } from "./image.ts";
