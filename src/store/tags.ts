// The tags table. Text rows have value_blob NULL; binary rows carry their
// bytes in value_blob with value = ''. External writers own this table, so
// reads guard against crafted rows: sizes are checked
// with SQL length() before a value is materialized, and a track with more
// than 4096 rows of a kind is refused.

import type { BinaryTagRef, ProbedBinaryTag, TagEntry } from "../model/mod.ts";
import { MAX_BINARY_TAG_BYTES, MAX_TAG_KEY_CHARS, MAX_TAG_VALUE_BYTES } from "../model/mod.ts";
import { StoreError } from "./errors.ts";
import type { Store } from "./open.ts";

/** Read-time cap on text rows, binary rows and track_art rows per track. */
export const MAX_ROWS_PER_TRACK = 4096;

function tooMany(store: Store, what: string, trackId: number, n: number): StoreError {
  return new StoreError(
    "limit",
    `track ${trackId} has ${n} ${what}, more than the ${MAX_ROWS_PER_TRACK} allowed`,
    store.path,
  );
}

/** Text tag columns, with over-long keys and values read as NULL (refused by `checkedTag`). */
export const TEXT_TAG_COLUMNS = `CASE WHEN length(key) <= ${MAX_TAG_KEY_CHARS} THEN key END AS key,
        CASE WHEN length(CAST(value AS BLOB)) <= ${MAX_TAG_VALUE_BYTES} THEN value END AS value,
        ordinal`;
/** Binary tag columns (references: rowid and length, never the bytes). */
export const BINARY_TAG_COLUMNS = `rowid AS id,
        CASE WHEN length(key) <= ${MAX_TAG_KEY_CHARS} THEN key END AS key,
        ordinal, length(value_blob) AS length`;
/** The order tags are synthesized in: (key BINARY, ordinal). */
export const TAG_ORDER = "tags.key COLLATE BINARY, tags.ordinal";

export interface RawTextTag {
  key: string | null;
  value: string | null;
  ordinal: number;
}
export interface RawBinaryTag {
  id: number;
  key: string | null;
  ordinal: number;
  length: number;
}

/** Text tags of a track in DB order: (key BINARY, ordinal). */
export function listTextTags(store: Store, trackId: number): TagEntry[] {
  const rows = store.all<RawTextTag>(
    `SELECT ${TEXT_TAG_COLUMNS}
      FROM tags WHERE track_id = ? AND value_blob IS NULL
      ORDER BY ${TAG_ORDER} LIMIT ${MAX_ROWS_PER_TRACK + 1}`,
    trackId,
  );
  if (rows.length > MAX_ROWS_PER_TRACK) {
    throw tooMany(store, "text tag rows", trackId, rowCount(store, trackId, false));
  }
  return rows.map((r) => checkedTag(store, trackId, r));
}

function rowCount(store: Store, trackId: number, binary: boolean): number {
  return store.get<{ n: number }>(
    `SELECT count(*) AS n FROM tags WHERE track_id = ? AND value_blob IS ${
      binary ? "NOT NULL" : "NULL"
    }`,
    trackId,
  )!.n;
}

export function checkedTag(store: Store, trackId: number, r: RawTextTag): TagEntry {
  return checkedTagOf(store, trackId, r.key, r.value, r.ordinal);
}

/** `checkedTag` of a row read as columns (TEXT_TAG_COLUMNS: key, value, ordinal). */
export function checkedTagOf(
  store: Store,
  trackId: number,
  key: string | null,
  value: string | null,
  ordinal: number,
): TagEntry {
  if (key === null) {
    throw new StoreError(
      "limit",
      `track ${trackId} has a tag key over ${MAX_TAG_KEY_CHARS} characters`,
      store.path,
    );
  }
  if (value === null) {
    throw new StoreError(
      "limit",
      `track ${trackId} tag ${key} has a value over ${MAX_TAG_VALUE_BYTES} bytes`,
      store.path,
    );
  }
  if (!Number.isInteger(ordinal) || ordinal < 0) {
    throw new StoreError(
      "corrupt",
      `track ${trackId} tag ${key} has ordinal ${ordinal}`,
      store.path,
    );
  }
  return { key, value, ordinal };
}

/** Binary tags of a track in DB order, as references (bytes are read with readBinaryTag). */
export function listBinaryTagRefs(store: Store, trackId: number): BinaryTagRef[] {
  const rows = store.all<RawBinaryTag>(
    `SELECT ${BINARY_TAG_COLUMNS}
      FROM tags WHERE track_id = ? AND value_blob IS NOT NULL
      ORDER BY ${TAG_ORDER} LIMIT ${MAX_ROWS_PER_TRACK + 1}`,
    trackId,
  );
  if (rows.length > MAX_ROWS_PER_TRACK) {
    throw tooMany(store, "binary tag rows", trackId, rowCount(store, trackId, true));
  }
  return rows.map((r) => checkedBinaryTag(store, trackId, r));
}

export function checkedBinaryTag(store: Store, trackId: number, r: RawBinaryTag): BinaryTagRef {
  if (r.key === null) {
    throw new StoreError(
      "limit",
      `track ${trackId} has a binary tag key over ${MAX_TAG_KEY_CHARS} characters`,
      store.path,
    );
  }
  if (r.length > MAX_BINARY_TAG_BYTES) {
    throw new StoreError(
      "limit",
      `track ${trackId} binary tag ${r.key} is ${r.length} bytes, over ${MAX_BINARY_TAG_BYTES}`,
      store.path,
    );
  }
  return r as BinaryTagRef;
}

/**
 * Bytes [offset, offset + length) of binary tag row `id` (a tags rowid).
 * SQLite materializes the whole blob for substr(); node:sqlite has no
 * incremental blob I/O. A missing row or a short read is an error.
 */
export function readBinaryTag(
  store: Store,
  id: number,
  offset: number,
  length: number,
): Uint8Array {
  const r = store.get<{ b: Uint8Array | null }>(
    "SELECT substr(value_blob, ?, ?) AS b FROM tags WHERE rowid = ? AND value_blob IS NOT NULL",
    offset + 1,
    length,
    id,
  );
  if (!r) throw new StoreError("not-found", `binary tag row ${id} does not exist`, store.path);
  const bytes = r.b ?? new Uint8Array(0);
  if (bytes.length !== length) {
    throw new StoreError(
      "corrupt",
      `binary tag row ${id}: short read (${bytes.length} of ${length} bytes at ${offset})`,
      store.path,
    );
  }
  return bytes;
}

/** Replace all text tags of a track (binary rows untouched). Ordinals are taken from the entries. */
export function replaceTextTags(store: Store, trackId: number, tags: readonly TagEntry[]): void {
  store.transaction(() => {
    store.run("DELETE FROM tags WHERE track_id = ? AND value_blob IS NULL", trackId);
    for (const t of tags) {
      store.run(
        "INSERT INTO tags (track_id, key, value, ordinal) VALUES (?, ?, ?, ?)",
        trackId,
        t.key,
        t.value,
        t.ordinal,
      );
    }
  });
}

/** Replace all binary tags of a track (text rows untouched). */
export function replaceBinaryTags(
  store: Store,
  trackId: number,
  tags: readonly ProbedBinaryTag[],
): void {
  store.transaction(() => {
    store.run("DELETE FROM tags WHERE track_id = ? AND value_blob IS NOT NULL", trackId);
    for (const t of tags) {
      store.run(
        "INSERT INTO tags (track_id, key, value, ordinal, value_blob) VALUES (?, ?, '', ?, ?)",
        trackId,
        t.key,
        t.ordinal,
        t.data,
      );
    }
  });
}

/**
 * Text tags whose lowercased key is one of `lowerKeys`, grouped by track in
 * DB order (key BINARY, ordinal) — what the tree build needs for the fields
 * its template references. `trackIds` limits the tracks (all when omitted).
 */
export function tagsForTracks(
  store: Store,
  lowerKeys: readonly string[],
  trackIds?: readonly number[],
): Map<number, TagEntry[]> {
  const out = new Map<number, TagEntry[]>();
  if (lowerKeys.length === 0 || trackIds?.length === 0) return out;
  const select = `SELECT track_id AS t,
      CASE WHEN length(key) <= ${MAX_TAG_KEY_CHARS} THEN key END AS key,
      CASE WHEN length(CAST(value AS BLOB)) <= ${MAX_TAG_VALUE_BYTES} THEN value END AS value,
      ordinal
    FROM tags WHERE value_blob IS NULL AND lower(key) IN (SELECT value FROM json_each(?))`;
  const order = " ORDER BY tags.track_id, tags.key COLLATE BINARY, tags.ordinal";
  const rows = trackIds
    ? store.all<{ t: number; key: string | null; value: string | null; ordinal: number }>(
      select + " AND track_id IN (SELECT value FROM json_each(?))" + order,
      JSON.stringify(lowerKeys),
      JSON.stringify(trackIds),
    )
    : store.all<{ t: number; key: string | null; value: string | null; ordinal: number }>(
      select + order,
      JSON.stringify(lowerKeys),
    );
  for (const r of rows) {
    let list = out.get(r.t);
    if (!list) out.set(r.t, list = []);
    if (list.length >= MAX_ROWS_PER_TRACK) {
      throw tooMany(store, "text tag rows for the requested keys", r.t, list.length + 1);
    }
    list.push(checkedTag(store, r.t, r));
  }
  return out;
}
