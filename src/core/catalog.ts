// Rendering the store's tracks into paths: the input of a full tree build and
// of an incremental refresh. The rows come from the store's catalog query
// (only what the tree needs, a page of ids at a time); here they become a
// rendered path and a change signature per track.

import { type Format, FORMATS, MAX_TAG_VALUE_BYTES } from "../model/mod.ts";
import {
  catalogPage,
  type CatalogRow,
  catalogRows,
  MAX_ROWS_PER_TRACK,
  type Store,
  StoreError,
} from "../store/mod.ts";
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

/**
 * Group the joined rows (in order) into one TrackFields per track and call
 * `visit` with it and its first row. The TrackFields object is reused: read
 * it during the call only.
 */
function forEachTrack(
  store: Store,
  rows: CatalogRow[],
  visit: (track: TrackFields, first: CatalogRow) => void,
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
  rows: CatalogRow[],
  out: CatalogTrack[],
): void {
  forEachTrack(store, rows, (track, first) => {
    const [id, cv, format, backingPath, size, mlo, mhi, clo, chi] = first;
    const path = template.render(track);
    const sig = hash52(`${format}\u0000${backingPath}\u0000${size}:${mlo}:${mhi}:${clo}:${chi}`);
    out.push({ id, state: { cv, sig, path } });
  });
}

/** Pages of the joined rows of every track, ascending id (call inside a read snapshot). */
function* allRows(store: Store, template: Template): Generator<CatalogRow[]> {
  // Pages of ids (not id ranges: ids may be sparse), each one joined query.
  for (let from = Number.MIN_SAFE_INTEGER;;) {
    const rows = catalogPage(store, template.tagKeys, from, ID_SPAN);
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
  renderRows(store, template, catalogRows(store, template.tagKeys, ids), out);
  return out;
}
