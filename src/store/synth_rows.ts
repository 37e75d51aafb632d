// Everything synthesis needs for many tracks at once: the track rows, text
// and binary tags, art links and FLAC structural blocks, in one read snapshot
// and five statements however many tracks are asked for. A directory listing
// with attributes (READDIRPLUS) sizes all its files this way; one statement
// per row kind per track costs more in statement overhead than in rows.
//
// The guards are the single-track readers' (the same columns and checks). The
// per-track row cap is enforced differently: a batch whose rows exceed an
// average of BATCH_ROWS_PER_TRACK per track is abandoned (null), and the
// caller reads those tracks one by one, where MAX_ROWS_PER_TRACK applies.

import type { ArtRef, BinaryTagRef, StructuralBlock, TagEntry } from "../model/mod.ts";
import type { Store } from "./open.ts";
import { checkedTrackArt, type RawTrackArt, TRACK_ART_COLUMNS, TRACK_ART_FROM } from "./art.ts";
import {
  checkedBlock,
  type RawStructuralBlock,
  STRUCTURAL_COLUMNS,
  STRUCTURAL_ORDER,
} from "./structural.ts";
import {
  BINARY_TAG_COLUMNS,
  checkedBinaryTag,
  checkedTagOf,
  type RawBinaryTag,
  TAG_ORDER,
  TEXT_TAG_COLUMNS,
} from "./tags.ts";
import { type RawTrack, toTrack, TRACK_COLUMNS, type TrackRow } from "./tracks.ts";

/** Rows of one kind a batch may hold per track on average before it is abandoned. */
export const BATCH_ROWS_PER_TRACK = 256;

/** One track's synthesis rows. */
export interface SynthRows {
  row: TrackRow;
  tags: TagEntry[];
  binaryTags: BinaryTagRef[];
  art: ArtRef[];
  /** FLAC STREAMINFO/SEEKTABLE (empty for other formats: only FLAC synthesis reads them). */
  structural: StructuralBlock[];
}

const IDS = "(SELECT value FROM json_each(?))";

/**
 * The synthesis rows of `ids` (tracks that no longer exist are absent from
 * the map), read in one snapshot; null when the tracks hold too many rows
 * for a batch. Throws StoreError for a row the single-track readers refuse.
 */
export function readSynthRows(store: Store, ids: readonly number[]): Map<number, SynthRows> | null {
  if (ids.length === 0) return new Map();
  const list = JSON.stringify(ids);
  const cap = ids.length * BATCH_ROWS_PER_TRACK;
  return store.readTransaction(() => {
    const out = new Map<number, SynthRows>();
    const tracks = store.allBig<RawTrack>(
      `SELECT ${TRACK_COLUMNS} FROM tracks WHERE id IN ${IDS}`,
      list,
    );
    for (let i = 0; i < tracks.length; i++) {
      const row = toTrack(store, tracks[i]);
      out.set(row.id, { row, tags: [], binaryTags: [], art: [], structural: [] });
    }
    if (out.size === 0) return out;
    // Rows as arrays: the most numerous rows, and no object per row but the tag's.
    const text = store.allArrays<[number, string | null, string | null, number]>(
      `SELECT track_id AS t, ${TEXT_TAG_COLUMNS} FROM tags
        WHERE track_id IN ${IDS} AND value_blob IS NULL
        ORDER BY track_id, ${TAG_ORDER} LIMIT ${cap + 1}`,
      list,
    );
    if (text.length > cap) return null;
    // Indexed loops: destructuring each row through the iterator protocol
    // allocated an iterator result per column (the bulk of a batch's garbage).
    for (let i = 0; i < text.length; i++) {
      const r = text[i];
      out.get(r[0])?.tags.push(checkedTagOf(store, r[0], r[1], r[2], r[3]));
    }
    const binary = store.all<RawBinaryTag & { t: number }>(
      `SELECT track_id AS t, ${BINARY_TAG_COLUMNS} FROM tags
        WHERE track_id IN ${IDS} AND value_blob IS NOT NULL
        ORDER BY track_id, ${TAG_ORDER} LIMIT ${cap + 1}`,
      list,
    );
    if (binary.length > cap) return null;
    for (let i = 0; i < binary.length; i++) {
      const { t, ...ref } = binary[i];
      out.get(t)?.binaryTags.push(checkedBinaryTag(store, t, ref));
    }
    const art = store.all<RawTrackArt & { t: number }>(
      `SELECT ta.track_id AS t, ${TRACK_ART_COLUMNS} FROM ${TRACK_ART_FROM}
        WHERE ta.track_id IN ${IDS} ORDER BY ta.track_id, ta.ordinal LIMIT ${cap + 1}`,
      list,
    );
    if (art.length > cap) return null;
    for (let i = 0; i < art.length; i++) {
      const r = art[i];
      out.get(r.t)?.art.push(checkedTrackArt(store, r.t, r));
    }
    const flac: number[] = [];
    out.forEach((s) => {
      if (s.row.format === "flac") flac.push(s.row.id);
    });
    if (flac.length > 0) {
      const blocks = store.all<RawStructuralBlock & { t: number }>(
        `SELECT track_id AS t, ${STRUCTURAL_COLUMNS} FROM structural_blocks
          WHERE track_id IN ${IDS} ORDER BY track_id, ${STRUCTURAL_ORDER}
          LIMIT ${flac.length * BATCH_ROWS_PER_TRACK + 1}`,
        JSON.stringify(flac),
      );
      if (blocks.length > flac.length * BATCH_ROWS_PER_TRACK) return null;
      for (let i = 0; i < blocks.length; i++) {
        const r = blocks[i];
        out.get(r.t)?.structural.push(checkedBlock(store, r.t, r));
      }
    }
    return out;
  });
}
