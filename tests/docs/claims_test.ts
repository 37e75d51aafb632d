// Claims of the user documentation, checked against the program:
// - the metrics table of docs/tuning.md lists exactly the metrics a real mount's
//   `.musefs-metrics/metrics` file reports, with their types;
// - `mount` upgrades a version-1 store in place (docs/troubleshooting.md, store.md);
// - symlinks are skipped silently unless -v (docs/cli.md, troubleshooting.md);
// - the memory table of docs/tuning.md has the rows bench/memory_bench.ts measures
//   (the bench compares the figures; a timed or memory-measuring test would be flaky).

import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { migrate } from "../../src/store/schema.ts";
import { listFiles, musefs, noFuse, withMount } from "../e2e/helpers.ts";
import { copyFixtures, musefs as scanCli } from "../scan/helpers.ts";
import { read } from "./markdown.ts";
import { documented as documentedMemory, MEMORY_ROWS } from "../../bench/memory_bench.ts";
import { closing, scratchDir } from "../scratch.ts";

/** name → type of every metric in the table under "## Metrics" of docs/tuning.md. */
export function documentedMetrics(tuning: string): Map<string, string> {
  const section = tuning.slice(tuning.indexOf("\n## Metrics\n"));
  const out = new Map<string, string>();
  for (const line of section.split("\n")) {
    const cells = line.split("|").map((c) => c.trim());
    if (cells.length < 4 || !cells[1].includes("`musefs_")) continue;
    for (const m of cells[1].matchAll(/`(musefs_\w+)`/g)) out.set(m[1], cells[2]);
  }
  return out;
}

/** name → type of every metric in a Prometheus text exposition. */
function reportedMetrics(text: string): Map<string, string> {
  return new Map([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1], m[2]]));
}

/** A temporary store at user_version 1 (as an older musefs wrote it) with one track. */
function versionOneStore(dir: string): string {
  const path = `${dir}/v1.db`;
  const raw = new DatabaseSync(path);
  migrate(raw, path, 1);
  raw.exec(`
    INSERT INTO tracks (id, backing_path, format, audio_offset, audio_length, backing_size,
                        backing_mtime_ns, updated_at) VALUES (1, '/m/a.flac', 'flac', 4, 6, 10, 1, 1);
    INSERT INTO tags (track_id, key, value, ordinal) VALUES (1, 'title', 'Old Store', 0);`);
  raw.close();
  return path;
}

function userVersion(path: string): number {
  using db = closing(new DatabaseSync(path, { readOnly: true }));
  return (db.prepare("PRAGMA user_version").get() as { user_version: number }).user_version;
}

Deno.test({
  name: "docs/tuning.md lists exactly the metrics a mount reports, with their types",
  ignore: noFuse,
  async fn() {
    using tmp = scratchDir("musefs-claims-");
    const dir = tmp.path;
    await copyFixtures(`${dir}/lib`, ["flac", "mp3_v24"]);
    const db = `${dir}/lib.db`;
    const scan = await scanCli(["scan", `${dir}/lib`, "--db", db, "--quiet"]);
    assert.equal(scan.code, 0, scan.stderr);
    await Deno.mkdir(`${dir}/mnt`);
    const text = await withMount(
      db,
      `${dir}/mnt`,
      ["--expose-metrics"],
      () => Deno.readTextFile(`${dir}/mnt/.musefs-metrics/metrics`),
    );
    const reported = reportedMetrics(text);
    assert.ok(reported.size > 20, text);
    const documented = documentedMetrics(read("docs/tuning.md"));
    const missing = [...reported.keys()].filter((n) => !documented.has(n));
    const stale = [...documented.keys()].filter((n) => !reported.has(n));
    assert.deepEqual({ missing, stale }, { missing: [], stale: [] });
    for (const [name, type] of reported) assert.equal(documented.get(name), type, name);
  },
});

Deno.test("the metrics table parser sees every row", () => {
  const doc = documentedMetrics(read("docs/tuning.md"));
  assert.equal(doc.get("musefs_uptime_seconds"), "gauge");
  assert.equal(doc.get("musefs_readahead_misses_total"), "counter");
  assert.equal(doc.get("musefs_reads_inflight_max"), "gauge");
});

Deno.test("mount --dry-run upgrades a version-1 store in place, as the docs say", async () => {
  using tmp = scratchDir("musefs-claims-");
  const dir = tmp.path;
  const db = versionOneStore(dir);
  const r = await musefs(["mount", "--db", db, "--dry-run", "-v"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /upgrading the store schema of .*v1\.db/);
  assert.match(r.stdout, /Old Store\.flac/);
  assert.equal(userVersion(db), 2);
  assert.match(
    read("docs/troubleshooting.md"),
    /upgraded in place by the first command[^.]*`mount`/,
  );
});

Deno.test({
  name: "mount serves a version-1 store after upgrading it",
  ignore: noFuse,
  async fn() {
    using tmp = scratchDir("musefs-claims-");
    const dir = tmp.path;
    const db = versionOneStore(dir);
    await Deno.mkdir(`${dir}/mnt`);
    const files = await withMount(db, `${dir}/mnt`, [], async (m) => {
      assert.match(m.log(), /upgrading the store schema/);
      return await listFiles(`${dir}/mnt`);
    });
    assert.ok(files.some((f) => f.endsWith("Old Store.flac")), files.join("\n"));
    assert.equal(userVersion(db), 2);
  },
});

Deno.test("symlinks are skipped silently unless -v (scan and revalidate)", async () => {
  using tmp = scratchDir("musefs-claims-");
  const dir = tmp.path;
  await copyFixtures(`${dir}/elsewhere`, ["opus"]);
  await copyFixtures(`${dir}/lib`, ["wav"]);
  Deno.symlinkSync(`${dir}/elsewhere/opus.opus`, `${dir}/lib/linked.opus`);
  const db = `${dir}/lib.db`;
  for (const command of ["scan", "revalidate"]) {
    const args = [command, `${dir}/lib`, "--db", db];
    const quiet = await scanCli(args);
    assert.equal(quiet.code, 0, quiet.stderr);
    assert.doesNotMatch(quiet.stdout + quiet.stderr, /symlink|linked\.opus/i, command);
    const v = await scanCli([...args, "-v"]);
    assert.match(v.stderr, /skipped 1 symlink\(s\) \(pass --follow-symlinks/, command);
    assert.doesNotMatch(v.stderr, /linked\.opus/, command);
    const vv = await scanCli([...args, "-vv"]);
    assert.match(vv.stderr, /skipping symlink .*linked\.opus/, command);
  }
  for (const doc of ["docs/cli.md", "docs/troubleshooting.md"]) {
    assert.match(read(doc), /skipped (silently|without a message)/, doc);
  }
});

Deno.test("docs/tuning.md's memory table has every row the memory bench measures", () => {
  const doc = documentedMemory();
  for (const [label] of MEMORY_ROWS) {
    const row = doc.get(label);
    assert.ok(row, `no row "${label}" in the memory table of docs/tuning.md`);
    assert.ok(row.base > 16 * 1024 * 1024 && row.perTrack > 0, label);
  }
  assert.doesNotMatch(read("docs/tuning.md"), /1–2 KB per track/);
});
