// Images through a read-only connection's blob source (src/core/blobs.ts), on
// a real store: slices and their page CRCs come from whole images held by the
// art cache (or, larger than its budget, by the one synthesis), a commit that
// leaves an image alone keeps serving it, and an image replaced under its id
// is never sliced or checksummed from the old bytes.

import assert from "node:assert/strict";
import { openStore, sha256Hex, type Store, StoreError, upsertArt } from "../../src/store/mod.ts";
import { storeBlobSource } from "../../src/core/blobs.ts";
import { ArtCache } from "../../src/core/reader.ts";
import { base64Encode } from "../../src/format/layout.ts";
import { mulberry32 } from "../format/mutate.ts";
import { naiveCrc } from "../format/ogg_util.ts";

function randomImage(length: number, seed: number): Uint8Array {
  const rand = mulberry32(seed);
  return Uint8Array.from({ length }, () => Math.floor(rand() * 256));
}

/** A new store: `fn` gets a writing and a read-only connection, closed (and the store removed) after. */
async function withStore(fn: (rw: Store, ro: Store) => void): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "musefs-blobs-test-" });
  const rw = openStore(`${dir}/lib.db`, { mode: "rw", create: true });
  const ro = openStore(`${dir}/lib.db`, { mode: "ro" });
  try {
    fn(rw, ro);
  } finally {
    ro.close();
    rw.close();
    await Deno.remove(dir, { recursive: true });
  }
}

/** Art `id` replaced by `bytes` under the same id, as another writer could (a new SHA-256). */
function replaceArt(rw: Store, id: number, bytes: Uint8Array): void {
  rw.transaction(() => {
    rw.run("DELETE FROM art WHERE id = ?", id);
    rw.run(
      "INSERT INTO art (id, sha256, mime, width, height, byte_len, data) " +
        "VALUES (?, ?, 'image/jpeg', 1, 1, ?, ?)",
      id,
      sha256Hex(bytes),
      bytes.length,
      bytes,
    );
  });
}

/** Page CRCs and slices of `image` (art `artId`) through a fresh source agree with its bytes. */
function assertServes(
  source: ReturnType<typeof storeBlobSource>,
  artId: number,
  image: Uint8Array,
) {
  const text = base64Encode(image);
  const art = { artId, base64: true, artTotal: image.length };
  const rand = mulberry32(image[0] + 1);
  for (let i = 0; i < 12; i++) {
    const from = Math.floor(rand() * text.length);
    const n = Math.min(text.length - from, 1 + Math.floor(rand() * 65_025));
    assert.equal(source.artCrc!(art, from, n), naiveCrc(text.subarray(from, from + n)));
  }
  assert.deepEqual(source.art(artId, 1000, 4000), image.subarray(1000, 5000));
  const kept = source.artText?.(artId, 1000, 4000);
  if (kept !== undefined) assert.deepEqual(kept, text.subarray(1000, 5000));
}

Deno.test("a read-only store's blobs slice and checksum whole images, and follow an image replaced under its id", () =>
  withStore((rw, ro) => {
    const first = randomImage(300_000, 1);
    const id = upsertArt(rw, { data: first, mime: "image/jpeg", width: 1, height: 1 });
    const cache = new ArtCache(ro, 8 * 1024 * 1024);
    assertServes(storeBlobSource(ro, cache), id, first);
    assert.equal(cache.entries, 2, "the image is read once, whole, and its text kept beside it");

    // A commit that leaves the image alone: the same bytes, the same answers.
    const other = randomImage(500, 2);
    const otherId = upsertArt(rw, { data: other, mime: "image/png", width: 1, height: 1 });
    assertServes(storeBlobSource(ro, cache), id, first);
    // One source, two images in turn.
    const both = storeBlobSource(ro, cache);
    for (const [artId, image] of [[id, first], [otherId, other], [id, first]] as const) {
      assert.deepEqual(both.art(artId, 100, 300), image.subarray(100, 400), `art ${artId}`);
    }

    // The image replaced under its id (same length, so the same table key).
    const second = randomImage(300_000, 3);
    replaceArt(rw, id, second);
    assertServes(storeBlobSource(ro, cache), id, second);

    // Larger than the cache's budget: still whole, for one synthesis at a time.
    const small = new ArtCache(ro, 1000);
    assertServes(storeBlobSource(ro, small), id, second);
    assert.equal(small.entries, 0);

    // A slice past the end is the store's short read, as from the store itself.
    assert.throws(
      () => storeBlobSource(ro, cache).art(id, second.length - 10, 20),
      (e) => e instanceof StoreError && e.kind === "corrupt",
    );
    assert.throws(
      () => storeBlobSource(ro).art(id, second.length - 10, 20),
      (e) => e instanceof StoreError && e.kind === "corrupt",
    );
  }));

Deno.test("the art cache keeps an image's base64 text, checked like the image", () =>
  withStore((rw, ro) => {
    const first = randomImage(300_001, 4);
    const id = upsertArt(rw, { data: first, mime: "image/jpeg", width: 1, height: 1 });
    const cache = new ArtCache(ro, 8 * 1024 * 1024);
    const v1 = ro.dataVersion();
    const text = cache.text(id, v1)!;
    // Compared by digest: a failing deepEqual of 400 KB arrays takes minutes to print.
    assert.equal(sha256Hex(text), sha256Hex(base64Encode(first)));
    assert.equal(cache.text(id, v1), text, "kept: the same bytes, not encoded again");
    assert.ok(cache.verifiedAt(id, v1, true));
    assert.equal(cache.bytes, first.length + text.length, "image and text, each once");

    // A commit that leaves the image alone keeps the text (checked by SHA-256 alone).
    upsertArt(rw, { data: randomImage(10, 5), mime: "image/png", width: 1, height: 1 });
    const v2 = ro.dataVersion();
    assert.ok(!cache.verifiedAt(id, v2, true));
    assert.equal(cache.text(id, v2), text);

    // The image replaced under its id: the new image's text.
    const second = randomImage(300_001, 6);
    replaceArt(rw, id, second);
    assert.equal(sha256Hex(cache.text(id, ro.dataVersion())!), sha256Hex(base64Encode(second)));

    // A text over a quarter of the budget is not kept: the caller encodes slices.
    const small = new ArtCache(ro, 1_000_000);
    assert.equal(small.text(id, ro.dataVersion()), undefined);
  }));

Deno.test("an arena art cache never overwrites bytes handed out before unpin()", () =>
  withStore((rw, ro) => {
    const images = [0, 1, 2, 3, 4].map((i) => randomImage(40_000 + i, 10 + i));
    const ids = images.map((data) =>
      upsertArt(rw, { data, mime: "image/jpeg", width: 1, height: 1 })
    );
    const v = ro.dataVersion();
    // Room for two images: a third goes where the first was.
    const cache = new ArtCache(ro, 100_000, true);
    const digest = (b: Uint8Array) => sha256Hex(b);
    const a = cache.image(ids[0], v);
    const b = cache.image(ids[1], v);
    assert.equal(a.buffer, b.buffer, "both in the arena");
    assert.equal(cache.arenaBytes, 100_000);
    // Same request: the first two are pinned, so the third cannot take their place.
    const c = cache.image(ids[2], v);
    assert.notEqual(c.buffer, a.buffer, "kept outside the arena");
    assert.equal(digest(a), digest(images[0]), "a view handed out is left alone");
    assert.equal(digest(b), digest(images[1]));
    assert.equal(digest(c), digest(images[2]));
    // The next request: earlier views are done with; the arena is reused.
    cache.unpin();
    const d = cache.image(ids[3], v);
    assert.equal(d.buffer, a.buffer, "placed in the arena again");
    assert.equal(digest(d), digest(images[3]));
    // Whatever was overwritten is gone from the cache, never served as another image's bytes.
    // Every view of one request still shows its image when the request ends.
    for (let round = 0; round < 3; round++) {
      cache.unpin();
      const order = [0, 1, 2, 3, 4, 2, 0, 4, 1].slice(round);
      const views = order.map((i) => cache.image(ids[i], v));
      order.forEach((i, k) => assert.equal(digest(views[k]), digest(images[i]), `image ${i}`));
    }
  }));
