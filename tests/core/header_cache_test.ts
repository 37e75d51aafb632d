// The header cache under a media server's scan (src/core/lru.ts, probation
// share): a file opened once, whether its layout was built at the open or
// ahead of it on the synthesis worker, waits in probation and gives way to
// the next ones; a file opened twice (a player, a tag reader going back)
// keeps its layout through any number of others, and the bytes stay exact.

import assert from "node:assert/strict";
import { type MusefsLibrary, openLibrary } from "../../src/core/library.ts";
import { headerProbation } from "../../src/core/resolve.ts";
import { closing } from "../scratch.ts";
import { expectedBytes, fixtureStore, ingestFile, readAll, type TestLibrary } from "./ingest.ts";

/** `t` with `n` more copies of its one fixture, each a track of its own; every track id. */
function withCopies(t: TestLibrary, n: number): number[] {
  const [only] = [...t.tracks.values()];
  const ids = [only.id];
  for (let i = 0; i < n; i++) {
    const path = `${t.dir}/copy${i}${only.fixture.ext}`;
    Deno.copyFileSync(only.path, path);
    ids.push(ingestFile(t.store, path));
  }
  return ids;
}

const BUDGET = 64 * 1024;

/** `t` opened with a header budget of BUDGET; `speculate`: with the build-ahead worker. */
function openSmall(t: TestLibrary, speculate: boolean): MusefsLibrary {
  return openLibrary(t.db, {
    pollIntervalMs: 0,
    sizeIndex: null,
    speculate,
    headerCacheBytes: BUDGET,
  });
}

/** Stat, open, read and close track `id`, as a scan and a player do; its bytes checked. */
function readTrack(lib: MusefsLibrary, t: TestLibrary, id: number): void {
  assert.deepEqual(
    readAll(lib, lib.tree.inodeOfTrack(id)!),
    expectedBytes(t.store, id),
    `track ${id}`,
  );
}

Deno.test("header cache: a scan opening every file once keeps the layout of a file opened twice", async () => {
  using t = await fixtureStore(["flac"]);
  const ids = withCopies(t, 80);
  using lib = closing(openSmall(t, false));
  const headers = lib.resolver.headers;
  const [playing, ...others] = ids;
  readTrack(lib, t, playing);
  readTrack(lib, t, playing);
  const kept = headers.weight;
  for (const id of others) {
    readTrack(lib, t, id);
    assert.ok(headers.probationWeight <= headerProbation(BUDGET), `probation within its share`);
    assert.ok(
      headers.weight - kept <= headerProbation(BUDGET),
      "no more than the share of one-shot layouts",
    );
  }
  // The scan was long enough to evict it from a plain LRU of this budget.
  assert.ok(others.length * kept > BUDGET, `${others.length} layouts of ${kept} bytes`);
  assert.ok(headers.peek(playing) !== undefined, "the file opened twice kept its layout");
  assert.equal(headers.peek(others[0]), undefined, "the first file of the scan gave way");
  const misses = headers.misses;
  readTrack(lib, t, playing);
  assert.equal(headers.misses, misses, "its next open built nothing");
});

Deno.test("header cache: a layout built ahead on the worker is kept only if opened twice", async () => {
  using t = await fixtureStore(["mp3_v24"]);
  const ids = withCopies(t, 60);
  using lib = closing(openSmall(t, true));
  const ahead = lib.ahead!;
  const headers = lib.resolver.headers;
  const [twice, once, ...rest] = ids;
  ahead.submit([twice, once]);
  await ahead.settle();
  assert.equal(ahead.adopted, 2, "both built on the worker");
  const misses = headers.misses;
  for (const id of [twice, twice, once]) {
    readTrack(lib, t, id);
  }
  assert.equal(headers.misses, misses, "the opens used the worker's layouts");
  // More layouts built ahead and each opened once, in batches the size of
  // the worker's lead, until the first ones have long left probation.
  for (let at = 0; at < rest.length; at += 16) {
    const batch = rest.slice(at, at + 16);
    ahead.submit(batch);
    await ahead.settle();
    for (const id of batch) {
      readTrack(lib, t, id);
    }
    assert.ok(headers.probationWeight <= headerProbation(BUDGET));
  }
  assert.ok(ahead.adopted > 40, `${ahead.adopted} built ahead`);
  assert.ok(headers.peek(twice) !== undefined, "opened twice: kept");
  assert.equal(headers.peek(once), undefined, "opened once: its first open was no second use");
});
