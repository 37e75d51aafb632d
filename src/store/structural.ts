// structural_blocks: FLAC STREAMINFO/SEEKTABLE bodies as scanned. Owned by
// the scanner; replaced wholesale (delete + insert, so every rewrite bumps
// content_version through the triggers).

import type { StructuralBlock, StructuralKind } from "../model/mod.ts";
import { MAX_FLAC_BLOCK } from "../model/mod.ts";
import { StoreError } from "./errors.ts";
import type { Store } from "./open.ts";

const KINDS: readonly string[] = ["STREAMINFO", "SEEKTABLE"];

export interface RawStructuralBlock {
  kind: string;
  ordinal: number;
  body: Uint8Array | null;
  len: number;
}
/** Columns of `RawStructuralBlock`, an over-long body read as NULL (refused by `checkedBlock`). */
export const STRUCTURAL_COLUMNS =
  `kind, ordinal, CASE WHEN length(body) <= ${MAX_FLAC_BLOCK} THEN body END AS body,
        length(body) AS len`;
/** STREAMINFO first, then SEEKTABLE, each by ordinal. */
export const STRUCTURAL_ORDER = "CASE kind WHEN 'STREAMINFO' THEN 0 ELSE 1 END, ordinal";

/** A track's blocks: STREAMINFO first, then SEEKTABLE, each by ordinal. */
export function listStructuralBlocks(store: Store, trackId: number): StructuralBlock[] {
  const rows = store.all<RawStructuralBlock>(
    `SELECT ${STRUCTURAL_COLUMNS} FROM structural_blocks WHERE track_id = ?
      ORDER BY ${STRUCTURAL_ORDER}`,
    trackId,
  );
  return rows.map((r) => checkedBlock(store, trackId, r));
}

export function checkedBlock(
  store: Store,
  trackId: number,
  r: RawStructuralBlock,
): StructuralBlock {
  if (!KINDS.includes(r.kind)) {
    throw new StoreError("corrupt", `track ${trackId} has structural kind ${r.kind}`, store.path);
  }
  if (!Number.isInteger(r.ordinal) || r.ordinal < 0) {
    throw new StoreError(
      "corrupt",
      `track ${trackId} structural ${r.kind} has ordinal ${r.ordinal}`,
      store.path,
    );
  }
  if (r.body === null) {
    throw new StoreError(
      "limit",
      `track ${trackId} structural ${r.kind} is ${r.len} bytes, over ${MAX_FLAC_BLOCK}`,
      store.path,
    );
  }
  return { kind: r.kind as StructuralKind, ordinal: r.ordinal, body: r.body };
}

export function hasStructuralBlocks(store: Store, trackId: number): boolean {
  return store.get("SELECT 1 FROM structural_blocks WHERE track_id = ? LIMIT 1", trackId) !==
    undefined;
}

export function replaceStructuralBlocks(
  store: Store,
  trackId: number,
  blocks: readonly StructuralBlock[],
): void {
  store.transaction(() => {
    store.run("DELETE FROM structural_blocks WHERE track_id = ?", trackId);
    for (const b of blocks) {
      store.run(
        "INSERT INTO structural_blocks (track_id, kind, ordinal, body) VALUES (?, ?, ?, ?)",
        trackId,
        b.kind,
        b.ordinal,
        b.body,
      );
    }
  });
}
