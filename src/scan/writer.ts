// The single writer of a scan: applies probed files to the store in batch
// transactions (256 files or 64 MiB of payload per commit), each file
// inside its own SAVEPOINT so a constraint error fails that file alone. An
// interrupted scan rolls back the open batch: nothing half-written is ever
// committed, and a rerun continues where the last commit left off.
//
// Write policies: "full" (scan) replaces the track's tags, binary tags, art
// links and structural blocks with what the file holds; "structural"
// (revalidate) refreshes only the scanner-owned columns and structural
// blocks, leaving curated tags and art alone.

import {
  type ProbedPicture,
  type ProbeResult,
  sniffImage,
  type StructuralBlock,
} from "../format/mod.ts";
import {
  getTrackByPath,
  listStructuralBlocks,
  replaceBinaryTags,
  replaceStructuralBlocks,
  replaceTextTags,
  replaceTrackArt,
  replaceTrackPictures,
  retargetTrack,
  type Store,
  StoreError,
  upsertArt,
  upsertTrack,
} from "../store/mod.ts";
import { decideMove, type MatchStrictness, MoveCandidates } from "./moves.ts";
import { payloadBytes } from "./probe_file.ts";
import type { BackingStamp } from "./stamp.ts";

export type WritePolicy = "full" | "structural";

export const BATCH_FILES = 256;
export const BATCH_BYTES = 64 * 1024 * 1024;
/** A batch open this long is committed at the next opportunity (keeps the write lock short). */
export const BATCH_MAX_MS = 1000;

export interface WriteUnit {
  path: string;
  stamp: BackingStamp;
  probe: ProbeResult;
  fingerprint: string | null;
  contentHash: string | null;
  /** SHA-256 hex of each picture, when the prober computed them. */
  pictureSha256?: string[];
}

/** Art ids remembered per SHA-256 (a cover shared by an album is inserted once). */
const ART_CACHE_MAX = 4096;

export interface WriterOptions {
  policy: WritePolicy;
  /** Move re-identification (full policy only). */
  strictness: MatchStrictness;
  warn(message: string): void;
  info(message: string): void;
  /** After each commit: files in it, and the last one's path. */
  onCommit?(files: number, lastPath: string): void;
}

export class BatchWriter {
  #pendingFiles = 0;
  #pendingBytes = 0;
  #openedAt = 0;
  #lastPath = "";
  /** sha256 → art id, for art this scan has seen (cleared on rollback). */
  readonly #artIds = new Map<string, number>();
  /** Art remembered while applying the current file (forgotten if its savepoint rolls back). */
  #artAdded: string[] = [];
  /** Files committed so far. */
  committed = 0;
  /** Moves re-identified (included in `committed` once their batch commits). */
  moved = 0;
  readonly #moves: MoveCandidates;

  constructor(readonly store: Store, readonly options: WriterOptions) {
    this.#moves = new MoveCandidates(store);
  }

  /**
   * Write one probed file into the open batch. Returns false (after a
   * warning) when this file failed; throws on errors that doom the scan
   * (the store busy, full, corrupt or read-only).
   */
  write(unit: WriteUnit): boolean {
    if (!this.store.inTransaction) {
      this.store.beginBatch();
      this.#openedAt = Date.now();
    }
    this.#artAdded = [];
    try {
      this.store.transaction(() => this.#apply(unit));
    } catch (e) {
      for (const sha of this.#artAdded) this.#artIds.delete(sha);
      if (e instanceof StoreError && (e.kind === "constraint" || e.kind === "limit")) {
        this.options.warn(`skipping ${unit.path}: ${e.message}`);
        return false;
      }
      throw e;
    }
    this.#pendingFiles++;
    this.#pendingBytes += payloadBytes(unit.probe);
    this.#lastPath = unit.path;
    if (this.#pendingFiles >= BATCH_FILES || this.#pendingBytes >= BATCH_BYTES) this.commit();
    return true;
  }

  /** Commit when the probes went idle or the batch has been open too long. */
  maybeCommit(idle: boolean): void {
    // Also ends a batch whose files all failed: BEGIN IMMEDIATE holds the write lock.
    if (!this.store.inTransaction) return;
    if (idle || Date.now() - this.#openedAt >= BATCH_MAX_MS) this.commit();
  }

  commit(): void {
    this.store.commitBatch();
    const files = this.#pendingFiles;
    this.committed += files;
    this.#pendingFiles = 0;
    this.#pendingBytes = 0;
    if (files > 0) this.options.onCommit?.(files, this.#lastPath);
  }

  /** Drop the open batch (interrupt or fatal error). */
  rollback(): void {
    this.store.rollbackBatch();
    this.#pendingFiles = 0;
    this.#pendingBytes = 0;
    this.#artIds.clear();
  }

  #apply(u: WriteUnit): void {
    const p = u.probe;
    if (this.options.policy === "full" && u.fingerprint !== null) {
      if (getTrackByPath(this.store, u.path) === null && this.#tryMove(u)) return;
    }
    const id = upsertTrack(this.store, {
      backingPath: u.path,
      format: p.format,
      audioOffset: p.audioOffset,
      audioLength: p.audioLength,
      backingSize: u.stamp.size,
      backingMtimeNs: u.stamp.mtimeNs,
      backingCtimeNs: u.stamp.ctimeNs,
      fingerprint: u.fingerprint,
      contentHash: u.contentHash,
    });
    if (this.options.policy === "full") {
      replaceTextTags(this.store, id, p.tags);
      replaceBinaryTags(this.store, id, p.binaryTags);
      this.#replacePictures(id, u);
    }
    replaceStructuralIfChanged(this.store, id, p.structural);
  }

  #replacePictures(trackId: number, u: WriteUnit): void {
    const pictures = u.probe.pictures.map(withDimensions);
    const shas = u.pictureSha256;
    if (!shas || shas.length !== pictures.length) {
      replaceTrackPictures(this.store, trackId, pictures);
      return;
    }
    const links = pictures.map((p, i) => {
      let artId = this.#artIds.get(shas[i]);
      if (artId === undefined) {
        artId = upsertArt(this.store, {
          mime: p.mime,
          width: p.width,
          height: p.height,
          data: p.data,
        });
        if (this.#artIds.size >= ART_CACHE_MAX) this.#artIds.clear();
        this.#artIds.set(shas[i], artId);
        this.#artAdded.push(shas[i]);
      }
      return { artId, pictureType: p.pictureType, description: p.description };
    });
    replaceTrackArt(this.store, trackId, links);
  }

  #tryMove(u: WriteUnit): boolean {
    const decision = decideMove(this.#moves, {
      path: u.path,
      stamp: u.stamp,
      fingerprint: u.fingerprint!,
      contentHash: u.contentHash,
    }, this.options.strictness);
    if (decision.kind === "none") return false;
    if (decision.kind === "refused") {
      this.options.warn(`${u.path}: ${decision.reason}; inserting fresh`);
      return false;
    }
    this.#moves.found(u.fingerprint!, decision.track.id);
    retargetTrack(this.store, decision.track.id, {
      backingPath: u.path,
      backingSize: u.stamp.size,
      backingMtimeNs: u.stamp.mtimeNs,
      backingCtimeNs: u.stamp.ctimeNs,
      audioOffset: u.probe.audioOffset,
      audioLength: u.probe.audioLength,
      fingerprint: u.fingerprint,
      contentHash: decision.contentHash,
    });
    this.moved++;
    this.options.info(`re-identified ${u.path} as moved from ${decision.track.backingPath}`);
    return true;
  }
}

function sameBlocks(a: readonly StructuralBlock[], b: readonly StructuralBlock[]): boolean {
  if (a.length !== b.length) return false;
  const key = (s: StructuralBlock) => `${s.kind}:${s.ordinal}`;
  const byKey = new Map(a.map((s) => [key(s), s.body]));
  for (const s of b) {
    const other = byKey.get(key(s));
    if (!other || other.length !== s.body.length) return false;
    for (let i = 0; i < other.length; i++) if (other[i] !== s.body[i]) return false;
  }
  return true;
}

/**
 * Replace a track's structural blocks unless they are byte-identical: every
 * replace bumps content_version (a trigger per row), which would make a
 * mount drop its caches for nothing.
 */
function replaceStructuralIfChanged(
  store: Store,
  trackId: number,
  blocks: readonly StructuralBlock[],
): void {
  if (sameBlocks(listStructuralBlocks(store, trackId), blocks)) return;
  replaceStructuralBlocks(store, trackId, blocks);
}

/**
 * A picture whose container does not record its size (ID3 APIC, MP4 covr)
 * gets the size its own image header states. Art is stored once per image
 * (content-addressed, immutable), so without this the first file to bring an
 * image would decide whether every track sharing it is served with or
 * without dimensions.
 */
function withDimensions(p: ProbedPicture): ProbedPicture {
  if (p.width !== null && p.height !== null) return p;
  const image = sniffImage(p.data);
  if (image?.width == null || image.height == null) return p;
  return { ...p, width: p.width ?? image.width, height: p.height ?? image.height };
}
