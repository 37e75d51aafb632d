// The rows a tree build and a refresh render paths from, in two queries that
// the caller merges by track id: per track its id, content_version, format,
// backing path, size and stamp; and the text tags of the keys the template
// references, in (track, key BINARY, ordinal) order. Rows come as arrays, a
// page of ids at a time, so a 200k-track build stays fast and its transient
// memory bounded. Two narrow queries instead of one join: the backing path
// and stamp cross into JavaScript once per track rather than once per tag
// row, and the tag rows carry a key index instead of a key string (at 200k
// tracks the join took about twice as long).

import { MAX_TAG_VALUE_BYTES } from "../model/mod.ts";
import type { Store } from "./open.ts";
import { toStoreError } from "./errors.ts";

/**
 * One track. Nanosecond stamps come split into 32-bit halves so every column
 * reads as a plain number.
 */
export type CatalogTrackRow = [
  id: number,
  cv: number,
  format: string,
  path: string,
  size: number,
  mlo: number,
  mhi: number,
  clo: number,
  chi: number,
];

/**
 * One text tag row of a referenced key. `key` is the key's index in the
 * `tagKeys` the query was given (keys match ASCII-case-insensitively); for a
 * value over the read-time cap it is the stored key spelling instead and
 * `value` is NULL (the caller reports it; it is never materialized).
 */
export type CatalogTagRow = [trackId: number, key: number | string, value: string | null];

/**
 * Rows whose integers a JavaScript number holds exactly (within ±(2^53 − 1));
 * the others are left out of the catalog and listed by catalogUnsafeIds.
 */
const SAFE = Number.MAX_SAFE_INTEGER;
const SAFE_ROW = `id BETWEEN -${SAFE} AND ${SAFE} AND content_version BETWEEN 0 AND ${SAFE}
  AND backing_size BETWEEN 0 AND ${SAFE}`;

const TRACK_COLUMNS = `id, content_version, format, backing_path, backing_size,
  backing_mtime_ns % 4294967296, backing_mtime_ns / 4294967296,
  backing_ctime_ns % 4294967296, backing_ctime_ns / 4294967296`;

/** SQL string literal (template keys are ASCII field names, but quote properly anyway). */
function literal(s: string): string {
  return `'${s.replaceAll("'", "''")}'`;
}

/**
 * The tag query over `where`. Keys compare with NOCASE, which folds ASCII
 * only, as SQLite's lower() does; it is cheaper than lower() on every row.
 * Rows follow the primary key's order, so no sort is needed.
 */
function tagsSql(tagKeys: readonly string[], where: string): string {
  const keys = tagKeys.map(literal);
  const index = keys.map((k, i) => `WHEN key = ${k} COLLATE NOCASE THEN ${i}`).join(" ");
  const fits = `octet_length(value) <= ${MAX_TAG_VALUE_BYTES}`;
  return `SELECT track_id, CASE WHEN ${fits} THEN CASE ${index} END ELSE key END,
      CASE WHEN ${fits} THEN value END
    FROM tags
    WHERE ${where} AND value_blob IS NULL AND key COLLATE NOCASE IN (${keys.join(", ")})
    ORDER BY track_id, key, ordinal`;
}

function query<T>(store: Store, sql: string, ...params: (number | string)[]): T[] {
  const st = store.statement(sql);
  st.setReturnArrays(true);
  try {
    return st.all(...params) as unknown as T[];
  } catch (e) {
    throw toStoreError(e, store.path);
  }
}

/** Tracks with id ≥ `from`, at most `span` of them, ascending id (call inside a read snapshot). */
export function catalogTracksPage(store: Store, from: number, span: number): CatalogTrackRow[] {
  return query(
    store,
    `SELECT ${TRACK_COLUMNS} FROM tracks WHERE id >= ? AND ${SAFE_ROW} ORDER BY id LIMIT ${span}`,
    from,
  );
}

/** Tag rows of the tracks with ids in [`lo`, `hi`] (call inside a read snapshot). */
export function catalogTagsBetween(
  store: Store,
  tagKeys: readonly string[],
  lo: number,
  hi: number,
): CatalogTagRow[] {
  if (tagKeys.length === 0) return [];
  return query(store, tagsSql(tagKeys, "track_id BETWEEN ? AND ?"), lo, hi);
}

/** The given tracks that exist, ascending id (call inside a read snapshot). */
export function catalogTracksOf(store: Store, ids: readonly number[]): CatalogTrackRow[] {
  const sql = `SELECT ${TRACK_COLUMNS} FROM tracks
    WHERE id IN (SELECT value FROM json_each(?)) AND ${SAFE_ROW} ORDER BY id`;
  return query(store, sql, JSON.stringify(ids));
}

/** Tag rows of the given tracks (call inside a read snapshot). */
export function catalogTagsOf(
  store: Store,
  tagKeys: readonly string[],
  ids: readonly number[],
): CatalogTagRow[] {
  if (tagKeys.length === 0) return [];
  const sql = tagsSql(tagKeys, "track_id IN (SELECT value FROM json_each(?))");
  return query(store, sql, JSON.stringify(ids));
}

/**
 * Ids (as text) of tracks the catalog leaves out because an id,
 * content_version or backing_size is beyond what a number holds: all of them
 * (`ids` null) or those among `ids`; at most 100.
 */
export function catalogUnsafeIds(store: Store, ids: readonly number[] | null): string[] {
  const sql = `SELECT CAST(id AS TEXT) AS id FROM tracks WHERE NOT (${SAFE_ROW})` +
    (ids === null ? "" : " AND id IN (SELECT value FROM json_each(?))") +
    " ORDER BY id LIMIT 100";
  const rows = ids === null
    ? store.all<{ id: string }>(sql)
    : store.all<{ id: string }>(sql, JSON.stringify(ids));
  return rows.map((r) => r.id);
}
