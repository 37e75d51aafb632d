// A media server's library scan (Jellyfin, Plex, Navidrome, MPD, DLNA) through
// musefs against bindfs -r over the same backing tree: walk the whole tree and
// lstat every file; walk, stat and read the first 64 KiB of every file. Each
// pass runs on a freshly started mount, backing files in the page cache, the
// two filesystems interleaved in one run, with the library on a disk
// filesystem (the work directory's) and on tmpfs. The daemon's RSS comes from
// /proc. Ratios are printed with their goals; each daemon's CPU time during
// a pass is printed too, a steadier figure than wall time on a busy machine.
// Every figure is the median of `--reps` repetitions (default 3; each printed).
//
// Each pass runs twice: "1st" without the store's size index (the first scan
// after the store was built: every size synthesized), then with the index
// that mount wrote (every later scan, across restarts; core/size_index.ts).
//
// The library: `--tracks N` (default 20000) hard links of the real fixture
// files (every format), 50 tracks per artist in 4 albums, laid out
// artist/album/track on disk as the mount shows them. The store is a real
// scan of the 11 originals, then one SQL transaction clones their rows
// (tracks, tags, art links, structural blocks) for every link with distinct
// artist, album and title tags; links share the original's inode, so the
// scanned stamps hold for every clone.
//
// `--cover-kib N`: real-size covers. The fixtures are 7–90 KB with covers of
// 0.3 and 1 KB; real tracks carry covers of 100 KB and more, one per album.
// With N, every original that can hold one gets an N KiB JPEG cover (mutagen;
// not the WAV and FLAC-in-Ogg fixtures), so bindfs reads files as large as
// musefs serves, and the store gives every album a cover of its own of that
// size in place of that one (random bytes: nothing decodes them), so musefs
// reads and slices one image per album as it would in a real library. The
// store then holds albums × N KiB; the tmpfs is sized for it.
// `--album-formats`: each album one format (the original album number mod
// 11), as real albums are, instead of the originals in turn track by track.
//
// Run (as root; needs /dev/fuse, bindfs, sqlite3, /usr/bin/python3):
//   npx deno task bench media-scan            (or: deno run <shipped flags> bench/media_scan_bench.ts)
//   npx deno task bench media-scan -- --tracks 200000 --reps 1
//   … bench/media_scan_bench.ts --tracks 200000 --reps 1
//   npx deno task bench media-scan -- --cover-kib 300 --album-formats
// MUSEFS_BENCH_BASELINE=<checkout>: also mount that checkout's main.ts in every round (e.g. a
// clone of main) and print its figures under each pass: a before/after from one run.
// MUSEFS_BENCH_PROFILE=<dir>: run the musefs daemons with V8's --prof (logs in <dir>;
// summarize with `node --prof-process <dir>/<log>`). Measured figures then mean little.

import { isMounted, noFuse, q, sh, shOk } from "../tests/e2e/helpers.ts";
import { ensureFixtures } from "../tests/fixtures/fixtures.ts";
import { denoRunArgs, MAIN, musefsCommand } from "../tests/cli/run_musefs.ts";
import { DatabaseSync } from "node:sqlite";

const MIB = 1024 * 1024;
const HEADER_BYTES = 64 * 1024;
/** The documented default cache budgets a full pass may grow the daemon by (docs/tuning.md). */
const BUDGET_MIB = 64;

function flag(name: string, fallback: number): number {
  const i = Deno.args.indexOf(name);
  if (i < 0) return fallback;
  const v = Number(Deno.args[i + 1]);
  if (!Number.isInteger(v) || v <= 0) {
    throw new Error(`${name} wants a positive integer, got ${Deno.args[i + 1]}`);
  }
  return v;
}

const TRACKS = flag("--tracks", 20000);
/**
 * `--album-formats`: every album is one format (real albums are), instead of
 * the originals taken in turn track by track; per-album work such as an Ogg
 * cover's checksums is then shared by the album's tracks.
 */
const ALBUM_FORMATS = Deno.args.includes("--album-formats");
/** KiB of the cover given to every album (0: the fixtures' own tiny covers). */
const COVER_KIB = flag("--cover-kib", 0);
/**
 * Repetitions of every pass. Three by default: a median of three is not moved
 * by one repetition the machine slowed (a collection landing badly, another
 * process), which a median of two (their mean) would be by half its excess.
 */
const REPS = flag("--reps", 3);
const PROFILE = Deno.env.get("MUSEFS_BENCH_PROFILE") ?? "";
const PYTHON = "/usr/bin/python3";
/**
 * MUSEFS_BENCH_BASELINE=<checkout>: also run that checkout's main.ts (with this
 * tree's shipped flags) in every round, for a before/after in one run.
 */
const BASELINE = Deno.env.get("MUSEFS_BENCH_BASELINE") ?? "";

// ---------------------------------------------------------------- mounts

interface Daemon {
  pid: number;
  readyMs: number;
  stop(): Promise<void>;
}

const cleanups: (() => Promise<unknown>)[] = [];
const dec = new TextDecoder();

/**
 * `musefs mount` the shipped way (default flags); resolves when the log says
 * mounted. `main`: the entry point (another checkout's, for a same-run baseline).
 */
async function musefsMount(db: string, mnt: string, main = MAIN): Promise<Daemon> {
  await Deno.mkdir(mnt, { recursive: true });
  const deno = Deno.execPath();
  // The metrics file is how the bench reads the refresh timings; the walker skips its directory.
  const argv = denoRunArgs(main, ["mount", mnt, "--db", db, "-v", "--expose-metrics"]);
  const env: Record<string, string> = { NO_COLOR: "1" };
  for (const name of ["PATH", "HOME", "DENO_DIR", "XDG_CACHE_HOME"]) {
    const v = Deno.env.get(name);
    if (v !== undefined) env[name] = v;
  }
  if (PROFILE) env.DENO_V8_FLAGS = `--prof,--logfile=${PROFILE}/musefs-%p.log`;
  const t0 = performance.now();
  const child = new Deno.Command(deno, {
    args: argv,
    env,
    clearEnv: true,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let log = "";
  let readyMs = -1;
  const reader = (async () => {
    for await (const chunk of child.stderr) {
      log += dec.decode(chunk, { stream: true });
      if (readyMs < 0 && log.includes(`musefs mounted at ${mnt}`)) readyMs = performance.now() - t0;
    }
  })();
  while (readyMs < 0) {
    if (performance.now() - t0 > 120_000) break;
    const exited = await Promise.race([
      child.status.then(() => true),
      new Promise<false>((r) => setTimeout(() => r(false), 20)),
    ]);
    if (exited) break;
  }
  let done = false;
  const stop = async () => {
    if (done) return;
    done = true;
    try {
      child.kill("SIGTERM");
    } catch { /* gone */ }
    await child.status;
    await reader;
    if (await isMounted(mnt)) await sh(`umount -l ${q(mnt)}`);
  };
  cleanups.push(stop);
  if (readyMs < 0) {
    await stop();
    throw new Error(`musefs did not mount ${mnt}:\n${log}`);
  }
  return { pid: child.pid, readyMs, stop };
}

/** bindfs -r in the foreground (so its CPU time can be read); stopped by unmounting. */
async function bindfsMount(src: string, mnt: string): Promise<Daemon> {
  await Deno.mkdir(mnt, { recursive: true });
  const t0 = performance.now();
  const child = new Deno.Command("bindfs", {
    args: ["-f", "-r", src, mnt],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  let done = false;
  const stop = async () => {
    if (done) return;
    done = true;
    if ((await sh(`umount ${q(mnt)}`)).code !== 0) await sh(`umount -l ${q(mnt)}`);
    await child.status;
  };
  cleanups.push(stop);
  while (!(await isMounted(mnt))) {
    if (performance.now() - t0 > 10_000) {
      await stop();
      throw new Error(`bindfs did not mount ${mnt}`);
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  return { pid: child.pid, readyMs: performance.now() - t0, stop };
}

const TICK_HZ = 100;

/** User + system CPU seconds of process `pid` so far (all its threads). */
function cpuSeconds(pid: number): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / TICK_HZ;
}

function rssBytes(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  if (!m) throw new Error(`no VmRSS for ${pid}`);
  return Number(m[1]) * 1024;
}

/** How often the editor retags a track while a musefs pass runs. */
const EDIT_MS = 500;

/**
 * A tagger editing the live library while the media server scans: every
 * EDIT_MS, one track (a different one each time) gets a new comment tag, a
 * tag no path uses, so the walk sees the same files. `stop` returns the
 * number of edits committed.
 */
function editWhile(db: string): { stop(): number } {
  const conn = new DatabaseSync(db);
  conn.exec("PRAGMA busy_timeout = 5000");
  const retag = conn.prepare(
    "INSERT INTO tags (track_id, key, value, ordinal) VALUES (?, 'comment', ?, 0) " +
      "ON CONFLICT (track_id, key, ordinal) DO UPDATE SET value = excluded.value",
  );
  const ids = (conn.prepare("SELECT id FROM tracks ORDER BY id").all() as { id: number }[])
    .map((r) => r.id);
  let edits = 0;
  const timer = setInterval(() => {
    const id = ids[(edits * 7919) % ids.length];
    retag.run(id, `edited ${edits} at ${Date.now()}`);
    edits++;
  }, EDIT_MS);
  return {
    stop() {
      clearInterval(timer);
      conn.close();
      return edits;
    },
  };
}

/** A gauge of the mount's metrics file; NaN when absent. */
async function metric(mnt: string, name: string): Promise<number> {
  const text = await Deno.readTextFile(`${mnt}/.musefs-metrics/metrics`);
  const m = new RegExp(`^${name} (\\S+)$`, "m").exec(text);
  return m ? Number(m[1]) : NaN;
}

// ---------------------------------------------------------------- passes

type Pass = "lstat" | "read";
/**
 * The passes in the order run: each kind first without the size index (the
 * first scan after the store was built: every size synthesized), then with
 * the index that mount left (every later scan).
 */
const PASSES: readonly (readonly [Pass, boolean])[] = [
  ["lstat", true],
  ["lstat", false],
  ["read", true],
  ["read", false],
];

const WALKER = `
import os, sys
root, mode, size = sys.argv[1], sys.argv[2], int(sys.argv[3])
files = 0
total = 0
for d, dirs, names in os.walk(root):
    if d == root and ".musefs-metrics" in dirs:
        dirs.remove(".musefs-metrics")
    for n in names:
        p = os.path.join(d, n)
        if mode == "lstat":
            total += os.lstat(p).st_size
        else:
            os.stat(p)
            with open(p, "rb", buffering=0) as f:
                total += len(f.read(size))
        files += 1
print(files, total)
`;

/** Wall ms of one pass over `root`; checks the file count. */
async function pass(root: string, kind: Pass): Promise<{ ms: number; bytes: number }> {
  const t0 = performance.now();
  const out = await new Deno.Command(PYTHON, {
    args: ["-c", WALKER, root, kind, String(HEADER_BYTES)],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const ms = performance.now() - t0;
  if (!out.success) throw new Error(`walk of ${root} failed: ${dec.decode(out.stderr)}`);
  const [files, bytes] = dec.decode(out.stdout).trim().split(" ").map(Number);
  if (files !== TRACKS) throw new Error(`walk of ${root} found ${files} files, not ${TRACKS}`);
  return { ms, bytes };
}

// ---------------------------------------------------------------- the library

/** Puts the JPEG argv[1] (argv[2] pixels square) into each file after it as its front cover. */
const EMBED_COVER = `
import sys, base64
from mutagen.flac import FLAC, Picture
from mutagen.id3 import ID3, APIC
from mutagen.mp4 import MP4, MP4Cover
from mutagen.oggvorbis import OggVorbis
from mutagen.oggopus import OggOpus
cover = open(sys.argv[1], "rb").read()
side = int(sys.argv[2])
def picture():
    p = Picture()
    p.type, p.mime, p.desc, p.data = 3, "image/jpeg", "cover", cover
    p.width, p.height, p.depth = side, side, 24
    return p
for path in sys.argv[3:]:
    ext = path.rsplit(".", 1)[1]
    if ext == "flac":
        f = FLAC(path); f.clear_pictures(); f.add_picture(picture()); f.save()
    elif ext == "mp3":
        f = ID3(path); f.delall("APIC")
        f.add(APIC(encoding=3, mime="image/jpeg", type=3, desc="cover", data=cover))
        f.save(v2_version=f.version[1])
    elif ext in ("m4a", "m4b"):
        f = MP4(path); f["covr"] = [MP4Cover(cover, MP4Cover.FORMAT_JPEG)]; f.save()
    elif ext in ("ogg", "opus"):
        f = (OggVorbis if ext == "ogg" else OggOpus)(path)
        f["metadata_block_picture"] = [base64.b64encode(picture().write()).decode()]
        f.save()
`;

/** Give the originals in `srcDir` a real JPEG cover of about COVER_KIB KiB; its byte length. */
async function embedCovers(srcDir: string, files: string[]): Promise<number> {
  // A noise JPEG at quality 2 takes about 0.73 bytes per pixel.
  const side = Math.round(Math.sqrt((COVER_KIB * 1024) / 0.73));
  const cover = `${srcDir}/.cover.jpg`;
  await shOk(
    `ffmpeg -v error -y -f lavfi -i "nullsrc=s=${side}x${side},geq=lum='random(1)*255':cb=128:cr=128" ` +
      `-frames:v 1 -q:v 2 ${q(cover)}`,
  );
  const bytes = (await Deno.stat(cover)).size;
  const out = await new Deno.Command(PYTHON, {
    args: ["-c", EMBED_COVER, cover, String(side), ...files],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) throw new Error(`embedding covers failed: ${dec.decode(out.stderr)}`);
  await Deno.remove(cover);
  return bytes;
}

const ALBUMS = () => layout(TRACKS - 1).album + 1;

function layout(i: number): { artist: number; album: number } {
  // 50 tracks per artist, 4 albums each (12 or 13 tracks).
  const album = Math.floor((i * 2) / 25);
  return { artist: Math.floor(album / 4), album };
}

const pad = (n: number, w: number) => String(n).padStart(w, "0");

/** Hard links of the originals in `src` laid out under `lib`; returns their source index. */
async function makeLinks(src: string[], lib: string): Promise<void> {
  let lastAlbum = -1;
  for (let i = 0; i < TRACKS; i++) {
    const { artist, album } = layout(i);
    const dir = `${lib}/Artist ${pad(artist, 5)}/Album ${pad(album, 6)}`;
    if (album !== lastAlbum) {
      await Deno.mkdir(dir, { recursive: true });
      lastAlbum = album;
    }
    const from = src[(ALBUM_FORMATS ? album : i) % src.length];
    const ext = from.slice(from.lastIndexOf("."));
    Deno.linkSync(from, `${dir}/Track ${pad(i, 7)}${ext}`);
  }
}

async function sqlite(db: string, sql: string): Promise<string> {
  const p = new Deno.Command("sqlite3", {
    args: ["-bail", db],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const w = p.stdin.getWriter();
  await w.write(new TextEncoder().encode(sql));
  await w.close();
  const out = await p.output();
  if (!out.success) throw new Error(`sqlite3 ${db}: ${dec.decode(out.stderr)}`);
  return dec.decode(out.stdout);
}

/** Scan the originals, then clone their rows for every link (see the file comment). */
async function makeStore(
  srcDir: string,
  lib: string,
  db: string,
  coverBytes: number,
): Promise<void> {
  const [deno, ...argv] = musefsCommand(["scan", srcDir, "--db", db, "--quiet"]);
  const r = await new Deno.Command(deno, { args: argv, stdout: "piped", stderr: "piped" }).output();
  if (!r.success) throw new Error(`scan failed: ${dec.decode(r.stderr)}`);
  const rows = (await sqlite(db, "SELECT id, backing_path FROM tracks ORDER BY backing_path;"))
    .trim().split("\n").map((l) => l.split("|"));
  const srcIds = rows.map(([id]) => Number(id));
  const exts = rows.map(([, p]) => p.slice(p.lastIndexOf(".")));
  const k = srcIds.length;
  const base = 1000;
  // Which original track i links to (as makeLinks chose it).
  const origin = ALBUM_FORMATS ? "((i * 2) / 25)" : "i";
  const sql = `
PRAGMA foreign_keys = ON;
PRAGMA journal_mode = WAL;
BEGIN;
CREATE TEMP TABLE src (k INTEGER PRIMARY KEY, id INTEGER, ext TEXT);
INSERT INTO src VALUES ${srcIds.map((id, j) => `(${j}, ${id}, '${exts[j]}')`).join(",")};
CREATE TEMP TABLE clone AS
  WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ${TRACKS})
  SELECT i, ${base} + i AS id, (i * 2) / 25 AS album, (i * 2) / 25 / 4 AS artist,
         (SELECT id FROM src WHERE k = ${origin} % ${k}) AS src,
         (SELECT ext FROM src WHERE k = ${origin} % ${k}) AS ext
  FROM n;
INSERT INTO tracks (id, backing_path, format, audio_offset, audio_length, backing_size,
    backing_mtime_ns, content_version, updated_at, backing_ctime_ns, fingerprint, content_hash)
  SELECT c.id,
         printf('%s/Artist %05d/Album %06d/Track %07d%s', '${lib}', c.artist, c.album, c.i, c.ext),
         t.format, t.audio_offset, t.audio_length, t.backing_size, t.backing_mtime_ns,
         t.content_version, t.updated_at, t.backing_ctime_ns, t.fingerprint, t.content_hash
  FROM clone c JOIN tracks t ON t.id = c.src ORDER BY c.id;
INSERT INTO tags (track_id, key, value, ordinal, value_blob)
  SELECT c.id, g.key,
         CASE WHEN g.ordinal > 0 THEN g.value
              WHEN lower(g.key) IN ('albumartist', 'artist') THEN printf('Artist %05d', c.artist)
              WHEN lower(g.key) = 'album' THEN printf('Album %06d', c.album)
              WHEN lower(g.key) = 'title' THEN printf('Track %07d', c.i)
              ELSE g.value END,
         g.ordinal, g.value_blob
  FROM clone c JOIN tags g ON g.track_id = c.src ORDER BY c.id;
INSERT INTO track_art (track_id, art_id, picture_type, description, ordinal)
  SELECT c.id, a.art_id, a.picture_type, a.description, a.ordinal
  FROM clone c JOIN track_art a ON a.track_id = c.src ORDER BY c.id;
INSERT INTO structural_blocks (track_id, kind, ordinal, body)
  SELECT c.id, s.kind, s.ordinal, s.body
  FROM clone c JOIN structural_blocks s ON s.track_id = c.src ORDER BY c.id;
${coverBytes > 0 ? albumCovers(coverBytes) : ""}
DELETE FROM tracks WHERE id IN (SELECT id FROM src);
COMMIT;
PRAGMA wal_checkpoint(TRUNCATE);
SELECT count(*) FROM tracks;
`;
  const n = Number((await sqlite(db, sql)).trim().split("\n").at(-1));
  if (n !== TRACKS) throw new Error(`store holds ${n} tracks, expected ${TRACKS}`);
}

/**
 * SQL (inside makeStore's transaction) giving every album a cover of its own,
 * `bytes` long, in place of the one the originals were scanned with: art rows
 * named by album (their SHA-256 column: the album number, zero-padded).
 */
function albumCovers(bytes: number): string {
  return `
CREATE TEMP TABLE scanned_cover AS SELECT id, width, height FROM art WHERE byte_len = ${bytes};
WITH RECURSIVE a(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM a WHERE n + 1 < ${ALBUMS()})
INSERT INTO art (sha256, mime, width, height, byte_len, data)
  SELECT printf('%064d', n), 'image/jpeg', (SELECT width FROM scanned_cover LIMIT 1),
         (SELECT height FROM scanned_cover LIMIT 1), ${bytes}, randomblob(${bytes})
  FROM a ORDER BY n;
UPDATE track_art
  SET art_id = (SELECT id FROM art WHERE sha256 = printf('%064d',
    (SELECT album FROM clone WHERE clone.id = track_art.track_id)))
  WHERE art_id IN (SELECT id FROM scanned_cover);
`;
}

interface Library {
  where: string;
  lib: string;
  db: string;
}

export async function makeLibrary(root: string, where: string): Promise<Library> {
  const fixtures = await ensureFixtures();
  const srcDir = `${root}/src`, lib = `${root}/lib`, db = `${root}/lib.db`;
  await Deno.mkdir(srcDir, { recursive: true });
  const src: string[] = [];
  for (const f of fixtures) {
    const to = `${srcDir}/${f.name}${f.ext}`;
    await Deno.copyFile(f.path, to);
    src.push(to);
  }
  src.sort();
  const coverBytes = COVER_KIB > 0 ? await embedCovers(srcDir, src) : 0;
  const t0 = performance.now();
  // Links first: linking changes the inode's ctime, and the scan must see the final one.
  await makeLinks(src, lib);
  const t1 = performance.now();
  await makeStore(srcDir, lib, db, coverBytes);
  let covered = 0;
  if (coverBytes > 0) {
    // Every link to the scanned cover went to an album's own (named by a zero-padded number).
    const [albums, scanned] = (await sqlite(
      db,
      `SELECT count(DISTINCT ta.art_id), count(*) FILTER (WHERE a.sha256 NOT LIKE '0000000000%') ` +
        `FROM track_art ta JOIN art a ON a.id = ta.art_id WHERE a.byte_len = ${coverBytes};`,
    )).trim().split("|").map(Number);
    if (scanned !== 0 || albums < ALBUMS() / 2) {
      throw new Error(`album covers not linked: ${albums} albums, ${scanned} scanned (${db})`);
    }
    covered = albums;
  }
  console.log(
    `${where}: ${TRACKS} links in ${((t1 - t0) / 1000).toFixed(1)} s, store in ` +
      `${((performance.now() - t1) / 1000).toFixed(1)} s (${root})` +
      (coverBytes > 0 ? `; a ${coverBytes}-byte cover for each of ${covered} albums` : ""),
  );
  return { where, lib, db };
}

// ---------------------------------------------------------------- run

interface Sample {
  musefs: number[];
  bindfs: number[];
  /** Daemon CPU seconds during the pass. */
  musefsCpu: number[];
  bindfsCpu: number[];
  rssMount: number[];
  rssAfter: number[];
  ready: number[];
  /** Refreshes of one edited track during each musefs pass: the longest and their total (ms), how many. */
  refreshMaxMs: number[];
  refreshTotalMs: number[];
  refreshes: number[];
  edits: number[];
  /** The same figures of the MUSEFS_BENCH_BASELINE checkout. */
  base: number[];
  baseCpu: number[];
  baseRss: string[];
}

/** The median (of an even count, the mean of the middle two). */
function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  if (s.length === 0) return NaN;
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/**
 * One pass of each filesystem. `first`: the store's size index is removed
 * before musefs mounts, so every size is synthesized (the first scan after
 * the store was built or rewritten); otherwise the index the previous mount
 * wrote is there (a media server's later scans, after any restart).
 */
async function measure(
  l: Library,
  kind: Pass,
  first: boolean,
  mnt: string,
  s: Sample,
  musefsFirst: boolean,
) {
  const runMusefs = async () => {
    if (first) await Deno.remove(`${l.db}-sizes`).catch(() => {});
    const d = await musefsMount(l.db, `${mnt}/musefs`);
    try {
      await new Promise((r) => setTimeout(r, 200));
      s.ready.push(d.readyMs);
      s.rssMount.push(rssBytes(d.pid));
      const cpu = cpuSeconds(d.pid);
      const editor = editWhile(l.db);
      let ms: number;
      try {
        ms = (await pass(`${mnt}/musefs`, kind)).ms;
      } finally {
        s.edits.push(editor.stop());
      }
      s.musefs.push(ms);
      s.musefsCpu.push(cpuSeconds(d.pid) - cpu);
      s.rssAfter.push(rssBytes(d.pid));
      const m = (name: string) => metric(`${mnt}/musefs`, name);
      s.refreshMaxMs.push(await m("musefs_refresh_max_seconds") * 1000);
      s.refreshTotalMs.push(await m("musefs_refresh_seconds_total") * 1000);
      s.refreshes.push(await m("musefs_refresh_generation"));
    } finally {
      await d.stop();
    }
  };
  const runBindfs = async () => {
    const d = await bindfsMount(l.lib, `${mnt}/bindfs`);
    try {
      const cpu = cpuSeconds(d.pid);
      s.bindfs.push((await pass(`${mnt}/bindfs`, kind)).ms);
      s.bindfsCpu.push(cpuSeconds(d.pid) - cpu);
    } finally {
      await d.stop();
    }
  };
  const runBaseline = async () => {
    if (!BASELINE) return;
    // The baseline may keep a size index too: a first scan starts without one.
    if (first) await Deno.remove(`${l.db}-sizes`).catch(() => {});
    const d = await musefsMount(l.db, `${mnt}/baseline`, `${BASELINE}/main.ts`);
    try {
      await new Promise((r) => setTimeout(r, 200));
      const rss = rssBytes(d.pid);
      const cpu = cpuSeconds(d.pid);
      s.base.push((await pass(`${mnt}/baseline`, kind)).ms);
      s.baseCpu.push(cpuSeconds(d.pid) - cpu);
      s.baseRss.push(`${(rss / MIB).toFixed(0)} → ${(rssBytes(d.pid) / MIB).toFixed(0)}`);
    } finally {
      await d.stop();
    }
  };
  if (musefsFirst) {
    await runMusefs();
    await runBindfs();
    await runBaseline();
  } else {
    await runBaseline();
    await runBindfs();
    await runMusefs();
  }
}

async function main() {
  const disk = await Deno.realPath(await Deno.makeTempDir({ prefix: "musefs-scan-bench-" }));
  const tmpfs = `${disk}/tmpfs`;
  await Deno.mkdir(tmpfs);
  // Room for the tmpfs library's store, albums × the cover, above the 4 GiB the rest needs.
  const coverGiB = Math.ceil((ALBUMS() * COVER_KIB) / (1024 * 1024));
  await shOk(`mount -t tmpfs -o size=${4 + coverGiB}g musefs-bench ${q(tmpfs)}`);
  cleanups.push(() => sh(`umount -l ${q(tmpfs)}`));
  if (PROFILE) await Deno.mkdir(PROFILE, { recursive: true });
  try {
    const diskFs = (await shOk(`findmnt -no FSTYPE -T ${q(disk)}`)).trim();
    const libs = [
      await makeLibrary(`${disk}/disk`, diskFs),
      await makeLibrary(`${tmpfs}/t`, "tmpfs"),
    ];
    // Backing files into the page cache (and a direct figure for reference).
    const direct = new Map<string, number>();
    for (const l of libs) {
      await pass(l.lib, "read");
      direct.set(`${l.where} read`, (await pass(l.lib, "read")).ms);
      direct.set(`${l.where} lstat`, (await pass(l.lib, "lstat")).ms);
    }
    const samples = new Map<string, Sample>();
    for (let rep = 0; rep < REPS; rep++) {
      for (const l of libs) {
        for (const [kind, first] of PASSES) {
          const key = `${l.where} ${kind} ${first ? "first" : "later"}`;
          if (!samples.has(key)) {
            samples.set(key, {
              musefs: [],
              bindfs: [],
              musefsCpu: [],
              bindfsCpu: [],
              rssMount: [],
              rssAfter: [],
              ready: [],
              refreshMaxMs: [],
              refreshTotalMs: [],
              refreshes: [],
              edits: [],
              base: [],
              baseCpu: [],
              baseRss: [],
            });
          }
          await measure(l, kind, first, `${disk}/m`, samples.get(key)!, rep % 2 === 0);
        }
      }
    }
    console.log();
    console.log(
      `${TRACKS} tracks${COVER_KIB > 0 ? ` (a ${COVER_KIB} KiB cover per album)` : ""}` +
        `${ALBUM_FORMATS ? " (one format per album)" : ""}, ` +
        `${REPS} rep(s), each pass on a fresh mount (median ms; RSS of the ` +
        `musefs daemon in MiB)`,
    );
    console.log(
      "pass                                      musefs   bindfs   direct   ratio  goal   " +
        "daemon CPU s (ratio)   RSS mount → after",
    );
    const verdicts: string[] = [];
    let maxMount = 0, maxGrowth = 0;
    const readies: number[] = [];
    const refreshMax: number[] = [];
    let edits = 0, refreshes = 0, refreshMs = 0;
    for (const [key, s] of samples) {
      const [where, kind, when] = key.split(" ");
      const m = median(s.musefs), b = median(s.bindfs);
      const ratio = m / b;
      const name = (kind === "lstat" ? "walk + lstat" : "walk + stat + read 64 KiB") +
        (when === "first" ? ", 1st" : "");
      const rssMount = Math.max(...s.rssMount) / MIB, rssAfter = Math.max(...s.rssAfter) / MIB;
      const growth = Math.max(...s.rssAfter.map((a, i) => a - s.rssMount[i])) / MIB;
      maxMount = Math.max(maxMount, rssMount);
      maxGrowth = Math.max(maxGrowth, growth);
      readies.push(...s.ready);
      const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
      refreshMax.push(...s.refreshMaxMs);
      edits += sum(s.edits);
      refreshes += sum(s.refreshes);
      refreshMs += sum(s.refreshTotalMs);
      console.log(
        `${`${name} (${where})`.padEnd(40)} ${m.toFixed(0).padStart(8)} ${
          b.toFixed(0).padStart(8)
        } ${direct.get(`${where} ${kind}`)!.toFixed(0).padStart(8)} ${
          ratio.toFixed(2).padStart(6)
        }× ≤1.0×  ` +
          `${median(s.musefsCpu).toFixed(2).padStart(6)} ${
            median(s.bindfsCpu).toFixed(2).padStart(5)
          } ` +
          `(${(median(s.musefsCpu) / median(s.bindfsCpu)).toFixed(1).padStart(4)}×)   ` +
          `${rssMount.toFixed(0)} → ${rssAfter.toFixed(0)}`,
      );
      if (BASELINE) {
        console.log(
          `${"  baseline".padEnd(40)} ${median(s.base).toFixed(0).padStart(8)} ${"".padStart(17)} ${
            (median(s.base) / b).toFixed(2).padStart(6)
          }×        ` +
            `${median(s.baseCpu).toFixed(2).padStart(6)}${"".padStart(15)}${s.baseRss.join(", ")}`,
        );
      }
      verdicts.push(
        `${`${name} (${where}) musefs / bindfs`.padEnd(60)} ${ratio.toFixed(2).padStart(6)}×  ` +
          `goal ≤ 1.0×  ${ratio <= 1 ? "PASS" : "FAIL"}`,
      );
    }
    const perTrack = (maxGrowth * MIB / TRACKS / 1024).toFixed(2);
    verdicts.push(
      `${"RSS growth during a pass (MiB)".padEnd(60)} ${maxGrowth.toFixed(0).padStart(6)}   ` +
        `goal ≤ ${BUDGET_MIB}  ${
          maxGrowth <= BUDGET_MIB ? "PASS" : "FAIL"
        }  (${perTrack} KiB/track)`,
    );
    verdicts.push(
      `${"RSS after mount (MiB)".padEnd(60)} ${maxMount.toFixed(0).padStart(6)}   ` +
        `goal ≤ 400  ${maxMount <= 400 ? "PASS" : "FAIL"}`,
    );
    const ready = median(readies);
    verdicts.push(
      `${"mount ready (ms, median)".padEnd(60)} ${ready.toFixed(0).padStart(6)}   ` +
        `goal ≤ 2500  ${ready <= 2500 ? "PASS" : "FAIL"}`,
    );
    // The mean is the refresh's own cost; the longest also holds any
    // garbage collection that ran during it.
    const mean = refreshMs / refreshes;
    verdicts.push(
      `${`refresh of one edited track during a pass (ms, mean of ${refreshes})`.padEnd(60)} ` +
        `${mean.toFixed(2).padStart(6)}   goal ≤ 1  ${mean <= 1 ? "PASS" : "FAIL"}  ` +
        `(longest ${Math.max(...refreshMax).toFixed(2)} ms; ${edits} edits)`,
    );
    if (REPS > 1) {
      console.log("\neach repetition, in the order run (ms): musefs | bindfs");
      for (const [key, s] of samples) {
        const ms = (xs: number[]) => xs.map((x) => x.toFixed(0).padStart(6)).join("");
        console.log(`  ${key.padEnd(24)}${ms(s.musefs)}  |${ms(s.bindfs)}`);
      }
    }
    console.log();
    for (const v of verdicts) console.log(`  ${v}`);
    if (PROFILE) console.log(`\nV8 profiles in ${PROFILE} (node --prof-process <log>)`);
  } finally {
    for (const c of cleanups.reverse()) await c().catch(() => {});
    await Deno.remove(disk, { recursive: true }).catch((e) => console.log(`cleanup: ${e}`));
  }
}

if (import.meta.main) {
  if (noFuse) {
    console.log("media scan bench skipped: needs root and a usable /dev/fuse");
  } else {
    await main();
  }
}
