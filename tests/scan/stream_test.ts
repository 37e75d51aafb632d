// Scan streams the walk into the probe pool: paths are pulled as the Workers
// need them, so at most a bounded number of found-but-not-probed paths exist
// at any moment, and probing (and committing) begins before the walk ends.

import assert from "node:assert/strict";
import { type PoolStats, probeAll, QUEUE_HIGH } from "../../src/scan/pool.ts";
import type { ScanReporter } from "../../src/scan/report.ts";
import { scanTarget } from "../../src/scan/scan.ts";
import { BATCH_FILES } from "../../src/scan/writer.ts";
import { openStore } from "../../src/store/mod.ts";
import { fixture } from "../fixtures/fixtures.ts";
import { count } from "./helpers.ts";
import { scratchDir } from "../scratch.ts";

Deno.test("probe pool: a streamed source is pulled lazily, never more than the bound ahead", async () => {
  // Paths that do not exist: each probe fails at once, so the run is quick.
  const total = 12_000;
  const workers = 2;
  let produced = 0;
  let consumed = 0;
  let maxAhead = 0;
  async function* source(): AsyncGenerator<string> {
    for (let i = 0; i < total; i++) {
      produced++;
      maxAhead = Math.max(maxAhead, produced - consumed);
      if (i % 500 === 0) await new Promise((r) => setTimeout(r, 0)); // like the walk
      yield `/nonexistent/musefs-stream-test/${i}.flac`;
    }
  }
  const stats: PoolStats = { maxQueued: 0, pulled: 0 };
  const paths = new Set<string>();
  await probeAll(source(), {
    workers,
    tier: "none",
    stats,
    onOutcome: (o) => {
      consumed++;
      assert.equal(o.kind, "failed");
      paths.add(o.path);
    },
  });
  assert.equal(consumed, total);
  assert.equal(paths.size, total);
  assert.equal(stats.pulled, total);
  assert.ok(stats.maxQueued <= QUEUE_HIGH, `queued ${stats.maxQueued}`);
  // Queued, plus at most two chunks of 32 in flight per Worker, plus the one being pulled.
  const bound = QUEUE_HIGH + workers * 2 * 32 + 1;
  assert.ok(maxAhead <= bound, `${maxAhead} paths ahead of the outcomes (bound ${bound})`);
  assert.ok(maxAhead > QUEUE_HIGH / 2, `the pool pulls ahead (${maxAhead})`);
});

Deno.test("scan: probing and commits begin before the walk ends; pending paths stay bounded", async () => {
  using tmp = scratchDir("musefs-scan-test-");
  const dir = tmp.path;
  const flac = await fixture("flac");
  const lib = `${dir}/lib`;
  const dirs = 40;
  const perDir = 50;
  for (let d = 0; d < dirs; d++) {
    const sub = `${lib}/d${String(d).padStart(2, "0")}`;
    Deno.mkdirSync(sub, { recursive: true });
    for (let f = 0; f < perDir; f++) Deno.copyFileSync(flac.path, `${sub}/t${f}.flac`);
  }
  const files = dirs * perDir;
  const db = `${dir}/lib.db`;
  using store = openStore(db, { mode: "rw", create: true });
  const limit = 64;
  const stats: PoolStats = { maxQueued: 0, pulled: 0 };
  let found = 0;
  let walkedAt: number | null = null;
  let foundAtFirstCommit: number | null = null;
  const commitsBeforeTotal: number[] = [];
  const warnings: string[] = [];
  const reporter: ScanReporter = {
    warn: (m) => warnings.push(m),
    info: () => {},
    debug: () => {},
    discovered: (n) => found = n,
    walked: (t) => walkedAt = t,
    committed: (done, total) => {
      foundAtFirstCommit ??= found;
      if (total === null) commitsBeforeTotal.push(done);
      else assert.equal(walkedAt, total, "a known total is the walk's");
    },
  };
  const request = {
    target: lib,
    force: false,
    jobs: 1,
    followSymlinks: false,
    checksum: "none" as const,
    strictness: "auto" as const,
    pool: { stats, queueLimit: limit },
  };
  const first = await scanTarget(store, request, reporter);
  assert.deepEqual(warnings, []);
  assert.equal(first.scanned, files);
  assert.equal(first.alreadyPresent, 0);
  assert.equal(first.failed, 0);
  assert.equal(walkedAt, files);
  assert.equal(count(db, "tracks"), files);
  assert.equal(stats.pulled, files);
  assert.ok(stats.maxQueued <= limit, `queued ${stats.maxQueued} > ${limit}`);
  // The walk cannot run more than the bound ahead of the probes, so at
  // least one full batch of files commits while it still runs.
  assert.ok(commitsBeforeTotal.length > 0, "no commit before the walk ended");
  assert.ok(commitsBeforeTotal.at(-1)! >= BATCH_FILES, `${commitsBeforeTotal}`);
  assert.ok(
    foundAtFirstCommit! < files,
    `walk had found ${foundAtFirstCommit} at first commit`,
  );

  // An additive rescan filters each streamed path against the store.
  const again = { maxQueued: 0, pulled: 0 };
  walkedAt = null;
  const second = await scanTarget(store, { ...request, pool: { stats: again } }, reporter);
  assert.equal(second.scanned, 0);
  assert.equal(second.alreadyPresent, files);
  assert.equal(walkedAt, 0);
  assert.equal(again.pulled, 0);
});
