// Move candidates are looked up once per fingerprint per run: the store is
// not re-queried (nor paths re-stat'ed) for every new file with the same
// fingerprint, which keeps a library of identical files linear to scan.

import assert from "node:assert/strict";
import { decideMove, MoveCandidates } from "../../src/scan/moves.ts";
import { openStore, upsertTrack } from "../../src/store/mod.ts";
import { scratchDir } from "../scratch.ts";

const FP = "a".repeat(64);

function track(path: string) {
  return {
    backingPath: path,
    format: "flac" as const,
    audioOffset: 0,
    audioLength: 10,
    backingSize: 10,
    backingMtimeNs: 1n,
    backingCtimeNs: 1n,
    fingerprint: FP,
  };
}

Deno.test("move candidates: missing tracks per fingerprint, memoized for the run", async () => {
  using tmp = scratchDir("musefs-moves-");
  const dir = tmp.path;
  using store = openStore(`${dir}/lib.db`, { mode: "rw", create: true });
  const present = `${dir}/present.flac`;
  await Deno.writeFile(present, new Uint8Array(10));
  upsertTrack(store, track(present));
  const goneId = upsertTrack(store, track(`${dir}/gone-1.flac`));
  const memo = new MoveCandidates(store);
  const probe = { path: `${dir}/new.flac`, stamp: { size: 10, mtimeNs: 1n, ctimeNs: 1n } };

  // Only the track whose file is gone is a candidate; with one, the move is taken.
  assert.deepEqual(memo.missing(FP, probe.path).map((t) => t.id), [goneId]);
  const d = decideMove(memo, { ...probe, fingerprint: FP, contentHash: null }, "fast");
  assert.equal(d.kind, "retarget");

  // A second gone track added behind the memo's back is not seen this run: no re-query.
  upsertTrack(store, track(`${dir}/gone-2.flac`));
  assert.deepEqual(memo.missing(FP, probe.path).map((t) => t.id), [goneId]);
  // A fresh run sees both: the match becomes ambiguous and is refused.
  const fresh = new MoveCandidates(store);
  const amb = decideMove(fresh, { ...probe, fingerprint: FP, contentHash: null }, "fast");
  assert.equal(amb.kind, "refused");

  // A retargeted candidate is found: it is no longer offered.
  memo.found(FP, goneId);
  assert.deepEqual(memo.missing(FP, probe.path), []);
  assert.equal(
    decideMove(memo, { ...probe, fingerprint: FP, contentHash: null }, "fast").kind,
    "none",
  );
});
