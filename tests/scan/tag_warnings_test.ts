// `musefs scan` reports repairs a probe made (here: iTunes' ID3v2.2 ids in
// an ID3v2.3 tag) once per file with its path, and stores every frame.

import assert from "node:assert/strict";
import { copyFixtures, musefs, query } from "./helpers.ts";
import { scratchDir } from "../scratch.ts";

Deno.test("scan warns once about v2.2 ids in a v2.3 tag and keeps the frames after them", async () => {
  using tmp = scratchDir("musefs-scan-test-");
  const dir = tmp.path;
  await copyFixtures(dir, ["mp3_itunes_ids"]);
  const path = `${dir}/mp3_itunes_ids.mp3`;
  const db = `${dir}/lib.db`;
  const r = await musefs(["scan", path, "--db", db, "--quiet"]);
  assert.equal(r.code, 0, r.stderr);
  const warnings = r.stderr.split("\n").filter((l) => l.includes("ID3v2.2 ids"));
  assert.equal(warnings.length, 1, r.stderr);
  assert.match(warnings[0], /WARN .*mp3_itunes_ids\.mp3: .*TP1 as TPE1, TRK as TRCK/);
  const keys = query<{ key: string }>(db, "SELECT key FROM tags ORDER BY key").map((t) => t.key);
  assert.deepEqual(keys, [
    "album",
    "albumartist",
    "artist",
    "date",
    "genre",
    "title",
    "tracknumber",
  ]);
});
