// Reading tracks from the store and rendering their paths: the input of a
// full tree build and of an incremental refresh. Reads only what the tree
// needs — id, content_version, format, path, stamp, and the tag keys the
// template references — in one joined query over id ranges, rows as arrays,
// so a 200k-track build stays fast and its transient memory bounded.

import type { Format } from "../format/types.ts";
import { FORMATS, MAX_TAG_VALUE_BYTES } from "../format/types.ts";
import { MAX_ROWS_PER_TRACK, type Store, StoreError } from "../store/mod.ts";
import { toStoreError } from "../store/errors.ts";
import type { Template, TrackFields } from "./template.ts";

/** What refresh remembers of a track to classify the next change. */
export interface TrackState {
  /** content_version when last rendered. */
  cv: number;
  /** Hash of format, backing path and stamp: a change means new bytes or a new extension. */
  sig: number;
  /** Rendered relative path, or null when --skip-on-missing drops it. */
  path: string | null;
}

/** One track as the tree sees it. */
export interface CatalogTrack {
  id: number;
  state: TrackState;
}

/** Tracks per query when loading everything (bounds the rows held at once). */
const ID_SPAN = 16384;

/** A 52-bit hash of a string (two FNV-1a variants); collisions only cost a missed invalidation. */
export function hash52(s: string): number {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ 0x5bd1e995;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995) ^ (b >>> 15);
  }
  return (a >>> 0) * 0x100000 + ((b >>> 0) & 0xfffff);
}

function isFormat(s: string): s is Format {
  return (FORMATS as readonly string[]).includes(s);
}

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
function joinedSql(template: Template, where: string): string {
  const keys = template.tagKeys.map(literal).join(", ");
  const on = keys === "" ? "0" : `g.value_blob IS NULL AND lower(g.key) IN (${keys})`;
  return `SELECT t.id, t.content_version, t.format, t.backing_path, t.backing_size,
      t.backing_mtime_ns % 4294967296, t.backing_mtime_ns / 4294967296,
      t.backing_ctime_ns % 4294967296, t.backing_ctime_ns / 4294967296,
      g.key, CASE WHEN length(CAST(g.value AS BLOB)) <= ${MAX_TAG_VALUE_BYTES} THEN g.value END
    FROM tracks AS t LEFT JOIN tags AS g ON g.track_id = t.id AND ${on}
    WHERE ${where}
    ORDER BY t.id, g.key COLLATE BINARY, g.ordinal`;
}

type JoinedRow = [
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
 * Group the joined rows (in order) into one TrackFields per track and call
 * `visit` with it and its first row. The TrackFields object is reused: read
 * it during the call only.
 */
function forEachTrack(
  store: Store,
  rows: JoinedRow[],
  visit: (track: TrackFields, first: JoinedRow) => void,
): void {
  const fields = new Map<string, string>();
  const track: { fields: Map<string, string>; format: Format; backingPath: string } = {
    fields,
    format: "flac",
    backingPath: "",
  };
  let i = 0;
  while (i < rows.length) {
    const first = rows[i];
    const id = first[0];
    fields.clear();
    let count = 0;
    for (; i < rows.length && rows[i][0] === id; i++) {
      const key = rows[i][9];
      if (key === null) continue;
      const value = rows[i][10];
      if (value === null) {
        throw new StoreError(
          "limit",
          `track ${id} tag ${key} has a value over ${MAX_TAG_VALUE_BYTES} bytes`,
          store.path,
        );
      }
      if (++count > MAX_ROWS_PER_TRACK) {
        throw new StoreError(
          "limit",
          `track ${id} has more than ${MAX_ROWS_PER_TRACK} text tag rows for the template's keys`,
          store.path,
        );
      }
      // Rows come in (key BINARY, ordinal) order: the first spelling and ordinal win.
      const k = key.toLowerCase();
      if (!fields.has(k)) fields.set(k, value);
    }
    const format = first[2];
    if (!isFormat(format)) {
      throw new StoreError("corrupt", `track ${id} has unknown format ${format}`, store.path);
    }
    track.format = format;
    track.backingPath = first[3];
    visit(track as TrackFields, first);
  }
}

/** Render the joined rows (grouped by track, in order) into `out`. */
function renderRows(
  store: Store,
  template: Template,
  rows: JoinedRow[],
  out: CatalogTrack[],
): void {
  forEachTrack(store, rows, (track, first) => {
    const [id, cv, format, backingPath, size, mlo, mhi, clo, chi] = first;
    const path = template.render(track);
    const sig = hash52(`${format}\u0000${backingPath}\u0000${size}:${mlo}:${mhi}:${clo}:${chi}`);
    out.push({ id, state: { cv, sig, path } });
  });
}

function query(store: Store, sql: string, ...params: (number | string)[]): JoinedRow[] {
  const st = store.statement(sql);
  st.setReturnArrays(true);
  try {
    return st.all(...params) as unknown as JoinedRow[];
  } catch (e) {
    throw toStoreError(e, store.path);
  }
}

/** Pages of the joined rows of every track, ascending id (call inside a read snapshot). */
function* allRows(store: Store, template: Template): Generator<JoinedRow[]> {
  // Pages of ids (not id ranges: ids may be sparse), each one joined query.
  const sql = joinedSql(
    template,
    `t.id IN (SELECT id FROM tracks WHERE id >= ? ORDER BY id LIMIT ${ID_SPAN})`,
  );
  for (let from = Number.MIN_SAFE_INTEGER;;) {
    const rows = query(store, sql, from);
    if (rows.length === 0) return;
    yield rows;
    from = rows[rows.length - 1][0] + 1;
  }
}

/** Every track, ascending id, rendered (call inside a read snapshot). */
export function loadAll(store: Store, template: Template): CatalogTrack[] {
  const out: CatalogTrack[] = [];
  for (const rows of allRows(store, template)) renderRows(store, template, rows, out);
  return out;
}

/**
 * Every track's template fields, ascending id, without rendering (for
 * `mount --dry-run`'s statistics). `track` is reused: read it during the call.
 */
export function visitAllFields(
  store: Store,
  template: Template,
  visit: (track: TrackFields) => void,
): void {
  for (const rows of allRows(store, template)) forEachTrack(store, rows, (track) => visit(track));
}

/** The given tracks that still exist, ascending id, rendered (call inside a read snapshot). */
export function loadSome(store: Store, template: Template, ids: readonly number[]): CatalogTrack[] {
  const out: CatalogTrack[] = [];
  if (ids.length === 0) return out;
  const sql = joinedSql(template, "t.id IN (SELECT value FROM json_each(?))");
  renderRows(store, template, query(store, sql, JSON.stringify(ids)), out);
  return out;
}
