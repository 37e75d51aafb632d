// Resolving a track to the file the mount serves: the store
// rows become synthesis input, `synthesize` turns them into a Layout, and the
// backing file is re-stamped on every resolve so drift answers EIO (stamp
// differs) or ENOENT (file gone) instead of wrong bytes.
//
// Two caches, both keyed on content_version AND the recorded backing stamp
// (size, mtime_ns, ctime_ns) AND backing_path (the original keys on
// content_version only, so a ctime-only change or a retarget could serve a
// stale layout): the header cache holds layouts under a byte budget (weight =
// inline bytes), the size cache holds what getattr needs.

import { audioStartProblem, FormatError, synthesize, synthesizedSize } from "../format/mod.ts";
import type { ByteSource, Format, Id3Version, Layout, Segment, SynthInput } from "../format/mod.ts";
import {
  getTrack,
  getTracks,
  listBinaryTagRefs,
  listStructuralBlocks,
  listTextTags,
  listTrackArt,
  readSynthRows,
  type Store,
  StoreError,
  type SynthRows,
  type TrackRow,
} from "../store/mod.ts";
import { closeBacking, FdSource, openBacking, type OpenedBacking } from "./backing.ts";
import { storeBlobSource } from "./blobs.ts";
import type { ArtCache } from "./reader.ts";
import type { BackingAccess } from "./backing_access.ts";
import { BackingChangedError, GeometryError, TrackGoneError } from "./errors.ts";
import { WeightedLru } from "./lru.ts";
import { type BackingStamp, stampsMatch, statStamp } from "./stamp.ts";
import { type BuiltRowState, type SizeIndex, sizeKey, sizeKeyOfBuilt } from "./size_index.ts";

export type { ServeMode } from "./defaults.ts";
import { LIBRARY_DEFAULTS, type ServeMode } from "./defaults.ts";

export const DEFAULT_HEADER_BUDGET = LIBRARY_DEFAULTS.headerCacheBytes;
export const DEFAULT_ATTR_BUDGET = LIBRARY_DEFAULTS.attrCacheBytes;

/**
 * What a cached layout costs beyond its inline bytes (the object, its
 * segment list, stamp and path), measured on the heap: about 1.2 KiB per
 * entry for the fixtures' layouts. Weighing it keeps the budget a bound on
 * memory, not only on header bytes.
 */
const LAYOUT_OVERHEAD = 1024;
const SEGMENT_OVERHEAD = 48;
/** Heap bytes of one size-cache entry (object, stamp bigints, path, map slot), measured. */
export const ATTR_ENTRY_BYTES = 320;

/**
 * The header cache's probation share (see lru.ts): an eighth of the budget,
 * at least 1 MiB and at most half (the layouts the worker builds ahead, 64
 * files, wait there for their open). A scan that opens each file once keeps
 * no more than that.
 */
export function headerProbation(budget: number): number {
  return Math.min(budget / 2, Math.max(budget / 8, 1 << 20));
}

function headerWeight(file: ResolvedFile): number {
  return file.inlineBytes + LAYOUT_OVERHEAD + SEGMENT_OVERHEAD * file.layout.segments.length;
}

/** A track resolved to its served bytes. Immutable once built (shared by cache and handles). */
export interface ResolvedFile {
  readonly trackId: number;
  readonly backingPath: string;
  readonly format: Format;
  /** The stored audio range of the backing file. */
  readonly audioOffset: number;
  readonly audioLength: number;
  readonly contentVersion: number;
  /** tracks.updated_at it was resolved at (feeds the attribute mtime). */
  readonly updatedAt: number;
  /** The stamp the store recorded and the backing file matched at resolve time. */
  readonly stamp: BackingStamp;
  readonly layout: Layout;
  /** Some segment streams art or binary-tag rows from the store (reads need a snapshot). */
  readonly streamsRows: boolean;
  /** Attribute mtime: max(backing mtime, updated_at) in synthesis, backing mtime otherwise. */
  readonly mtimeSec: number;
  readonly mtimeNsec: number;
  /** Inline bytes held (the header cache weight). */
  readonly inlineBytes: number;
}

interface SizeEntry {
  /** The store's data_version when the entry was last checked against its row. */
  dataVersion: number;
  contentVersion: number;
  updatedAt: number;
  backingPath: string;
  stamp: BackingStamp;
  size: number;
  mtimeSec: number;
  mtimeNsec: number;
}

export interface FileAttrs {
  size: number;
  mtimeSec: number;
  mtimeNsec: number;
}

export function recordedStamp(row: TrackRow): BackingStamp {
  return { size: row.backingSize, mtimeNs: row.backingMtimeNs, ctimeNs: row.backingCtimeNs };
}

function sameStamp(a: BackingStamp, b: BackingStamp): boolean {
  return a.size === b.size && a.mtimeNs === b.mtimeNs && a.ctimeNs === b.ctimeNs;
}

/** A backing file another thread opened for the layout of `path` (the synthesis worker's). */
export interface HandedBacking {
  path: string;
  opened: OpenedBacking;
}

/** The row state a layout or a size was made from: what `fresh` compares. */
interface RowState {
  contentVersion: number;
  updatedAt: number;
  backingPath: string;
  stamp: BackingStamp;
}

function sameRowState(a: RowState, b: RowState): boolean {
  return a.contentVersion === b.contentVersion && a.updatedAt === b.updatedAt &&
    a.backingPath === b.backingPath && sameStamp(a.stamp, b.stamp);
}

/** True when `file` was resolved from exactly this row state (the cache key). */
function fresh(file: RowState, row: TrackRow): boolean {
  return file.contentVersion === row.contentVersion && file.updatedAt === row.updatedAt &&
    file.backingPath === row.backingPath &&
    sameStamp(file.stamp, recordedStamp(row));
}

function checkStamp(row: TrackRow, observed: BackingStamp): void {
  checkRecorded(row.backingPath, recordedStamp(row), observed);
}

function checkRecorded(path: string, r: BackingStamp, observed: BackingStamp): void {
  if (!stampsMatch(r, observed)) {
    throw new BackingChangedError(
      path,
      `recorded size ${r.size} mtime ${r.mtimeNs} ctime ${r.ctimeNs}, ` +
        `now size ${observed.size} mtime ${observed.mtimeNs} ctime ${observed.ctimeNs}`,
    );
  }
}

function attrMtime(row: TrackRow, mode: ServeMode): [number, number] {
  const ns = row.backingMtimeNs;
  const sec = Number(ns / 1_000_000_000n);
  const nsec = Number(ns % 1_000_000_000n);
  if (mode === "synthesis" && row.updatedAt > sec) return [row.updatedAt, 0];
  return nsec < 0 ? [sec - 1, nsec + 1_000_000_000] : [sec, nsec];
}

/** At most this many tracks' rows are read ahead in one batch. */
export const READ_AHEAD_TRACKS = 256;

/** How much of the backing front one synthesis read fetches (a small Ogg file's headers). */
export const FRONT_BYTES = 16 * 1024;

/**
 * Synthesis reads of the backing front, served from one pread of its first
 * FRONT_BYTES: the Ogg header reader asks page by page (a page header, then
 * the rest of the page), three preads or more per file. Reads reaching past
 * the window go to the file. Copies are handed out, so no layout pins the window.
 */
class FrontSource implements ByteSource {
  #front: Uint8Array | null = null;
  constructor(readonly inner: ByteSource) {}
  get size(): number {
    return this.inner.size;
  }
  read(offset: number, length: number): Uint8Array {
    if (offset < 0 || length < 0 || offset + length > FRONT_BYTES) {
      return this.inner.read(offset, length);
    }
    this.#front ??= this.inner.read(0, FRONT_BYTES);
    const end = Math.min(offset + length, this.#front.length);
    return this.#front.slice(Math.min(offset, end), end);
  }
}

export function segmentStreamsRows(seg: Segment): boolean {
  return seg.kind === "art" || seg.kind === "binary-tag" || seg.kind === "ogg-art";
}

/** What synthesis reads, from one track's rows read ahead. */
export function synthInputOf(rows: SynthRows, id3Version: Id3Version): SynthInput {
  const { row } = rows;
  return {
    format: row.format,
    audioOffset: row.audioOffset,
    audioLength: row.audioLength,
    backingSize: row.backingSize,
    tags: rows.tags,
    binaryTags: rows.binaryTags,
    art: rows.art,
    structural: rows.structural,
    id3Version,
  };
}

/** Throws BackingChangedError unless the opened file still has the stamp `row` recorded. */
export function checkRowStamp(row: TrackRow, opened: OpenedBacking): void {
  checkStamp(row, opened.stamp);
}

/**
 * The served file of `row` (the layout synthesized from `input`, or the
 * backing file as it is when `input` is null): the one build, used by the
 * serving thread and by the synthesis worker alike.
 */
export function buildResolved(
  row: TrackRow,
  input: SynthInput | null,
  opened: OpenedBacking,
  mode: ServeMode,
  store: Store,
  images: ArtCache | null = null,
): ResolvedFile {
  let layout: Layout;
  if (input === null) {
    // Structure-only: the backing file as it is.
    layout = {
      segments: [{ kind: "backing", offset: 0, length: row.backingSize }],
      size: row.backingSize,
    };
  } else {
    const backing = new FrontSource(new FdSource(opened, row.backingSize, row.backingPath));
    // Blobs are only sized here (synthesizers stream them); reads go through the reader.
    try {
      layout = synthesize(input, backing, storeBlobSource(store, images));
    } catch (e) {
      if (!(e instanceof FormatError)) throw e;
      throw new GeometryError(row.id, row.backingPath, e.message);
    }
  }
  let inlineBytes = 0;
  let streamsRows = false;
  for (const seg of layout.segments) {
    if (seg.kind === "inline") inlineBytes += seg.bytes.length;
    else if (segmentStreamsRows(seg)) streamsRows = true;
  }
  const [mtimeSec, mtimeNsec] = attrMtime(row, mode);
  return {
    trackId: row.id,
    backingPath: row.backingPath,
    format: row.format,
    audioOffset: row.audioOffset,
    audioLength: row.audioLength,
    contentVersion: row.contentVersion,
    updatedAt: row.updatedAt,
    stamp: recordedStamp(row),
    layout,
    streamsRows,
    mtimeSec,
    mtimeNsec,
    inlineBytes,
  };
}

/**
 * The size of the file `buildResolved` would make for `row` in synthesis
 * mode, counted without building its header (format/mod.ts
 * `synthesizedSize`): what sizing a scan ahead needs. Throws where
 * buildResolved would.
 */
export function synthesizedSizeOf(
  row: TrackRow,
  input: SynthInput,
  opened: OpenedBacking,
  store: Store,
  images: ArtCache | null = null,
): number {
  const backing = new FrontSource(new FdSource(opened, row.backingSize, row.backingPath));
  try {
    return synthesizedSize(input, backing, storeBlobSource(store, images));
  } catch (e) {
    if (!(e instanceof FormatError)) throw e;
    throw new GeometryError(row.id, row.backingPath, e.message);
  }
}

/**
 * The stored geometry's problem for an opened file (null: the audio starts
 * where the row says), as the first open of a layout checks it.
 */
export function geometryProblem(file: ResolvedFile, opened: OpenedBacking): string | null {
  const source = new FdSource(opened, file.stamp.size, file.backingPath);
  return audioStartProblem(file.format, source, file.audioOffset, file.audioLength);
}

export class Resolver {
  readonly headers: WeightedLru<number, ResolvedFile>;
  /** The store's data_version at which a cached layout last matched its row. */
  readonly #checkedAt = new WeakMap<ResolvedFile, number>();
  /** Size and mtime of files getattr has answered (weight ATTR_ENTRY_BYTES each). */
  readonly sizes: WeightedLru<number, SizeEntry>;
  readonly #geometryChecked = new WeakSet<ResolvedFile>();
  /** Which backing files may be served (null: any the process can open). */
  access: BackingAccess | null = null;
  /** Whole images synthesis slices (the mount's art cache; null: read from the store each time). */
  images: ArtCache | null = null;
  /**
   * Synthesis rows read ahead for files about to be sized (`prefetch`), valid
   * while the store's data_version is the one they were read at; each is
   * used once.
   */
  #ahead: {
    dataVersion: number;
    rows: Map<number, SynthRows>;
    /** Rows of tracks whose size the index holds, with their key (no synthesis rows needed). */
    tracks: Map<number, { row: TrackRow; key: [number, number] }>;
  } | null = null;
  /** Sizes remembered across mounts (null: none, as in structure-only mode). */
  index: SizeIndex | null = null;
  /** The data_version every check uses inside `batch` (one read for many files). */
  #pinnedVersion: number | null = null;
  /**
   * True while a size that getattr misses should be counted
   * (`synthesizedSizeOf`) instead of built: a scan that has only listed and
   * stat'ed so far (no file opened) never serves those layouts.
   */
  countSizes: () => boolean = () => false;

  constructor(
    readonly store: Store,
    readonly mode: ServeMode,
    headerBudget = DEFAULT_HEADER_BUDGET,
    /**
     * The ID3v2 version served for MP3 and WAV. Fixed for the Resolver's
     * life, so the header cache (in memory, per mount) never mixes versions.
     */
    readonly id3Version: Id3Version = 4,
    attrBudget = DEFAULT_ATTR_BUDGET,
  ) {
    this.headers = new WeightedLru(headerBudget, headerProbation(headerBudget));
    this.sizes = new WeightedLru(attrBudget);
  }

  #dataVersion(): number {
    return this.#pinnedVersion ?? this.store.dataVersion();
  }

  /** The serving connection's data_version (the pinned one inside `batch`). */
  dataVersion(): number {
    return this.#dataVersion();
  }

  /**
   * Run `fn` with the store's data_version read once: the checks of many
   * files answered together (one directory listing) share it, as if they ran
   * at the same instant.
   */
  batch<T>(fn: () => T): T {
    if (this.#pinnedVersion !== null) return fn();
    this.#pinnedVersion = this.store.dataVersion();
    try {
      return fn();
    } finally {
      this.#pinnedVersion = null;
    }
  }

  /**
   * Read ahead, in one batch of statements, the rows of those `trackIds`
   * whose size is not cached: a directory listing with attributes sizes all
   * its files next. A batch the store cannot give (a crafted row, too many
   * rows) is dropped: each file then reads its own rows, and a bad row fails
   * that file alone.
   */
  prefetch(trackIds: readonly number[], need: "sizes" | "layouts" = "sizes"): void {
    const dataVersion = this.#dataVersion();
    // Rows still ahead from an earlier batch at this version are not read again
    // (a walker looking up a directory's names one by one asks for them each time).
    const ahead = this.#ahead?.dataVersion === dataVersion ? this.#ahead.rows : null;
    const cached = need === "sizes" ? this.sizes : this.headers;
    const missing: number[] = [];
    for (const id of trackIds) {
      if (cached.peek(id) === undefined && !ahead?.has(id)) missing.push(id);
      if (missing.length === READ_AHEAD_TRACKS) break;
    }
    if (missing.length < 2) return;
    this.#ahead = null;
    try {
      // Tracks the size index answers need their row only; the rest, everything synthesis reads.
      const tracks = new Map<number, { row: TrackRow; key: [number, number] }>();
      let synth = missing;
      const index = this.index;
      // A layout already cached (built ahead on the worker) needs its row only too.
      const rowOnly = (id: number) =>
        index?.has(id) === true || this.headers.peek(id) !== undefined;
      if (need === "sizes" && missing.some(rowOnly)) {
        synth = [];
        for (const row of getTracks(this.store, missing)) {
          const key = sizeKey(row);
          if (index?.peek(row.id, key) !== undefined) tracks.set(row.id, { row, key });
          else if (this.headers.peek(row.id) !== undefined) tracks.set(row.id, { row, key });
          else synth.push(row.id);
        }
      }
      const rows = synth.length === 0 ? new Map() : readSynthRows(this.store, synth);
      if (rows !== null) {
        this.#ahead = { dataVersion, rows, tracks };
        this.prefetchBatches++;
      } else if (tracks.size > 0) {
        this.#ahead = { dataVersion, rows: new Map(), tracks };
      }
    } catch (e) {
      if (!(e instanceof StoreError)) throw e;
      this.prefetchFallbacks++;
    }
  }

  /**
   * Whether `trackId`'s rows are read ahead and still valid (no need to read
   * a batch for it): what sizing it needs, or (`layouts`) what synthesis needs.
   */
  hasRowsAhead(trackId: number, need: "sizes" | "layouts" = "sizes"): boolean {
    const ahead = this.#ahead;
    return ahead?.dataVersion === this.#dataVersion() &&
      (ahead.rows.has(trackId) || (need === "sizes" && ahead.tracks.has(trackId)));
  }

  /** Batches of rows read ahead, and batches dropped because a row was refused (each file then read alone). */
  prefetchBatches = 0;
  prefetchFallbacks = 0;

  /** The rows read ahead for `trackId` at this data_version, taken once. */
  #takeAhead(trackId: number, dataVersion: number): SynthRows | undefined {
    const ahead = this.#ahead;
    if (ahead === null) return undefined;
    if (ahead.dataVersion !== dataVersion) {
      this.#ahead = null;
      return undefined;
    }
    const rows = ahead.rows.get(trackId);
    if (rows !== undefined) {
      ahead.rows.delete(trackId);
      if (ahead.rows.size === 0 && ahead.tracks.size === 0) this.#ahead = null;
    }
    return rows;
  }

  /** The track row read ahead for `trackId` at this data_version (either kind), left in place. */
  #aheadRow(trackId: number, dataVersion: number): TrackRow | undefined {
    const ahead = this.#ahead;
    if (ahead?.dataVersion !== dataVersion) return undefined;
    return ahead.tracks.get(trackId)?.row ?? ahead.rows.get(trackId)?.row;
  }

  /** The synthesis rows read ahead for `trackId` at this data_version, left in place. */
  #peekAhead(trackId: number, dataVersion: number): SynthRows | undefined {
    const ahead = this.#ahead;
    return ahead?.dataVersion === dataVersion ? ahead.rows.get(trackId) : undefined;
  }

  /** The track row read ahead for `trackId` (its size is in the index) at this data_version, taken once. */
  #takeAheadTrack(
    trackId: number,
    dataVersion: number,
  ): { row: TrackRow; key: [number, number] } | undefined {
    const ahead = this.#ahead;
    if (ahead === null || ahead.dataVersion !== dataVersion) return undefined;
    const taken = ahead.tracks.get(trackId);
    if (taken !== undefined) {
      ahead.tracks.delete(trackId);
      if (ahead.rows.size === 0 && ahead.tracks.size === 0) this.#ahead = null;
    }
    return taken;
  }

  /**
   * Resolve a track and open its backing file: the fd is validated against
   * the recorded stamp and owned by the caller (close it with closeBacking).
   */
  /**
   * Resolve a track for serving, keeping its backing fd open. `dataVersion`:
   * the store's data_version the layout was checked (or built) at.
   */
  open(
    trackId: number,
    handed?: HandedBacking,
  ): { file: ResolvedFile; opened: OpenedBacking; dataVersion: number } {
    return this.batch(() => {
      const r = this.#resolve(trackId, true, false, null, handed);
      return { file: r.file, opened: r.opened!, dataVersion: this.#dataVersion() };
    });
  }

  /** Resolve a track (re-stamping the backing file); no fd stays open. */
  resolve(trackId: number): ResolvedFile {
    return this.#resolve(trackId, false).file;
  }

  /**
   * `sizeOnly`: the caller only needs size and mtime, so synthesis may skip
   * work (a layout marked sizeOnly is returned but never cached). `known`: the
   * row the caller just read, reused for the header-cache check.
   */
  #resolve(
    trackId: number,
    keepFd: boolean,
    sizeOnly = false,
    known: TrackRow | null = null,
    handed?: HandedBacking,
  ): { file: ResolvedFile; opened: OpenedBacking | null } {
    // A stat is no use of the layout: it does not take it out of probation.
    const cached = this.headers.get(trackId, !sizeOnly);
    const dataVersion = this.#dataVersion();
    if (cached !== undefined) {
      // Checked against its row at this data_version already: nothing in the store moved.
      if (this.#checkedAt.get(cached) === dataVersion) return this.#reuse(cached, keepFd, handed);
      // A stat at this data_version read the row already: its size entry holds
      // that row state (a layout built ahead is opened right after its stat).
      const seen = known === null ? this.sizes.peek(trackId) : undefined;
      if (seen?.dataVersion === dataVersion && sameRowState(cached, seen)) {
        this.#checkedAt.set(cached, dataVersion);
        return this.#reuse(cached, keepFd, handed);
      }
      // The row read ahead with its directory, else read now.
      const row = known ?? this.#aheadRow(trackId, dataVersion) ?? getTrack(this.store, trackId);
      if (row === null) throw new TrackGoneError(trackId);
      if (fresh(cached, row)) {
        this.#checkedAt.set(cached, dataVersion);
        return this.#reuse(cached, keepFd, handed);
      }
    }
    // Miss: the row is read once, with what synthesis needs, in one snapshot
    // (no separate read first: the first getattr of every file comes here).
    const { row, input } = this.#readForBuild(trackId, dataVersion);
    if (input !== null && sizeOnly) input.sizeOnly = true;
    const opened = this.#open(row.backingPath);
    try {
      checkStamp(row, opened.stamp);
      const file = this.#build(row, input, opened);
      if (this.index?.record(row.id, sizeKey(row), file.layout.size)) {
        // The index held a wrong size for this very row state: whatever
        // getattr answered from it must not be answered again.
        this.sizes.delete(row.id);
      }
      if (keepFd) this.#checkGeometry(file, opened);
      // Built for a stat: kept for the open that follows, which is its first use.
      if (!file.layout.sizeOnly) this.headers.set(trackId, file, headerWeight(file), !sizeOnly);
      this.#checkedAt.set(file, dataVersion);
      if (keepFd) return { file, opened };
      closeBacking(opened.fd);
      return { file, opened: null };
    } catch (e) {
      closeBacking(opened.fd);
      throw e;
    }
  }

  /** A cached layout still fresh for its row: re-stamp the backing file (and open it). */
  /**
   * `handed`: the backing file already open for this layout (the synthesis
   * worker opened it, checked it against the access policy and stamped it);
   * used instead of opening the file again. It stays the caller's to close
   * unless it is returned.
   */
  #reuse(cached: ResolvedFile, keepFd: boolean, handed?: HandedBacking) {
    const path = cached.backingPath;
    if (!keepFd) {
      checkRecorded(path, cached.stamp, statStamp(path));
      return { file: cached, opened: null };
    }
    // The handed file serves only the layout it was opened for: same path, same stamp.
    const use = handed !== undefined && handed.path === path &&
        stampsMatch(cached.stamp, handed.opened.stamp)
      ? handed.opened
      : undefined;
    const opened = use ?? this.#open(path);
    try {
      checkRecorded(path, cached.stamp, opened.stamp);
      this.#checkGeometry(cached, opened);
    } catch (e) {
      // A handed file stays the caller's to close.
      if (opened !== use) closeBacking(opened.fd);
      throw e;
    }
    return { file: cached, opened };
  }

  /**
   * Before a layout is first served (opened), check that the stored geometry
   * points at audio; getattr's builds skip it (they serve no bytes). Layouts
   * are immutable and keyed on the row and stamp, so once per layout suffices.
   */
  #checkGeometry(file: ResolvedFile, opened: OpenedBacking): void {
    if (this.mode !== "synthesis" || this.#geometryChecked.has(file)) return;
    const problem = geometryProblem(file, opened);
    if (problem !== null) throw new GeometryError(file.trackId, file.backingPath, problem);
    this.#geometryChecked.add(file);
  }

  /** Open a backing file, refused (EACCES) when the access policy does not allow it. */
  #open(path: string): OpenedBacking {
    const opened = openBacking(path);
    try {
      this.access?.check(opened.fd, path);
    } catch (e) {
      closeBacking(opened.fd);
      throw e;
    }
    return opened;
  }

  /** The row, and in synthesis mode everything synthesis needs, read in one snapshot. */
  #readForBuild(trackId: number, dataVersion: number): { row: TrackRow; input: SynthInput | null } {
    const ahead = this.#takeAhead(trackId, dataVersion);
    if (ahead !== undefined) {
      return { row: ahead.row, input: this.mode === "synthesis" ? this.#inputOf(ahead) : null };
    }
    const read = this.mode === "synthesis"
      ? this.store.readTransaction(() => {
        const r = getTrack(this.store, trackId);
        return r === null ? null : { row: r, input: this.#input(r) };
      })
      : (() => {
        const r = getTrack(this.store, trackId);
        return r === null ? null : { row: r, input: null };
      })();
    if (read === null) throw new TrackGoneError(trackId);
    return read;
  }

  #inputOf(rows: SynthRows): SynthInput {
    return synthInputOf(rows, this.id3Version);
  }

  #input(row: TrackRow): SynthInput {
    return {
      format: row.format,
      audioOffset: row.audioOffset,
      audioLength: row.audioLength,
      backingSize: row.backingSize,
      tags: listTextTags(this.store, row.id),
      binaryTags: listBinaryTagRefs(this.store, row.id),
      art: listTrackArt(this.store, row.id),
      // Only FLAC synthesis reads STREAMINFO/SEEKTABLE rows: one query less per first stat.
      structural: row.format === "flac" ? listStructuralBlocks(this.store, row.id) : [],
      id3Version: this.id3Version,
    };
  }

  #build(row: TrackRow, input: SynthInput | null, opened: OpenedBacking): ResolvedFile {
    return buildResolved(row, input, opened, this.mode, this.store, this.images);
  }

  /**
   * Take in a layout built ahead on the synthesis worker. It is not marked
   * checked at any data_version, so the open that uses it first compares it
   * with the track's current row (`fresh`) and re-stamps the backing file;
   * a layout already cached (built here meanwhile) wins. `geometryChecked`:
   * the worker checked the stored geometry against this backing state.
   */
  adopt(file: ResolvedFile, geometryChecked: boolean): boolean {
    if (this.headers.peek(file.trackId) !== undefined) return false;
    // Built for an open to come: that open is its first use, not a second.
    this.headers.set(file.trackId, file, headerWeight(file), false);
    if (geometryChecked) this.#geometryChecked.add(file);
    // Its size is remembered across mounts like one built here.
    if (this.index?.record(file.trackId, sizeKeyOfBuilt(file), file.layout.size)) {
      this.sizes.delete(file.trackId);
    }
    return true;
  }

  /**
   * Remember a size another thread synthesized (the worker sizing a first
   * scan ahead) for the row state it was made from.
   */
  recordSize(
    built: BuiltRowState & { trackId: number },
    size: number,
  ): void {
    if (this.index?.record(built.trackId, sizeKeyOfBuilt(built), size)) {
      this.sizes.delete(built.trackId);
    }
  }

  /**
   * What getattr needs: exact size and mtime. A size-cache hit still reads
   * the row (content_version, path, stamp) and re-stats the backing file.
   */
  attrs(trackId: number): FileAttrs {
    return this.batch(() => this.#attrs(trackId));
  }

  #attrs(trackId: number): FileAttrs {
    const e = this.sizes.get(trackId);
    if (e !== undefined) {
      // The store is unchanged since the entry was checked against its row
      // (data_version moves on every commit by another connection): only
      // the backing file can have drifted. A media server's scan stats every
      // file while nothing writes, so this is the common case.
      const dataVersion = this.#dataVersion();
      if (e.dataVersion === dataVersion) {
        checkRecorded(e.backingPath, e.stamp, statStamp(e.backingPath));
        return e;
      }
      const row = getTrack(this.store, trackId);
      if (row === null) throw new TrackGoneError(trackId);
      if (fresh(e, row)) {
        checkStamp(row, statStamp(row.backingPath));
        e.dataVersion = dataVersion;
        return e;
      }
    }
    const dataVersion = this.#dataVersion();
    const indexed = this.#indexedAttrs(trackId, dataVersion);
    if (indexed !== null) {
      this.sizes.set(trackId, indexed, ATTR_ENTRY_BYTES);
      return indexed;
    }
    if (
      this.mode === "synthesis" && this.headers.peek(trackId) === undefined && this.countSizes()
    ) {
      const counted = this.#counted(trackId, dataVersion);
      this.sizes.set(trackId, counted, ATTR_ENTRY_BYTES);
      return counted;
    }
    // No row read first: the miss reads it once, with what synthesis needs.
    const file = this.#resolve(trackId, false, true).file;
    const entry: SizeEntry = {
      dataVersion,
      contentVersion: file.contentVersion,
      updatedAt: file.updatedAt,
      backingPath: file.backingPath,
      stamp: file.stamp,
      size: file.layout.size,
      mtimeSec: file.mtimeSec,
      mtimeNsec: file.mtimeNsec,
    };
    this.sizes.set(trackId, entry, ATTR_ENTRY_BYTES);
    return entry;
  }

  /** Size and mtime of a track counted from its rows and backing file, nothing built or cached. */
  #counted(trackId: number, dataVersion: number): SizeEntry {
    const { row, input } = this.#readForBuild(trackId, dataVersion);
    const opened = this.#open(row.backingPath);
    try {
      checkStamp(row, opened.stamp);
      const size = synthesizedSizeOf(row, input!, opened, this.store, this.images);
      this.index?.record(row.id, sizeKey(row), size);
      return this.#sizeEntry(row, size, dataVersion);
    } finally {
      closeBacking(opened.fd);
    }
  }

  /**
   * Size and mtime from the size index: the track's row (read ahead with its
   * directory, or read now) must be the row state the size was made from, and
   * the backing file must still match the row's stamp. Null: synthesize.
   */
  #indexedAttrs(trackId: number, dataVersion: number): SizeEntry | null {
    const index = this.index;
    if (index === null) return null;
    if (!index.has(trackId)) return null;
    // Synthesis rows read ahead stay for the synthesis that needs them (a miss, or the open next).
    // The key was computed when the row was read ahead; otherwise here.
    const taken = this.#takeAheadTrack(trackId, dataVersion);
    const row = taken?.row ?? this.#peekAhead(trackId, dataVersion)?.row ??
      getTrack(this.store, trackId);
    if (row === null) return null;
    const size = index.get(trackId, taken?.key ?? sizeKey(row));
    if (size === undefined) return null;
    checkStamp(row, statStamp(row.backingPath));
    return this.#sizeEntry(row, size, dataVersion);
  }

  /** What getattr keeps of `row` served at `size`, checked at `dataVersion`. */
  #sizeEntry(row: TrackRow, size: number, dataVersion: number): SizeEntry {
    const [mtimeSec, mtimeNsec] = attrMtime(row, this.mode);
    return {
      dataVersion,
      contentVersion: row.contentVersion,
      updatedAt: row.updatedAt,
      backingPath: row.backingPath,
      stamp: recordedStamp(row),
      size,
      mtimeSec,
      mtimeNsec,
    };
  }

  /** Drop a track's cached layout and size (removed or changed by a refresh). */
  forget(trackId: number): void {
    this.headers.delete(trackId);
    this.sizes.delete(trackId);
  }

  /** Keep only the tracks for which `live` is true (after a full rebuild). */
  retain(live: (trackId: number) => boolean): void {
    this.headers.retain(live);
    this.sizes.retain(live);
  }

  get sizeEntries(): number {
    return this.sizes.size;
  }
}
