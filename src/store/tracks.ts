// The tracks table: one row per backing file, owned by the scanner.
//
// Nanosecond stamps (backing_mtime_ns, backing_ctime_ns) are `bigint`: today's
// stamps are ~1.8e18, far past 2^53, and node:sqlite refuses to read such an
// integer as a number. Every other integer column is a number (sizes and
// offsets stay below 2^53; updated_at is unix seconds).

import type { Format } from "../model/mod.ts";
import { FORMATS } from "../model/mod.ts";
import { StoreError } from "./errors.ts";
import type { Store } from "./open.ts";

export interface TrackRow {
  id: number;
  backingPath: string;
  format: Format;
  audioOffset: number;
  audioLength: number;
  backingSize: number;
  backingMtimeNs: bigint;
  backingCtimeNs: bigint;
  contentVersion: number;
  /** Unix seconds of the last tag/art edit or scan write. */
  updatedAt: number;
  /** SHA-256 hex of the parsed probe output, or null. */
  fingerprint: string | null;
  /** SHA-256 hex of the whole file, or null. */
  contentHash: string | null;
}

/** What a scan writes for one file. Checksums left null/undefined keep the stored ones. */
export interface TrackInput {
  backingPath: string;
  format: Format;
  audioOffset: number;
  audioLength: number;
  backingSize: number;
  backingMtimeNs: bigint;
  backingCtimeNs: bigint;
  fingerprint?: string | null;
  contentHash?: string | null;
}

/** What a move re-identification rewrites (id, tags, art, format, structural kept). */
export interface RetargetInput {
  backingPath: string;
  backingSize: number;
  backingMtimeNs: bigint;
  backingCtimeNs: bigint;
  audioOffset: number;
  audioLength: number;
  fingerprint?: string | null;
  contentHash?: string | null;
}

const NOW = "CAST(strftime('%s', 'now') AS INTEGER)";

export const TRACK_COLUMNS =
  "id, backing_path, format, audio_offset, audio_length, backing_size, " +
  "backing_mtime_ns, backing_ctime_ns, content_version, updated_at, fingerprint, content_hash";

export interface RawTrack {
  id: bigint;
  backing_path: string;
  format: string;
  audio_offset: bigint;
  audio_length: bigint;
  backing_size: bigint;
  backing_mtime_ns: bigint;
  backing_ctime_ns: bigint;
  content_version: bigint;
  updated_at: bigint;
  fingerprint: string | null;
  content_hash: string | null;
}

function isFormat(s: string): s is Format {
  return (FORMATS as readonly string[]).includes(s);
}

export function toTrack(store: Store, r: RawTrack): TrackRow {
  if (!isFormat(r.format)) {
    throw new StoreError("corrupt", `track ${r.id} has unknown format ${r.format}`, store.path);
  }
  const row: TrackRow = {
    id: Number(r.id),
    backingPath: r.backing_path,
    format: r.format,
    audioOffset: Number(r.audio_offset),
    audioLength: Number(r.audio_length),
    backingSize: Number(r.backing_size),
    backingMtimeNs: r.backing_mtime_ns,
    backingCtimeNs: r.backing_ctime_ns,
    contentVersion: Number(r.content_version),
    updatedAt: Number(r.updated_at),
    fingerprint: r.fingerprint,
    contentHash: r.content_hash,
  };
  // Crafted-store defence: bounds must hold even if CHECKs were bypassed.
  if (
    row.audioOffset < 0 || row.audioLength < 0 ||
    row.audioOffset + row.audioLength > row.backingSize
  ) {
    throw new StoreError(
      "corrupt",
      `track ${row.id} has audio range ${row.audioOffset}+${row.audioLength} ` +
        `outside its backing size ${row.backingSize}`,
      store.path,
    );
  }
  return row;
}

export function getTrack(store: Store, id: number): TrackRow | null {
  const r = store.getBig<RawTrack>(`SELECT ${TRACK_COLUMNS} FROM tracks WHERE id = ?`, id);
  return r ? toTrack(store, r) : null;
}

export function getTrackByPath(store: Store, backingPath: string): TrackRow | null {
  const r = store.getBig<RawTrack>(
    `SELECT ${TRACK_COLUMNS} FROM tracks WHERE backing_path = ?`,
    backingPath,
  );
  return r ? toTrack(store, r) : null;
}

/** Every track, ascending id. */
export function listTracks(store: Store): TrackRow[] {
  return store.allBig<RawTrack>(`SELECT ${TRACK_COLUMNS} FROM tracks ORDER BY id`).map((r) =>
    toTrack(store, r)
  );
}

/** The given tracks (ids that no longer exist are simply absent), ascending id. */
export function getTracks(store: Store, ids: readonly number[]): TrackRow[] {
  if (ids.length === 0) return [];
  return store.allBig<RawTrack>(
    `SELECT ${TRACK_COLUMNS} FROM tracks WHERE id IN (SELECT value FROM json_each(?)) ORDER BY id`,
    JSON.stringify(ids),
  ).map((r) => toTrack(store, r));
}

export function listTrackIds(store: Store): number[] {
  return store.all<{ id: number }>("SELECT id FROM tracks ORDER BY id").map((r) => r.id);
}

/** Whether a track has this backing file (the unique index answers it). */
export function hasTrackAt(store: Store, backingPath: string): boolean {
  return store.get("SELECT 1 FROM tracks WHERE backing_path = ?", backingPath) !== undefined;
}

/** Every backing_path (unordered): the scan's "already present" set. */
export function listBackingPaths(store: Store): string[] {
  return store.all<{ p: string }>("SELECT backing_path AS p FROM tracks").map((r) => r.p);
}

/** Tracks whose fingerprint equals `fingerprint` (move candidates), ascending id. */
export function tracksByFingerprint(store: Store, fingerprint: string): TrackRow[] {
  return store.allBig<RawTrack>(
    `SELECT ${TRACK_COLUMNS} FROM tracks WHERE fingerprint = ? ORDER BY id`,
    fingerprint,
  ).map((r) => toTrack(store, r));
}

/**
 * Insert or update the track at `backingPath`, returning its id. Geometry
 * changes bump content_version through tracks_geometry_au; updated_at is set
 * to now; checksums given as null/undefined keep the stored values.
 */
export function upsertTrack(store: Store, t: TrackInput): number {
  const row = store.get<{ id: number }>(
    `INSERT INTO tracks (backing_path, format, audio_offset, audio_length, backing_size,
        backing_mtime_ns, backing_ctime_ns, updated_at, fingerprint, content_hash)
      VALUES (?, ?, ?, ?, ?, ?, ?, ${NOW}, ?, ?)
      ON CONFLICT (backing_path) DO UPDATE SET
        format = excluded.format,
        audio_offset = excluded.audio_offset,
        audio_length = excluded.audio_length,
        backing_size = excluded.backing_size,
        backing_mtime_ns = excluded.backing_mtime_ns,
        backing_ctime_ns = excluded.backing_ctime_ns,
        updated_at = excluded.updated_at,
        fingerprint = COALESCE(excluded.fingerprint, tracks.fingerprint),
        content_hash = COALESCE(excluded.content_hash, tracks.content_hash)
      RETURNING id`,
    t.backingPath,
    t.format,
    t.audioOffset,
    t.audioLength,
    t.backingSize,
    t.backingMtimeNs,
    t.backingCtimeNs,
    t.fingerprint ?? null,
    t.contentHash ?? null,
  );
  return row!.id;
}

/** Set checksums; null/undefined keeps the stored value (a lower tier never clears a higher one). */
export function setTrackChecksums(
  store: Store,
  id: number,
  fingerprint: string | null | undefined,
  contentHash: string | null | undefined,
): void {
  store.run(
    `UPDATE tracks SET fingerprint = COALESCE(?, fingerprint),
        content_hash = COALESCE(?, content_hash) WHERE id = ?`,
    fingerprint ?? null,
    contentHash ?? null,
    id,
  );
}

/**
 * Point track `id` at a moved backing file, keeping its id (and so its tags,
 * art, format and structural blocks). Returns false when no such track.
 */
export function retargetTrack(store: Store, id: number, t: RetargetInput): boolean {
  const r = store.run(
    `UPDATE tracks SET backing_path = ?, backing_size = ?, backing_mtime_ns = ?,
        backing_ctime_ns = ?, audio_offset = ?, audio_length = ?,
        fingerprint = COALESCE(?, fingerprint), content_hash = COALESCE(?, content_hash),
        updated_at = ${NOW}
      WHERE id = ?`,
    t.backingPath,
    t.backingSize,
    t.backingMtimeNs,
    t.backingCtimeNs,
    t.audioOffset,
    t.audioLength,
    t.fingerprint ?? null,
    t.contentHash ?? null,
    id,
  );
  return r.changes > 0;
}

/** Delete a track; its tags, track_art and structural rows cascade. Art stays for GC. */
export function deleteTrack(store: Store, id: number): boolean {
  return store.run("DELETE FROM tracks WHERE id = ?", id).changes > 0;
}

export function contentVersion(store: Store, id: number): number | null {
  return store.get<{ v: number }>("SELECT content_version AS v FROM tracks WHERE id = ?", id)?.v ??
    null;
}

/** (id, content_version, format) of every track, ascending id: the refresh's cheap identity scan. */
export function listRenderKeys(
  store: Store,
): { id: number; contentVersion: number; format: Format }[] {
  return store.all<{ id: number; v: number; f: string }>(
    "SELECT id, content_version AS v, format AS f FROM tracks ORDER BY id",
  ).map((r) => {
    if (!isFormat(r.f)) {
      throw new StoreError("corrupt", `track ${r.id} has unknown format ${r.f}`, store.path);
    }
    return { id: r.id, contentVersion: r.v, format: r.f };
  });
}
