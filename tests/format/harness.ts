// Round-trip harness shared by every format test: probe a real file,
// turn the probe into store-shaped synthesis input (optionally edited),
// synthesize, materialize to a file with the same extension, probe it back,
// and compare through independent readers (ffmpeg, mutagen).
//
// Typical use:
//   await using rt = await roundTrip(fx.path, {
//     edit: (input, blobs) => setTag(input, "title", ["X"]),
//   });
//   assertReprobeMatchesInput(rt);   // tags, art, binary tags, audio length
//   assertAudioIdentical(rt);        // audio range bytes
//   await assertPcmEqual(rt);        // ffmpeg md5 of decoded audio
//   await assertMutagenMatchesInput(rt); // or assertMutagenSameAsOriginal(rt)
//   assertRandomRanges(rt);          // readLayoutRange windows vs materialized bytes
// (the temp dir goes when the scope ends, pass or fail)

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import {
  compareKey,
  extensionOf,
  inputFromProbe,
  materialize,
  MemoryBlobs,
  probePath,
  readLayoutRange,
  synthesize,
} from "../../src/format/mod.ts";
import type { LayoutSources } from "../../src/format/layout.ts";
import { BoundedSource, BufferSource } from "../../src/format/source.ts";
import {
  type ArtRef,
  type ByteSource,
  FormatError,
  type Layout,
  type ProbedPicture,
  type ProbeResult,
  type SynthInput,
  type TagEntry,
} from "../../src/format/types.ts";
import { mutagenTags, type MutagenView, pcmMd5, tempDir } from "../fixtures/fixtures.ts";
import { mulberry32 } from "./mutate.ts";

export interface RoundTripOptions {
  /** Edit the store-shaped input before synthesis (tags, art, binary tags). */
  edit?: (input: SynthInput, blobs: MemoryBlobs) => void;
  /** Directory for the synthesized file (default: a fresh temp dir). */
  dir?: string;
}

export interface RoundTrip extends AsyncDisposable {
  /** The original file and its bytes. */
  path: string;
  originalBytes: Uint8Array;
  original: ProbeResult;
  /** The (possibly edited) input the synthesizer got. */
  input: SynthInput;
  blobs: MemoryBlobs;
  sources: LayoutSources;
  layout: Layout;
  /** The materialized served file, also written to `outPath` (same extension). */
  bytes: Uint8Array;
  outPath: string;
  /** The served file probed back. */
  reprobe: ProbeResult;
  /** Removes the temp dir (when the harness made one). */
  cleanup(): Promise<void>;
}

export function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** Runs `probe` over `bytes` inside the 64 MiB read budget; the result and the bytes it read. */
export function probeCounted(
  probe: (src: ByteSource) => ProbeResult,
  bytes: Uint8Array,
): { result: ProbeResult; read: number } {
  const src = new BoundedSource(new BufferSource(bytes));
  return { result: probe(src), read: src.bytesRead };
}

/** The kind of the FormatError `f` throws, or "none" (anything else is rethrown). */
export function errorKind(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof FormatError) return e.kind;
    throw e;
  }
  return "none";
}

/** An `assert.throws` matcher: a FormatError (of `kind`, when given). */
export const isFormatError = (kind?: string) => (e: unknown) =>
  e instanceof FormatError && (kind === undefined || e.kind === kind);

/** Probes `path` (by its extension) inside the 64 MiB read budget. */
export function probeBytes(path: string, bytes: Uint8Array): ProbeResult {
  const result = probePath(path, new BoundedSource(new BufferSource(bytes)));
  if (result === null) throw new Error(`no prober for ${path}`);
  return result;
}

export async function roundTrip(path: string, opts: RoundTripOptions = {}): Promise<RoundTrip> {
  const originalBytes = await Deno.readFile(path);
  const original = probeBytes(path, originalBytes);
  const { input, blobs } = inputFromProbe(original, originalBytes.length);
  opts.edit?.(input, blobs);
  const backing = new BufferSource(originalBytes);
  const sources: LayoutSources = { backing, blobs };
  const layout = synthesize(input, backing, blobs);
  const bytes = materialize(layout, sources);
  assert.deepEqual(bytes.length, layout.size, "materialized size equals the layout size");
  const dir = opts.dir ?? await tempDir("musefs-rt-");
  const outPath = `${dir}/served.${extensionOf(path)}`;
  await Deno.writeFile(outPath, bytes);
  const reprobe = probeBytes(outPath, bytes);
  const cleanup = () => opts.dir ? Promise.resolve() : Deno.remove(dir, { recursive: true });
  return {
    path,
    originalBytes,
    original,
    input,
    blobs,
    sources,
    layout,
    bytes,
    outPath,
    reprobe,
    cleanup,
    [Symbol.asyncDispose]: cleanup,
  };
}

// ---------------------------------------------------------------- comparable views

/** Tags as sorted `key[ordinal]=value` lines (order-insensitive comparison). */
export function tagLines(tags: readonly TagEntry[]): string[] {
  return [...tags]
    .sort((a, b) => compareKey(a.key, b.key) || a.ordinal - b.ordinal)
    .map((t) => `${t.key}[${t.ordinal}]=${t.value}`);
}

export interface PictureView {
  mime: string;
  pictureType: number;
  description: string;
  width: number | null;
  height: number | null;
  sha256: string;
}

export function pictureViews(pictures: readonly ProbedPicture[]): PictureView[] {
  return pictures.map((p) => ({
    mime: p.mime,
    pictureType: p.pictureType,
    description: p.description,
    width: p.width,
    height: p.height,
    sha256: sha256(p.data),
  }));
}

/** What the input's art should probe back as. */
export function artViews(art: readonly ArtRef[], blobs: MemoryBlobs): PictureView[] {
  return art.map((a) => ({
    mime: a.mime,
    pictureType: a.pictureType,
    description: a.description,
    width: a.width,
    height: a.height,
    sha256: sha256(blobs.art(a.artId, 0, a.byteLen)),
  }));
}

export interface ProbeCompareOptions {
  /** Picture fields the format does not carry (e.g. MP4 has no type/description). */
  ignorePictureFields?: (keyof PictureView)[];
  /** Tag keys the format is known to drop or rewrite. */
  ignoreKeys?: string[];
}

function dropFields(views: PictureView[], fields: (keyof PictureView)[] = []) {
  return views.map((v) => {
    const copy: Partial<PictureView> = { ...v };
    for (const f of fields) delete copy[f];
    return copy;
  });
}

/**
 * The served file probes back to the tags, art, binary tags and audio
 * length the input describes.
 */
export function assertReprobeMatchesInput(rt: RoundTrip, opts: ProbeCompareOptions = {}): void {
  const ignore = new Set(opts.ignoreKeys ?? []);
  const keep = (t: TagEntry) => !ignore.has(t.key);
  assert.deepEqual(rt.reprobe.format, rt.input.format, "format");
  assert.deepEqual(
    tagLines(rt.reprobe.tags.filter(keep)),
    tagLines(rt.input.tags.filter(keep)),
    "tags probe back",
  );
  assert.deepEqual(
    dropFields(pictureViews(rt.reprobe.pictures), opts.ignorePictureFields),
    dropFields(artViews(rt.input.art, rt.blobs), opts.ignorePictureFields),
    "pictures probe back",
  );
  const bin = (k: string, o: number, d: Uint8Array) => `${k}[${o}]=${sha256(d)}`;
  assert.deepEqual(
    rt.reprobe.binaryTags.map((t) => bin(t.key, t.ordinal, t.data)).sort(),
    rt.input.binaryTags.map((t) => bin(t.key, t.ordinal, rt.blobs.binaryTag(t.id, 0, t.length)))
      .sort(),
    "binary tags probe back",
  );
  assert.deepEqual(rt.reprobe.audioLength, rt.input.audioLength, "audio length");
}

/**
 * The served file's audio range is byte-identical to the original's
 * (`lengthOnly` for Ogg, whose audio pages get new sequence numbers/CRCs).
 */
export function assertAudioIdentical(rt: RoundTrip, opts: { lengthOnly?: boolean } = {}): void {
  const a = rt.originalBytes.subarray(
    rt.original.audioOffset,
    rt.original.audioOffset + rt.original.audioLength,
  );
  const b = rt.bytes.subarray(
    rt.reprobe.audioOffset,
    rt.reprobe.audioOffset + rt.reprobe.audioLength,
  );
  assert.deepEqual(b.length, a.length, "audio length");
  if (opts.lengthOnly) return;
  assert.deepEqual(sha256(b), sha256(a), "audio bytes identical");
}

/** ffmpeg decodes the served file to the same PCM as the original. */
export async function assertPcmEqual(rt: RoundTrip): Promise<void> {
  assert.deepEqual(await pcmMd5(rt.outPath), await pcmMd5(rt.path), "decoded PCM identical");
}

/** The fields of mutagen's view that every format carries. */
export function coreView(v: MutagenView, pictureFields: (keyof PictureView)[] = []) {
  return {
    title: v.normalized.title,
    artist: v.normalized.artist,
    album: v.normalized.album,
    tracknumber: v.normalized.tracknumber,
    pictures: v.normalized.pictures.map((p) => {
      const all: Record<string, unknown> = {
        mime: p.mime,
        pictureType: p.type,
        description: p.description,
        sha256: p.sha256,
      };
      for (const f of pictureFields) delete all[f];
      return all;
    }),
  };
}

/** mutagen reads the served file as it reads the original (title, artist, album, track, art). */
export async function assertMutagenSameAsOriginal(rt: RoundTrip): Promise<MutagenView> {
  const [a, b] = await Promise.all([mutagenTags(rt.path), mutagenTags(rt.outPath)]);
  assert.deepEqual(coreView(b), coreView(a), "mutagen view of served vs original");
  return b;
}

/**
 * mutagen reads exactly what the (edited) input says: first title, all
 * artists in order, album, first track number, the art bytes in order.
 */
export async function assertMutagenMatchesInput(
  rt: RoundTrip,
  opts: { ignorePictureFields?: (keyof PictureView)[] } = {},
): Promise<MutagenView> {
  const v = await mutagenTags(rt.outPath);
  const values = (key: string) =>
    rt.input.tags.filter((t) => t.key === key).sort((a, b) => a.ordinal - b.ordinal).map((t) =>
      t.value
    );
  const first = (key: string) => values(key)[0] ?? null;
  const fields = opts.ignorePictureFields ?? [];
  const expected = {
    title: first("title"),
    artist: values("artist"),
    album: first("album"),
    tracknumber: first("tracknumber"),
    pictures: artViews(rt.input.art, rt.blobs).map((p) => {
      const all: Record<string, unknown> = {
        mime: p.mime,
        pictureType: p.pictureType,
        description: p.description,
        sha256: p.sha256,
      };
      for (const f of fields) delete all[f];
      return all;
    }),
  };
  assert.deepEqual(coreView(v, fields), expected, "mutagen view of served vs input");
  return v;
}

/** Random windows read through readLayoutRange equal the same slices of the materialized file. */
export function assertRandomRanges(rt: RoundTrip, count = 200, seed = 1): void {
  const rand = mulberry32(seed);
  const size = rt.layout.size;
  const starts = [0, size - 1, Math.max(0, size - 10)];
  for (let i = 0; i < count + starts.length; i++) {
    const offset = i < starts.length ? starts[i] : Math.floor(rand() * (size + 1));
    // Mostly small windows, sometimes large ones spanning many segments.
    const length = rand() < 0.7 ? Math.floor(rand() * 300) : Math.floor(rand() * size);
    const got = readLayoutRange(rt.layout, offset, length, rt.sources);
    const want = rt.bytes.subarray(offset, Math.min(size, offset + length));
    assert(
      got.length === want.length && sha256(got) === sha256(want),
      `range ${offset}+${length} differs from the materialized file`,
    );
  }
}

// ---------------------------------------------------------------- common edits

/** Replace all rows of `key` with `values` (ordinals 0…), keeping DB order. */
export function setTag(input: SynthInput, key: string, values: string[]): void {
  input.tags = input.tags.filter((t) => t.key !== key);
  values.forEach((value, ordinal) => input.tags.push({ key, value, ordinal }));
  input.tags.sort((a, b) => compareKey(a.key, b.key) || a.ordinal - b.ordinal);
}

/** Adds a picture to the input (art bytes into the blobs). */
export function addArt(
  input: SynthInput,
  blobs: MemoryBlobs,
  data: Uint8Array,
  meta: Partial<Omit<ArtRef, "artId" | "byteLen">> = {},
): ArtRef {
  const ref: ArtRef = {
    artId: blobs.addArt(data),
    mime: meta.mime ?? "image/png",
    pictureType: meta.pictureType ?? 3,
    description: meta.description ?? "",
    width: meta.width ?? null,
    height: meta.height ?? null,
    byteLen: data.length,
  };
  input.art.push(ref);
  return ref;
}

/** Adds a binary tag row to the input (payload into the blobs). */
export function addBinaryTag(
  input: SynthInput,
  blobs: MemoryBlobs,
  key: string,
  data: Uint8Array,
): void {
  const ordinal = input.binaryTags.filter((t) => t.key === key).length;
  input.binaryTags.push({ id: blobs.addBinaryTag(data), key, ordinal, length: data.length });
  input.binaryTags.sort((a, b) => compareKey(a.key, b.key) || a.ordinal - b.ordinal);
}

/** Deterministic pseudo-random bytes (for large art / payloads). */
export function randomBytes(length: number, seed = 7): Uint8Array {
  const rand = mulberry32(seed);
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (rand() * 256) | 0;
  return out;
}

export { MemoryBlobs };
