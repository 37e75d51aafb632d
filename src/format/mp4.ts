// M4A/M4B: probe and synthesis of single-track, unfragmented MP4 audio.
//
// Decisions beyond the facts:
// - Top level: exactly one `ftyp`, `moov` and `mdat`; `moof` (fragments) is
//   unsupported; any other top-level box (`free`, `skip`, `wide`, `uuid`,
//   `pdin`, `mfra` …) is skipped by the probe and dropped by synthesis.
// - Tracks: exactly one `soun` track; extra chapter/subtitle text tracks
//   (handlers `text`, `sbtl`, `subt`, as audiobook tools write them) are
//   accepted and kept — their chunk offsets are shifted like the audio's.
//   Any other track (video, a second sound track) is unsupported.
// - Every chunk offset of every track must lie in the mdat payload, checked
//   at probe and at synthesis, so the constant shift is always correct.
// - A 32-bit `stco` whose shifted entries no longer fit is promoted to `co64`.
// - The old moov/udta is replaced; only its `chpl` (Nero chapters) is carried
//   into the new one, since other old udta content could contradict the tags.
// - The served mdat gets an 8-byte header (16-byte when the payload needs it).
// - Probe drops tag rows the store's CHECKs would refuse (key > 256 chars,
//   value > 256 KiB), like floor failures. Synthesis rounds decimal integer
//   values (BPM "128.00" → 128) and skips binary tags whose key is not
//   `----:<mean>:<name>` (ID3 frames, FLAC blocks have no MP4 form).

import {
  type Box,
  boxEnd,
  boxHeader,
  boxPayloadStart,
  readMoovSkippingUdta,
  readWholeBox,
  topLevelBoxes,
} from "./mp4_boxes.ts";
import { readIlst } from "./mp4_ilst.ts";
import { buildUdta, udtaLength } from "./mp4_ilst_build.ts";
import { SegmentList } from "./segments.ts";
import {
  analyzeMoov,
  CARRIED_UDTA_CHILD,
  carriedUdtaChildren,
  type ChunkTable,
  type MoovPlan,
  type PayloadRange,
  rewriteMoov,
  rewrittenMoovSize,
} from "./mp4_moov.ts";
import { makeLayout } from "./layout.ts";
import { ByteWriter } from "./bytes.ts";
import {
  type BlobSource,
  type ByteSource,
  FormatError,
  type Layout,
  MAX_MP4_METADATA_BYTES,
  type ProbeResult,
  type SynthInput,
} from "./types.ts";

interface TopLevel {
  ftyp: Box;
  moov: Box;
  mdat: Box;
}

/** Finds the three required top-level boxes by their headers alone. */
function locateTopLevel(src: ByteSource): TopLevel {
  const found = new Map<string, Box[]>();
  for (const b of topLevelBoxes(src)) {
    if (b.type === "moof") throw new FormatError("unsupported", "fragmented MP4 (moof)");
    const list = found.get(b.type);
    if (list) list.push(b);
    else found.set(b.type, [b]);
  }
  const one = (type: string): Box => {
    const list = found.get(type) ?? [];
    if (list.length === 0) throw new FormatError("malformed", `no '${type}' box`);
    if (list.length > 1) throw new FormatError("unsupported", `${list.length} '${type}' boxes`);
    return list[0];
  };
  const top = { ftyp: one("ftyp"), moov: one("moov"), mdat: one("mdat") };
  for (const b of [top.ftyp, top.moov]) {
    if (b.size > MAX_MP4_METADATA_BYTES) {
      throw new FormatError("too-large", `'${b.type}' of ${b.size} bytes`);
    }
  }
  return top;
}

const payloadOf = (mdat: Box): PayloadRange => ({
  start: boxPayloadStart(mdat),
  end: boxEnd(mdat),
});

/** Runs `f`, turning anything that is not a FormatError into one (marked "internal"). */
function guarded<T>(what: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof FormatError) throw e;
    throw new FormatError("malformed", `internal: ${what}: ${e instanceof Error ? e.message : e}`);
  }
}

/**
 * Probes an MP4 file. Reads box headers and the whole `moov` only: the
 * `mdat` payload is never read, wherever the moov sits.
 */
export function probeMp4(src: ByteSource): ProbeResult {
  return guarded("mp4 probe", () => {
    const top = locateTopLevel(src);
    const moov = readWholeBox(src, top.moov);
    const payload = payloadOf(top.mdat);
    const plan = analyzeMoov(moov, payload);
    const { tags, pictures, binaryTags } = readIlst(moov, plan.root);
    return {
      format: "m4a",
      audioOffset: payload.start,
      audioLength: payload.end - payload.start,
      tags,
      pictures,
      binaryTags,
      structural: [],
    };
  });
}

function mdatHeader(payloadLength: number): Uint8Array {
  if (payloadLength + 8 <= 0xffff_ffff) return boxHeader("mdat", payloadLength + 8);
  return new ByteWriter(16).u32be(1).latin1("mdat").u64be(payloadLength + 16).finish();
}

/**
 * Chooses which stco tables become co64 so that every shifted offset fits,
 * and the resulting moov size. Promotion grows the moov, which grows the
 * shift, so iterate until no new table overflows (at most one round per table).
 */
function planShift(
  plan: MoovPlan,
  fixedBefore: number,
  fixedAfter: number,
  oldPayloadStart: number,
  udtaSize: number,
): { promote: Set<ChunkTable>; moovSize: number; delta: number } {
  const promote = new Set<ChunkTable>();
  for (;;) {
    const moovSize = rewrittenMoovSize(plan, promote, udtaSize);
    const delta = fixedBefore + moovSize + fixedAfter - oldPayloadStart;
    let grew = false;
    for (const t of plan.tables) {
      if (!t.wide && !promote.has(t) && t.max + delta > 0xffff_ffff) {
        promote.add(t);
        grew = true;
      }
    }
    if (!grew) return { promote, moovSize, delta };
  }
}

const CARRIED_UDTA: ReadonlySet<string> = new Set([CARRIED_UDTA_CHILD]);

/** The backing file's boxes as synthesis uses them, checked against the stored audio range. */
function backingBoxes(input: SynthInput, backing: ByteSource) {
  const top = locateTopLevel(backing);
  const payload = payloadOf(top.mdat);
  if (payload.start !== input.audioOffset || payload.end - payload.start !== input.audioLength) {
    throw new FormatError(
      "malformed",
      `mdat payload ${payload.start}+${payload.end - payload.start} differs from the stored ` +
        `${input.audioOffset}+${input.audioLength}`,
    );
  }
  const ftyp = readWholeBox(backing, top.ftyp);
  // The old udta (old tags and cover art, most of a tagged moov) is replaced:
  // only what the new one carries over is read.
  const moov = readMoovSkippingUdta(backing, top.moov, CARRIED_UDTA);
  const plan = analyzeMoov(moov, payload);
  return { ftyp, plan, mdat: mdatHeader(input.audioLength) };
}

/** The size of `synthesizeMp4`'s file, counted without building its udta and moov. */
export function mp4Size(input: SynthInput, backing: ByteSource): number {
  return guarded("mp4 synthesis", () => {
    const { ftyp, plan, mdat } = backingBoxes(input, backing);
    const udta = udtaLength(input.tags, input.binaryTags, input.art, carriedUdtaChildren(plan));
    const { moovSize } = planShift(plan, ftyp.length, mdat.length, input.audioOffset, udta);
    return ftyp.length + moovSize + mdat.length + input.audioLength;
  });
}

/**
 * The served file: `[ftyp][new moov][mdat header][mdat payload]`. The ftyp
 * and moov are re-read from `backing` (each ≤ 256 MiB); the payload is a
 * backing segment, cover art and binary freeform payloads are streamed.
 */
export function synthesizeMp4(input: SynthInput, backing: ByteSource, _blobs: BlobSource): Layout {
  return guarded("mp4 synthesis", () => {
    const { ftyp, plan, mdat } = backingBoxes(input, backing);
    const udta = buildUdta(input.tags, input.binaryTags, input.art, carriedUdtaChildren(plan));
    const { promote, moovSize, delta } = planShift(
      plan,
      ftyp.length,
      mdat.length,
      input.audioOffset,
      udta.size,
    );
    const out = new SegmentList().inline(ftyp);
    for (const part of rewriteMoov(plan, delta, promote, udta.size)) out.inline(part);
    if (out.size - ftyp.length + udta.size !== moovSize) {
      throw new FormatError("malformed", "internal: moov size mismatch");
    }
    out.append(udta.segments).inline(mdat);
    out.segment({ kind: "backing", offset: input.audioOffset, length: input.audioLength });
    return makeLayout(out.finish());
  });
}
