// Reads and metadata through a real musefs mount against same-run references:
// a direct read of the backing file and bindfs (a C libfuse filesystem) over
// the backing folder. One run, a table of figures, ratios against the targets:
//   synthesis reads ≥ 1.2× bindfs and ≥ 0.4× direct; passthrough ≥ 0.95×
//   direct; stat latency ≤ 0.5× bindfs's.
// Run (as root; needs /dev/fuse, ffmpeg, bindfs): npx deno run -A bench/fuse_bench.ts
// Optional: MUSEFS_BENCH_REPS (read repetitions, median kept; default 3),
// MUSEFS_BENCH_WALK_FILES (default 20000), MUSEFS_BENCH_STATS (default 20000).

import {
  isMounted,
  type Mount,
  mount,
  musefs,
  noFuse,
  q,
  sh,
  shOk,
  sqlWrite,
} from "../tests/e2e/helpers.ts";
import { ensureFixtures } from "../tests/fixtures/fixtures.ts";

const REPS = Number(Deno.env.get("MUSEFS_BENCH_REPS") ?? "3");
const WALK_FILES = Number(Deno.env.get("MUSEFS_BENCH_WALK_FILES") ?? "20000");
const STATS = Number(Deno.env.get("MUSEFS_BENCH_STATS") ?? "20000");
const MIB = 1024 * 1024;

// ---------------------------------------------------------------- mounts

const cleanups: (() => Promise<unknown>)[] = [];

async function musefsMount(db: string, mnt: string, flags: string[]): Promise<Mount> {
  await Deno.mkdir(mnt, { recursive: true });
  const m = await mount(db, mnt, flags);
  cleanups.push(() => m.stop());
  return m;
}

async function bindfsMount(
  src: string,
  mnt: string,
  opts: string[] = [],
): Promise<() => Promise<void>> {
  await Deno.mkdir(mnt, { recursive: true });
  const o = opts.length ? `-o ${q(opts.join(","))}` : "";
  await shOk(`bindfs -r ${o} ${q(src)} ${q(mnt)}`);
  if (!(await isMounted(mnt))) throw new Error(`bindfs did not mount ${mnt}`);
  let done = false;
  const stop = async () => {
    if (done) return;
    done = true;
    if ((await sh(`umount ${q(mnt)}`)).code !== 0) await sh(`umount -l ${q(mnt)}`);
  };
  cleanups.push(stop);
  return stop;
}

// ---------------------------------------------------------------- measurements

async function dropCaches(): Promise<boolean> {
  await sh("sync");
  try {
    await Deno.writeTextFile("/proc/sys/vm/drop_caches", "3");
    return true;
  } catch {
    return false;
  }
}

/** One sequential read of `path` with dd bs=1M; MiB/s as dd measured it. */
async function ddRead(path: string): Promise<number> {
  const r = await sh(`dd if=${q(path)} of=/dev/null bs=1M 2>&1`);
  const m = /^(\d+) bytes .* copied, ([\d.e+-]+) s/m.exec(r.stdout);
  if (r.code !== 0 || !m) throw new Error(`dd ${path} failed: ${r.stdout}${r.stderr}`);
  return Number(m[1]) / MIB / Number(m[2]);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

interface ReadFigures {
  cold: number;
  hotBacking: number;
  repeat: number;
}

/**
 * Sequential read throughput of each path (whose bytes come from `backing`), the
 * targets interleaved round by round so load from other work hits them alike:
 * cold = all caches dropped; hotBacking = caches dropped, then the backing file read
 * once (what the daemon itself achieves); repeat = read again at once (page cache).
 */
async function readFigures(
  paths: readonly string[],
  backing: string,
  canDrop: boolean,
): Promise<ReadFigures[]> {
  const cold = paths.map((): number[] => []);
  const hot = paths.map((): number[] => []);
  const again = paths.map((): number[] => []);
  for (let i = 0; i < REPS; i++) {
    for (const [k, path] of paths.entries()) {
      if (canDrop) {
        await dropCaches();
        cold[k].push(await ddRead(path));
        await dropCaches();
      }
      await ddRead(backing);
      hot[k].push(await ddRead(path));
      again[k].push(await ddRead(path));
    }
  }
  return paths.map((_, k) => ({
    cold: canDrop ? median(cold[k]) : NaN,
    hotBacking: median(hot[k]),
    repeat: median(again[k]),
  }));
}

/** µs per stat(2) of each path: `n` calls each, in 5 interleaved rounds, median round. */
function statLatencies(paths: readonly string[], n: number): number[] {
  const rounds = 5;
  const per = paths.map((): number[] => []);
  for (const p of paths) for (let i = 0; i < 200; i++) Deno.statSync(p);
  for (let r = 0; r < rounds; r++) {
    for (const [k, p] of paths.entries()) {
      const t0 = performance.now();
      for (let i = 0; i < n / rounds; i++) Deno.statSync(p);
      per[k].push(((performance.now() - t0) * 1000) / (n / rounds));
    }
  }
  return per.map(median);
}

/** Wall ms of `find <root> -printf '%s\n'` (an lstat per entry); checks the count. */
async function walk(root: string, expectFiles: number): Promise<number> {
  const t0 = performance.now();
  const out = await shOk(`find ${q(root)} -type f -printf '%s\\n' | wc -l`);
  const ms = performance.now() - t0;
  if (Number(out.trim()) !== expectFiles) {
    throw new Error(`walk of ${root} found ${out.trim()} files, expected ${expectFiles}`);
  }
  return ms;
}

// ---------------------------------------------------------------- the libraries

async function scan(target: string, db: string, flags: string[] = []): Promise<number> {
  const t0 = performance.now();
  const r = await musefs(["scan", target, "--db", db, "--quiet", ...flags]);
  if (r.code !== 0) throw new Error(`scan ${target} failed (${r.code}): ${r.stderr}`);
  return performance.now() - t0;
}

/** A ≥ 512 MiB WAV (3100 s of stereo noise), two directories deep like its mounted path. */
async function makeBigTrack(lib: string): Promise<string> {
  const dir = `${lib}/Artist/Album`;
  await Deno.mkdir(dir, { recursive: true });
  const path = `${dir}/big.wav`;
  await shOk(
    `ffmpeg -v error -y -f lavfi -i anoisesrc=d=3100:r=44100:seed=7 -ac 2 -c:a pcm_s16le ` +
      `-metadata title=big -metadata artist=Artist -metadata album=Album ${q(path)}`,
  );
  const size = (await Deno.stat(path)).size;
  if (size < 512 * MIB) throw new Error(`big track is only ${size} bytes`);
  return path;
}

/**
 * `WALK_FILES` hard links of one small fixture laid out a/b/t (100 × 10 × 20 at the
 * default), scanned, then retagged by SQL so the mounted tree has the same shape.
 */
async function makeWalkLibrary(lib: string, db: string): Promise<number> {
  const small = (await ensureFixtures()).find((f) => f.name === "ogg_vorbis")!;
  await Deno.mkdir(lib, { recursive: true });
  const src = `${lib}/.source.ogg`;
  await Deno.copyFile(small.path, src);
  const perAlbum = 20, perArtist = 10;
  for (let i = 0; i < WALK_FILES; i++) {
    const a = Math.floor(i / (perAlbum * perArtist)), b = Math.floor(i / perAlbum) % perArtist;
    const dir = `${lib}/a${String(a).padStart(3, "0")}/b${b}`;
    if (i % perAlbum === 0) await Deno.mkdir(dir, { recursive: true });
    await Deno.link(src, `${dir}/t${String(i % perAlbum).padStart(2, "0")}.ogg`);
  }
  await Deno.remove(src);
  // --checksum none: identical files share a fingerprint, and move re-identification
  // then stats every earlier duplicate for each new file (quadratic; see the report).
  const ms = await scan(lib, db, ["--checksum", "none"]);
  // Ids are 1..N in walk order only by chance; derive the layout from the id instead.
  await sqlWrite(
    db,
    `UPDATE tags SET value = CASE lower(key)
        WHEN 'albumartist' THEN printf('a%03d', (track_id - 1) / ${perAlbum * perArtist})
        WHEN 'album' THEN printf('b%d', ((track_id - 1) / ${perAlbum}) % ${perArtist})
        ELSE printf('t%02d', (track_id - 1) % ${perAlbum}) END
      WHERE lower(key) IN ('albumartist', 'album', 'title') AND ordinal = 0;`,
  );
  return ms;
}

// ---------------------------------------------------------------- report

const rows: string[][] = [];
function row(...cells: (string | number)[]) {
  rows.push(cells.map((c) => typeof c === "number" ? (Number.isNaN(c) ? "n/a" : c.toFixed(1)) : c));
}

const verdicts: string[] = [];
function ratio(what: string, value: number, target: number | null, higherIsBetter: boolean) {
  const shown = `${what.padEnd(52)} ${value.toFixed(2).padStart(6)}×`;
  if (target === null) {
    verdicts.push(`${shown}  (${higherIsBetter ? "higher" : "lower"} is better; no target)`);
    return;
  }
  const ok = higherIsBetter ? value >= target : value <= target;
  verdicts.push(
    `${shown}  target ${higherIsBetter ? "≥" : "≤"} ` +
      `${target}×  ${Number.isNaN(value) ? "n/a" : ok ? "PASS" : "FAIL"}`,
  );
}

function printTable() {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i]?.length ?? 0)));
  for (const [k, r] of rows.entries()) {
    console.log(r.map((c, i) => i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i])).join("  "));
    if (k === 0) console.log(widths.map((w) => "-".repeat(w)).join("  "));
  }
}

// ---------------------------------------------------------------- main

async function main() {
  const work = await Deno.realPath(await Deno.makeTempDir({ prefix: "musefs-fuse-bench-" }));
  try {
    const canDrop = await dropCaches();
    if (!canDrop) console.log("note: cannot drop page caches here; cold figures omitted");

    // -- one big track
    const bigLib = `${work}/big`;
    const t0 = performance.now();
    const big = await makeBigTrack(bigLib);
    const bigDb = `${work}/big.db`;
    await scan(bigLib, bigDb);
    const size = (await Deno.stat(big)).size;
    console.log(
      `big track: ${(size / MIB).toFixed(0)} MiB WAV, made and scanned in ` +
        `${((performance.now() - t0) / 1000).toFixed(1)} s; reps ${REPS} (median)`,
    );
    const template = ["--template", "$artist/$album/$title"];
    const synthMnt = `${work}/m-synth`, soMnt = `${work}/m-so`, bindMnt = `${work}/m-bind`;
    const synth = await musefsMount(bigDb, synthMnt, [...template, "--expose-metrics"]);
    const synthPath = `${synthMnt}/Artist/Album/big.wav`;
    const structure = await musefsMount(bigDb, soMnt, [...template, "--mode", "structure-only"]);
    if (!/passthrough on/.test(structure.log())) console.log("note: passthrough is NOT active");
    const soPath = `${soMnt}/Artist/Album/big.wav`;
    const stopBind = await bindfsMount(bigLib, bindMnt);
    const bindPath = `${bindMnt}/Artist/Album/big.wav`;
    // The synthesized file is the backing file with a rewritten header: sizes close.
    const synthSize = (await Deno.stat(synthPath)).size;
    if (Math.abs(synthSize - size) > 64 * 1024) throw new Error(`synth size ${synthSize}`);

    const [direct, viaSynth, viaBind, viaSo] = await readFigures(
      [big, synthPath, bindPath, soPath],
      big,
      canDrop,
    );
    rows.push(["sequential read, bs=1M (MiB/s)", "cold", "hot backing", "repeat"]);
    for (
      const [name, f] of [
        ["direct (backing file)", direct],
        ["musefs synthesis", viaSynth],
        ["bindfs -r", viaBind],
        ["musefs structure-only + passthrough", viaSo],
      ] as const
    ) row(name, f.cold, f.hotBacking, f.repeat);
    // How the synthesis mount answered: request count and size, inline or offloaded.
    const metrics = await Deno.readTextFile(`${synthMnt}/.musefs-metrics/metrics`);
    const metric = (name: string) =>
      Number(new RegExp(`^${name} (\\S+)$`, "m").exec(metrics)?.[1] ?? NaN);
    const inline = metric("musefs_reads_inline_total");
    const offloaded = metric("musefs_reads_offloaded_total");
    // Repeat passes are served from the page cache (keep-cache): only cold and hot
    // passes reach the daemon.
    const daemonPasses = REPS * (canDrop ? 2 : 1);
    const readNote = `synthesis mount: ${inline} reads answered inline, ${offloaded} on I/O ` +
      `workers; ≈ ${(daemonPasses * synthSize / (inline + offloaded) / 1024).toFixed(0)} KiB ` +
      `per request over the ${daemonPasses} passes that reach the daemon`;
    await synth.stop();
    await structure.stop();
    await stopBind();

    // -- stat latency: entry and attribute TTL 0 on both, so every stat reaches the daemon
    const statMnt = `${work}/m-stat`, bindStatMnt = `${work}/m-bind-stat`;
    const statMount = await musefsMount(bigDb, statMnt, [...template, "--attr-ttl-ms", "0"]);
    const stopBindStat = await bindfsMount(bigLib, bindStatMnt, [
      "attr_timeout=0",
      "entry_timeout=0",
      "negative_timeout=0",
    ]);
    // The mount roots too: one GETATTR per stat, no LOOKUP — the bare per-request cost.
    const [statDirect, statMusefs, statBind, rootMusefs, rootBind] = statLatencies([
      big,
      `${statMnt}/Artist/Album/big.wav`,
      `${bindStatMnt}/Artist/Album/big.wav`,
      statMnt,
      bindStatMnt,
    ], STATS);
    await statMount.stop();
    await stopBindStat();

    // -- a walk of many small files
    const walkLib = `${work}/walk`, walkDb = `${work}/walk.db`;
    const scanMs = await makeWalkLibrary(walkLib, walkDb);
    const walkMnt = `${work}/m-walk`, bindWalkMnt = `${work}/m-bind-walk`;
    const walkMount = await musefsMount(walkDb, walkMnt, []);
    const stopBindWalk = await bindfsMount(walkLib, bindWalkMnt);
    const walkFirstMusefs = await walk(walkMnt, WALK_FILES);
    const walkFirstBind = await walk(bindWalkMnt, WALK_FILES);
    const again: number[][] = [[], [], []];
    for (let i = 0; i < 3; i++) {
      again[0].push(await walk(walkMnt, WALK_FILES));
      again[1].push(await walk(bindWalkMnt, WALK_FILES));
      again[2].push(await walk(walkLib, WALK_FILES));
    }
    const [walkAgainMusefs, walkAgainBind, walkDirect] = again.map(median);
    await walkMount.stop();
    await stopBindWalk();

    console.log();
    printTable();
    console.log(readNote);
    console.log();
    console.log(`stat(2) of one file, ${STATS} calls, TTL 0 (µs per call)`);
    console.log(
      `  direct ${statDirect.toFixed(2)}   musefs ${statMusefs.toFixed(2)}   ` +
        `bindfs ${statBind.toFixed(2)}`,
    );
    console.log(
      `  mount root (one GETATTR each): musefs ${rootMusefs.toFixed(2)}   ` +
        `bindfs ${rootBind.toFixed(2)}`,
    );
    console.log();
    console.log(
      `find -printf %s over ${WALK_FILES} files in ${WALK_FILES / 200} × 10 dirs ` +
        `(ms; scan of them took ${(scanMs / 1000).toFixed(1)} s)`,
    );
    console.log(
      `  musefs first ${walkFirstMusefs.toFixed(0)}, again ${walkAgainMusefs.toFixed(0)}   ` +
        `bindfs first ${walkFirstBind.toFixed(0)}, again ${walkAgainBind.toFixed(0)}   ` +
        `direct ${walkDirect.toFixed(0)}`,
    );
    console.log();
    console.log("ratios (hot backing = daemon-bound; cold = disk-bound)");
    ratio("synthesis / bindfs, hot backing", viaSynth.hotBacking / viaBind.hotBacking, 1.2, true);
    ratio("synthesis / bindfs, cold", viaSynth.cold / viaBind.cold, 1.2, true);
    ratio("synthesis / direct, hot backing", viaSynth.hotBacking / direct.hotBacking, 0.4, true);
    ratio("synthesis / direct, cold", viaSynth.cold / direct.cold, 0.4, true);
    ratio("passthrough / direct, hot backing", viaSo.hotBacking / direct.hotBacking, 0.95, true);
    ratio("passthrough / direct, cold", viaSo.cold / direct.cold, 0.95, true);
    ratio("stat latency musefs / bindfs", statMusefs / statBind, 0.5, false);
    ratio("walk time musefs / bindfs, first walk", walkFirstMusefs / walkFirstBind, null, false);
    ratio("walk time musefs / bindfs, second walk", walkAgainMusefs / walkAgainBind, null, false);
    for (const v of verdicts) console.log(`  ${v}`);
  } finally {
    for (const c of cleanups.reverse()) await c().catch(() => {});
    await Deno.remove(work, { recursive: true }).catch((e) => console.log(`cleanup: ${e}`));
  }
}

if (import.meta.main) {
  if (noFuse) {
    console.log("fuse bench skipped: needs root and a usable /dev/fuse");
  } else {
    await main();
  }
}
