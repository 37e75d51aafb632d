// Move re-identification (F§7). A probed file whose path is not in the store
// may be a track that moved: the candidates are tracks with the same
// fingerprint whose backing file is gone. Exactly one candidate is confirmed
// by the strictness rule — fast: the fingerprint suffices; auto: compare
// full hashes when the candidate has one, else accept; strict: require the
// candidate's hash and equality — and then retargeted in place, keeping its
// id, tags, art, format and structural blocks.

import { type Store, type TrackRow, tracksByFingerprint } from "../store/mod.ts";
import { contentHashIfUnchanged } from "./probe_file.ts";
import { type BackingStamp, isGone, stampOfPath } from "./stamp.ts";

export type MatchStrictness = "auto" | "fast" | "strict";

export type MoveDecision =
  | { kind: "none" }
  | { kind: "retarget"; track: TrackRow; contentHash: string | null }
  | { kind: "refused"; reason: string };

/** True only when stat says the path does not exist; other errors keep the candidate out. */
function backingGone(path: string): boolean {
  // A name Deno cannot represent (lossy U+FFFD) cannot be checked: never treat it as gone.
  if (path.includes("\uFFFD")) return false;
  try {
    stampOfPath(path);
    return false;
  } catch (e) {
    return isGone(e);
  }
}

export interface MoveProbe {
  path: string;
  stamp: BackingStamp;
  fingerprint: string;
  /** The new file's full hash when the tier computed it. */
  contentHash: string | null;
}

/** Decide whether `probe` (a path not in the store) is a moved track. */
export function decideMove(
  store: Store,
  probe: MoveProbe,
  strictness: MatchStrictness,
): MoveDecision {
  const candidates = tracksByFingerprint(store, probe.fingerprint)
    .filter((t) => t.backingPath !== probe.path && backingGone(t.backingPath));
  if (candidates.length === 0) return { kind: "none" };
  if (candidates.length > 1) {
    return {
      kind: "refused",
      reason: `ambiguous fingerprint match (${candidates.length} missing candidates)`,
    };
  }
  const track = candidates[0];
  if (strictness === "fast") return { kind: "retarget", track, contentHash: probe.contentHash };
  if (track.contentHash === null) {
    if (strictness === "auto") return { kind: "retarget", track, contentHash: probe.contentHash };
    return {
      kind: "refused",
      reason: `fingerprint match with ${track.backingPath} not confirmed ` +
        "(--strict needs a stored full hash; scan with --checksum full)",
    };
  }
  let hash = probe.contentHash;
  if (hash === null) {
    try {
      hash = contentHashIfUnchanged(probe.path, probe.stamp);
    } catch {
      hash = null;
    }
    if (hash === null) {
      return { kind: "refused", reason: "file changed or unreadable while confirming the move" };
    }
  }
  if (hash !== track.contentHash) {
    return {
      kind: "refused",
      reason: `fingerprint match with ${track.backingPath} not confirmed (full hashes differ)`,
    };
  }
  return { kind: "retarget", track, contentHash: hash };
}
