// Test-side MP4 tools, written independently of src/format/mp4*.ts so the
// tests do not check the code with itself: a box builder, a box walker, a
// chunk-offset reader, an stco → co64 converter, sources that record reads
// or describe huge virtual files, and the shared round trip for MP4 files.

import type { MemoryBlobs } from "../../src/format/mod.ts";
import type { ByteSource, SynthInput } from "../../src/format/types.ts";
import { type RoundTrip, roundTrip } from "./harness.ts";
import { concatBytes } from "../fixtures/tools.ts";

const enc = new TextEncoder();

export function u32(v: number): Uint8Array {
  return Uint8Array.of(v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
}
export function u64(v: number): Uint8Array {
  const out = new Uint8Array(8);
  out.set(u32(Math.floor(v / 2 ** 32)), 0);
  out.set(u32(v % 2 ** 32), 4);
  return out;
}
export function cat(...parts: Uint8Array[]): Uint8Array {
  return concatBytes(parts);
}
/** Four-char code bytes; © written as "\u00a9". */
export function fourcc(s: string): Uint8Array {
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
}
export function box(type: string, ...children: Uint8Array[]): Uint8Array {
  const body = cat(...children);
  return cat(u32(8 + body.length), fourcc(type), body);
}
export function text(s: string): Uint8Array {
  return enc.encode(s);
}
export const rd32 = (b: Uint8Array, o: number) =>
  b[o] * 0x1000000 + ((b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]);
export const type4 = (b: Uint8Array, o: number) =>
  String.fromCharCode(b[o], b[o + 1], b[o + 2], b[o + 3]);

export interface WalkedBox {
  path: string;
  type: string;
  start: number;
  size: number;
  header: number;
}

const CONTAINERS = new Set([
  "moov",
  "trak",
  "mdia",
  "minf",
  "stbl",
  "udta",
  "edts",
  "dinf",
  "ilst",
]);

/** Every box reachable through the usual containers (meta: FullBox prefix assumed). */
export function walk(b: Uint8Array, start = 0, end = b.length, path = ""): WalkedBox[] {
  const out: WalkedBox[] = [];
  let o = start;
  while (o + 8 <= end) {
    let size = rd32(b, o);
    let header = 8;
    if (size === 1) {
      size = rd32(b, o + 8) * 2 ** 32 + rd32(b, o + 12);
      header = 16;
    } else if (size === 0) size = end - o;
    const type = type4(b, o + 4);
    if (size < header || o + size > end) throw new Error(`walk: bad box ${type} at ${o}`);
    const p = path ? `${path}/${type}` : type;
    out.push({ path: p, type, start: o, size, header });
    if (CONTAINERS.has(type)) out.push(...walk(b, o + header, o + size, p));
    if (type === "meta") out.push(...walk(b, o + header + 4, o + size, p));
    o += size;
  }
  return out;
}

/** All chunk offsets of all stco/co64 tables, in file order. */
export function chunkOffsets(b: Uint8Array): number[] {
  const out: number[] = [];
  for (const x of walk(b)) {
    if (x.type !== "stco" && x.type !== "co64") continue;
    const p = x.start + x.header;
    const n = rd32(b, p + 4);
    for (let i = 0; i < n; i++) {
      out.push(
        x.type === "stco"
          ? rd32(b, p + 8 + 4 * i)
          : rd32(b, p + 8 + 8 * i) * 2 ** 32 + rd32(b, p + 12 + 8 * i),
      );
    }
  }
  return out;
}

/**
 * The same file with every stco turned into co64 (container sizes fixed;
 * offsets moved by the moov's growth when the moov precedes the mdat).
 */
export function toCo64(file: Uint8Array): Uint8Array {
  const top = walk(file).filter((x) => !x.path.includes("/"));
  const moov = top.find((x) => x.type === "moov")!;
  const mdat = top.find((x) => x.type === "mdat")!;
  const grow = (() => {
    let n = 0;
    for (const x of walk(file)) if (x.type === "stco") n += 4 * rd32(file, x.start + 12);
    return n;
  })();
  const shift = moov.start < mdat.start ? grow : 0;
  const rebuild = (start: number, end: number): Uint8Array[] => {
    const parts: Uint8Array[] = [];
    let o = start;
    while (o < end) {
      const size = rd32(file, o);
      const type = type4(file, o + 4);
      if (["moov", "trak", "mdia", "minf", "stbl"].includes(type)) {
        parts.push(box(type, ...rebuild(o + 8, o + size)));
      } else if (type === "stco") {
        const n = rd32(file, o + 12);
        const entries = [];
        for (let i = 0; i < n; i++) entries.push(u64(rd32(file, o + 16 + 4 * i) + shift));
        parts.push(box("co64", file.subarray(o + 8, o + 12), u32(n), ...entries));
      } else parts.push(file.subarray(o, o + size));
      o += size;
    }
    return parts;
  };
  return cat(
    ...top.map((x) =>
      x.type === "moov"
        ? rebuild(x.start, x.start + x.size)[0]
        : file.subarray(x.start, x.start + x.size)
    ),
  );
}

/** Wraps a source and records every read range. */
export class RecordingSource implements ByteSource {
  readonly reads: [number, number][] = [];
  constructor(readonly inner: ByteSource) {}
  get size(): number {
    return this.inner.size;
  }
  read(offset: number, length: number): Uint8Array {
    const out = this.inner.read(offset, length);
    this.reads.push([offset, out.length]);
    return out;
  }
}

/** Byte `i` of a virtual file's filler: a pattern that differs between nearby offsets. */
export const pattern = (i: number) => (i * 131 + Math.floor(i / 251)) & 0xff;

/**
 * A (possibly huge) file made of real byte regions over a patterned filler,
 * so multi-GiB geometry can be tested without allocating it.
 */
export class VirtualSource implements ByteSource {
  constructor(readonly size: number, readonly regions: [number, Uint8Array][]) {}
  read(offset: number, length: number): Uint8Array {
    const n = Math.max(0, Math.min(length, this.size - offset));
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = pattern(offset + i);
    for (const [at, bytes] of this.regions) {
      const from = Math.max(at, offset);
      const to = Math.min(at + bytes.length, offset + n);
      if (from < to) out.set(bytes.subarray(from - at, to - at), from - offset);
    }
    return out;
  }
}

/** The shared round trip (harness.ts) over an MP4 file: `.m4a`/`.m4b` pick the MP4 prober. */
export function mp4RoundTrip(
  path: string,
  edit?: (input: SynthInput, blobs: MemoryBlobs) => void,
): Promise<RoundTrip> {
  return roundTrip(path, { edit });
}

// ---------------------------------------------------------------- hand-made files

export const zeros = (n: number) => new Uint8Array(n);

/** A `data` atom: type code, locale 0, value. */
export function data(type: number, value: Uint8Array): Uint8Array {
  return box("data", u32(type), u32(0), value);
}
export function item(type: string, ...datas: Uint8Array[]): Uint8Array {
  return box(type, ...datas);
}
export function freeform(mean: string, name: string, ...datas: Uint8Array[]): Uint8Array {
  return box("----", box("mean", u32(0), text(mean)), box("name", u32(0), text(name)), ...datas);
}
export function textItem(type: string, ...values: string[]): Uint8Array {
  return item(type, ...values.map((v) => data(1, text(v))));
}

export interface TrackSpec {
  handler: string;
  /** Chunk offsets relative to the mdat payload start. */
  chunks: number[];
  co64?: boolean;
}

export interface Mp4Spec {
  tracks?: TrackSpec[];
  /** ilst items; null = no udta at all. */
  ilst?: Uint8Array[] | null;
  /** ISO FullBox `meta` (default) or QuickTime-style without the 4 zero bytes. */
  metaFullBox?: boolean;
  moovFirst?: boolean;
  payload?: Uint8Array;
  /** Extra top-level boxes placed right after ftyp. */
  extraTop?: Uint8Array[];
  /** Extra moov children placed before the traks. */
  moovExtra?: Uint8Array[];
  /** mdat with a 16-byte largesize header. */
  mdatLarge?: boolean;
  /** mdat with size 0 ("to the end of the file"); implies moov first. */
  mdatSizeZero?: boolean;
  /** moov (placed last) with size 0. */
  moovSizeZero?: boolean;
}

export const FTYP = box("ftyp", fourcc("M4A "), u32(0), fourcc("M4A "), fourcc("isom"));

function trak(t: TrackSpec, payloadStart: number): Uint8Array {
  const entries = t.chunks.map((c) => (t.co64 ? u64(payloadStart + c) : u32(payloadStart + c)));
  const table = box(t.co64 ? "co64" : "stco", u32(0), u32(entries.length), ...entries);
  return box(
    "trak",
    box("tkhd", u32(3), zeros(80)),
    box(
      "mdia",
      box("mdhd", u32(0), zeros(20)),
      box("hdlr", u32(0), u32(0), fourcc(t.handler), zeros(12), text("handler\0")),
      box(
        "minf",
        box("smhd", zeros(8)),
        box("stbl", box("stsd", u32(0), u32(0)), box("stsz", u32(0), u32(0), u32(0)), table),
      ),
    ),
  );
}

/** Builds a small, structurally valid MP4 (not decodable audio) from a spec. */
export function buildMp4(spec: Mp4Spec = {}): Uint8Array {
  const payload = spec.payload ?? Uint8Array.from({ length: 4000 }, (_, i) => pattern(i));
  const tracks = spec.tracks ?? [{ handler: "soun", chunks: [0, 1000, 2500] }];
  const udta = spec.ilst === null ? [] : [
    box(
      "udta",
      box(
        "meta",
        spec.metaFullBox === false ? zeros(0) : u32(0),
        box("hdlr", u32(0), u32(0), fourcc("mdir"), fourcc("appl"), zeros(8), zeros(1)),
        box("ilst", ...(spec.ilst ?? [textItem("\u00a9nam", "Hand made")])),
      ),
    ),
  ];
  const moovAt = (payloadStart: number) =>
    box(
      "moov",
      box("mvhd", u32(0), zeros(96)),
      ...(spec.moovExtra ?? []),
      ...tracks.map((t) => trak(t, payloadStart)),
      ...udta,
    );
  const mdatHeader = spec.mdatSizeZero
    ? cat(u32(0), fourcc("mdat"))
    : spec.mdatLarge
    ? cat(u32(1), fourcc("mdat"), u64(payload.length + 16))
    : cat(u32(payload.length + 8), fourcc("mdat"));
  const front = cat(FTYP, ...(spec.extraTop ?? []));
  const moovSize = moovAt(0).length;
  if (spec.moovFirst || spec.mdatSizeZero) {
    const start = front.length + moovSize + mdatHeader.length;
    return cat(front, moovAt(start), mdatHeader, payload);
  }
  const start = front.length + mdatHeader.length;
  const moov = moovAt(start);
  if (spec.moovSizeZero) moov.set(u32(0), 0);
  return cat(front, mdatHeader, payload, moov);
}

/** For every chunk offset, the bytes there in the served file equal those in the original. */
export function assertChunkOracle(
  original: Uint8Array,
  served: Uint8Array,
  oldPayloadStart: number,
  newPayloadStart: number,
  payloadEnd: number,
): void {
  const before = chunkOffsets(original);
  const after = chunkOffsets(served);
  if (after.length !== before.length) throw new Error("chunk offset count changed");
  for (let i = 0; i < before.length; i++) {
    if (after[i] - before[i] !== newPayloadStart - oldPayloadStart) {
      throw new Error(`chunk ${i}: ${before[i]} → ${after[i]} is not the payload move`);
    }
    const n = Math.min(64, payloadEnd - before[i]);
    const a = original.subarray(before[i], before[i] + n);
    const b = served.subarray(after[i], after[i] + n);
    if (a.length !== b.length || a.some((v, k) => v !== b[k])) {
      throw new Error(
        `chunk ${i}: bytes at ${after[i]} differ from the original's at ${before[i]}`,
      );
    }
  }
}
