// Scan throughput on a generated library of small real files: copies of the
// fixtures, each with its own tags (rewritten by synthesizing through
// src/format, so generation is fast and every file is a valid, distinct
// track). Measures files/s, bytes read per file (the probes' own counters),
// peak RSS, then revalidate over the unchanged library.
//
// Run: npx deno run -A bench/scan_bench.ts
// Env: MUSEFS_BENCH_FILES (default 10000), MUSEFS_BENCH_JOBS (default 0 = all
// cores), MUSEFS_BENCH_DIR (where the library goes; default a temp dir,
// removed afterwards).
//
// Each measured run is a child process (this file with --phase), so peak RSS
// (VmHWM, Workers included) belongs to that run alone.

import { ensureFixtures } from "../tests/fixtures/fixtures.ts";
import { inputFromProbe, materialize, probePath, synthesize } from "../src/format/mod.ts";
import { BufferSource } from "../src/format/source.ts";
import type { TagEntry } from "../src/format/types.ts";
import { revalidateTarget, type ScanReporter, scanTarget } from "../src/scan/mod.ts";
import type { ChecksumTier } from "../src/scan/probe_file.ts";
import { openStore } from "../src/store/mod.ts";
import { DENO_FLAGS } from "../src/cli/deno_flags.ts";

const TARGET_FILES_PER_S = 1000;
const TARGET_BYTES_PER_FILE = 8 * 1024;

interface PhaseResult {
  files: number;
  seconds: number;
  probed: number;
  probeBytes: number;
  preads: number;
  hashBytes: number;
  failed: number;
  peakRssKiB: number;
  summary: string;
}

function peakRssKiB(): number {
  const m = Deno.readTextFileSync("/proc/self/status").match(/^VmHWM:\s+(\d+) kB/m);
  return m ? Number(m[1]) : 0;
}

const quiet: ScanReporter = { warn: () => {}, info: () => {}, debug: () => {} };

async function phase(kind: string, lib: string, db: string, tier: ChecksumTier, jobs: number) {
  const store = openStore(db, { mode: "rw", create: true, scanTuning: true });
  const t0 = performance.now();
  let result: PhaseResult;
  if (kind === "scan") {
    const s = await scanTarget(store, {
      target: lib,
      force: false,
      jobs,
      followSymlinks: false,
      checksum: tier,
      strictness: "auto",
    }, quiet);
    const seconds = (performance.now() - t0) / 1000;
    result = {
      files: s.scanned + s.alreadyPresent,
      seconds,
      ...s.io,
      failed: s.failed,
      peakRssKiB: peakRssKiB(),
      summary: `${s.scanned} scanned, ${s.alreadyPresent} present, ${s.failed} failed`,
    };
  } else {
    const s = await revalidateTarget(store, {
      target: lib,
      prune: false,
      jobs,
      followSymlinks: false,
      checksum: tier,
    }, quiet);
    const seconds = (performance.now() - t0) / 1000;
    result = {
      files: s.updated + s.unchanged,
      seconds,
      ...s.io,
      failed: s.failed,
      peakRssKiB: peakRssKiB(),
      summary: `${s.updated} updated, ${s.unchanged} unchanged, ${s.failed} failed`,
    };
  }
  store.close();
  console.log(JSON.stringify(result));
}

async function runPhase(
  kind: string,
  lib: string,
  db: string,
  tier: ChecksumTier,
  jobs: number,
): Promise<PhaseResult> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      ...DENO_FLAGS,
      import.meta.filename!,
      "--phase",
      kind,
      lib,
      db,
      tier,
      String(jobs),
    ],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (out.code !== 0) throw new Error(`${kind} phase exited ${out.code}`);
  const text = new TextDecoder().decode(out.stdout).trim().split("\n").at(-1)!;
  return JSON.parse(text);
}

/** The library: `count` files in 100 album directories, fixture i % 11 with its own tags. */
async function generate(dir: string, count: number): Promise<number> {
  const fixtures = await ensureFixtures();
  const bases = fixtures.map((f) => {
    const bytes = Deno.readFileSync(f.path);
    const probe = probePath(f.path, new BufferSource(bytes))!;
    return { f, bytes, probe };
  });
  let total = 0;
  for (let i = 0; i < count; i++) {
    const { f, bytes, probe } = bases[i % bases.length];
    const album = Math.floor(i / 100);
    const tags: TagEntry[] = [
      { key: "album", value: `Album ${album}`, ordinal: 0 },
      { key: "albumartist", value: `Artist ${album % 37}`, ordinal: 0 },
      { key: "artist", value: `Artist ${album % 37}`, ordinal: 0 },
      { key: "title", value: `Track ${i} of the benchmark`, ordinal: 0 },
      { key: "tracknumber", value: String((i % 100) + 1), ordinal: 0 },
    ];
    const { input, blobs } = inputFromProbe({ ...probe, tags }, bytes.length);
    const layout = synthesize(input, new BufferSource(bytes), blobs);
    const out = materialize(layout, { backing: new BufferSource(bytes), blobs });
    const albumDir = `${dir}/album${String(album).padStart(3, "0")}`;
    if (i % 100 === 0) Deno.mkdirSync(albumDir, { recursive: true });
    Deno.writeFileSync(`${albumDir}/${String(i).padStart(5, "0")}${f.ext}`, out);
    total += out.length;
  }
  return total;
}

function row(label: string, r: PhaseResult, readTarget: boolean): string {
  const rate = r.files / r.seconds;
  const perFile = r.probed > 0 ? r.probeBytes / r.probed : 0;
  const hashPerFile = r.probed > 0 ? r.hashBytes / r.probed : 0;
  const rateOk = rate >= TARGET_FILES_PER_S ? "ok" : "BELOW";
  const readOk = !readTarget || perFile <= TARGET_BYTES_PER_FILE ? "ok" : "ABOVE";
  return [
    label.padEnd(28),
    `${r.seconds.toFixed(2)} s`.padStart(9),
    `${Math.round(rate)} files/s [${rateOk} ≥ ${TARGET_FILES_PER_S}]`.padStart(28),
    `${Math.round(perFile)} B read/file probed${readTarget ? ` [${readOk} ≤ 8 KiB]` : ""}` +
    (hashPerFile > 0 ? ` + ${Math.round(hashPerFile)} B hashed` : ""),
    `${(r.preads / Math.max(1, r.probed)).toFixed(2)} preads/file`,
    `peak RSS ${(r.peakRssKiB / 1024).toFixed(1)} MiB`,
    `(${r.summary})`,
  ].join("  ");
}

async function main() {
  const count = Number(Deno.env.get("MUSEFS_BENCH_FILES") ?? "10000");
  const jobs = Number(Deno.env.get("MUSEFS_BENCH_JOBS") ?? "0");
  const given = Deno.env.get("MUSEFS_BENCH_DIR");
  const dir = given ?? Deno.makeTempDirSync({ prefix: "musefs-scan-bench-" });
  try {
    const lib = `${dir}/lib`;
    const t0 = performance.now();
    const bytes = await generate(lib, count);
    console.log(
      `library: ${count} files, ${(bytes / 1048576).toFixed(1)} MiB in ${
        ((performance.now() - t0) / 1000).toFixed(1)
      } s (${lib}); jobs ${jobs || navigator.hardwareConcurrency}`,
    );
    const db = `${dir}/bench.db`;
    const dbFull = `${dir}/bench-full.db`;
    for (const p of [db, dbFull]) {
      for (const s of ["", "-wal", "-shm"]) {
        try {
          Deno.removeSync(p + s);
        } catch { /* absent */ }
      }
    }
    console.log(
      row("scan (fingerprint)", await runPhase("scan", lib, db, "fingerprint", jobs), true),
    );
    console.log(
      row("revalidate unchanged", await runPhase("revalidate", lib, db, "fingerprint", jobs), true),
    );
    console.log(
      row("rescan (all present)", await runPhase("scan", lib, db, "fingerprint", jobs), true),
    );
    console.log(
      row("scan --checksum full", await runPhase("scan", lib, dbFull, "full", jobs), false),
    );
    console.log(`store: ${(Deno.statSync(db).size / 1048576).toFixed(1)} MiB`);
  } finally {
    if (!given) Deno.removeSync(dir, { recursive: true });
  }
}

if (Deno.args[0] === "--phase") {
  const [, kind, lib, db, tier, jobs] = Deno.args;
  await phase(kind, lib, db, tier as ChecksumTier, Number(jobs));
} else {
  await main();
}
