// The rows a tree build and a refresh render paths from, in two queries that
// the caller merges by track id: per track its id, content_version, format
// and a text of what its served bytes depend on; and the text tags of the keys the template
// references, in (track, key BINARY, ordinal) order. Rows come as arrays, a
// page of ids at a time, so a 200k-track build stays fast and its transient
// memory bounded. Reading a column costs about 0.1 µs per row, so the queries
// are narrow: two instead of one join (the track's columns cross into
// JavaScript once per track rather than once per tag row), the stamp and path
// as one text, and a key index instead of a key string (at 200k tracks the
// join took about twice as long).

import { MAX_TAG_VALUE_BYTES } from "../model/mod.ts";
import type { Store } from "./open.ts";
import { toStoreError } from "./errors.ts";

/**
 * One track. `stamp` is its format, backing path, size and stamps as one text
 * (NULL when the path is not text): what a change of the served bytes or
 * extension changes, compared as a whole. `path` is the backing path for the
 * formats the caller asked it for (whose served extension depends on it),
 * else NULL: most tracks need it for nothing else.
 */
export type CatalogTrackRow = [
  id: number,
  cv: number,
  format: string,
  stamp: string | null,
  path: string | null,
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
const SAFE_VALUES = `content_version BETWEEN 0 AND ${SAFE} AND backing_size BETWEEN 0 AND ${SAFE}`;
const SAFE_ROW = `id BETWEEN -${SAFE} AND ${SAFE} AND ${SAFE_VALUES}`;

/**
 * The columns of a CatalogTrackRow; few, as each costs about 0.1 µs per row to
 * read. The stamp text splits one way only (the format holds no ":", the
 * numbers after the path none either); no NUL separator, as text is read up to
 * the first NUL.
 */
function trackColumns(pathFormats: readonly string[]): string {
  const formats = pathFormats.map(literal).join(", ");
  return `id, content_version, format,
    CASE WHEN typeof(backing_path) = 'text' THEN format || ':' || backing_path || ':' ||
      backing_size || ':' || backing_mtime_ns || ':' || backing_ctime_ns END,
    ${formats === "" ? "NULL" : `CASE WHEN format IN (${formats}) THEN backing_path END`}`;
}

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

/**
 * Tracks with id ≥ `from`, at most `span` of them, ascending id, with their
 * backing path when their format is among `pathFormats` (call inside a read
 * snapshot).
 */
export function catalogTracksPage(
  store: Store,
  /** At least Number.MIN_SAFE_INTEGER. */
  from: number,
  span: number,
  pathFormats: readonly string[],
): CatalogTrackRow[] {
  // `id >= ?` is the only lower bound (`from` is at least −(2^53 − 1)): given
  // a second one, SQLite seeks from that and filters, a scan from the first
  // track for every page.
  const sql = `SELECT ${trackColumns(pathFormats)} FROM tracks
    WHERE id >= ? AND id <= ${SAFE} AND ${SAFE_VALUES} ORDER BY id LIMIT ${span}`;
  return query(store, sql, from);
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

/** The given tracks that exist, ascending id, as catalogTracksPage (call inside a read snapshot). */
export function catalogTracksOf(
  store: Store,
  ids: readonly number[],
  pathFormats: readonly string[],
): CatalogTrackRow[] {
  const sql = `SELECT ${trackColumns(pathFormats)} FROM tracks
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
