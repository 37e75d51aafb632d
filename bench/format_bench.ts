// Probe and synthesis throughput per fixture, over in-memory bytes (no
// disk I/O in the loop). Run: npx deno run -A bench/format_bench.ts
// Optional: MUSEFS_BENCH_MS = time per measurement (default 300).

import { ensureFixtures } from "../tests/fixtures/fixtures.ts";
import { inputFromProbe, materialize, probePath, synthesize } from "../src/format/mod.ts";
import { BoundedSource, BufferSource } from "../src/format/source.ts";
import { readOggAudio } from "../src/format/ogg/audio.ts";
import { mulberry32 } from "../tests/format/mutate.ts";
import { syntheticStream, walkPages } from "../tests/format/ogg_util.ts";

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

// Ogg audio pages served with renumbered sequence numbers, read front to back
// in 128 KiB requests (as the kernel's read-ahead asks), against a plain copy
// of the same bytes; a clean stream, and one with junk between every 50 pages
// (the bytes decoders skip, served as they are).
{
  const rand = mulberry32(1);
  const clean = syntheticStream(
    Array.from({ length: 2000 }, () => 3000 + Math.floor(rand() * 2000)),
    rand,
  );
  const parts: Uint8Array[] = [];
  const pages = walkPages(clean);
  for (let i = 0; i < pages.length; i += 50) {
    const last = pages[Math.min(pages.length, i + 50) - 1];
    parts.push(clean.subarray(pages[i].offset, last.offset + last.size), new Uint8Array(333));
  }
  const junky = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((o, p) => (junky.set(p, o), o + p.length), 0);
  console.log("\nogg audio, 128 KiB sequential reads (MB/s; cost = renumbered time / copy time)");
  for (const [name, file] of [["clean", clean], ["junk every 50 pages", junky]] as const) {
    const seg = { offset: 0, length: file.length, seqDelta: 7 };
    const each = (read: (src: BufferSource, from: number, n: number) => void) => () => {
      const src = new BufferSource(file);
      for (let from = 0; from < file.length; from += 131072) {
        read(src, from, Math.min(131072, file.length - from));
      }
    };
    const copy = measure(each((src, from, n) => new Uint8Array(n).set(src.read(from, n))));
    const renumbered = measure(each((src, from, n) => readOggAudio(src, seg, from, n)));
    const mbs = (us: number) => (file.length / us).toFixed(0);
    console.log(
      `  ${name.padEnd(20)} copy ${mbs(copy)}  renumbered ${mbs(renumbered)}  cost ${
        (renumbered / copy).toFixed(2)
      }×`,
    );
  }
}
