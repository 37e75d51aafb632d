// What the curation commands (`musefs show | tag | art`) read and write: track
// selection by backing path, id or tag condition; a track's full detail
// (binary rows and art as size + SHA-256); text-tag and track_art edits that
// write only when something changes, so a no-op leaves content_version alone.
// They write as any external writer does (docs/store.md): tags, art and
// track_art only; keys are matched case-insensitively; binary rows untouched.

import type { TagEntry } from "../model/mod.ts";
import { type ArtLink, listTrackArt, replaceTrackArt, sha256Hex } from "./art.ts";
import type { Store } from "./open.ts";
import { listTextTags, replaceTextTags } from "./tags.ts";
import { tracksAtOrUnder } from "./paths.ts";

/** `FIELD=VALUE` (exact value) or `FIELD~TEXT` (case-insensitive substring); keys case-insensitive. */
export interface TagCondition {
  key: string;
  op: "=" | "~";
  value: string;
}

/** Ids of the tracks whose backing file is `path` or lies under the directory `path`. */
export function trackIdsAtOrUnder(store: Store, path: string): number[] {
  return tracksAtOrUnder(store, path).map((t) => t.id);
}

/** Ids of the tracks matching every condition (AND), ascending. */
export function trackIdsWhere(store: Store, conditions: readonly TagCondition[]): number[] {
  const clauses: string[] = [];
  const params: string[] = [];
  for (const c of conditions) {
    const test = c.op === "=" ? "value = ?" : "instr(lower(value), lower(?)) > 0";
    clauses.push(
      `EXISTS (SELECT 1 FROM tags WHERE tags.track_id = t.id AND value_blob IS NULL
        AND lower(key) = lower(?) AND ${test})`,
    );
    params.push(c.key, c.value);
  }
  const where = clauses.length === 0 ? "" : ` WHERE ${clauses.join(" AND ")}`;
  return store.all<{ id: number }>(
    `SELECT t.id AS id FROM tracks AS t${where} ORDER BY t.id`,
    ...params,
  )
    .map((r) => r.id);
}

export interface BinaryTagInfo {
  key: string;
  ordinal: number;
  size: number;
  sha256: string;
}

/** A track's binary tag rows (key, ordinal order) as size + SHA-256. */
export function binaryTagInfo(store: Store, trackId: number): BinaryTagInfo[] {
  return store.all<{ key: string; ordinal: number; data: Uint8Array }>(
    `SELECT key, ordinal, value_blob AS data FROM tags
      WHERE track_id = ? AND value_blob IS NOT NULL ORDER BY key COLLATE BINARY, ordinal`,
    trackId,
  ).map((r) => ({
    key: r.key,
    ordinal: r.ordinal,
    size: r.data.length,
    sha256: sha256Hex(r.data),
  }));
}

export interface TrackArtInfo {
  ordinal: number;
  artId: number;
  pictureType: number;
  mime: string;
  description: string;
  width: number | null;
  height: number | null;
  size: number;
  sha256: string;
}

/** A track's pictures in order, with the art row's size and content address. */
export function trackArtInfo(store: Store, trackId: number): TrackArtInfo[] {
  return listTrackArt(store, trackId).map((a, ordinal) => ({
    ordinal,
    artId: a.artId,
    pictureType: a.pictureType,
    mime: a.mime,
    description: a.description,
    width: a.width,
    height: a.height,
    size: a.byteLen,
    sha256: store.get<{ sha256: string }>("SELECT sha256 FROM art WHERE id = ?", a.artId)!.sha256,
  }));
}

/** The whole image of art `artId`. */
export function artBytes(store: Store, artId: number): Uint8Array {
  return store.get<{ data: Uint8Array }>("SELECT data FROM art WHERE id = ?", artId)!.data;
}

/** Text tags grouped by exact key, values in ordinal order (keys in DB order). */
export function groupTags(rows: readonly TagEntry[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const r of rows) {
    const list = out.get(r.key);
    if (list) list.push(r.value);
    else out.set(r.key, [r.value]);
  }
  return out;
}

function sameGroups(a: Map<string, string[]>, b: Map<string, string[]>): boolean {
  if (a.size !== b.size) return false;
  for (const [key, values] of a) {
    const other = b.get(key);
    if (!other || other.length !== values.length) return false;
    if (values.some((v, i) => v !== other[i])) return false;
  }
  return true;
}

/**
 * Make a track's text tags exactly `wanted` (key → values in order). Writes
 * only when they differ from what is stored; returns whether it wrote.
 * Ordinals are 0.. per key, skipping any a binary row of the same key holds.
 */
export function setTextTags(store: Store, trackId: number, wanted: Map<string, string[]>): boolean {
  return store.transaction(() => {
    if (sameGroups(groupTags(listTextTags(store, trackId)), wanted)) return false;
    const taken = new Set(
      store.all<{ k: string; o: number }>(
        "SELECT key AS k, ordinal AS o FROM tags WHERE track_id = ? AND value_blob IS NOT NULL",
        trackId,
      ).map((r) => `${r.o}\u0000${r.k}`),
    );
    const rows: TagEntry[] = [];
    for (const [key, values] of wanted) {
      let ordinal = 0;
      for (const value of values) {
        while (taken.has(`${ordinal}\u0000${key}`)) ordinal++;
        rows.push({ key, value, ordinal: ordinal++ });
      }
    }
    replaceTextTags(store, trackId, rows);
    return true;
  });
}

/** Make a track's track_art rows exactly `links` (ordinal = index); writes only on a change. */
export function setTrackArt(store: Store, trackId: number, links: readonly ArtLink[]): boolean {
  return store.transaction(() => {
    const now = store.all<{ a: number; t: number; d: string }>(
      `SELECT art_id AS a, picture_type AS t, description AS d FROM track_art
        WHERE track_id = ? ORDER BY ordinal`,
      trackId,
    );
    const same = now.length === links.length &&
      now.every((r, i) =>
        r.a === links[i].artId && r.t === links[i].pictureType && r.d === links[i].description
      );
    if (same) return false;
    replaceTrackArt(store, trackId, links);
    return true;
  });
}

/** A track's current track_art rows as links (for editing). */
export function trackArtLinks(store: Store, trackId: number): ArtLink[] {
  return store.all<{ a: number; t: number; d: string }>(
    `SELECT art_id AS a, picture_type AS t, description AS d FROM track_art
      WHERE track_id = ? ORDER BY ordinal`,
    trackId,
  ).map((r) => ({ artId: r.a, pictureType: r.t, description: r.d }));
}
