// Resident memory of a real mount, against the figures docs/tuning.md states
// ("## Memory"): the mount of an empty store, and per track of a library of
// MUSEFS_BENCH_TRACKS tracks (default 20000) when the mount is ready, after a
// metadata walk (`find`: a lookup and getattr of every entry) and after reading
// every file to the end. Prints measured and documented figures side by side
// with their ratio; a ratio outside 0.75–1.33 means the page needs the new
// figures (copy them from this output).
//
// The library is hard links of the real-audio fixtures (all formats, in turn)
// with distinct titles set by SQL, laid out 100 artists × 10 albums × 20 tracks.
// Run (as root; needs /dev/fuse): npx deno task bench memory

import { musefs, noFuse, q, shOk, sqlWrite, withMount } from "../tests/e2e/helpers.ts";
import { ensureFixtures } from "../tests/fixtures/fixtures.ts";
import { LIBRARY_DEFAULTS } from "../src/core/defaults.ts";

const TRACKS = Number(Deno.env.get("MUSEFS_BENCH_TRACKS") ?? "20000");
const MIB = 1024 * 1024;
const PER_ALBUM = 20, PER_ARTIST = 10;

/** VmRSS of a process, in bytes. */
function rssOf(pid: number): number {
  const m = /^VmRSS:\s*(\d+)\s*kB/m.exec(Deno.readTextFileSync(`/proc/${pid}/status`));
  if (!m) throw new Error(`no VmRSS for ${pid}`);
  return Number(m[1]) * 1024;
}

/** A metric's value from the mount's metrics file. */
async function metric(mnt: string, name: string): Promise<number> {
  const text = await Deno.readTextFile(`${mnt}/.musefs-metrics/metrics`);
  return Number(new RegExp(`^${name} (\\S+)$`, "m").exec(text)?.[1] ?? NaN);
}

/** Let the mount settle (background refresh, GC) before reading its RSS. */
const settle = () => new Promise((r) => setTimeout(r, 2000));

async function makeLibrary(lib: string, db: string, tracks: number): Promise<void> {
  const fixtures = await ensureFixtures();
  await Deno.mkdir(`${lib}/.src`, { recursive: true });
  const sources = [];
  for (const f of fixtures) {
    const src = `${lib}/.src/${f.name}${f.ext}`;
    await Deno.copyFile(f.path, src);
    sources.push({ src, ext: f.ext });
  }
  for (let i = 0; i < tracks; i++) {
    const dir = `${lib}/d${String(Math.floor(i / 1000)).padStart(3, "0")}`;
    if (i % 1000 === 0) await Deno.mkdir(dir);
    const s = sources[i % sources.length];
    await Deno.link(s.src, `${dir}/${String(i).padStart(6, "0")}${s.ext}`);
  }
  await Deno.remove(`${lib}/.src`, { recursive: true });
  // --checksum none: identical files share a fingerprint, and move detection would
  // compare each new file with every earlier duplicate.
  const r = await musefs(["scan", lib, "--db", db, "--quiet", "--checksum", "none"]);
  if (r.code !== 0) throw new Error(`scan failed (${r.code}): ${r.stderr}`);
  await sqlWrite(
    db,
    `UPDATE tags SET value = CASE lower(key)
        WHEN 'albumartist' THEN printf('Artist %03d', (track_id - 1) / ${PER_ALBUM * PER_ARTIST})
        WHEN 'album' THEN printf('Album %d', ((track_id - 1) / ${PER_ALBUM}) % ${PER_ARTIST})
        ELSE printf('Track %06d', track_id) END
      WHERE lower(key) IN ('albumartist', 'album', 'title') AND ordinal = 0;`,
  );
}

interface Figures {
  ready: number;
  walked: number;
  read: number;
  headerBytes: number;
}

/** RSS of a mount of `db` (`tracks` files) when ready, after a `find`, after reading it all. */
async function measure(db: string, mnt: string, tracks: number): Promise<Figures> {
  await Deno.mkdir(mnt, { recursive: true });
  return await withMount(db, mnt, ["--expose-metrics"], async (m) => {
    await settle();
    const ready = rssOf(m.child.pid);
    const files = Number((await shOk(`find ${q(mnt)} -type f | wc -l`)).trim());
    if (files !== tracks + 1) throw new Error(`walk found ${files} files, expected ${tracks + 1}`);
    await settle();
    const walked = rssOf(m.child.pid);
    await shOk(`find ${q(mnt)} -type f ! -path '*/.musefs-metrics/*' -exec cat {} + > /dev/null`);
    await settle();
    const read = rssOf(m.child.pid);
    const headerBytes = await metric(mnt, "musefs_cache_header_bytes");
    // Built on open, or ahead on the synthesis worker and taken in.
    const served = await metric(mnt, "musefs_cache_header_misses_total") +
      await metric(mnt, "musefs_synth_ahead_adopted_total");
    if (!(served >= tracks)) throw new Error(`only ${served} headers built for ${tracks} files`);
    return { ready, walked, read, headerBytes };
  });
}

/** The rows of docs/tuning.md's memory table: base and per-track figures by label. */
export const MEMORY_ROWS = [
  ["mount ready", "ready"],
  ["after a metadata walk (`find`)", "walked"],
  ["after reading every file", "read"],
] as const;

/** Rows "| label | N MiB | N KiB |" of docs/tuning.md: base and per-track figures. */
export function documented(): Map<string, { base: number; perTrack: number }> {
  const page = Deno.readTextFileSync(new URL("../docs/tuning.md", import.meta.url));
  const out = new Map<string, { base: number; perTrack: number }>();
  for (const m of page.matchAll(/^\| ([^|]+?) +\| +([\d.]+) MiB +\| +([\d.]+) KiB +\|/gm)) {
    out.set(m[1].trim(), { base: Number(m[2]) * MIB, perTrack: Number(m[3]) * 1024 });
  }
  return out;
}

const fmtRatio = (r: number) => Number.isNaN(r) ? " n/a" : r.toFixed(2);

async function main() {
  if (noFuse) {
    console.log("memory bench skipped: needs root and /dev/fuse");
    return;
  }
  const work = await Deno.realPath(await Deno.makeTempDir({ prefix: "musefs-memory-bench-" }));
  try {
    // Two sizes: the difference is the cost per track, the rest is the base.
    const small = Math.round(TRACKS / 10);
    const t0 = performance.now();
    await makeLibrary(`${work}/small`, `${work}/small.db`, small);
    await makeLibrary(`${work}/big`, `${work}/big.db`, TRACKS);
    console.log(
      `${small} and ${TRACKS} tracks made and scanned in ` +
        `${((performance.now() - t0) / 1000).toFixed(0)} s`,
    );
    const a = await measure(`${work}/small.db`, `${work}/mnt`, small);
    const b = await measure(`${work}/big.db`, `${work}/mnt`, TRACKS);
    const doc = documented();
    console.log(
      `\nresident memory (VmRSS)        measured: base   per track | documented: base   per track` +
        ` | ratios`,
    );
    let off = 0;
    for (
      const [label, key] of MEMORY_ROWS
    ) {
      const perTrack = (b[key] - a[key]) / (TRACKS - small);
      const base = a[key] - perTrack * small;
      const want = doc.get(label);
      const rBase = want ? base / want.base : NaN, rTrack = want ? perTrack / want.perTrack : NaN;
      for (const r of [rBase, rTrack]) if (!(r >= 0.75 && r <= 1.33)) off++;
      console.log(
        `${label.padEnd(31)} ${(base / MIB).toFixed(0).padStart(9)} MiB ` +
          `${(perTrack / 1024).toFixed(1).padStart(7)} KiB | ` +
          (want
            ? `${(want.base / MIB).toFixed(0).padStart(10)} MiB ${
              (want.perTrack / 1024).toFixed(1).padStart(7)
            } KiB`
            : "(not in docs/tuning.md)".padStart(30)) +
          ` | ${fmtRatio(rBase)} ${fmtRatio(rTrack)}`,
      );
    }
    console.log(
      `\nheader cache after reading ${TRACKS} files: ${(b.headerBytes / MIB).toFixed(1)} MiB ` +
        `(${(b.headerBytes / TRACKS).toFixed(0)} bytes per track; budget ` +
        `${LIBRARY_DEFAULTS.headerCacheBytes / 1024 / 1024} MiB by default)`,
    );
    console.log(
      off === 0
        ? "docs/tuning.md matches the measurement (every ratio within 0.75–1.33)"
        : `docs/tuning.md is off for ${off} figure(s): put the measured ones in its memory table`,
    );
  } finally {
    await shOk(`rm -rf ${q(work)}`);
  }
}

if (import.meta.main) await main();
