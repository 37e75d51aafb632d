// The `moov` box: structural checks shared by probe and synthesis (single
// unfragmented sound track, chunk offsets inside the mdat payload) and the
// rewrite that drops the old `udta`, shifts every chunk offset by one delta
// and keeps every other box verbatim.

import { ascii4, ByteWriter, putU32be, putU64be, u32be } from "./bytes.ts";
import {
  type Box,
  boxEnd,
  boxHeader,
  boxPayloadStart,
  childBoxes,
  childBoxesLenient,
  findChild,
} from "./mp4_boxes.ts";
import { FormatError } from "./types.ts";

/**
 * Handlers of extra (non-sound) tracks we accept next to the one sound track:
 * chapter and subtitle text tracks, as audiobook (M4B) tools write them.
 * Their chunk offsets live in the same mdat and are shifted like the audio's.
 * Anything else (video, a second sound track, hint …) is `unsupported`.
 */
export const EXTRA_TRACK_HANDLERS: ReadonlySet<string> = new Set(["text", "sbtl", "subt"]);

/** A `stco` (32-bit) or `co64` (64-bit) chunk offset table inside the moov buffer. */
export interface ChunkTable {
  box: Box;
  wide: boolean;
  /** Offset of the first entry within the moov buffer. */
  entriesAt: number;
  count: number;
  /** Largest entry (0 when empty): decides whether a shifted stco still fits 32 bits. */
  max: number;
}

export interface MoovPlan {
  moov: Uint8Array;
  root: Box;
  tables: ChunkTable[];
}

/** The mdat payload range, absolute file offsets. */
export interface PayloadRange {
  start: number;
  end: number;
}

function only(boxes: readonly Box[], type: string, where: string): Box {
  const found = boxes.filter((b) => b.type === type);
  if (found.length !== 1) {
    throw new FormatError("malformed", `${where}: expected one '${type}', found ${found.length}`);
  }
  return found[0];
}

const childrenOf = (buf: Uint8Array, b: Box): Box[] =>
  childBoxes(buf, boxPayloadStart(b), boxEnd(b));

function handlerType(buf: Uint8Array, mdia: Box): string {
  const hdlr = only(childrenOf(buf, mdia), "hdlr", "trak/mdia");
  const p = boxPayloadStart(hdlr);
  // FullBox version/flags (4), pre_defined (4), handler_type (4).
  if (boxEnd(hdlr) - p < 12) throw new FormatError("malformed", "hdlr box too short");
  return String.fromCharCode(buf[p + 8], buf[p + 9], buf[p + 10], buf[p + 11]);
}

function readChunkTable(buf: Uint8Array, box: Box, payload: PayloadRange): ChunkTable {
  const wide = box.type === "co64";
  const width = wide ? 8 : 4;
  const p = boxPayloadStart(box);
  if (boxEnd(box) - p < 8) throw new FormatError("malformed", `${box.type} box too short`);
  const count = u32be(buf, p + 4);
  const entriesAt = p + 8;
  if (count > (boxEnd(box) - entriesAt) / width) {
    throw new FormatError("malformed", `${box.type} declares ${count} entries beyond its size`);
  }
  let max = 0;
  for (let i = 0; i < count; i++) {
    const at = entriesAt + i * width;
    let v: number;
    if (wide) {
      const hi = u32be(buf, at);
      if (hi >= 0x200000) throw new FormatError("malformed", "co64 entry beyond 2^53");
      v = hi * 0x1_0000_0000 + u32be(buf, at + 4);
    } else {
      v = u32be(buf, at);
    }
    // Offsets outside the mdat payload would point at bytes we do not serve
    // (or serve elsewhere): refuse rather than emit a file that plays garbage.
    if (v < payload.start || v > payload.end) {
      throw new FormatError(
        "unsupported",
        `chunk offset ${v} outside the mdat payload [${payload.start}, ${payload.end}]`,
      );
    }
    if (v > max) max = v;
  }
  return { box, wide, entriesAt, count, max };
}

/**
 * Validates a moov (the whole box, header at offset 0 of `moov`) and finds
 * its chunk offset tables. Throws `unsupported` for fragmented files
 * (`mvex`), files without exactly one sound track, or with extra tracks other
 * than text/subtitle ones.
 */
export function analyzeMoov(moov: Uint8Array, payload: PayloadRange): MoovPlan {
  // The caller read exactly the top-level box, so its size is the buffer's
  // length (which also covers a last box declared with size 0).
  const headerSize = moov.length >= 4 && u32be(moov, 0) === 1 ? 16 : 8;
  if (moov.length < headerSize || ascii4(moov, 4) !== "moov") {
    throw new FormatError("malformed", "moov buffer does not hold a moov box");
  }
  const root: Box = { type: "moov", start: 0, headerSize, size: moov.length };
  const kids = childrenOf(moov, root);
  if (findChild(kids, "mvex")) throw new FormatError("unsupported", "fragmented MP4 (mvex)");
  let sound = 0;
  const tables: ChunkTable[] = [];
  const all = (parent: Box, type: string) =>
    childrenOf(moov, parent).filter((b) => b.type === type);
  for (const trak of kids.filter((b) => b.type === "trak")) {
    const mdia = only(childrenOf(moov, trak), "mdia", "trak");
    const handler = handlerType(moov, mdia);
    if (handler === "soun") sound++;
    else if (!EXTRA_TRACK_HANDLERS.has(handler)) {
      throw new FormatError("unsupported", `track with handler '${handler}'`);
    }
    // Every table the rewrite will meet (it descends into every minf/stbl).
    for (const minf of all(mdia, "minf")) {
      for (const stbl of all(minf, "stbl")) {
        for (const b of childrenOf(moov, stbl)) {
          if (b.type === "stco" || b.type === "co64") tables.push(readChunkTable(moov, b, payload));
        }
      }
    }
  }
  if (sound !== 1) {
    throw new FormatError("unsupported", `expected exactly one sound track, found ${sound}`);
  }
  return { moov, root, tables };
}

/** Size of a table after rewriting: unchanged when patched in place, fresh co64 when promoted. */
const tableSize = (t: ChunkTable, promote: ReadonlySet<ChunkTable>): number =>
  promote.has(t) ? 16 + 8 * t.count : t.box.size;

/** The containers on the path to the chunk tables (parent → child); all else is copied verbatim. */
const TABLE_PATH: ReadonlyMap<string, string> = new Map([
  ["moov", "trak"],
  ["trak", "mdia"],
  ["mdia", "minf"],
  ["minf", "stbl"],
]);
const onTablePath = (parent: Box, child: Box): boolean =>
  TABLE_PATH.get(parent.type) === child.type;

/**
 * Emits the rewritten moov without its new udta: the moov header (whose size
 * counts `udtaSize` more bytes, to be appended by the caller), every child
 * except the old `udta`s, chunk offsets shifted by `delta`, and the tables in
 * `promote` rewritten as co64. Containers on the table path get 8-byte
 * headers; everything else keeps its exact bytes. Returned as the pieces in
 * order (views of the plan's moov where unchanged), for the caller to join
 * once with everything around them.
 */
export function rewriteMoov(
  plan: MoovPlan,
  delta: number,
  promote: ReadonlySet<ChunkTable>,
  udtaSize: number,
): Uint8Array[] {
  const { moov } = plan;
  const tableAt = new Map(plan.tables.map((t) => [t.box.start, t]));

  const emitTable = (t: ChunkTable): Uint8Array => {
    const p = boxPayloadStart(t.box);
    if (!promote.has(t)) {
      // Patch a copy in place: keeps header form, version/flags and any trailing bytes.
      const out = moov.slice(t.box.start, boxEnd(t.box));
      const base = t.entriesAt - t.box.start;
      for (let i = 0; i < t.count; i++) {
        if (t.wide) {
          const at = base + i * 8;
          const v = u32be(out, at) * 0x1_0000_0000 + u32be(out, at + 4) + delta;
          if (v < 0 || !Number.isSafeInteger(v)) {
            throw new FormatError("too-large", "co64 entry overflow");
          }
          putU64be(out, at, v);
        } else {
          const at = base + i * 4;
          const v = u32be(out, at) + delta;
          if (v < 0 || v > 0xffff_ffff) throw new FormatError("too-large", "stco entry overflow");
          putU32be(out, at, v);
        }
      }
      return out;
    }
    const w = new ByteWriter(16 + 8 * t.count);
    w.bytes(boxHeader("co64", 16 + 8 * t.count));
    w.bytes(moov.subarray(p, p + 4)); // version/flags
    w.u32be(t.count);
    const width = t.wide ? 8 : 4;
    for (let i = 0; i < t.count; i++) {
      const at = t.entriesAt + i * width;
      const old = t.wide ? u32be(moov, at) * 0x1_0000_0000 + u32be(moov, at + 4) : u32be(moov, at);
      const v = old + delta;
      if (v < 0 || !Number.isSafeInteger(v)) {
        throw new FormatError("too-large", "co64 entry overflow");
      }
      w.u64be(v);
    }
    return w.finish();
  };

  const emitContainer = (box: Box, extra: number, dropUdta: boolean): Uint8Array[] => {
    const parts: Uint8Array[] = [];
    let size = 8 + extra;
    for (const child of childrenOf(moov, box)) {
      if (dropUdta && child.type === "udta") continue;
      let bytes: Uint8Array[];
      const table = tableAt.get(child.start);
      if (table) bytes = [emitTable(table)];
      else if (onTablePath(box, child)) bytes = emitContainer(child, 0, false);
      else bytes = [moov.subarray(child.start, boxEnd(child))];
      for (const b of bytes) {
        parts.push(b);
        size += b.length;
      }
    }
    return [boxHeader(box.type, size), ...parts];
  };

  return emitContainer(plan.root, udtaSize, true);
}

/**
 * Children of the old moov-level `udta` that the new udta carries over
 * verbatim: only `chpl` (Nero chapter list, used by audiobook players). Any
 * other old udta content (QuickTime text atoms, old `meta`) could contradict
 * the store's tags, so it is dropped. Lenient: an unparseable udta keeps nothing.
 */
export function carriedUdtaChildren(plan: MoovPlan): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const udta of childrenOf(plan.moov, plan.root)) {
    if (udta.type !== "udta") continue;
    for (const b of childBoxesLenient(plan.moov, boxPayloadStart(udta), boxEnd(udta))) {
      if (b.type === CARRIED_UDTA_CHILD) out.push(plan.moov.subarray(b.start, boxEnd(b)));
    }
  }
  return out;
}

/** Nero chapter list. */
export const CARRIED_UDTA_CHILD = "chpl";

/** The size `rewriteMoov` will produce (header included, udta included). */
export function rewrittenMoovSize(
  plan: MoovPlan,
  promote: ReadonlySet<ChunkTable>,
  udtaSize: number,
): number {
  const { moov } = plan;
  const tableAt = new Map(plan.tables.map((t) => [t.box.start, t]));
  const sizeOf = (box: Box, dropUdta: boolean): number => {
    let size = 8;
    for (const child of childrenOf(moov, box)) {
      if (dropUdta && child.type === "udta") continue;
      const table = tableAt.get(child.start);
      if (table) size += tableSize(table, promote);
      else if (onTablePath(box, child)) size += sizeOf(child, false);
      else size += child.size;
    }
    return size;
  };
  return sizeOf(plan.root, true) + udtaSize;
}
