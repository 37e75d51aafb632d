// The binary form of the synthesis worker's results in the shared ring
// (src/core/synth_messages.ts has the ring's framing). A record's head is a
// flat run of fields, written and read in the same order by the two
// functions of each kind below: numbers as little-endian f64 (every number
// here is an integer below 2^53), nanosecond times and inode numbers as
// 64-bit integers, strings as a u32 byte length and UTF-8. Read straight
// from the ring, with no text to parse and no intermediate objects: an open
// that takes in a layout built ahead spent ~9 µs parsing its JSON form.

import { type Format, FORMATS } from "../model/mod.ts";
import type { Segment } from "../format/mod.ts";
import type { ResolvedFile } from "./resolve.ts";
import type { BackingStamp } from "./stamp.ts";
import type { SizeResult, SynthResult, WireSegment } from "./synth_messages.ts";

const KIND_SIZE = 0;
const KIND_BUILD = 1;

const SEGMENT_KINDS = ["ring", "art", "binary-tag", "backing", "ogg-audio", "ogg-art"] as const;
const SEGMENT_CODE = new Map<string, number>(SEGMENT_KINDS.map((k, i) => [k, i]));

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Writes a record head into a buffer that grows as needed (the worker keeps one). */
export class WireWriter {
  #bytes = new Uint8Array(1024);
  #view = new DataView(this.#bytes.buffer);
  #at = 0;

  #room(n: number): void {
    if (this.#at + n <= this.#bytes.length) return;
    const next = new Uint8Array(Math.max(this.#bytes.length * 2, this.#at + n));
    next.set(this.#bytes.subarray(0, this.#at));
    this.#bytes = next;
    this.#view = new DataView(next.buffer);
  }
  num(v: number): this {
    this.#room(8);
    this.#view.setFloat64(this.#at, v, true);
    this.#at += 8;
    return this;
  }
  big(v: bigint): this {
    this.#room(8);
    this.#view.setBigUint64(this.#at, BigInt.asUintN(64, v), true);
    this.#at += 8;
    return this;
  }
  str(s: string): this {
    // UTF-8 takes at most 3 bytes per UTF-16 unit.
    this.#room(4 + s.length * 3);
    const { written } = encoder.encodeInto(s, this.#bytes.subarray(this.#at + 4));
    this.#view.setUint32(this.#at, written, true);
    this.#at += 4 + written;
    return this;
  }
  stamp(s: BackingStamp): this {
    return this.num(s.size).big(s.mtimeNs).big(s.ctimeNs);
  }
  /** The head written since the last call (a view: copy it before writing the next). */
  take(): Uint8Array {
    const out = this.#bytes.subarray(0, this.#at);
    this.#at = 0;
    return out;
  }
}

/** A format as its index in FORMATS (on the wire). */
function formatCode(format: string): number {
  const i = FORMATS.indexOf(format as Format);
  if (i < 0) throw new Error(`internal: format ${format} on the wire`);
  return i;
}

function formatOf(code: number): Format {
  const f = FORMATS[code];
  if (f === undefined) throw new Error(`internal: format code ${code} on the wire`);
  return f;
}

/** Longest string `str` builds from its bytes directly (one argument per byte). */
const ASCII_DIRECT_MAX = 4096;

/** Reads a record head from the ring, field by field. */
export class WireReader {
  #at: number;
  readonly #view: DataView;
  constructor(readonly bytes: Uint8Array, at: number) {
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.#at = at;
  }
  num(): number {
    const v = this.#view.getFloat64(this.#at, true);
    this.#at += 8;
    return v;
  }
  big(): bigint {
    const v = this.#view.getBigUint64(this.#at, true);
    this.#at += 8;
    return v;
  }
  str(): string {
    const n = this.#view.getUint32(this.#at, true);
    const start = this.#at + 4;
    this.#at = start + n;
    const bytes = this.bytes;
    // ASCII (most paths) straight from the shared bytes: decoding a shared
    // buffer copies it into a fresh one first.
    let ascii = n <= ASCII_DIRECT_MAX;
    for (let i = start; ascii && i < start + n; i++) ascii = bytes[i] < 0x80;
    if (ascii) return String.fromCharCode.apply(null, bytes.subarray(start, start + n) as never);
    return decoder.decode(bytes.subarray(start, start + n));
  }
  stamp(): BackingStamp {
    return { size: this.num(), mtimeNs: this.big(), ctimeNs: this.big() };
  }
}

/** The kind of the record whose head starts at `at`: a size, or a built file. */
export function isSizeRecord(bytes: Uint8Array, at: number): boolean {
  return new DataView(bytes.buffer, bytes.byteOffset + at, 8).getFloat64(0, true) === KIND_SIZE;
}

export function writeSizeResult(w: WireWriter, r: SizeResult): Uint8Array {
  const f = r.sized;
  w.num(KIND_SIZE).num(r.seq).num(f.trackId).num(f.contentVersion).num(f.updatedAt);
  w.num(formatCode(f.format)).num(f.audioOffset).num(f.audioLength).str(f.backingPath);
  w.stamp(f.stamp);
  return w.num(f.size).take();
}

export function readSizeResult(r: WireReader): SizeResult {
  r.num(); // kind
  return {
    seq: r.num(),
    sized: {
      trackId: r.num(),
      contentVersion: r.num(),
      updatedAt: r.num(),
      format: formatOf(r.num()),
      audioOffset: r.num(),
      audioLength: r.num(),
      backingPath: r.str(),
      stamp: r.stamp(),
      size: r.num(),
    },
  };
}

function writeSegment(w: WireWriter, s: WireSegment): void {
  w.num(SEGMENT_CODE.get(s.kind)!);
  switch (s.kind) {
    case "ring":
      w.num(s.at).num(s.length);
      return;
    case "art":
      w.num(s.artId).num(s.length);
      return;
    case "binary-tag":
      w.num(s.id).num(s.length);
      return;
    case "backing":
      w.num(s.offset).num(s.length);
      return;
    case "ogg-audio":
      w.num(s.offset).num(s.length).num(s.seqDelta);
      return;
    case "ogg-art":
      w.num(s.artId).num(s.offset).num(s.length).num(s.base64 ? 1 : 0).num(s.artTotal);
      return;
  }
}

/**
 * A segment as the serving thread keeps it: "ring" segments become inline
 * ones holding a copy of their bytes (at `bytesAt` + their offset in the ring).
 */
function readSegment(r: WireReader, bytesAt: number): Segment {
  const kind = SEGMENT_KINDS[r.num()];
  switch (kind) {
    case "ring": {
      const at = bytesAt + r.num();
      return { kind: "inline", bytes: r.bytes.slice(at, at + r.num()) };
    }
    case "art":
      return { kind, artId: r.num(), length: r.num() };
    case "binary-tag":
      return { kind, id: r.num(), length: r.num() };
    case "backing":
      return { kind, offset: r.num(), length: r.num() };
    case "ogg-audio":
      return { kind, offset: r.num(), length: r.num(), seqDelta: r.num() };
    case "ogg-art":
      return {
        kind,
        artId: r.num(),
        offset: r.num(),
        length: r.num(),
        base64: r.num() === 1,
        artTotal: r.num(),
      };
    default:
      throw new Error(`internal: segment kind ${kind} in a synthesis result`);
  }
}

export function writeSynthResult(w: WireWriter, r: SynthResult): Uint8Array {
  const f = r.file;
  w.num(KIND_BUILD).num(r.seq).num(f.trackId).str(f.backingPath).num(formatCode(f.format));
  w.num(f.audioOffset).num(f.audioLength).num(f.contentVersion).num(f.updatedAt).stamp(f.stamp);
  w.num(f.layout.size).num(f.layout.segments.length);
  for (const s of f.layout.segments) writeSegment(w, s);
  w.num(f.streamsRows ? 1 : 0).num(f.mtimeSec).num(f.mtimeNsec).num(f.inlineBytes);
  w.num(r.geometryChecked ? 1 : 0);
  const b = r.backing;
  w.num(b.fd).num(b.dev).big(b.ino);
  // The file as the worker found it is, nearly always, the one the row
  // recorded (it was checked against it): one flag instead of a second stamp.
  const same = b.stamp.size === f.stamp.size && b.stamp.mtimeNs === f.stamp.mtimeNs &&
    b.stamp.ctimeNs === f.stamp.ctimeNs;
  if (same) return w.num(1).take();
  return w.num(0).stamp(b.stamp).take();
}

/** A built file as the serving thread takes it in; its inline bytes are at `bytesAt` in the ring. */
export interface TakenResult {
  seq: number;
  file: ResolvedFile;
  geometryChecked: boolean;
  backing: SynthResult["backing"];
}

export function readSynthResult(r: WireReader, bytesAt: number): TakenResult {
  r.num(); // kind
  const seq = r.num();
  const trackId = r.num();
  const backingPath = r.str();
  const format = formatOf(r.num());
  const audioOffset = r.num();
  const audioLength = r.num();
  const contentVersion = r.num();
  const updatedAt = r.num();
  const stamp = r.stamp();
  const size = r.num();
  const segments: Segment[] = new Array(r.num());
  for (let i = 0; i < segments.length; i++) segments[i] = readSegment(r, bytesAt);
  const file: ResolvedFile = {
    trackId,
    backingPath,
    format,
    audioOffset,
    audioLength,
    contentVersion,
    updatedAt,
    stamp,
    layout: { size, segments },
    streamsRows: r.num() === 1,
    mtimeSec: r.num(),
    mtimeNsec: r.num(),
    inlineBytes: r.num(),
  };
  const geometryChecked = r.num() === 1;
  const fd = r.num(), dev = r.num(), ino = r.big();
  const backing = { fd, dev, ino, stamp: r.num() === 1 ? stamp : r.stamp() };
  return { seq, file, geometryChecked, backing };
}
