// The rows a tree build and a refresh render paths from: per track id,
// content_version, format, backing path, size and stamp, joined with the
// text tags of the keys the template references — one query over a page of
// ids, rows as arrays, so a 200k-track build stays fast and its transient
// memory bounded.

import { MAX_TAG_VALUE_BYTES } from "../model/mod.ts";
import type { Store } from "./open.ts";
import { toStoreError } from "./errors.ts";

/**
 * One row per (track, referenced tag row), or one row with NULL tag columns
 * for a track without any. Nanosecond stamps come split into 32-bit halves so
 * every column reads as a plain number. A tag value over the read-time cap
 * reads as NULL (the caller reports it; it is never materialized).
 */
export type CatalogRow = [
  id: number,
  cv: number,
  format: string,
  path: string,
  size: number,
  mlo: number,
  mhi: number,
  clo: number,
  chi: number,
  key: string | null,
  value: string | null,
];

/**
 * Rows whose integers a JavaScript number holds exactly (within ±(2^53 − 1));
 * the others are left out of the catalog and listed by catalogUnsafeIds.
 */
const SAFE = Number.MAX_SAFE_INTEGER;
const SAFE_ROW = `id BETWEEN -${SAFE} AND ${SAFE} AND content_version BETWEEN 0 AND ${SAFE}
  AND backing_size BETWEEN 0 AND ${SAFE}`;

/** SQL string literal (template keys are ASCII field names, but quote properly anyway). */
function literal(s: string): string {
  return `'${s.replaceAll("'", "''")}'`;
}

/**
 * The joined query: one row per (track, referenced tag row), or one row with
 * NULL tag columns for a track without any. Nanosecond stamps are split into
 * 32-bit halves so every column reads as a plain number. A tag value over the
 * read-time cap reads as NULL (reported as an error, never materialized).
 */
function joinedSql(tagKeys: readonly string[], where: string): string {
  const keys = tagKeys.map(literal).join(", ");
  const on = keys === "" ? "0" : `g.value_blob IS NULL AND lower(g.key) IN (${keys})`;
  return `SELECT t.id, t.content_version, t.format, t.backing_path, t.backing_size,
      t.backing_mtime_ns % 4294967296, t.backing_mtime_ns / 4294967296,
      t.backing_ctime_ns % 4294967296, t.backing_ctime_ns / 4294967296,
      g.key, CASE WHEN length(CAST(g.value AS BLOB)) <= ${MAX_TAG_VALUE_BYTES} THEN g.value END
    FROM tracks AS t LEFT JOIN tags AS g ON g.track_id = t.id AND ${on}
    WHERE ${where}
    ORDER BY t.id, g.key COLLATE BINARY, g.ordinal`;
}

function query(store: Store, sql: string, ...params: (number | string)[]): CatalogRow[] {
  const st = store.statement(sql);
  st.setReturnArrays(true);
  try {
    return st.all(...params) as unknown as CatalogRow[];
  } catch (e) {
    throw toStoreError(e, store.path);
  }
}

/** Tracks with id ≥ `from`, at most `span` of them, ascending id (call inside a read snapshot). */
export function catalogPage(
  store: Store,
  tagKeys: readonly string[],
  from: number,
  span: number,
): CatalogRow[] {
  const where =
    `t.id IN (SELECT id FROM tracks WHERE id >= ? AND ${SAFE_ROW} ORDER BY id LIMIT ${span})`;
  return query(store, joinedSql(tagKeys, where), from);
}

/** The given tracks that exist, ascending id (call inside a read snapshot). */
export function catalogRows(
  store: Store,
  tagKeys: readonly string[],
  ids: readonly number[],
): CatalogRow[] {
  const sql = joinedSql(tagKeys, `t.id IN (SELECT value FROM json_each(?)) AND ${SAFE_ROW}`);
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
