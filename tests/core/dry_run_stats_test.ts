// `mount --dry-run`'s statistics: per template field, how many tracks lack it
// and what they got instead; how many names collided and got a " (k)" suffix.

import assert from "node:assert/strict";
import { dryRun, dryRunLines } from "../../src/core/dry_run.ts";
import { fieldLabel } from "../../src/core/template_stats.ts";
import { parseTemplate } from "../../src/core/template_parse.ts";
import { fixtureStore, type TestLibrary } from "./ingest.ts";

/** Four tracks that share a title: one lacks albumartist, one lacks albumartist and artist. */
async function store(): Promise<TestLibrary> {
  const t = await fixtureStore(["flac", "flac_id3", "mp3_v24", "opus"]);
  const drop = (name: string, keys: string[]) => {
    for (const key of keys) {
      t.store.run(
        "DELETE FROM tags WHERE track_id = ? AND lower(key) = ?",
        t.tracks.get(name)!.id,
        key,
      );
    }
  };
  drop("flac_id3", ["albumartist"]);
  drop("opus", ["albumartist", "artist"]);
  return t;
}

Deno.test("dry run: per field, the tracks lacking it and what they got instead", async () => {
  using t = await store();
  const template = "${albumartist|artist}/$title[ ($nosuch)]";
  const s = dryRun(t.db, { template });
  assert.deepEqual(
    s.fields!.map((f) => [f.label, f.tracks, f.lacking, Object.fromEntries(f.instead)]),
    [
      ["${albumartist|artist}", 4, 2, { artist: 1, '"Unknown" (--default-fallback)': 1 }],
      ["$title", 4, 0, {}],
      ["$nosuch", 4, 4, { "left out of its [section]": 4 }],
    ],
  );
  assert.deepEqual(s.suffixed, { files: 0, dirs: 0 });
  const lines = dryRunLines(s);
  assert.deepEqual(lines.slice(-5), [
    "Template fields (tracks without a value, and what they got instead):",
    '  ${albumartist|artist}: 2 of 4 tracks lack albumartist → artist 1, "Unknown" (--default-fallback) 1',
    "  $title: all 4 tracks have it",
    "  $nosuch: 4 of 4 tracks lack nosuch → left out of its [section] 4",
    "Name collisions: none",
  ]);

  // A per-field fallback, and --skip-on-missing.
  const viaFallback = dryRun(t.db, { template, fallbacks: new Map([["artist", "Someone"]]) });
  assert.deepEqual(Object.fromEntries(viaFallback.fields![0].instead), {
    artist: 1,
    "--fallback artist": 1,
  });
  const skipped = dryRun(t.db, { template, skipOnMissing: true });
  assert.equal(skipped.files, 3);
  assert.deepEqual(Object.fromEntries(skipped.fields![0].instead), {
    artist: 1,
    "dropped (--skip-on-missing)": 1,
  });
});

Deno.test("dry run: names that collided and got a suffix are counted", async () => {
  using t = await store();
  // flac and flac_id3 render the same "<title>.flac"; the opus and mp3 differ by extension.
  const s = dryRun(t.db, { template: "$title" });
  assert.deepEqual(s.suffixed, { files: 1, dirs: 0 });
  const lines = dryRunLines(s);
  assert.equal(
    lines.at(-1),
    'Name collisions: 1 file(s) and 0 directory(ies) got a " (k)" suffix because a sibling ' +
      "already had the name",
  );
  // With every track dropped, the field lines say which field dropped them.
  const none = dryRunLines(dryRun(t.db, { template: "$nosuch", skipOnMissing: true }));
  assert.match(none[0], /^dry run: 0 files/);
  assert.equal(
    none.at(-1),
    "  $nosuch: 4 of 4 tracks lack nosuch → dropped (--skip-on-missing) 4",
  );
});

Deno.test("field labels read like the template", () => {
  const labels = parseTemplate("$a/${b|c}/${tracknumber:02}/$!{genre|x}/[${D}]")
    .flatMap((n) => n.kind === "section" ? n.body : [n])
    .filter((n) => n.kind === "field" || n.kind === "path")
    .map((n) => fieldLabel(n as Parameters<typeof fieldLabel>[0]));
  assert.deepEqual(labels, ["$a", "${b|c}", "${tracknumber:02}", "$!{genre|x}", "$d"]);
});
