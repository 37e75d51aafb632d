// The first getattr of a file sizes it without a full synthesis where that is
// cheaper (Ogg with art: no page CRCs, no art read). Such a size-only layout
// is never cached or served: an open after getattr synthesizes in full and
// serves exactly the expected bytes; other formats cache the layout at once.

import assert from "node:assert/strict";
import { openLibrary } from "../../src/core/library.ts";
import { fixture } from "../fixtures/fixtures.ts";
import { addArt, randomBytes, roundTrip } from "../format/harness.ts";
import { expectedBytes, fixtureStore, ingestFile, readAll } from "./ingest.ts";
import { closing } from "../scratch.ts";

Deno.test("getattr sizes Ogg-with-art files without caching a layout; reads stay exact", async () => {
  using t = await fixtureStore(["ogg_vorbis", "opus", "flac"]);
  using lib = closing(openLibrary(t.db));
  for (const [name, { id }] of t.tracks) {
    const ino = lib.tree.inodeOfTrack(id)!;
    const expected = expectedBytes(t.store, id);
    assert.equal(lib.getattr(ino).size, expected.length, `${name}: size`);
    const cached = lib.resolver.headers.peek(id) !== undefined;
    assert.equal(cached, name === "flac", `${name}: layout cached by getattr`);
    assert.equal(lib.resolver.sizeEntries > 0, true);
    assert.deepEqual(readAll(lib, ino), expected, `${name}: bytes after getattr`);
    assert.ok(lib.resolver.headers.peek(id) !== undefined, `${name}: cached once opened`);
    const again = lib.resolver.headers.peek(id)!;
    assert.equal(again.layout.sizeOnly, undefined, `${name}: a served layout is full`);
  }
});

Deno.test("an Ogg file whose headers outrun the front window resolves and reads exactly", async () => {
  // A served file with a 40 KiB picture is itself an Ogg file with a large comment header.
  await using rt = await roundTrip((await fixture("ogg_vorbis")).path, {
    edit: (input, blobs) => {
      addArt(input, blobs, randomBytes(40 * 1024), { mime: "image/jpeg" });
    },
  });
  using t = await fixtureStore([]);
  const path = `${t.dir}/big-header.ogg`;
  Deno.writeFileSync(path, rt.bytes);
  const id = ingestFile(t.store, path);
  assert.ok(t.store.get<{ n: number }>("SELECT audio_offset AS n FROM tracks")!.n > 32 * 1024);
  using lib = closing(openLibrary(t.db));
  const ino = lib.tree.inodeOfTrack(id)!;
  const expected = expectedBytes(t.store, id);
  assert.equal(lib.getattr(ino).size, expected.length);
  assert.deepEqual(readAll(lib, ino), expected);
});

Deno.test("while sizes are counted (a scan that has opened nothing), getattr builds no layout; sizes and reads stay exact", async () => {
  using t = await fixtureStore();
  using lib = closing(openLibrary(t.db, { sizeIndex: null, speculate: false }));
  let counting = true;
  lib.resolver.countSizes = () => counting;
  for (const [name, { id }] of t.tracks) {
    const ino = lib.tree.inodeOfTrack(id)!;
    const expected = expectedBytes(t.store, id);
    assert.equal(lib.getattr(ino).size, expected.length, `${name}: counted size`);
    assert.equal(lib.resolver.headers.peek(id), undefined, `${name}: nothing built`);
  }
  assert.equal(lib.resolver.headers.misses, 0, "no synthesis at all");
  counting = false;
  for (const [name, { id }] of t.tracks) {
    const ino = lib.tree.inodeOfTrack(id)!;
    assert.deepEqual(readAll(lib, ino), expectedBytes(t.store, id), `${name}: bytes`);
    assert.equal(lib.getattr(ino).size, expectedBytes(t.store, id).length, `${name}: size kept`);
  }
});
