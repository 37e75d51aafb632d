// Art (content-addressed pictures) and track_art (a track's pictures, in
// order). Art rows are immutable (a trigger enforces it): new bytes mean a new
// row and a relink. External writers own both tables, so reads are guarded.

import { createHash } from "node:crypto";
import type { ArtRef, ProbedPicture } from "../model/mod.ts";
import { MAX_ART_BYTES, MAX_DESCRIPTION_CHARS, MAX_MIME_CHARS } from "../model/mod.ts";
import { StoreError } from "./errors.ts";
import type { Store } from "./open.ts";
import { MAX_ROWS_PER_TRACK } from "./tags.ts";

export interface ArtInput {
  mime: string;
  /** null when unknown. */
  width: number | null;
  height: number | null;
  data: Uint8Array;
}

export interface ArtMeta {
  id: number;
  sha256: string;
  mime: string;
  width: number | null;
  height: number | null;
  byteLen: number;
}

/** One track_art row to write; its ordinal is its index in the list. */
export interface ArtLink {
  artId: number;
  pictureType: number;
  description: string;
}

/** Lowercase hex SHA-256, the art table's content address. */
export function sha256Hex(data: Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/**
 * Insert the picture unless art with the same SHA-256 exists (then the
 * existing row, and its mime, wins). Returns the art id.
 */
export function upsertArt(store: Store, art: ArtInput): number {
  const sha = sha256Hex(art.data);
  return store.transaction(() => {
    store.run(
      `INSERT INTO art (sha256, mime, width, height, byte_len, data) VALUES (?, ?, ?, ?, ?, ?)
        ON CONFLICT (sha256) DO NOTHING`,
      sha,
      art.mime,
      art.width,
      art.height,
      art.data.length,
      art.data,
    );
    return store.get<{ id: number }>("SELECT id FROM art WHERE sha256 = ?", sha)!.id;
  });
}

/** The content address and size of art `artId`, or null when the row is gone. */
export function artDigest(store: Store, artId: number): { sha256: string; byteLen: number } | null {
  const r = store.get<{ sha: string; n: number }>(
    "SELECT sha256 AS sha, byte_len AS n FROM art WHERE id = ?",
    artId,
  );
  return r ? { sha256: r.sha, byteLen: r.n } : null;
}

export function getArtMeta(store: Store, artId: number): ArtMeta | null {
  const r = store.get<{
    id: number;
    sha256: string;
    mime: string | null;
    width: number | null;
    height: number | null;
    byte_len: number;
    actual: number;
  }>(
    `SELECT id, sha256, CASE WHEN length(mime) <= ${MAX_MIME_CHARS} THEN mime END AS mime,
        width, height, byte_len, length(data) AS actual
      FROM art WHERE id = ?`,
    artId,
  );
  if (!r) return null;
  if (r.mime === null) {
    throw new StoreError(
      "limit",
      `art ${artId} has a mime over ${MAX_MIME_CHARS} characters`,
      store.path,
    );
  }
  if (r.byte_len !== r.actual) {
    throw new StoreError(
      "corrupt",
      `art ${artId} byte_len ${r.byte_len} != ${r.actual}`,
      store.path,
    );
  }
  return {
    id: r.id,
    sha256: r.sha256,
    mime: r.mime,
    width: r.width,
    height: r.height,
    byteLen: r.byte_len,
  };
}

/**
 * Bytes [offset, offset + length) of art `artId`. SQLite materializes the
 * whole blob for substr() (node:sqlite has no incremental blob I/O), so
 * callers reading a large image in many pieces may want to cache it.
 * A missing row or a short read is an error.
 */
export function readArt(store: Store, artId: number, offset: number, length: number): Uint8Array {
  const r = store.get<{ b: Uint8Array | null }>(
    "SELECT substr(data, ?, ?) AS b FROM art WHERE id = ?",
    offset + 1,
    length,
    artId,
  );
  if (!r) throw new StoreError("not-found", `art ${artId} does not exist`, store.path);
  const bytes = r.b ?? new Uint8Array(0);
  if (bytes.length !== length) {
    throw new StoreError(
      "corrupt",
      `art ${artId}: short read (${bytes.length} of ${length} bytes at ${offset})`,
      store.path,
    );
  }
  return bytes;
}

/** A track_art row joined with its art metadata, as the readers below select it. */
export interface RawTrackArt {
  artId: number;
  ordinal: number;
  pictureType: number;
  description: string | null;
  present: number | null;
  mime: string | null;
  width: number | null;
  height: number | null;
  byteLen: number | null;
}

/** Columns of `RawTrackArt`, over-long texts read as NULL (refused by `checkedTrackArt`). */
export const TRACK_ART_COLUMNS = `ta.art_id AS artId, ta.ordinal AS ordinal,
        ta.picture_type AS pictureType,
        CASE WHEN length(ta.description) <= ${MAX_DESCRIPTION_CHARS} THEN ta.description END
          AS description,
        a.id AS present,
        CASE WHEN length(a.mime) <= ${MAX_MIME_CHARS} THEN a.mime END AS mime,
        a.width AS width, a.height AS height, a.byte_len AS byteLen`;
export const TRACK_ART_FROM = "track_art AS ta LEFT JOIN art AS a ON a.id = ta.art_id";

/**
 * A track's pictures in track_art ordinal order, joined with their art
 * metadata. A link to missing art (possible with foreign_keys OFF), an image
 * over the art cap or a picture type outside 0–20 is an error: serving it
 * would be wrong, so the caller answers EIO.
 */
export function listTrackArt(store: Store, trackId: number): ArtRef[] {
  const rows = store.all<RawTrackArt>(
    `SELECT ${TRACK_ART_COLUMNS} FROM ${TRACK_ART_FROM}
      WHERE ta.track_id = ? ORDER BY ta.ordinal LIMIT ${MAX_ROWS_PER_TRACK + 1}`,
    trackId,
  );
  if (rows.length > MAX_ROWS_PER_TRACK) {
    throw new StoreError(
      "limit",
      `track ${trackId} has more than ${MAX_ROWS_PER_TRACK} track_art rows`,
      store.path,
    );
  }
  return rows.map((r) => checkedTrackArt(store, trackId, r));
}

export function checkedTrackArt(store: Store, trackId: number, r: RawTrackArt): ArtRef {
  const where = `track ${trackId} picture ${r.ordinal}`;
  if (r.present === null) {
    throw new StoreError("not-found", `${where} references missing art ${r.artId}`, store.path);
  }
  if (r.description === null) {
    throw new StoreError(
      "limit",
      `${where} has a description over ${MAX_DESCRIPTION_CHARS} characters`,
      store.path,
    );
  }
  if (r.mime === null) {
    throw new StoreError(
      "limit",
      `art ${r.artId} has a mime over ${MAX_MIME_CHARS} characters`,
      store.path,
    );
  }
  if (r.byteLen! > MAX_ART_BYTES) {
    throw new StoreError(
      "limit",
      `art ${r.artId} is ${r.byteLen} bytes, over ${MAX_ART_BYTES}`,
      store.path,
    );
  }
  if (!Number.isInteger(r.pictureType) || r.pictureType < 0 || r.pictureType > 20) {
    throw new StoreError("corrupt", `${where} has picture type ${r.pictureType}`, store.path);
  }
  return {
    artId: r.artId,
    mime: r.mime,
    pictureType: r.pictureType,
    description: r.description,
    width: r.width,
    height: r.height,
    byteLen: r.byteLen!,
  };
}

/** Replace a track's track_art rows; ordinal = index in `links`. */
export function replaceTrackArt(store: Store, trackId: number, links: readonly ArtLink[]): void {
  store.transaction(() => {
    store.run("DELETE FROM track_art WHERE track_id = ?", trackId);
    links.forEach((l, ordinal) => {
      store.run(
        `INSERT INTO track_art (track_id, art_id, picture_type, description, ordinal)
          VALUES (?, ?, ?, ?, ?)`,
        trackId,
        l.artId,
        l.pictureType,
        l.description,
        ordinal,
      );
    });
  });
}

/** Store a probe's pictures for a track: upsert each image, then relink all. Returns the art ids. */
export function replaceTrackPictures(
  store: Store,
  trackId: number,
  pictures: readonly ProbedPicture[],
): number[] {
  return store.transaction(() => {
    const ids = pictures.map((p) =>
      upsertArt(store, { mime: p.mime, width: p.width, height: p.height, data: p.data })
    );
    replaceTrackArt(
      store,
      trackId,
      pictures.map((p, i) => ({
        artId: ids[i],
        pictureType: p.pictureType,
        description: p.description,
      })),
    );
    return ids;
  });
}

/** Delete art no track_art row references (the prune GC). Returns how many rows went. */
export function deleteUnreferencedArt(store: Store): number {
  return store.run(
    "DELETE FROM art WHERE NOT EXISTS (SELECT 1 FROM track_art WHERE track_art.art_id = art.id)",
  ).changes;
}
