// Library core benchmarks: tree build time and bytes per track, refresh
// latency for 1 and 100 changed tracks, at 20k and 200k generated tracks
// (store rows only, no audio), and reads/s of the reader on cached layouts
// (a real fixture). Prints each figure next to its target.
//
// Run: npx deno run -A --v8-flags=--expose-gc bench/core_bench.ts
// Options: --sizes=20000,200000  --refresh-rounds=9

import { openLibrary } from "../src/core/library.ts";
import { openStore, type Store } from "../src/store/mod.ts";
import { ensureFixtures } from "../tests/fixtures/fixtures.ts";
import { ingestFile } from "../tests/core/ingest.ts";

const args = new Map(
  Deno.args.filter((a) => a.startsWith("--")).map((a) => {
    const [k, v] = a.slice(2).split("=");
    return [k, v ?? "true"] as const;
  }),
);
const SIZES = (args.get("sizes") ?? "20000,200000").split(",").map(Number);
const ROUNDS = Number(args.get("refresh-rounds") ?? "9");

const gc = (globalThis as { gc?: () => void }).gc;
function heapUsed(): number {
  if (gc) {
    gc();
    gc();
  }
  return Deno.memoryUsage().heapUsed;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Fill a store with `n` tracks and their tags, triggers off for speed (recreated identically). */
function generate(store: Store, n: number): void {
  const triggers = store.all<{ name: string; sql: string }>(
    "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' ORDER BY name",
  );
  for (const t of triggers) store.exec(`DROP TRIGGER ${t.name}`);
  store.transaction(() => {
    for (let i = 1; i <= n; i++) {
      store.run(
        `INSERT INTO tracks (id, backing_path, format, audio_offset, audio_length, backing_size,
           backing_mtime_ns, backing_ctime_ns, content_version, updated_at)
         VALUES (?, ?, 'flac', 4096, 30000000, 30004096, ?, ?, 0, 1700000000)`,
        i,
        `/music/library/artist${Math.floor(i / 120)}/album${Math.floor(i / 12)}/track${i}.flac`,
        1_700_000_000_000_000_000n + BigInt(i),
        1_700_000_000_000_000_000n + BigInt(i),
      );
      // About 12 tracks per album, 10 albums per artist.
      const artist = `Artist Number ${Math.floor(i / 120)}`;
      const tags: [string, string][] = [
        ["albumartist", artist],
        ["artist", artist],
        ["album", `Album ${Math.floor(i / 12)} of ${artist}`],
        ["title", `Track title ${i}`],
        ["tracknumber", String(i % 12 + 1)],
        ["date", "2021"],
      ];
      for (const [k, v] of tags) {
        store.run("INSERT INTO tags (track_id, key, value, ordinal) VALUES (?, ?, ?, 0)", i, k, v);
      }
    }
  });
  for (const t of triggers) store.exec(t.sql);
}

interface Row {
  what: string;
  figure: string;
  target: string;
  ok: boolean | null;
}
const rows: Row[] = [];
const fmt = (x: number, d = 2) => x.toFixed(d);

for (const n of SIZES) {
  const dir = Deno.makeTempDirSync({ prefix: "musefs-core-bench-" });
  const db = `${dir}/lib.db`;
  const writer = openStore(db, { mode: "rw", create: true });
  const g0 = performance.now();
  generate(writer, n);
  const genMs = performance.now() - g0;

  const before = heapUsed();
  const t0 = performance.now();
  const lib = openLibrary(db, { pollIntervalMs: 0 });
  const buildMs = performance.now() - t0;
  const perTrack = (heapUsed() - before) / n;
  const label = `${n / 1000}k`;
  rows.push({
    what: `tree build ${label} (open: load + render + build)`,
    figure: `${fmt(buildMs, 0)} ms (store generated in ${fmt(genMs / 1000, 1)} s)`,
    target: n >= 200_000 ? "≤ 3000 ms" : "—",
    ok: n >= 200_000 ? buildMs <= 3000 : null,
  });
  rows.push({
    what: `heap per track ${label} (tree + inodes + refresh state)`,
    figure: gc ? `${fmt(perTrack, 0)} B` : "n/a (run with --v8-flags=--expose-gc)",
    target: "≤ 1536 B",
    ok: gc ? perTrack <= 1536 : null,
  });

  for (const changed of [1, 100]) {
    const times: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      writer.transaction(() => {
        for (let k = 0; k < changed; k++) {
          const id = 1 + ((r * 7919 + k * 104_729) % n);
          writer.run(
            "UPDATE tags SET value = ? WHERE track_id = ? AND key = 'title'",
            `Retitled ${r}-${k}`,
            id,
          );
        }
      });
      const s = performance.now();
      const report = lib.poll();
      times.push(performance.now() - s);
      if (report === null) throw new Error("refresh saw no change");
    }
    const target = changed === 1 ? (n >= 200_000 ? 5 : 1) : null;
    const ms = median(times);
    rows.push({
      what: `refresh, ${changed} retitled track${changed > 1 ? "s" : ""}, ${label}`,
      figure: `${fmt(ms, 3)} ms (median of ${ROUNDS})`,
      target: target === null ? "— (upstream 4–6 ms at 20k)" : `≤ ${target} ms`,
      ok: target === null ? null : ms <= target,
    });
  }
  if (lib.refresher.fullRebuilds !== 0) throw new Error("bench refreshes fell back to rebuilds");
  lib.close();
  writer.close();
  Deno.removeSync(dir, { recursive: true });
}

// Reader throughput on cached layouts (real FLAC fixture with art).
{
  const fixtures = await ensureFixtures();
  const dir = Deno.makeTempDirSync({ prefix: "musefs-core-bench-read-" });
  const db = `${dir}/lib.db`;
  const writer = openStore(db, { mode: "rw", create: true });
  const flac = fixtures.find((f) => f.name === "flac")!;
  const path = `${dir}/a.flac`;
  Deno.copyFileSync(flac.path, path);
  const id = ingestFile(writer, path);
  const lib = openLibrary(db, { pollIntervalMs: 0 });
  const ino = lib.tree.inodeOfTrack(id)!;
  const size = lib.getattr(ino).size;
  const { fh } = lib.open(ino, 0);
  const measure = (offsetOf: (i: number) => number, len: number) => {
    for (let i = 0; i < 200; i++) lib.read(fh, ino, offsetOf(i), len);
    const t = performance.now();
    let n = 0;
    while (performance.now() - t < 400) {
      for (let k = 0; k < 100; k++) lib.read(fh, ino, offsetOf(n + k), len);
      n += 100;
    }
    return n / ((performance.now() - t) / 1000);
  };
  const headerRps = measure(() => 0, 4096);
  const attrT = performance.now();
  let attrs = 0;
  while (performance.now() - attrT < 300) {
    for (let k = 0; k < 100; k++) lib.getattr(ino);
    attrs += 100;
  }
  const attrRps = attrs / ((performance.now() - attrT) / 1000);
  const audioRps = measure((i) => (size / 2 + (i % 8) * 4096) | 0, 4096);
  rows.push({
    what: "reader: 4 KiB reads of the header (inline + art, snapshot)",
    figure: `${fmt(headerRps / 1000, 1)} k reads/s`,
    target: "—",
    ok: null,
  });
  rows.push({
    what: "reader: 4 KiB reads of audio (read-ahead window hits)",
    figure: `${fmt(audioRps / 1000, 1)} k reads/s`,
    target: "—",
    ok: null,
  });
  rows.push({
    what: "getattr of a file (size-cache hit: row read + backing stat)",
    figure: `${fmt(attrRps / 1000, 1)} k calls/s`,
    target: "—",
    ok: null,
  });
  lib.release(fh);
  lib.close();
  writer.close();
  Deno.removeSync(dir, { recursive: true });
}

const w0 = Math.max(...rows.map((r) => r.what.length));
const w1 = Math.max(...rows.map((r) => r.figure.length));
console.log(`${"measure".padEnd(w0)}  ${"figure".padEnd(w1)}  target`);
for (const r of rows) {
  const verdict = r.ok === null ? "" : r.ok ? "  ok" : "  MISSED";
  console.log(`${r.what.padEnd(w0)}  ${r.figure.padEnd(w1)}  ${r.target}${verdict}`);
}
