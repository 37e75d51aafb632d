// Move re-identification. A probed file whose path is not in the store
// may be a track that moved: the candidates are tracks with the same
// fingerprint whose backing file is gone. Exactly one candidate is confirmed
// by the strictness rule — fast: the fingerprint suffices; auto: compare
// full hashes when the candidate has one, else accept; strict: require the
// candidate's hash and equality — and then retargeted in place, keeping its
// id, tags, art, format and structural blocks.
//
// Candidates are memoized per fingerprint for the run (`MoveCandidates`):
// looking them up and stat'ing their paths once per fingerprint keeps a
// library of many identical files (copies, hardlinks) linear to scan.

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

/** Bound on memoized fingerprints (a fresh lookup after a reset is only slower). */
const MEMO_MAX = 65_536;

/** The tracks of each fingerprint whose backing file is gone, looked up once per run. */
export class MoveCandidates {
  readonly #missing = new Map<string, TrackRow[]>();
  constructor(readonly store: Store) {}

  /** Missing tracks with this fingerprint (other than `path` itself). */
  missing(fingerprint: string, path: string): TrackRow[] {
    let gone = this.#missing.get(fingerprint);
    if (gone === undefined) {
      gone = tracksByFingerprint(this.store, fingerprint).filter((t) => backingGone(t.backingPath));
      if (this.#missing.size >= MEMO_MAX) this.#missing.clear();
      this.#missing.set(fingerprint, gone);
    }
    return gone.filter((t) => t.backingPath !== path);
  }

  /** `trackId` was retargeted to an existing file: it is no longer a candidate. */
  found(fingerprint: string, trackId: number): void {
    const gone = this.#missing.get(fingerprint);
    if (gone) this.#missing.set(fingerprint, gone.filter((t) => t.id !== trackId));
  }
}

/** Decide whether `probe` (a path not in the store) is a moved track. */
export function decideMove(
  candidatesOf: MoveCandidates,
  probe: MoveProbe,
  strictness: MatchStrictness,
): MoveDecision {
  const candidates = candidatesOf.missing(probe.fingerprint, probe.path);
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
