// Read fidelity: whatever range a reader asks for, Library.read (pieces
// assembled as the server would, file pieces pread here) returns exactly the
// bytes of the fully materialized synthesized file — for every fixture, with
// and without read-ahead, through handles and statelessly, and after random
// tag and art edits made with SQL. ffmpeg and mutagen check the served files.

import assert from "node:assert/strict";
import { openLibrary } from "../../src/core/library.ts";
import type { MusefsLibrary } from "../../src/core/library.ts";
import { mutagenTags, pcmMd5 } from "../fixtures/fixtures.ts";
import { assemble, expectedBytes, fixtureStore, readAll, rng, type TestLibrary } from "./ingest.ts";
import { coverJpeg } from "../fixtures/fixtures.ts";
import { sha256Hex } from "../../src/store/mod.ts";
import { closing, scratchDir } from "../scratch.ts";

function inodeOf(lib: MusefsLibrary, id: number): number {
  const ino = lib.tree.inodeOfTrack(id);
  assert.ok(ino !== undefined, `track ${id} is in the tree`);
  return ino;
}

function checkRandomRanges(
  lib: MusefsLibrary,
  t: TestLibrary,
  seed: number,
  rounds: number,
  stateless = false,
): void {
  const rand = rng(seed);
  for (const [name, { id }] of t.tracks) {
    const expected = expectedBytes(t.store, id);
    const ino = inodeOf(lib, id);
    assert.equal(lib.getattr(ino).size, expected.length, `${name}: size`);
    const fh = stateless ? 0 : lib.open(ino, 0).fh;
    try {
      for (let i = 0; i < rounds; i++) {
        // Mostly small ranges near the header, some anywhere, some past the end.
        const roll = rand();
        const offset = roll < 0.5
          ? Math.floor(rand() * Math.min(expected.length, 70_000))
          : Math.floor(rand() * (expected.length + 100));
        const size = 1 + Math.floor(rand() * (rand() < 0.3 ? 300_000 : 9000));
        const got = assemble(lib.read(fh, ino, offset, size));
        const want = expected.subarray(Math.min(offset, expected.length), offset + size);
        assert.equal(got.length, want.length, `${name}: length of ${offset}+${size}`);
        assert.ok(
          got.every((b, k) => b === want[k]),
          `${name}: bytes of ${offset}+${size} (seed ${seed}, round ${i})`,
        );
      }
    } finally {
      if (fh !== 0) lib.release(fh);
    }
  }
}

Deno.test("every fixture reads back as its synthesized file, whole and in random ranges", async () => {
  using t = await fixtureStore();
  using lib = closing(openLibrary(t.db, { pollIntervalMs: 0 }));
  for (const [name, { id }] of t.tracks) {
    const expected = expectedBytes(t.store, id);
    const got = readAll(lib, inodeOf(lib, id));
    assert.equal(got.length, expected.length, `${name}: size`);
    assert.ok(got.every((b, i) => b === expected[i]), `${name}: whole file`);
  }
  checkRandomRanges(lib, t, 1, 40);
  checkRandomRanges(lib, t, 2, 15, true);
});

Deno.test("with read-ahead off, audio comes as file pieces and still matches", async () => {
  using t = await fixtureStore(["flac", "mp3_v24", "wav", "m4a_moov_last"]);
  using lib = closing(openLibrary(t.db, { pollIntervalMs: 0, readAheadBudgetMib: 0 }));
  const { id } = t.tracks.get("wav")!;
  const ino = inodeOf(lib, id);
  const { fh } = lib.open(ino, 0);
  const pieces = lib.read(fh, ino, 60_000, 4096);
  assert.ok(pieces.some((p) => p.kind === "file"), "backing audio as a file piece");
  lib.release(fh);
  checkRandomRanges(lib, t, 3, 30);
});

/** One random edit of track `id`'s tags or art, made with SQL as an external tagger would. */
function randomEdit(t: TestLibrary, id: number, rand: () => number, jpeg: Uint8Array): string {
  const s = t.store;
  const roll = rand();
  if (roll < 0.3) {
    const title = `Edited ${Math.floor(rand() * 1e6)} ✓`;
    s.run("UPDATE tags SET value = ? WHERE track_id = ? AND key = 'title'", title, id);
    return `title=${title}`;
  }
  if (roll < 0.5) {
    const n = Math.floor(rand() * 5000);
    s.run(
      "INSERT OR REPLACE INTO tags (track_id, key, value, ordinal) VALUES (?, 'comment', ?, 0)",
      id,
      "x".repeat(n),
    );
    return `comment of ${n}`;
  }
  if (roll < 0.65) {
    s.run("DELETE FROM track_art WHERE track_id = ?", id);
    return "art removed";
  }
  if (roll < 0.85) {
    const sha = sha256Hex(jpeg);
    s.run(
      "INSERT INTO art (sha256, mime, width, height, byte_len, data) VALUES (?, 'image/jpeg', 32, 32, ?, ?) ON CONFLICT (sha256) DO NOTHING",
      sha,
      jpeg.length,
      jpeg,
    );
    const artId = s.get<{ id: number }>("SELECT id FROM art WHERE sha256 = ?", sha)!.id;
    const next = s.get<{ n: number }>(
      "SELECT COALESCE(MAX(ordinal) + 1, 0) AS n FROM track_art WHERE track_id = ?",
      id,
    )!.n;
    s.run(
      "INSERT INTO track_art (track_id, art_id, picture_type, description, ordinal) VALUES (?, ?, 4, 'added', ?)",
      id,
      artId,
      next,
    );
    return "art added";
  }
  s.run(
    "INSERT OR REPLACE INTO tags (track_id, key, value, ordinal) VALUES (?, 'genre', ?, 1)",
    id,
    `Genre ${Math.floor(rand() * 100)}`,
  );
  return "second genre";
}

Deno.test("after random tag and art edits, reads still equal the synthesized file", async () => {
  using t = await fixtureStore();
  const jpeg = await coverJpeg();
  using lib = closing(openLibrary(t.db, { pollIntervalMs: 0, template: "$format/$title" }));
  const rand = rng(42);
  for (let round = 0; round < 3; round++) {
    // Handles opened before the edits keep serving the version they opened.
    const held = [...t.tracks.values()].map(({ id }) => {
      const ino = inodeOf(lib, id);
      const { fh } = lib.open(ino, 0);
      assemble(lib.read(fh, ino, 0, 4096));
      return { id, ino, fh, opened: expectedBytes(t.store, id) };
    });
    for (const { id } of t.tracks.values()) randomEdit(t, id, rand, jpeg);
    const report = lib.poll();
    assert.ok(report !== null, "the edits reach the library in one poll");
    for (const { id, ino, fh, opened } of held) {
      const got = assemble(lib.read(fh, ino, 0, opened.length + 10));
      assert.ok(
        got.length === opened.length && got.every((b, i) => b === opened[i]),
        `track ${id}: a held handle serves the version it opened`,
      );
      lib.release(fh);
      const expected = expectedBytes(t.store, id);
      const now = readAll(lib, inodeOf(lib, id));
      assert.ok(
        now.length === expected.length && now.every((b, i) => b === expected[i]),
        `track ${id}: a new open serves the edited file`,
      );
    }
    checkRandomRanges(lib, t, 100 + round, 12);
  }
});

Deno.test("served files decode to the same audio and show edited tags to mutagen", async () => {
  using t = await fixtureStore();
  using lib = closing(openLibrary(t.db, { pollIntervalMs: 0 }));
  using outTmp = scratchDir("musefs-core-served-");
  const out = outTmp.path;
  for (const { id } of t.tracks.values()) {
    t.store.run(
      "UPDATE tags SET value = 'Served Title' WHERE track_id = ? AND key = 'title'",
      id,
    );
  }
  assert.ok(lib.poll() !== null);
  for (const [name, { id, path, fixture }] of t.tracks) {
    const served = `${out}/${name}${fixture.ext}`;
    Deno.writeFileSync(served, readAll(lib, inodeOf(lib, id), 100_000));
    assert.equal(await pcmMd5(served), await pcmMd5(path), `${name}: decoded audio`);
    const m = await mutagenTags(served);
    assert.equal(m.normalized.title, "Served Title", `${name}: mutagen title`);
  }
});
