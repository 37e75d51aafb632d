// Layouts built ahead on the synthesis worker (src/core/synth_ahead.ts):
// each equals the layout the serving thread builds itself, the bytes served
// from it are exact, and one whose rows changed after it was built is
// checked against the row at open and rebuilt.

import assert from "node:assert/strict";
import { type MusefsLibrary, openLibrary } from "../../src/core/library.ts";
import { MAX_HANDED_FDS, SynthAhead, type SynthAheadOptions } from "../../src/core/synth_ahead.ts";
import { closing } from "../scratch.ts";
import { expectedBytes, fixtureStore, readAll } from "./ingest.ts";

/** A synthesis worker of its own for `lib` (a library opened without one), with `extra` options. */
function standaloneAhead(
  lib: MusefsLibrary,
  db: string,
  extra: Partial<SynthAheadOptions>,
): SynthAhead {
  return new SynthAhead(lib.resolver, {
    dbPath: db,
    mode: "synthesis",
    id3Version: 4,
    libraryRoots: [],
    ...extra,
  });
}

Deno.test("a layout built on the synthesis worker equals the serving thread's, and serves exact bytes", async () => {
  using t = await fixtureStore();
  const options = { pollIntervalMs: 0, sizeIndex: null };
  using plain = closing(openLibrary(t.db, { ...options, speculate: false }));
  using lib = closing(openLibrary(t.db, { ...options, speculate: true }));
  assert.equal(plain.ahead, null);
  const ahead = lib.ahead;
  assert.ok(ahead !== null, "synthesis mode builds ahead");
  const ids = [...t.tracks.values()].map((x) => x.id);
  ahead.submit(ids);
  await ahead.settle();
  assert.equal(ahead.pending, 0, "the worker finished every job");
  assert.equal(ahead.adopted, ids.length, "every fixture was built by the worker");
  for (const [name, { id }] of t.tracks) {
    const built = lib.resolver.headers.peek(id);
    assert.ok(built !== undefined, `${name}: taken in`);
    assert.deepStrictEqual(built, plain.resolver.resolve(id), `${name}: same as built here`);
  }
  const misses = lib.resolver.headers.misses;
  for (const [name, { id }] of t.tracks) {
    const ino = lib.tree.inodeOfTrack(id)!;
    assert.deepEqual(readAll(lib, ino), expectedBytes(t.store, id), `${name}: served bytes`);
  }
  assert.equal(lib.resolver.headers.misses, misses, "every open used the worker's layout");
});

Deno.test("a layout built ahead whose rows changed before it was taken in is rebuilt at open", async () => {
  using t = await fixtureStore(["flac", "mp3_v24", "ogg_vorbis", "m4a_moov_last", "wav", "opus"]);
  using lib = closing(openLibrary(t.db, { pollIntervalMs: 0, sizeIndex: null, speculate: true }));
  const ahead = lib.ahead!;
  const ids = [...t.tracks.values()].map((x) => x.id);
  assert.equal(ids.length, 6, "fixtures found");
  ahead.submit(ids);
  assert.ok(await ahead.workerPassed(), "the worker built them");
  // The edits land after the worker read the rows and before the serving
  // thread takes the layouts in (its first open drains them).
  for (const id of ids) {
    t.store.run(
      "UPDATE tags SET value = value || ' (edited after the worker built it)' " +
        "WHERE track_id = ? AND key = 'title'",
      id,
    );
  }
  for (const [name, { id }] of t.tracks) {
    const ino = lib.tree.inodeOfTrack(id)!;
    const served = readAll(lib, ino);
    assert.deepEqual(served, expectedBytes(t.store, id), `${name}: current rows served`);
  }
  // Taken in, or dropped where a getattr had cached its own build first.
  assert.equal(ahead.adopted + ahead.dropped, ids.length, "the worker's layouts were taken in");
  assert.ok(ahead.adopted > 0, "some stale layouts were taken in, then not served");
});

Deno.test("results wrap around a small ring, and a full ring leaves files to the open path", async () => {
  using t = await fixtureStore();
  const options = { pollIntervalMs: 0, sizeIndex: null, speculate: false };
  using plain = closing(openLibrary(t.db, options));
  using lib = closing(openLibrary(t.db, options));
  const ringBytes = 16 * 1024;
  using ahead = closing(standaloneAhead(lib, t.db, { ringBytes }));
  const ids = [...t.tracks.values()].map((x) => x.id);
  for (let round = 0; round < 8; round++) {
    for (const id of ids) lib.resolver.forget(id);
    const adopted = ahead.adopted;
    const failed = ahead.failedSeen;
    ahead.submit(ids);
    await ahead.settle();
    assert.equal(ahead.pending, 0, `round ${round}: every job answered`);
    assert.equal(
      ahead.adopted - adopted + ahead.failedSeen - failed,
      ids.length,
      `round ${round}: each job taken in or left to the open path`,
    );
    for (const id of ids) {
      const built = lib.resolver.headers.peek(id);
      if (built !== undefined) assert.deepStrictEqual(built, plain.resolver.resolve(id));
    }
  }
  assert.ok(
    ahead.ringBytesTaken > 3 * ringBytes,
    `the ring wrapped (${ahead.ringBytesTaken} bytes)`,
  );
  assert.ok(ahead.adopted >= 8, `layouts came through (${ahead.adopted})`);
  assert.ok(ahead.failedSeen > 0, "some jobs found the ring full or too small");
});

Deno.test("a worker started with the library is up before the first job, stays, and serves exact bytes", async () => {
  using t = await fixtureStore();
  using lib = closing(
    openLibrary(t.db, { pollIntervalMs: 0, sizeIndex: null, speculate: true, startWorker: true }),
  );
  const ahead = lib.ahead!;
  const gauge = (name: string) => lib.metrics().find((s) => s.name === name)?.value;
  await lib.ready();
  assert.equal(ahead.running, true, "running before any job");
  assert.equal(await ahead.start(), true, "its store is open");
  const ids = [...t.tracks.values()].map((x) => x.id);
  ahead.submit(ids);
  await ahead.settle();
  assert.equal(ahead.adopted, ids.length, "every layout taken in");
  // The Ogg fixtures embed a cover: the worker sliced it from its share of the art budget.
  const workerArt = gauge("musefs_synth_ahead_art_bytes")!;
  assert.ok(workerArt > 0, `worker images ${workerArt}`);
  assert.ok(workerArt <= gauge("musefs_cache_art_bytes_max")! / 4, `worker images ${workerArt}`);
  // Polls (the mount's timer) leave it running: it stays for the library's life.
  for (let i = 0; i < 3; i++) lib.poll();
  assert.equal(gauge("musefs_synth_ahead_worker_running"), 1);
  for (const [name, { id }] of t.tracks) {
    const ino = lib.tree.inodeOfTrack(id)!;
    assert.deepEqual(readAll(lib, ino), expectedBytes(t.store, id), `${name}: served bytes`);
  }
  lib.close();
  assert.equal(ahead.running, false);
  assert.equal(await ahead.start(), false, "a closed library starts no worker");
});

Deno.test("a worker that cannot open the store fails its start, and files are built on open", async () => {
  using t = await fixtureStore();
  using lib = closing(openLibrary(t.db, { pollIntervalMs: 0, sizeIndex: null, speculate: false }));
  const warnings: string[] = [];
  const ahead = new SynthAhead(lib.resolver, {
    dbPath: `${t.db}.missing`,
    mode: "synthesis",
    id3Version: 4,
    libraryRoots: [],
  }, { warn: (m) => warnings.push(m) });
  assert.equal(await ahead.start(), false);
  assert.equal(ahead.running, false, "closed after its failure");
  assert.match(warnings.join("\n"), /the worker that builds files ahead failed/);
  ahead.submit([...t.tracks.values()].map((x) => x.id));
  assert.equal(ahead.pending, 0, "no job goes to a failed worker");
  ahead.close();
});

Deno.test("the files the worker opened serve the opens after it, and none is left open", async () => {
  using t = await fixtureStore();
  const ids = [...t.tracks.values()].map((x) => x.id);
  const backing = new Set(
    t.store.all<{ p: string }>("SELECT backing_path AS p FROM tracks").map((r) => r.p),
  );
  /** Descriptors this process holds on backing files. */
  const backingFds = () =>
    [...Deno.readDirSync("/proc/self/fd")].filter((e) => {
      try {
        return backing.has(Deno.readLinkSync(`/proc/self/fd/${e.name}`));
      } catch {
        return false; // closed since the listing
      }
    }).length;
  {
    using lib = closing(openLibrary(t.db, { pollIntervalMs: 0, sizeIndex: null, speculate: true }));
    const ahead = lib.ahead!;
    ahead.submit(ids);
    await ahead.settle();
    const held = Math.min(ids.length, MAX_HANDED_FDS);
    assert.equal(ahead.handedFds, held, "one file per layout");
    assert.equal(backingFds(), held, "held open for the opens to come");
    for (const [name, { id }] of t.tracks) {
      const ino = lib.tree.inodeOfTrack(id)!;
      assert.deepEqual(readAll(lib, ino), expectedBytes(t.store, id), `${name}: served bytes`);
    }
    assert.equal(ahead.handedFds, 0, "every open took its file");
    // Files handed over and never opened are closed with the library.
    lib.resolver.headers.clear();
    ahead.submit(ids);
    await ahead.workerPassed();
  }
  assert.equal(backingFds(), 0, "no backing file left open");
});

Deno.test("a first scan's sizes are computed ahead on the worker; its stats find them in the size index", async () => {
  using t = await fixtureStore();
  using plain = closing(
    openLibrary(t.db, { pollIntervalMs: 0, sizeIndex: null, speculate: false }),
  );
  using lib = closing(
    openLibrary(t.db, { pollIntervalMs: 0, speculate: true, sizeAheadMin: 1 }),
  );
  const index = lib.resolver.index!;
  assert.equal(index.entries, 0, "a first mount: no sizes remembered");
  // A walker's first listing (one page of it: the fixtures share one directory)
  // starts the worker sizing every file ahead.
  const first = lib.tree.inodeOfTrack([...t.tracks.values()][0].id)!;
  lib.getattrMany([first]);
  const ahead = lib.ahead!;
  for (let i = 0; i < 200 && (ahead.warming || ahead.pending > 0); i++) {
    await new Promise((r) => setTimeout(r, 10));
    ahead.drain();
  }
  assert.equal(ahead.warming, false, "every file was handed to the worker");
  assert.ok(ahead.sized > 0, "the worker sized files ahead");
  assert.equal(index.entries, t.tracks.size, "every size is in the index");
  const misses = index.misses;
  for (const [name, { id }] of t.tracks) {
    const ino = lib.tree.inodeOfTrack(id)!;
    const want = plain.getattr(plain.tree.inodeOfTrack(id)!).size;
    assert.equal(lib.getattr(ino).size, want, `${name}: the size synthesis gives`);
    assert.deepEqual(readAll(lib, ino), expectedBytes(t.store, id), `${name}: served bytes`);
  }
  assert.equal(index.misses, misses, "no stat synthesized");
  assert.equal(index.corrections, 0, "no size computed ahead was wrong");
});

Deno.test("the first open ends sizing ahead: a scan that reads files gets layouts built ahead instead", async () => {
  using t = await fixtureStore();
  using lib = closing(
    openLibrary(t.db, { pollIntervalMs: 0, speculate: true, sizeAheadMin: 1 }),
  );
  const b = lib.tree.inodeOfTrack([...t.tracks.values()][0].id)!;
  const ahead = lib.ahead!;
  // More tracks than the worker is handed at once (ids no track has: those jobs fail).
  function* many() {
    for (let id = 1_000_000; id < 1_010_000; id++) yield id;
  }
  ahead.warm(many(), () => true);
  assert.equal(ahead.warming, true, "tracks are left to size");
  const { fh } = lib.open(b, 0);
  lib.release(fh);
  assert.equal(ahead.warming, false, "an open ends it");
  await ahead.settle();
});

Deno.test("files held for coming opens stay under the limit the descriptors allow", async () => {
  using t = await fixtureStore();
  using lib = closing(openLibrary(t.db, { pollIntervalMs: 0, sizeIndex: null, speculate: false }));
  using ahead = closing(standaloneAhead(lib, t.db, { handedLimit: () => 2 }));
  const ids = [...t.tracks.values()].map((x) => x.id);
  ahead.submit(ids);
  await ahead.settle();
  assert.equal(ahead.adopted, ids.length);
  assert.equal(ahead.handedFds, 2, "the newest two kept, the rest closed");
});

Deno.test("with a batch size, few new files wait for more while the next one is on its way", async () => {
  using t = await fixtureStore();
  using lib = closing(openLibrary(t.db, { pollIntervalMs: 0, sizeIndex: null, speculate: true }));
  const ahead = lib.ahead!;
  const ids = [...t.tracks.values()].map((x) => x.id);
  assert.ok(ids.length >= 6, "enough fixtures");
  ahead.submit(ids.slice(0, 2));
  assert.equal(ahead.pending, 2);
  // The next file is pending: 2 new ones are fewer than the batch, so none go.
  ahead.submit(ids.slice(0, 4), 3);
  assert.equal(ahead.pending, 2, "held back");
  // Enough new ones: they go.
  ahead.submit(ids.slice(0, 5), 3);
  assert.equal(ahead.pending, 5, "sent as one batch");
  // The next file not on its way: sent even alone.
  await ahead.settle();
  ahead.submit([ids[5]], 3);
  assert.equal(ahead.pending, 1, "the next file always goes");
  await ahead.settle();
  assert.equal(ahead.adopted, 6);
});
