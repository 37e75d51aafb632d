// End-to-end: `musefs scan` as a subprocess over libraries of real audio.

import assert from "node:assert/strict";
import {
  assertScanned,
  copyFixtures,
  count,
  exec,
  musefs,
  query,
  scannedLine,
  sha256File,
} from "./helpers.ts";
import { musefs as shippedMusefs } from "../cli/run_musefs.ts";
import { scratchDir } from "../scratch.ts";

Deno.test("scan ingests every fixture: rows, tags, shared art, exit 0; a second scan is a no-op", async () => {
  using tmp = scratchDir("musefs-scan-test-");
  const dir = tmp.path;
  const lib = `${dir}/lib`;
  const fixtures = await copyFixtures(lib);
  await Deno.writeTextFile(`${lib}/notes.TXT`, "not music");
  await Deno.writeTextFile(`${lib}/README`, "no extension");
  const db = `${dir}/lib.db`;
  const r = await musefs(["scan", lib, "--db", db]);
  assertScanned(r, lib, { files: fixtures.length, present: 0, skipped: 2, failed: 0 });
  assert.match(r.stderr, /WARN .*skipped 2: <none>=1, txt=1/);
  assert.match(r.stderr, new RegExp(`ingested ${fixtures.length}/${fixtures.length} \\(100%\\)`));

  assert.equal(count(db, "tracks"), fixtures.length);
  for (const f of fixtures) {
    const path = `${lib}/${f.name}${f.ext}`;
    const [t] = query<{ id: number; format: string; fingerprint: string | null }>(
      db,
      "SELECT id, format, fingerprint FROM tracks WHERE backing_path = ?",
      path,
    );
    assert.ok(t, `${f.name} has a row`);
    assert.equal(t.format, f.format, f.name);
    assert.match(t.fingerprint ?? "", /^[0-9a-f]{64}$/, `${f.name} fingerprint`);
    const titles = query<{ value: string }>(
      db,
      "SELECT value FROM tags WHERE track_id = ? AND key = 'title'",
      t.id,
    );
    assert.deepEqual(titles.map((x) => x.value), [f.expect.title], `${f.name} title`);
    const arts = query<{ sha256: string; picture_type: number }>(
      db,
      `SELECT a.sha256, ta.picture_type FROM track_art ta JOIN art a ON a.id = ta.art_id
        WHERE ta.track_id = ? ORDER BY ta.ordinal`,
      t.id,
    );
    assert.deepEqual(
      arts.map((a) => a.sha256),
      f.expect.pictures.map((p) => p.sha256),
      `${f.name} art`,
    );
  }
  // Content-addressed art: one row per distinct image across all tracks.
  const distinct = new Set(fixtures.flatMap((f) => f.expect.pictures.map((p) => p.sha256)));
  assert.equal(count(db, "art"), distinct.size);
  // FLAC keeps its STREAMINFO as a structural block.
  const [flac] = query<{ n: number }>(
    db,
    `SELECT count(*) AS n FROM structural_blocks sb JOIN tracks t ON t.id = sb.track_id
      WHERE t.backing_path = ? AND sb.kind = 'STREAMINFO'`,
    `${lib}/flac.flac`,
  );
  assert.equal(flac.n, 1);

  const before = query(db, "SELECT id, content_version, updated_at FROM tracks ORDER BY id");
  const again = await musefs(["scan", lib, "--db", db]);
  assertScanned(again, lib, { files: 0, present: fixtures.length, skipped: 2, failed: 0 });
  assert.deepEqual(
    query(db, "SELECT id, content_version, updated_at FROM tracks ORDER BY id"),
    before,
  );
});

Deno.test("scan of a single file target, and --quiet prints nothing on stdout", async () => {
  using tmp = scratchDir("musefs-scan-test-");
  const dir = tmp.path;
  await copyFixtures(dir, ["mp3_v24"]);
  const db = `${dir}/one.db`;
  const r = await musefs(["scan", `${dir}/mp3_v24.mp3`, "--db", db, "--quiet"]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "");
  assert.doesNotMatch(r.stderr, /ingested/);
  assert.deepEqual(
    query(db, "SELECT backing_path, format FROM tracks"),
    [{ backing_path: `${dir}/mp3_v24.mp3`, format: "mp3" }],
  );
});

Deno.test("broken files fail alone: truncated, garbage, zero-byte; exit 2", async () => {
  using tmp = scratchDir("musefs-scan-test-");
  const dir = tmp.path;
  const lib = `${dir}/lib`;
  await copyFixtures(lib, ["flac", "opus"]);
  const flac = Deno.readFileSync(`${lib}/flac.flac`);
  Deno.writeFileSync(`${lib}/truncated.flac`, flac.subarray(0, 60));
  Deno.writeFileSync(`${lib}/garbage.mp3`, new Uint8Array(5000).map((_, i) => (i * 37) & 0xff));
  Deno.writeFileSync(`${lib}/empty.m4a`, new Uint8Array(0));
  Deno.writeFileSync(`${lib}/empty.wav`, new Uint8Array(0));
  Deno.writeTextFileSync(`${lib}/text.ogg`, "OggS but not really");
  const db = `${dir}/lib.db`;
  const r = await musefs(["scan", lib, "--db", db]);
  assertScanned(r, lib, { files: 2, present: 0, skipped: 0, failed: 5 }, 2);
  for (const name of ["truncated.flac", "garbage.mp3", "empty.m4a", "empty.wav", "text.ogg"]) {
    assert.match(r.stderr, new RegExp(`skipping ${lib}/${name.replace(".", "\\.")}: `), name);
  }
  assert.deepEqual(
    query<{ p: string }>(db, "SELECT backing_path AS p FROM tracks ORDER BY 1").map((x) => x.p),
    [`${lib}/flac.flac`, `${lib}/opus.opus`],
  );
  // Failures are retried by the next (additive) scan and fail again.
  const again = await musefs(["scan", lib, "--db", db]);
  assertScanned(again, lib, { files: 0, present: 2, skipped: 0, failed: 5 }, 2);
});

Deno.test("the same cover on many tracks is stored once", async () => {
  using tmp = scratchDir("musefs-scan-test-");
  const dir = tmp.path;
  const lib = `${dir}/lib`;
  const [flac] = await copyFixtures(lib, ["flac"]);
  for (let i = 0; i < 24; i++) {
    await Deno.mkdir(`${lib}/album${i % 4}`, { recursive: true });
    await Deno.copyFile(`${lib}/flac.flac`, `${lib}/album${i % 4}/track${i}.flac`);
  }
  const db = `${dir}/lib.db`;
  const r = await musefs(["scan", lib, "--db", db, "--jobs", "2"]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(scannedLine(r.stdout, lib).files, 25);
  assert.equal(count(db, "tracks"), 25);
  assert.equal(count(db, "art"), flac.expect.pictures.length);
  assert.equal(count(db, "track_art"), 25 * flac.expect.pictures.length);
});

Deno.test("--force re-ingests, overwriting curated tags; --checksum full stores the file hash", async () => {
  using tmp = scratchDir("musefs-scan-test-");
  const dir = tmp.path;
  const lib = `${dir}/lib`;
  await copyFixtures(lib, ["ogg_vorbis"]);
  const path = `${lib}/ogg_vorbis.ogg`;
  const db = `${dir}/lib.db`;
  assert.equal((await musefs(["scan", lib, "--db", db, "--checksum", "none"])).code, 0);
  assert.deepEqual(query(db, "SELECT fingerprint, content_hash FROM tracks"), [{
    fingerprint: null,
    content_hash: null,
  }]);
  exec(db, "UPDATE tags SET value = 'Curated' WHERE key = 'title'");
  const plain = await musefs(["scan", lib, "--db", db]);
  assert.equal(scannedLine(plain.stdout, lib).present, 1);
  assert.equal(
    query<{ v: string }>(db, "SELECT value AS v FROM tags WHERE key='title'")[0].v,
    "Curated",
  );

  const forced = await musefs(["scan", lib, "--db", db, "--force", "--checksum", "full"]);
  assertScanned(forced, lib, { files: 1, present: 0, skipped: 0, failed: 0 });
  assert.notEqual(
    query<{ v: string }>(db, "SELECT value AS v FROM tags WHERE key='title'")[0].v,
    "Curated",
  );
  const [row] = query<{ fingerprint: string; content_hash: string }>(
    db,
    "SELECT fingerprint, content_hash FROM tracks",
  );
  assert.equal(row.content_hash, await sha256File(path));
  assert.match(row.fingerprint, /^[0-9a-f]{64}$/);
  // A lower tier never clears what a higher one stored.
  await musefs(["scan", lib, "--db", db, "--force", "--checksum", "none"]);
  assert.equal(
    query<{ h: string }>(db, "SELECT content_hash AS h FROM tracks")[0].h,
    row.content_hash,
  );
});

Deno.test("a missing target is a hard error (exit 1); earlier targets stay committed", async () => {
  using tmp = scratchDir("musefs-scan-test-");
  const dir = tmp.path;
  await copyFixtures(`${dir}/a`, ["mp3_v23"]);
  const db = `${dir}/lib.db`;
  const r = await musefs(["scan", `${dir}/a`, `${dir}/missing`, "--db", db]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, new RegExp(`^musefs: cannot read ${dir}/missing: `, "m"));
  assert.match(r.stdout, /^scanned .*\/a: 1 file\(s\)/m);
  assert.equal(count(db, "tracks"), 1);
});

Deno.test("a probe Worker that dies fails only the file it was probing; the rest are retried", async () => {
  using tmp = scratchDir("musefs-scan-test-");
  const dir = tmp.path;
  const lib = `${dir}/lib`;
  await copyFixtures(lib, ["mp3_v23"]);
  for (let i = 0; i < 9; i++) await Deno.copyFile(`${lib}/mp3_v23.mp3`, `${lib}/t${i}.mp3`);
  await Deno.copyFile(`${lib}/mp3_v23.mp3`, `${lib}/t4-crash-me.mp3`);
  const db = `${dir}/lib.db`;
  const r = await musefs(["scan", lib, "--db", db, "--jobs", "1"], {
    env: { MUSEFS_TEST_PROBE_CRASH: "crash-me" },
  });
  assertScanned(r, lib, { files: 10, present: 0, skipped: 0, failed: 1 }, 2);
  assert.match(r.stderr, /skipping .*t4-crash-me\.mp3: the probe crashed: /);
  assert.equal(count(db, "tracks", "backing_path LIKE '%crash-me%'"), 0);
  assert.equal(count(db, "tracks"), 10);
});

Deno.test("the shipped program has no test hooks: MUSEFS_TEST_* in its environment change nothing", async () => {
  using tmp = scratchDir("musefs-scan-test-");
  const dir = tmp.path;
  const lib = `${dir}/lib`;
  await copyFixtures(lib, ["mp3_v23"]);
  await Deno.copyFile(`${lib}/mp3_v23.mp3`, `${lib}/t4-crash-me.mp3`);
  const db = `${dir}/lib.db`;
  // tests/cli/run_musefs.ts always runs main.ts itself.
  const r = await shippedMusefs(["scan", lib, "--db", db, "--jobs", "1"], {
    MUSEFS_TEST_PROBE_CRASH: "crash-me",
    MUSEFS_TEST_PROBE_DELAY_MS: "60000",
  });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(count(db, "tracks"), 2);
});

Deno.test("stored stamps are the file's size, mtime and ctime to the nanosecond", async () => {
  using tmp = scratchDir("musefs-scan-test-");
  const dir = tmp.path;
  await copyFixtures(dir, ["opus"]);
  const path = `${dir}/opus.opus`;
  // A sub-second mtime that no millisecond clock would produce.
  await new Deno.Command("touch", { args: ["-d", "@1714979289.123456789", path] })
    .output();
  const db = `${dir}/lib.db`;
  assert.equal((await musefs(["scan", path, "--db", db])).code, 0);
  const out = await new Deno.Command("stat", { args: ["-c", "%s %.9Y %.9Z", path] }).output();
  const [size, mtime, ctime] = new TextDecoder().decode(out.stdout).trim().split(" ");
  const ns = (t: string) => t.replace(".", "");
  assert.equal(ns(mtime), "1714979289123456789");
  assert.deepEqual(
    query(
      db,
      `SELECT backing_size AS size, CAST(backing_mtime_ns AS TEXT) AS m,
        CAST(backing_ctime_ns AS TEXT) AS c FROM tracks`,
    ),
    [{ size: Number(size), m: ns(mtime), c: ns(ctime) }],
  );
});
