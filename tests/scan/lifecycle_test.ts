// End-to-end: moves, revalidate, prune, raced files, interrupted scans,
// unreadable directories and unaddressable names, through the real CLI.

import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { sourceWav } from "../fixtures/fixtures.ts";
import {
  assertRevalidated,
  assertScanned,
  copyFixtures,
  count,
  exec,
  musefs,
  python,
  query,
  revalidatedLine,
  scannedLine,
  spawnMusefs,
  StderrText,
} from "./helpers.ts";
import { scratchDir } from "../scratch.ts";

function ids(db: string): Map<string, number> {
  return new Map(
    query<{ id: number; p: string }>(db, "SELECT id, backing_path AS p FROM tracks")
      .map((r) => [r.p, r.id]),
  );
}

Deno.test("a moved directory is re-identified: ids, curated tags and art kept", async () => {
  using tmp = scratchDir("musefs-scan-test-");
  const dir = tmp.path;
  await copyFixtures(`${dir}/lib/old`, ["flac", "mp3_v24", "opus"]);
  const db = `${dir}/lib.db`;
  assert.equal((await musefs(["scan", `${dir}/lib`, "--db", db])).code, 0);
  const before = ids(db);
  exec(
    db,
    `INSERT INTO tags (track_id, key, value, ordinal)
      SELECT id, 'mood', 'calm', 0 FROM tracks`,
  );
  const artBefore = query(db, "SELECT track_id, art_id, ordinal FROM track_art ORDER BY 1, 3");
  Deno.renameSync(`${dir}/lib/old`, `${dir}/lib/new`);
  const r = await musefs(["scan", `${dir}/lib`, "--db", db, "-v"]);
  assertScanned(r, `${dir}/lib`, { files: 3, present: 0, skipped: 0, failed: 0 });
  assert.equal((r.stderr.match(/re-identified /g) ?? []).length, 3);
  const after = ids(db);
  assert.equal(after.size, 3);
  for (const [path, id] of before) {
    assert.equal(after.get(path.replace("/old/", "/new/")), id, path);
  }
  assert.equal(count(db, "tags", "key = 'mood' AND value = 'calm'"), 3);
  assert.deepEqual(
    query(db, "SELECT track_id, art_id, ordinal FROM track_art ORDER BY 1, 3"),
    artBefore,
  );
});

Deno.test("--strict refuses a move without stored full hashes; with --checksum full it retargets", async () => {
  using tmp = scratchDir("musefs-scan-test-");
  const dir = tmp.path;
  await copyFixtures(`${dir}/a`, ["ogg_flac"]);
  const db = `${dir}/lib.db`;
  assert.equal((await musefs(["scan", `${dir}/a`, "--db", db])).code, 0);
  Deno.renameSync(`${dir}/a`, `${dir}/b`);
  const strict = await musefs(["scan", `${dir}/b`, "--db", db, "--strict"]);
  assert.equal(strict.code, 0, strict.stderr);
  assert.match(strict.stderr, /not confirmed .*--strict needs a stored full hash/);
  assert.equal(count(db, "tracks"), 2); // the stale row stays until a prune

  const db2 = `${dir}/full.db`;
  assert.equal((await musefs(["scan", `${dir}/b`, "--db", db2, "--checksum", "full"])).code, 0);
  const [id] = [...ids(db2).values()];
  Deno.renameSync(`${dir}/b`, `${dir}/c`);
  const moved = await musefs(["scan", `${dir}/c`, "--db", db2, "--strict"]);
  assert.equal(moved.code, 0, moved.stderr);
  assert.deepEqual([...ids(db2)], [[`${dir}/c/ogg_flac.oga`, id]]);
});

Deno.test("revalidate re-probes a re-encoded file structural-only, keeps curated tags, then sees it unchanged", async () => {
  using tmp = scratchDir("musefs-scan-test-");
  const dir = tmp.path;
  await copyFixtures(`${dir}/lib`, ["flac", "mp3_v23"]);
  const path = `${dir}/lib/flac.flac`;
  const db = `${dir}/lib.db`;
  assert.equal((await musefs(["scan", `${dir}/lib`, "--db", db])).code, 0);
  const [t0] = query<{ id: number; v: number; len: number }>(
    db,
    "SELECT id, content_version AS v, audio_length AS len FROM tracks WHERE backing_path = ?",
    path,
  );
  exec(db, `UPDATE tags SET value = 'Curated title' WHERE key = 'title' AND track_id = ${t0.id}`);

  // Re-encode with another block size: new STREAMINFO, new audio, no tags.
  const enc = await new Deno.Command("flac", {
    args: ["-f", "-s", "--blocksize=1152", "-o", path, await sourceWav()],
  }).output();
  assert.equal(enc.code, 0, new TextDecoder().decode(enc.stderr));
  const bytes = Deno.readFileSync(path);
  const streaminfo = bytes.subarray(8, 8 + 34); // fLaC, block header, body

  const r = await musefs(["revalidate", `${dir}/lib`, "--db", db]);
  assertRevalidated(r, `${dir}/lib`, { updated: 1, unchanged: 1, pruned: 0, failed: 0 });
  const [t1] = query<{ id: number; v: number; size: number; len: number; off: number }>(
    db,
    `SELECT id, content_version AS v, backing_size AS size, audio_length AS len,
      audio_offset AS off FROM tracks WHERE backing_path = ?`,
    path,
  );
  assert.equal(t1.id, t0.id);
  assert.equal(t1.size, bytes.length);
  assert.equal(t1.off + t1.len, bytes.length);
  assert.ok(t1.v > t0.v, "content_version moved");
  const [block] = query<{ body: Uint8Array }>(
    db,
    "SELECT body FROM structural_blocks WHERE track_id = ? AND kind = 'STREAMINFO'",
    t0.id,
  );
  assert.deepEqual(new Uint8Array(block.body), new Uint8Array(streaminfo));
  assert.deepEqual(
    query(db, "SELECT value FROM tags WHERE track_id = ? AND key = 'title'", t0.id),
    [{ value: "Curated title" }],
  );

  const again = await musefs(["revalidate", `${dir}/lib`, "--db", db]);
  assert.deepEqual(revalidatedLine(again.stdout, `${dir}/lib`), {
    updated: 0,
    unchanged: 2,
    pruned: 0,
    failed: 0,
  });

  // Backfills: a FLAC without structural rows, and a missing fingerprint.
  const blocks = query(db, "SELECT track_id, kind, ordinal, body FROM structural_blocks");
  assert.ok(blocks.length >= 1);
  exec(db, `DELETE FROM structural_blocks; UPDATE tracks SET fingerprint = NULL`);
  const backfill = await musefs(["revalidate", `${dir}/lib`, "--db", db]);
  assert.equal(revalidatedLine(backfill.stdout, `${dir}/lib`).updated, 2);
  assert.deepEqual(
    query(db, "SELECT track_id, kind, ordinal, body FROM structural_blocks"),
    blocks,
  );
  assert.equal(count(db, "tracks", "fingerprint IS NULL"), 0);
});

Deno.test("revalidate --prune deletes only gone tracks under its target, then orphaned art", async () => {
  using tmp = scratchDir("musefs-scan-test-");
  const dir = tmp.path;
  await copyFixtures(`${dir}/a`, ["flac", "opus"]); // png+jpg, png
  await copyFixtures(`${dir}/b`, ["mp3_v23"]); // jpg
  const db = `${dir}/lib.db`;
  assert.equal((await musefs(["scan", `${dir}/a`, `${dir}/b`, "--db", db])).code, 0);
  assert.equal(count(db, "art"), 2);
  Deno.removeSync(`${dir}/a/flac.flac`);
  Deno.removeSync(`${dir}/b/mp3_v23.mp3`);

  const noPrune = await musefs(["revalidate", `${dir}/a`, "--db", db]);
  assert.equal(revalidatedLine(noPrune.stdout, `${dir}/a`).pruned, 0);
  assert.equal(count(db, "tracks"), 3);

  const a = await musefs(["revalidate", `${dir}/a`, "--db", db, "--prune"]);
  assertRevalidated(a, `${dir}/a`, { updated: 0, unchanged: 1, pruned: 1, failed: 0 });
  assert.equal(count(db, "tracks"), 2); // b's missing track is outside the target
  assert.equal(count(db, "art"), 2); // the jpg is still used by b's track

  const b = await musefs(["revalidate", `${dir}/b`, "--db", db, "--prune"]);
  assert.equal(revalidatedLine(b.stdout, `${dir}/b`).pruned, 1);
  assert.deepEqual(query(db, "SELECT backing_path FROM tracks"), [{
    backing_path: `${dir}/a/opus.opus`,
  }]);
  assert.equal(count(db, "art"), 1);

  // The deprecated alias revalidates without pruning.
  const alias = await musefs(["scan", `${dir}/a`, "--db", db, "--revalidate"]);
  assert.equal(alias.code, 0, alias.stderr);
  assert.match(alias.stderr, /deprecated/);
  assert.equal(revalidatedLine(alias.stdout, `${dir}/a`).unchanged, 1);
});

Deno.test("a file rewritten during its probe is raced: not stored, not failed", async () => {
  using tmp = scratchDir("musefs-scan-test-");
  const dir = tmp.path;
  await copyFixtures(`${dir}/lib`, ["opus"]);
  const path = `${dir}/lib/opus.opus`;
  const pause = `${dir}/pause`;
  Deno.mkdirSync(pause);
  const db = `${dir}/lib.db`;
  const child = spawnMusefs(["scan", `${dir}/lib`, "--db", db], {
    env: { MUSEFS_TEST_PROBE_PAUSE: pause },
  });
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    try {
      Deno.statSync(`${pause}/paused`);
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  assert.equal(Deno.readTextFileSync(`${pause}/paused`), path);
  const f = Deno.openSync(path, { append: true });
  f.writeSync(new Uint8Array(100));
  f.close();
  Deno.writeTextFileSync(`${pause}/resume`, "");
  const out = await child.output();
  const stdout = new TextDecoder().decode(out.stdout);
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, stderr);
  assert.deepEqual(scannedLine(stdout, `${dir}/lib`), {
    files: 0,
    present: 0,
    skipped: 0,
    failed: 0,
  });
  assert.match(stderr, /skipping .*opus\.opus: changed during probe/);
  assert.equal(count(db, "tracks"), 0);
  const rerun = await musefs(["scan", `${dir}/lib`, "--db", db]);
  assert.equal(scannedLine(rerun.stdout, `${dir}/lib`).files, 1);
});

Deno.test("SIGINT mid-scan commits only whole batches; a rerun continues where it stopped", async () => {
  using tmp = scratchDir("musefs-scan-test-");
  const dir = tmp.path;
  const lib = `${dir}/lib`;
  await copyFixtures(lib, ["mp3_v24"]);
  const N = 240;
  for (let i = 0; i < N - 1; i++) await Deno.copyFile(`${lib}/mp3_v24.mp3`, `${lib}/t${i}.mp3`);
  const db = `${dir}/lib.db`;
  const child = spawnMusefs(["scan", lib, "--db", db, "--jobs", "1"], {
    env: { MUSEFS_TEST_PROBE_DELAY_MS: "20" },
  });
  // Wait for the first committed batch (a progress line), then interrupt.
  const stderr = new StderrText(child);
  await stderr.until(/ingested \d+\//);
  child.kill("SIGINT");
  const err = await stderr.rest();
  const status = await child.status;
  await child.stdout.cancel();
  assert.equal(status.code, 130, err);
  assert.match(err, /scan interrupted; committed work is kept/);
  const stored = count(db, "tracks");
  assert.ok(stored > 0 && stored < N, `stored ${stored}`);
  // Nothing half-written: every stored track has its tags and its art.
  assert.equal(count(db, "tracks", "id NOT IN (SELECT track_id FROM tags)"), 0);
  assert.equal(count(db, "tracks", "id NOT IN (SELECT track_id FROM track_art)"), 0);

  const rerun = await musefs(["scan", lib, "--db", db]);
  assertScanned(rerun, lib, { files: N - stored, present: stored, skipped: 0, failed: 0 });
  assert.equal(count(db, "tracks"), N);
});

Deno.test("a non-UTF-8 music file name is scanned under its lossy path; exit 0", async () => {
  using tmp = scratchDir("musefs-scan-test-");
  const dir = tmp.path;
  await copyFixtures(`${dir}/lib`, ["wav"]);
  const py = await python(
    "import sys,shutil,os; s=sys.argv[1].encode(); d=os.path.dirname(s); " +
      "os.mkdir(d+b'/sub\\xff'); shutil.copy(s, d+b'/sub\\xff/\\xe9t\\xe9.wav')",
    `${dir}/lib/wav.wav`,
  );
  assert.equal(py.code, 0, new TextDecoder().decode(py.stderr));
  const db = `${dir}/lib.db`;
  const r = await musefs(["scan", `${dir}/lib`, "--db", db]);
  assertScanned(r, `${dir}/lib`, { files: 2, present: 0, skipped: 0, failed: 0 });
  // Stored as the original and python-musefs key it: invalid bytes as U+FFFD.
  const lossy = `${dir}/lib/sub\uFFFD/\uFFFDt\uFFFD.wav`;
  const rows = query<{ backing_path: string; backing_size: number }>(
    db,
    "SELECT backing_path, backing_size FROM tracks ORDER BY backing_path",
  );
  assert.deepEqual(rows.map((x) => x.backing_path), [lossy, `${dir}/lib/wav.wav`]);
  // python-musefs keys tracks by realpath decoded with replacement: the same string.
  const key = await python(
    "import os,sys; p=os.path.realpath(sys.argv[1].encode()+b'/sub\\xff/\\xe9t\\xe9.wav'); " +
      "sys.stdout.write(p.decode('utf-8', 'replace'))",
    `${dir}/lib`,
  );
  assert.equal(new TextDecoder().decode(key.stdout), lossy);
  assert.equal(rows[0].backing_size, rows[1].backing_size);
  // Revalidate finds it unchanged (stat by the real bytes), and does not prune it.
  const rv = await musefs(["revalidate", `${dir}/lib`, "--db", db, "--prune"]);
  assert.equal(rv.code, 0, rv.stderr);
  assert.match(rv.stdout, /0 updated, 2 unchanged, 0 pruned, 0 failed/);
  // Gone for real: pruned.
  await python(
    "import sys,shutil; shutil.rmtree(sys.argv[1].encode() + b'/sub\\xff')",
    `${dir}/lib`,
  );
  const gone = await musefs(["revalidate", `${dir}/lib`, "--db", db, "--prune"]);
  assert.equal(gone.code, 0, gone.stderr);
  assert.match(gone.stdout, /1 pruned/);
});

Deno.test("names that differ only in invalid UTF-8 bytes are skipped with a warning; exit 0", async () => {
  using tmp = scratchDir("musefs-scan-test-");
  const dir = tmp.path;
  await copyFixtures(`${dir}/lib`, ["wav"]);
  const py = await python(
    "import sys,shutil; s=sys.argv[1].encode(); " +
      "shutil.copy(s, s[:-7] + b'\\xe9t\\xe9.wav'); shutil.copy(s, s[:-7] + b'\\xeat\\xe9.wav')",
    `${dir}/lib/wav.wav`,
  );
  assert.equal(py.code, 0);
  const db = `${dir}/lib.db`;
  const r = await musefs(["scan", `${dir}/lib`, "--db", db]);
  assertScanned(r, `${dir}/lib`, { files: 1, present: 0, skipped: 2, failed: 0 });
  // Each named with its real bytes escaped.
  assert.match(r.stderr, /skipping .*\/lib\/\\xe9t\\xe9\.wav: another name in its directory/);
  assert.match(r.stderr, /skipping .*\/lib\/\\xeat\\xe9\.wav: another name in its directory/);
  assert.equal(count(db, "tracks"), 1);
});

Deno.test({
  name: "an unreadable directory is warned about and skipped (run as nobody when root)",
  ignore: Deno.uid() === 0 && !hasSetpriv(),
  fn: async () => {
    using tmp = scratchDir("musefs-scan-test-");
    const dir = tmp.path;
    Deno.chmodSync(dir, 0o777);
    await copyFixtures(`${dir}/lib`, ["flac"]);
    await copyFixtures(`${dir}/lib/locked`, ["opus"]);
    Deno.chmodSync(`${dir}/lib/locked`, 0o000);
    const denoDir = `${dir}/deno-dir`;
    Deno.mkdirSync(denoDir, { mode: 0o777 });
    Deno.chmodSync(denoDir, 0o777);
    const db = `${dir}/lib.db`;
    const asNobody = Deno.uid() === 0;
    const r = await musefs(["scan", `${dir}/lib`, "--db", db], {
      asUser: asNobody ? "nobody" : undefined,
      env: { DENO_DIR: denoDir, HOME: dir },
    });
    Deno.chmodSync(`${dir}/lib/locked`, 0o755);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /WARN .*skipping directory .*\/lib\/locked: /);
    assert.deepEqual(scannedLine(r.stdout, `${dir}/lib`), {
      files: 1,
      present: 0,
      skipped: 0,
      failed: 0,
    });
  },
});

function hasSetpriv(): boolean {
  try {
    Deno.statSync("/usr/bin/setpriv");
    return true;
  } catch {
    return false;
  }
}

Deno.test("--follow-symlinks stores canonical targets once; loops and broken links do not fail the scan", async () => {
  using tmp = scratchDir("musefs-scan-test-");
  const dir = tmp.path;
  await copyFixtures(`${dir}/elsewhere`, ["m4a_moov_last"]);
  await copyFixtures(`${dir}/lib`, ["mp3_v23"]);
  Deno.symlinkSync(`${dir}/elsewhere/m4a_moov_last.m4a`, `${dir}/lib/linked.m4a`);
  Deno.symlinkSync(`${dir}/elsewhere`, `${dir}/lib/elsewhere`);
  Deno.symlinkSync(`${dir}/lib`, `${dir}/lib/loop`);
  Deno.symlinkSync(`${dir}/gone.flac`, `${dir}/lib/broken.flac`);
  const db = `${dir}/lib.db`;
  const plain = await musefs(["scan", `${dir}/lib`, "--db", db]);
  assert.equal(plain.code, 0, plain.stderr);
  assert.equal(scannedLine(plain.stdout, `${dir}/lib`).files, 1);
  const followed = await musefs(["scan", `${dir}/lib`, "--db", db, "--follow-symlinks"]);
  assertScanned(followed, `${dir}/lib`, { files: 1, present: 1, skipped: 0, failed: 0 });
  assert.match(followed.stderr, /skipping broken symlink .*broken\.flac/);
  assert.match(followed.stderr, /skipping symlink loop at .*lib\/loop/);
  assert.deepEqual(
    query<{ p: string }>(db, "SELECT backing_path AS p FROM tracks ORDER BY 1").map((r) => r.p),
    [`${dir}/elsewhere/m4a_moov_last.m4a`, `${dir}/lib/mp3_v23.mp3`],
  );
});

Deno.test("revalidate never creates a store (exit 1), unlike scan", async () => {
  using tmp = scratchDir("musefs-scan-test-");
  const dir = tmp.path;
  await copyFixtures(`${dir}/lib`, ["opus"]);
  const r = await musefs(["revalidate", `${dir}/lib`, "--db", `${dir}/none.db`]);
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    /^musefs: database does not exist: .*none\.db \(create it with `musefs scan /m,
  );
  assert.throws(() => Deno.statSync(`${dir}/none.db`), Deno.errors.NotFound);
});

Deno.test("a slow probe does not keep the store locked: the open batch commits within about a second", async () => {
  using tmp = scratchDir("musefs-scan-test-");
  const dir = tmp.path;
  await copyFixtures(`${dir}/lib`, ["mp3_v23", "mp3_v24"]);
  const db = `${dir}/lib.db`;
  const child = spawnMusefs(["scan", `${dir}/lib`, "--db", db, "--jobs", "1"], {
    env: { MUSEFS_TEST_PROBE_DELAY_MS: "2500" },
  });
  const stderr = new StderrText(child);
  await stderr.until(/ingested 1\/2/);
  // The second file is still being probed, yet another writer gets in at once.
  const conn = new DatabaseSync(db);
  try {
    conn.exec("PRAGMA busy_timeout = 0");
    conn.exec("BEGIN IMMEDIATE");
    conn.exec("INSERT INTO tags (track_id, key, value) SELECT id, 'mood', 'x' FROM tracks");
    conn.exec("COMMIT");
  } finally {
    conn.close();
  }
  const err = await stderr.rest();
  const status = await child.status;
  await child.stdout.cancel();
  assert.equal(status.code, 0, err);
  assert.equal(count(db, "tracks"), 2);
  assert.equal(count(db, "tags", "key = 'mood'"), 1);
});
