// Probe and synthesis throughput per fixture, over in-memory bytes (no
// disk I/O in the loop). Run: npx deno run -A bench/format_bench.ts
// Optional: MUSEFS_BENCH_MS = time per measurement (default 300).

import { ensureFixtures } from "../tests/fixtures/fixtures.ts";
import { inputFromProbe, materialize, probePath, synthesize } from "../src/format/mod.ts";
import { BoundedSource, BufferSource } from "../src/format/source.ts";

const budgetMs = Number(Deno.env.get("MUSEFS_BENCH_MS") ?? "300");

/** Runs `fn` repeatedly for about `budgetMs`; returns µs per call. */
function measure(fn: () => void): number {
  for (let i = 0; i < 20; i++) fn(); // warm up
  let n = 0;
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < budgetMs) {
    for (let i = 0; i < 10; i++) fn();
    n += 10;
    t = performance.now();
  }
  return ((t - t0) * 1000) / n;
}

const rows: string[][] = [];
for (const f of await ensureFixtures()) {
  const bytes = await Deno.readFile(f.path);
  const probe = () => probePath(f.path, new BoundedSource(new BufferSource(bytes)))!;
  let result;
  try {
    result = probe();
  } catch (e) {
    rows.push([f.name, f.format, String(bytes.length), `probe failed: ${(e as Error).message}`]);
    continue;
  }
  const { input, blobs } = inputFromProbe(result, bytes.length);
  const backing = new BufferSource(bytes);
  const probeUs = measure(probe);
  const synthUs = measure(() => synthesize(input, backing, blobs));
  const layout = synthesize(input, backing, blobs);
  const headerBytes = layout.size - input.audioLength;
  const matUs = measure(() => materialize(layout, { backing, blobs }));
  rows.push([
    f.name,
    result.format,
    String(bytes.length),
    String(headerBytes),
    (1e6 / probeUs).toFixed(0),
    probeUs.toFixed(1),
    (1e6 / synthUs).toFixed(0),
    synthUs.toFixed(1),
    matUs.toFixed(1),
  ]);
}

const head = [
  "fixture",
  "format",
  "bytes",
  "hdr+art",
  "probe/s",
  "µs/probe",
  "synth/s",
  "µs/synth",
  "µs/materialize",
];
const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
const line = (r: string[]) =>
  r.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
console.log(line(head));
console.log(widths.map((w) => "-".repeat(w)).join("  "));
for (const r of rows) console.log(line(r));
