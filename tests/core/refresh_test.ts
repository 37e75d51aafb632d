// Refresh: every kind of store change reaches the tree in one poll with the
// right RefreshReport; changelog gaps fall back to a full rebuild; a failing
// rebuild arms the backoff and recovers; incremental updates equal a fresh
// build (structure and inodes). Store rows only: the tree never reads audio.

import { addTrack, type Fixture, freshStore as freshLibraryStore } from "./track_store.ts";
import assert from "node:assert/strict";
import { loadAll } from "../../src/core/catalog.ts";
import { openLibrary } from "../../src/core/library.ts";
import type { MusefsLibrary } from "../../src/core/library.ts";
import { Template } from "../../src/core/template.ts";
import { type TreeEntry, VirtualTree } from "../../src/core/tree.ts";
import { replaceTextTags, type Store, upsertTrack } from "../../src/store/mod.ts";
import { allPaths, rng } from "./ingest.ts";
import { closing } from "../scratch.ts";

const TEMPLATE = "$artist/$title";
const enc = new TextEncoder();
const dec = new TextDecoder();

const freshStore = () => freshLibraryStore("musefs-refresh-test-");

function setTag(store: Store, id: number, key: string, value: string): void {
  store.run(
    "INSERT OR REPLACE INTO tags (track_id, key, value, ordinal) VALUES (?, ?, ?, 0)",
    id,
    key,
    value,
  );
}

function entryNames(report: { invalidateEntries: { parent: number; name: Uint8Array }[] }) {
  return report.invalidateEntries.map((e) => dec.decode(e.name)).sort();
}

/** The tree a fresh build over the store's current rows would make, with the library's inode history. */
function referenceTree(lib: MusefsLibrary, f: Fixture): VirtualTree {
  const template = Template.parse(TEMPLATE);
  const entries: TreeEntry[] = loadAll(f.store, template)
    .filter((t) => t.state.path !== null)
    .map((t) => [t.id, t.state.path!]);
  return VirtualTree.build(entries, { allocator: lib.refresher.allocator.clone() });
}

Deno.test("add, retag, move and remove each reach the tree in one poll with the right report", () => {
  using f = freshStore();
  const a = addTrack(f.store, "Alpha", "One");
  addTrack(f.store, "Beta", "Two");
  using lib = closing(openLibrary(f.db, { template: TEMPLATE, pollIntervalMs: 0 }));
  assert.deepEqual(allPaths(lib), ["Alpha/One.flac", "Beta/Two.flac"]);
  assert.equal(lib.poll(), null, "nothing changed");
  const root = lib.getattr(1);

  // add
  const c = addTrack(f.store, "Alpha", "Three");
  let report = lib.poll();
  assert.ok(report);
  assert.deepEqual(allPaths(lib), ["Alpha/One.flac", "Alpha/Three.flac", "Beta/Two.flac"]);
  assert.deepEqual(report.invalidateInodes, []);
  assert.deepEqual(report.invalidateEntries, []);
  const alpha = lib.tree.lookup(1, "Alpha")!;
  const alphaAttr = lib.getattr(alpha);
  assert.ok(
    alphaAttr.mtimeSec * 1e9 + alphaAttr.mtimeNsec >= root.mtimeSec * 1e9 + root.mtimeNsec,
    "the directory's mtime advanced with its listing",
  );

  // retag without a rename: same inode, its content invalidated
  const oneIno = lib.tree.inodeOfTrack(a)!;
  setTag(f.store, a, "genre", "Rock");
  report = lib.poll();
  assert.ok(report);
  assert.equal(lib.tree.inodeOfTrack(a), oneIno);
  assert.deepEqual(report.invalidateInodes, [oneIno]);
  assert.deepEqual(report.invalidateEntries, []);

  // move: the old name vanishes (entry + old inode), the new one appears
  setTag(f.store, a, "title", "Uno");
  report = lib.poll();
  assert.ok(report);
  assert.deepEqual(allPaths(lib), ["Alpha/Three.flac", "Alpha/Uno.flac", "Beta/Two.flac"]);
  assert.ok(report.invalidateInodes.includes(oneIno));
  assert.deepEqual(entryNames(report), ["One.flac"]);
  assert.equal(report.invalidateEntries[0].parent, alpha);

  // remove: the entry, its inode and the pruned directory go
  const threeIno = lib.tree.inodeOfTrack(c)!;
  f.store.run("DELETE FROM tracks WHERE id = ?", c);
  setTag(f.store, a, "artist", "Gamma");
  report = lib.poll();
  assert.ok(report);
  assert.deepEqual(allPaths(lib), ["Beta/Two.flac", "Gamma/Uno.flac"]);
  assert.ok(report.invalidateInodes.includes(threeIno));
  assert.ok(report.invalidateInodes.includes(alpha), "pruned directory inode");
  assert.deepEqual(entryNames(report), ["Alpha", "Three.flac", "Uno.flac"]);
  assert.ok(lib.tree.equiv(referenceTree(lib, f)));
});

Deno.test("a collision re-rank invalidates the renamed entries and the rebound inode", () => {
  using f = freshStore();
  const first = addTrack(f.store, "Band", "Song");
  const second = addTrack(f.store, "Band", "Song");
  using lib = closing(openLibrary(f.db, { template: TEMPLATE, pollIntervalMs: 0 }));
  assert.deepEqual(allPaths(lib), ["Band/Song (2).flac", "Band/Song.flac"]);
  const bareIno = lib.tree.inodeOfTrack(first)!;
  const suffixedIno = lib.tree.inodeOfTrack(second)!;
  setTag(f.store, first, "title", "Other");
  const report = lib.poll();
  assert.ok(report);
  assert.deepEqual(allPaths(lib), ["Band/Other.flac", "Band/Song.flac"]);
  // "Song.flac" keeps its inode (inodes follow paths) but now serves the second
  // track: that inode's cached pages go; "Song (2).flac" vanished as a name.
  assert.deepEqual(entryNames(report), ["Song (2).flac"]);
  assert.equal(lib.tree.inodeOfTrack(second), bareIno, "inodes follow paths");
  assert.ok(report.invalidateInodes.includes(bareIno), "rebound inode");
  assert.ok(report.invalidateInodes.includes(suffixedIno), "vanished inode");
  assert.ok(lib.tree.equiv(referenceTree(lib, f)));
});

Deno.test("a changelog gap (deleted ring rows, or more than 8192 changes) falls back to a full rebuild", () => {
  using f = freshStore();
  const a = addTrack(f.store, "A", "a");
  using lib = closing(openLibrary(f.db, { template: TEMPLATE, pollIntervalMs: 0 }));
  // The ring emptied by hand.
  addTrack(f.store, "B", "b");
  f.store.run("DELETE FROM track_changes");
  assert.ok(lib.poll());
  assert.equal(lib.refresher.gapFallbacks, 1);
  assert.deepEqual(allPaths(lib), ["A/a.flac", "B/b.flac"]);

  // More changes than the ring holds.
  setTag(f.store, a, "title", "renamed");
  f.store.transaction(() => {
    for (let i = 0; i < 8200; i++) {
      f.store.run("UPDATE tracks SET updated_at = updated_at WHERE id = ?", a);
    }
  });
  const report = lib.poll();
  assert.ok(report);
  assert.equal(lib.refresher.gapFallbacks, 2);
  assert.deepEqual(allPaths(lib), ["A/renamed.flac", "B/b.flac"]);
  assert.deepEqual(entryNames(report), ["a.flac"]);
  assert.ok(lib.tree.equiv(referenceTree(lib, f)));

  // Back on the incremental path afterwards.
  addTrack(f.store, "C", "c");
  assert.ok(lib.poll());
  assert.equal(lib.refresher.gapFallbacks, 2);
  assert.equal(lib.refresher.fullRebuilds, 2);
});

Deno.test("a failing refresh arms the backoff, keeps serving the old tree, and recovers", async () => {
  using f = freshStore();
  const a = addTrack(f.store, "A", "a");
  const warnings: string[] = [];
  using lib = closing(openLibrary(f.db, {
    template: TEMPLATE,
    pollIntervalMs: 50,
    log: { warn: (m) => warnings.push(m) },
  }));
  const r = lib.refresher;
  assert.equal(r.backoffMs, 100);
  // An edit, then the store reshaped under the mount: the changed track cannot be read.
  setTag(f.store, a, "title", "renamed");
  f.store.exec("ALTER TABLE tracks RENAME TO tracks_away");
  await new Promise((resolve) => setTimeout(resolve, 60));
  assert.equal(lib.poll(), null, "Library.poll never throws");
  assert.equal(r.failures, 1);
  assert.match(warnings[0], /refresh failed: .*no such table: tracks/);
  assert.deepEqual(allPaths(lib), ["A/a.flac"], "old tree still served");
  // Within the backoff: not even tried.
  let now = performance.now();
  assert.equal(r.poll(now), null);
  assert.equal(r.failures, 1);
  // After the backoff, still broken: tried and failed again.
  now += 150;
  assert.equal(r.poll(now), null);
  assert.equal(r.failures, 2);
  // Fixed by the writer: the next due poll recovers, the edit included.
  f.store.exec("ALTER TABLE tracks_away RENAME TO tracks");
  now += 150;
  const outcome = r.poll(now);
  assert.ok(outcome);
  assert.equal(r.lastError, null);
  assert.deepEqual(allPaths(lib), ["A/renamed.flac"]);
});

Deno.test("polls are debounced by the interval", () => {
  using f = freshStore();
  addTrack(f.store, "A", "a");
  using lib = closing(openLibrary(f.db, { template: TEMPLATE, pollIntervalMs: 10_000 }));
  addTrack(f.store, "B", "b");
  assert.equal(lib.poll(), null, "within the interval since the build");
  assert.deepEqual(allPaths(lib), ["A/a.flac"]);
  assert.ok(lib.refresher.poll(performance.now() + 20_000), "due after the interval");
  assert.deepEqual(allPaths(lib), ["A/a.flac", "B/b.flac"]);
});

Deno.test("skip-on-missing: a track gaining or losing its field enters or leaves the tree", () => {
  using f = freshStore();
  const a = addTrack(f.store, "A", "a");
  f.store.run("DELETE FROM tags WHERE track_id = ? AND key = 'artist'", a);
  addTrack(f.store, "B", "b");
  using lib = closing(
    openLibrary(f.db, { template: TEMPLATE, pollIntervalMs: 0, skipOnMissing: true }),
  );
  assert.deepEqual(allPaths(lib), ["B/b.flac"]);
  setTag(f.store, a, "artist", "A");
  assert.ok(lib.poll());
  assert.deepEqual(allPaths(lib), ["A/a.flac", "B/b.flac"]);
  f.store.run("DELETE FROM tags WHERE track_id = ? AND key = 'artist'", a);
  const report = lib.poll();
  assert.ok(report);
  assert.deepEqual(allPaths(lib), ["B/b.flac"]);
  assert.deepEqual(entryNames(report), ["A", "a.flac"]);
});

Deno.test("random change sequences: incremental refresh equals a fresh build, inodes included", () => {
  for (const caseInsensitive of [false, true]) {
    using f = freshStore();
    const rand = rng(caseInsensitive ? 7 : 8);
    const artists = ["A", "a", "B", "C (2)", "C"];
    const titles = ["x", "X", "y", "y (2)", "z"];
    const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)];
    const live: number[] = [];
    for (let i = 0; i < 12; i++) live.push(addTrack(f.store, pick(artists), pick(titles)));
    using lib = closing(
      openLibrary(f.db, { template: TEMPLATE, pollIntervalMs: 0, caseInsensitive }),
    );
    for (let round = 0; round < 40; round++) {
      const changes = 1 + Math.floor(rand() * 3);
      for (let k = 0; k < changes; k++) {
        const roll = rand();
        if (roll < 0.3 || live.length < 3) {
          live.push(addTrack(f.store, pick(artists), pick(titles)));
        } else if (roll < 0.5) {
          const i = Math.floor(rand() * live.length);
          f.store.run("DELETE FROM tracks WHERE id = ?", live[i]);
          live.splice(i, 1);
        } else {
          setTag(
            f.store,
            pick(live),
            rand() < 0.5 ? "artist" : "title",
            pick([...artists, ...titles]),
          );
        }
      }
      lib.poll();
      const reference = caseInsensitive
        ? VirtualTree.build(
          loadAll(f.store, Template.parse(TEMPLATE)).map((t) => [t.id, t.state.path!] as const),
          { allocator: lib.refresher.allocator.clone(), caseInsensitive: true },
        )
        : referenceTree(lib, f);
      assert.ok(
        lib.tree.equiv(reference),
        `round ${round} (case-insensitive ${caseInsensitive})`,
      );
      assert.equal(lib.counts().files, live.length);
    }
    assert.equal(lib.refresher.gapFallbacks, 0);
    if (!caseInsensitive) assert.equal(lib.refresher.fullRebuilds, 0, "all incremental");
  }
});

Deno.test("the report names entries as bytes the kernel compares", () => {
  using f = freshStore();
  const a = addTrack(f.store, "Zoë", "東京");
  using lib = closing(openLibrary(f.db, { template: TEMPLATE, pollIntervalMs: 0 }));
  setTag(f.store, a, "title", "Paris");
  const report = lib.poll()!;
  assert.deepEqual(report.invalidateEntries.map((e) => [...e.name]), [[
    ...enc.encode("東京.flac"),
  ]]);
});

Deno.test("a stamp-only change invalidates the inode; a retarget to .m4b renames the file", () => {
  using f = freshStore();
  const a = addTrack(f.store, "A", "a");
  const m = upsertTrack(f.store, {
    backingPath: "/nowhere/book.m4a",
    format: "m4a",
    audioOffset: 10,
    audioLength: 90,
    backingSize: 100,
    backingMtimeNs: 1n,
    backingCtimeNs: 1n,
  });
  replaceTextTags(f.store, m, [
    { key: "artist", value: "B", ordinal: 0 },
    { key: "title", value: "book", ordinal: 0 },
  ]);
  using lib = closing(openLibrary(f.db, { template: TEMPLATE, pollIntervalMs: 0 }));
  const ino = lib.tree.inodeOfTrack(a)!;
  // What revalidate writes after a chmod: content_version does not move.
  const cv =
    f.store.get<{ v: number }>("SELECT content_version AS v FROM tracks WHERE id = ?", a)!.v;
  f.store.run("UPDATE tracks SET backing_ctime_ns = backing_ctime_ns + 1 WHERE id = ?", a);
  assert.equal(
    f.store.get<{ v: number }>("SELECT content_version AS v FROM tracks WHERE id = ?", a)!.v,
    cv,
  );
  let report = lib.poll();
  assert.ok(report);
  assert.deepEqual(report.invalidateInodes, [ino]);
  assert.deepEqual(report.invalidateEntries, []);
  // A retarget by scan to a .m4b file: the served extension follows the path.
  f.store.run("UPDATE tracks SET backing_path = '/nowhere/book.m4b' WHERE id = ?", m);
  report = lib.poll();
  assert.ok(report);
  assert.deepEqual(allPaths(lib), ["A/a.flac", "B/book.m4b"]);
  assert.deepEqual(entryNames(report), ["book.m4a"]);
});

Deno.test("the refresh timings in the metrics move only for a poll that found a change", () => {
  using f = freshStore();
  const a = addTrack(f.store, "Alpha", "One");
  using lib = closing(openLibrary(f.db, { template: TEMPLATE, pollIntervalMs: 0 }));
  const timing = () => {
    const m = new Map(lib.metrics().map((s) => [s.name, s.value]));
    return [
      m.get("musefs_refresh_last_seconds"),
      m.get("musefs_refresh_max_seconds"),
      m.get("musefs_refresh_seconds_total"),
    ];
  };
  assert.deepEqual(timing(), [0, 0, 0], "no refresh yet");
  assert.equal(lib.poll(), null);
  assert.deepEqual(timing(), [0, 0, 0], "a poll that found nothing is not a refresh");
  setTag(f.store, a, "comment", "edited");
  assert.ok(lib.poll());
  const [last, max, total] = timing();
  assert.ok(last! > 0 && last! < 5, `last ${last}`);
  assert.equal(max, last);
  assert.equal(total, last);
  setTag(f.store, a, "comment", "edited again");
  assert.ok(lib.poll());
  const [last2, max2, total2] = timing();
  assert.ok(last2! > 0);
  assert.equal(max2, Math.max(last!, last2!));
  assert.equal(total2, last! + last2!);
});

Deno.test("opening runs one refresh's code on a track as it is: the tree is a fresh build's, nothing counted", () => {
  using f = freshStore();
  addTrack(f.store, "Alpha", "One");
  addTrack(f.store, "Alpha", "Two");
  addTrack(f.store, "Beta", "Three");
  using lib = closing(openLibrary(f.db, { template: TEMPLATE, pollIntervalMs: 0 }));
  assert.ok(lib.tree.equiv(referenceTree(lib, f)), "same structure and inodes as a fresh build");
  assert.equal(lib.refresher.generation, 0, "no refresh counted");
  assert.equal(lib.poll(), null, "nothing to report");
  // The first real edit after opening is brought in as any other.
  const b = addTrack(f.store, "Beta", "Four");
  const report = lib.poll();
  assert.ok(report);
  assert.deepEqual(allPaths(lib), [
    "Alpha/One.flac",
    "Alpha/Two.flac",
    "Beta/Four.flac",
    "Beta/Three.flac",
  ]);
  assert.ok(lib.tree.inodeOfTrack(b) !== undefined);
  assert.ok(lib.tree.equiv(referenceTree(lib, f)));
});
