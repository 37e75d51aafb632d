// Hostile or foreign rows never take the mount down: a track whose rows
// cannot be read is hidden (warned once) while every other edit keeps
// flowing; changelog seqs past 2^53 cost one full rebuild, never a stall;
// track ids past 2^53 are skipped with a warning; a tag value equal to the
// metrics directory's name cannot shadow it. Real stores, crafted with SQL.

import { addTrack, type Fixture, freshStore as freshLibraryStore } from "./track_store.ts";
import assert from "node:assert/strict";
import { openLibrary } from "../../src/core/library.ts";
import type { MusefsLibrary } from "../../src/core/library.ts";
import type { Store } from "../../src/store/mod.ts";
import { allPaths } from "./ingest.ts";
import { closing } from "../scratch.ts";

const TEMPLATE = "$artist/$title";
const BIG_ID = "1152921504606846976"; // 2^60
const BIG_SEQ = "4611686018427387904"; // 2^62

const freshStore = () => freshLibraryStore("musefs-faults-test-");

function setTitle(store: Store, id: number | string, value: string): void {
  store.exec(`UPDATE tags SET value = '${value}' WHERE track_id = ${id} AND key = 'title'`);
}

function open(f: Fixture, warnings: string[]): MusefsLibrary {
  return openLibrary(f.db, {
    template: TEMPLATE,
    pollIntervalMs: 0,
    log: { warn: (m) => warnings.push(m) },
  });
}

Deno.test("a track whose rows cannot be read is hidden, warned once, and the refresh carries on", () => {
  using f = freshStore();
  const a = addTrack(f.store, "A", "a");
  const b = addTrack(f.store, "B", "b");
  const warnings: string[] = [];
  using lib = closing(open(f, warnings));
  // Written with checks off: a title over the 256 KiB cap.
  f.store.exec("PRAGMA ignore_check_constraints = ON");
  setTitle(f.store, a, "x".repeat(300_000));
  f.store.exec("PRAGMA ignore_check_constraints = OFF");
  assert.ok(lib.poll());
  assert.deepEqual(allPaths(lib), ["B/b.flac"]);
  assert.equal(lib.refresher.failures, 0);
  assert.equal(lib.refresher.unavailableTracks, 1);
  assert.deepEqual(warnings, [
    `track ${a} is hidden: tag title has a value over 262144 bytes`,
  ]);
  // Every later edit is still seen, and the fault is not repeated.
  setTitle(f.store, b, "b2");
  assert.ok(lib.poll());
  assert.deepEqual(allPaths(lib), ["B/b2.flac"]);
  lib.refresher.rebuild();
  assert.equal(warnings.length, 1, warnings.join("\n"));
  // Fixed by the writer: the track is back.
  setTitle(f.store, a, "fixed");
  assert.ok(lib.poll());
  assert.deepEqual(allPaths(lib), ["A/fixed.flac", "B/b2.flac"]);
  assert.equal(lib.refresher.unavailableTracks, 0);
  const metric = lib.metrics().find((m) => m.name === "musefs_tracks_unavailable");
  assert.equal(metric?.value, 0);
});

Deno.test("an unknown format at mount time hides that track only", () => {
  using f = freshStore();
  const a = addTrack(f.store, "A", "a");
  addTrack(f.store, "B", "b");
  f.store.exec("PRAGMA ignore_check_constraints = ON");
  f.store.exec(`UPDATE tracks SET format = 'aiff' WHERE id = ${a}`);
  f.store.exec("PRAGMA ignore_check_constraints = OFF");
  const warnings: string[] = [];
  using lib = closing(open(f, warnings));
  assert.deepEqual(allPaths(lib), ["B/b.flac"]);
  assert.deepEqual(warnings, [`track ${a} is hidden: unknown format aiff`]);
});

Deno.test("changelog seqs past 2^53 cost one full rebuild, and later edits are still seen", () => {
  using f = freshStore();
  const a = addTrack(f.store, "A", "a");
  const warnings: string[] = [];
  using lib = closing(open(f, warnings));
  const r = lib.refresher;
  // AUTOINCREMENT continues from here: every later seq is past 2^53 too.
  f.store.exec(`INSERT INTO track_changes (seq, track_id) VALUES (${BIG_SEQ}, ${a})`);
  setTitle(f.store, a, "a2");
  const rebuildsBefore = r.fullRebuilds;
  assert.ok(lib.poll());
  assert.deepEqual(allPaths(lib), ["A/a2.flac"]);
  assert.equal(r.fullRebuilds, rebuildsBefore + 1, "the gap costs one full rebuild");
  assert.ok(r.lastSeq > BigInt(BIG_SEQ));
  for (const title of ["a3", "a4"]) {
    setTitle(f.store, a, title);
    assert.ok(lib.poll());
    assert.deepEqual(allPaths(lib), [`A/${title}.flac`]);
  }
  assert.equal(r.fullRebuilds, rebuildsBefore + 1);
  assert.equal(r.failures, 0);
  // A ring rewritten below what was seen is a gap too: one rebuild, then on.
  f.store.exec("DELETE FROM track_changes");
  f.store.exec("DELETE FROM sqlite_sequence WHERE name = 'track_changes'");
  setTitle(f.store, a, "a5");
  assert.ok(lib.poll());
  assert.deepEqual(allPaths(lib), ["A/a5.flac"]);
  assert.equal(r.fullRebuilds, rebuildsBefore + 2);
  setTitle(f.store, a, "a6");
  assert.ok(lib.poll());
  assert.deepEqual(allPaths(lib), ["A/a6.flac"]);
  assert.equal(r.fullRebuilds, rebuildsBefore + 2, "incremental again");
  assert.deepEqual(warnings, []);
});

Deno.test("track ids past 2^53 are skipped with a warning; the mount starts and follows edits", () => {
  using f = freshStore();
  addTrack(f.store, "A", "a");
  const b = addTrack(f.store, "B", "b");
  f.store.exec(
    `INSERT INTO tracks (id, backing_path, format, audio_offset, audio_length, backing_size,
       backing_mtime_ns, backing_ctime_ns, updated_at)
     VALUES (${BIG_ID}, '/nowhere/big.flac', 'flac', 0, 10, 10, 1, 1, 0)`,
  );
  f.store.exec(`INSERT INTO tags (track_id, key, value) VALUES (${BIG_ID}, 'title', 'big')`);
  const warnings: string[] = [];
  using lib = closing(open(f, warnings));
  assert.deepEqual(allPaths(lib), ["A/a.flac", "B/b.flac"]);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], new RegExp(`track ${BIG_ID} is hidden: its id.* beyond 2\\^53`));
  // Edits of the huge track land in the changelog; the refresh skips them.
  setTitle(f.store, BIG_ID, "bigger");
  setTitle(f.store, b, "b2");
  assert.ok(lib.poll());
  assert.deepEqual(allPaths(lib), ["A/a.flac", "B/b2.flac"]);
  assert.equal(lib.refresher.failures, 0);
});

Deno.test("a top-level directory named .musefs-metrics is served as '.musefs-metrics (2)'", () => {
  using f = freshStore();
  const a = addTrack(f.store, ".musefs-metrics", "a");
  addTrack(f.store, "x", ".musefs-metrics");
  using lib = closing(open(f, []));
  assert.deepEqual(allPaths(lib), [".musefs-metrics (2)/a.flac", "x/.musefs-metrics.flac"]);
  // The incremental path agrees with the full build.
  f.store.exec(`UPDATE tags SET value = 'A' WHERE track_id = ${a} AND key = 'artist'`);
  assert.ok(lib.poll());
  f.store.exec(
    `UPDATE tags SET value = '.musefs-metrics' WHERE track_id = ${a} AND key = 'artist'`,
  );
  assert.ok(lib.poll());
  assert.deepEqual(allPaths(lib), [".musefs-metrics (2)/a.flac", "x/.musefs-metrics.flac"]);
});
