// Rendering the store's tracks into paths: the input of a full tree build and
// of an incremental refresh. The rows come from the store's catalog query
// (only what the tree needs, a page of ids at a time); here they become a
// rendered path and a change signature per track.
//
// Faults are per track: a row that cannot be read (a tag over the cap written
// with checks off, an unknown format, an id or size beyond 2^53 that a
// JavaScript number cannot hold) hides that track and is reported as a
// TrackFault; the other tracks load as usual.

import { type Format, FORMATS, MAX_TAG_VALUE_BYTES } from "../model/mod.ts";
import {
  type CatalogTagRow,
  catalogTagsBetween,
  catalogTagsOf,
  type CatalogTrackRow,
  catalogTracksOf,
  catalogTracksPage,
  catalogUnsafeIds,
  MAX_ROWS_PER_TRACK,
  type Store,
} from "../store/mod.ts";
import { reserveRootName } from "./names.ts";
import {
  PATH_DEPENDENT_FORMATS,
  type TagValues,
  type Template,
  type TrackFields,
} from "./template.ts";

/** What refresh remembers of a track to classify the next change. */
export interface TrackState {
  /** content_version when last rendered. */
  cv: number;
  /** Hash of format, backing path and stamp: a change means new bytes or a new extension. */
  sig: number;
  /** Rendered relative path, or null when --skip-on-missing drops it or the row is faulty. */
  path: string | null;
  /** Why the track is hidden although in the store (a row that cannot be read). */
  fault?: string;
}

/** A track the catalog could not read: hidden from the tree, reported once by the caller. */
export interface TrackFault {
  /** The track id (as text when it is beyond what a number holds exactly). */
  id: number | string;
  message: string;
}

/** One track as the tree sees it. */
export interface CatalogTrack {
  id: number;
  state: TrackState;
}

/**
 * Tracks per query when loading everything. Small, so the rows held at once
 * stay a small part of V8's young generation (the shipped flags cap it at
 * 4 MiB, and --optimize-for-size keeps it smaller still): every scavenge
 * copies the live rows of the page, and rows that outlive a few scavenges are
 * promoted and marked again and again while the tree grows. At 200k tracks
 * under the shipped flags, 256 took 2.2 s of CPU to open the library where
 * 1024 took 2.7 s and 16384 more.
 */
const ID_SPAN = 256;

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
 * Merge the track rows (ascending id) with their tag rows (ascending track id,
 * each track's in key BINARY, ordinal order) and call `visit` per track with
 * its tag values by key index, or with null and why when the track's rows
 * cannot be read. `values` is reused: read it during the call only.
 */
function forEachTrack(
  keyCount: number,
  tracks: readonly CatalogTrackRow[],
  tags: readonly CatalogTagRow[],
  visit: (track: CatalogTrackRow, values: TagValues | null, fault: string | null) => void,
): void {
  const values: (string | undefined)[] = new Array(keyCount).fill(undefined);
  let j = 0;
  for (const track of tracks) {
    const id = track[0];
    values.fill(undefined);
    let count = 0;
    let fault: string | null = null;
    // Tag rows of tracks the track query left out (beyond 2^53) are skipped.
    while (j < tags.length && tags[j][0] < id) j++;
    for (; j < tags.length && tags[j][0] === id; j++) {
      if (fault !== null) continue;
      const [, key, value] = tags[j];
      if (value === null) {
        fault = `tag ${key} has a value over ${MAX_TAG_VALUE_BYTES} bytes`;
      } else if (++count > MAX_ROWS_PER_TRACK) {
        fault = `more than ${MAX_ROWS_PER_TRACK} text tag rows for the template's keys`;
      } else {
        // Rows come in (key BINARY, ordinal) order: the first spelling and ordinal win.
        const k = key as number;
        if (values[k] === undefined) values[k] = value;
      }
    }
    const format = track[2];
    if (fault === null && !isFormat(format)) fault = `unknown format ${format}`;
    if (fault === null && track[3] === null) fault = "backing_path is not text";
    visit(track, fault === null ? values : null, fault);
  }
}

/** Render the rows into `out`; unreadable tracks → `faults`. */
function renderRows(
  template: Template,
  tracks: readonly CatalogTrackRow[],
  tags: readonly CatalogTagRow[],
  out: CatalogTrack[],
  faults: TrackFault[],
): void {
  forEachTrack(template.tagKeys.length, tracks, tags, (track, values, fault) => {
    const [id, cv, format, stamp, path] = track;
    const sig = stamp === null ? 0 : hash52(stamp);
    if (values === null) {
      faults.push({ id, message: `track ${id} is hidden: ${fault}` });
      out.push({ id, state: { cv, sig, path: null, fault: fault ?? "unreadable" } });
      return;
    }
    const rendered = template.renderValues(values, format as Format, path ?? "");
    out.push({
      id,
      state: { cv, sig, path: rendered === null ? null : reserveRootName(rendered) },
    });
  });
}

/** Tracks whose integers a number cannot hold exactly: faults, never loaded. */
function unsafeFaults(store: Store, ids: readonly number[] | null): TrackFault[] {
  return catalogUnsafeIds(store, ids).map((text) => ({
    id: /^-?\d+$/.test(text) && Number.isSafeInteger(Number(text)) ? Number(text) : text,
    message: `track ${text} is hidden: its id, content_version or backing_size is beyond ` +
      `2^53 or negative`,
  }));
}

/** Pages of every track's rows, ascending id (call inside a read snapshot). */
function* allRows(
  store: Store,
  template: Template,
): Generator<[CatalogTrackRow[], CatalogTagRow[]]> {
  // Pages of ids (not id ranges: ids may be sparse); the tags of a page's id range.
  for (let from = Number.MIN_SAFE_INTEGER;;) {
    const tracks = catalogTracksPage(store, from, ID_SPAN, PATH_DEPENDENT_FORMATS);
    if (tracks.length === 0) return;
    const last = tracks[tracks.length - 1][0];
    yield [tracks, catalogTagsBetween(store, template.tagKeys, tracks[0][0], last)];
    from = last + 1;
  }
}

/**
 * Every track, ascending id, rendered (call inside a read snapshot). Tracks
 * that cannot be read are left out of the tree and listed in `faults`.
 */
export function loadAll(
  store: Store,
  template: Template,
  faults: TrackFault[] = [],
): CatalogTrack[] {
  const out: CatalogTrack[] = [];
  for (const [tracks, tags] of allRows(store, template)) {
    renderRows(template, tracks, tags, out, faults);
  }
  faults.push(...unsafeFaults(store, null));
  return out;
}

/**
 * Every track's template fields, ascending id, without rendering (for
 * `mount --dry-run`'s statistics). `track` is reused: read it during the call.
 * Its backing path is there only where the extension depends on it (else "").
 */
export function visitAllFields(
  store: Store,
  template: Template,
  visit: (track: TrackFields) => void,
): void {
  const keys = template.tagKeys;
  const fields = new Map<string, string>();
  const track = { fields, format: "flac" as Format, backingPath: "" };
  for (const [tracks, tags] of allRows(store, template)) {
    forEachTrack(keys.length, tracks, tags, (row, values) => {
      if (values === null) return;
      fields.clear();
      for (let k = 0; k < keys.length; k++) {
        const value = values[k];
        if (value !== undefined) fields.set(keys[k], value);
      }
      track.format = row[2] as Format;
      track.backingPath = row[4] ?? "";
      visit(track);
    });
  }
}

/** The given tracks that still exist, ascending id, rendered (call inside a read snapshot). */
export function loadSome(
  store: Store,
  template: Template,
  ids: readonly number[],
  faults: TrackFault[] = [],
): CatalogTrack[] {
  const out: CatalogTrack[] = [];
  if (ids.length === 0) return out;
  const tracks = catalogTracksOf(store, ids, PATH_DEPENDENT_FORMATS);
  const tags = tracks.length === 0 ? [] : catalogTagsOf(store, template.tagKeys, ids);
  renderRows(template, tracks, tags, out, faults);
  faults.push(...unsafeFaults(store, ids));
  return out;
}
