// Shared helpers for the end-to-end tests: a scanned copy of the fixtures,
// `musefs mount` run the way a user runs it (main.ts in a child Deno), the
// store read independently through node:sqlite, and an external SQL writer
// (the sqlite3 CLI). Every mount is torn down in `finally`, with a lazy
// unmount as the last resort, so a failing test leaves nothing mounted.

import { DatabaseSync } from "node:sqlite";
import { fileURLToPath } from "node:url";
import { ensureFixtures, type Fixture } from "../fixtures/fixtures.ts";
import {
  assertCleanStop,
  fuseUnavailable,
  metric,
  metricOrNull,
  type RunResult,
  sh,
  shOk,
} from "../fuse/helpers.ts";
import { musefsCommand } from "../cli/run_musefs.ts";
import { closing } from "../scratch.ts";

export const REPO = fileURLToPath(new URL("../../", import.meta.url));
const dec = new TextDecoder();

// ---------------------------------------------------------------- skipping

const skipReason = fuseUnavailable();
if (skipReason) console.warn(`SKIPPING end-to-end mount tests: ${skipReason}`);
/** `ignore` flag for Deno.test. */
export const noFuse = skipReason !== null;

// ---------------------------------------------------------------- processes

/** What a child process printed and how it ended. */
export type Ran = RunResult;
export { assertCleanStop, metric, metricOrNull, sh, shOk };

/** Quote for sh. */
export function q(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

function cleanEnv(): Record<string, string> {
  const env: Record<string, string> = { NO_COLOR: "1" };
  for (const name of ["PATH", "HOME", "DENO_DIR", "XDG_CACHE_HOME"]) {
    const v = Deno.env.get(name);
    if (v !== undefined) env[name] = v;
  }
  return env;
}

/** `musefs <args>` as shipped, cwd = repo root, no MUSEFS_* from the runner. */
function musefsProcess(args: string[]): Deno.Command {
  const [deno, ...argv] = musefsCommand(args);
  return new Deno.Command(deno, {
    args: argv,
    cwd: REPO,
    env: cleanEnv(),
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  });
}

/** `musefs <args>` to completion (cwd = repo root, no MUSEFS_* from the runner). */
export async function musefs(args: string[]): Promise<Ran> {
  const out = await musefsProcess(args).output();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/**
 * `musefs <args>` that must exit by itself within `ms` (a hang usually means it mounted):
 * its run, or "timeout" once it has been killed.
 */
export async function musefsWithin(args: string[], ms = 20_000): Promise<Ran | "timeout"> {
  const child = musefsProcess(args).spawn();
  const output = child.output();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<"timeout">((r) => timer = setTimeout(() => r("timeout"), ms));
  const first = await Promise.race([output, timeout]);
  clearTimeout(timer);
  if (first === "timeout") {
    try {
      child.kill("SIGKILL");
    } catch { /* exited meanwhile */ }
    await output.catch(() => {});
    return "timeout";
  }
  return { code: first.code, stdout: dec.decode(first.stdout), stderr: dec.decode(first.stderr) };
}

// ---------------------------------------------------------------- library

/** A scanned copy of every fixture: `lib/<fixture>.<ext>` indexed in `db`. */
export interface Library {
  base: string;
  lib: string;
  db: string;
  /** Fixture by backing path (as stored: canonical absolute). */
  fixtures: Map<string, Fixture>;
}

/** Copy the fixtures into a fresh temp dir and scan them with the real CLI. */
export async function makeLibrary(prefix = "musefs-e2e-"): Promise<Library> {
  const base = await Deno.realPath(await Deno.makeTempDir({ prefix }));
  const lib = `${base}/lib`;
  await Deno.mkdir(lib);
  await Deno.mkdir(`${base}/mnt`);
  const fixtures = new Map<string, Fixture>();
  for (const f of await ensureFixtures()) {
    const path = `${lib}/${f.name}${f.ext}`;
    await Deno.copyFile(f.path, path);
    fixtures.set(path, f);
  }
  const db = `${base}/lib.db`;
  const r = await musefs(["scan", lib, "--db", db, "--quiet"]);
  if (r.code !== 0) throw new Error(`scan failed (${r.code}): ${r.stderr}`);
  return { base, lib, db, fixtures };
}

/** makeLibrary, removed when the scope ends: `await using lib = await scannedLibrary()`. */
export async function scannedLibrary(prefix?: string): Promise<Library & AsyncDisposable> {
  return owned(await makeLibrary(prefix));
}

/** `lib`, removed (after detaching anything still mounted under it) when the scope ends. */
export function owned<T extends Library>(lib: T): T & AsyncDisposable {
  return Object.assign(lib, { [Symbol.asyncDispose]: () => removeLibrary(lib) });
}

/** Remove a library's temp dir (after making sure nothing is mounted under it). */
export async function removeLibrary(l: Library): Promise<void> {
  for (const mp of await mountsUnder(l.base)) await lazyUnmount(mp);
  await Deno.remove(l.base, { recursive: true }).catch(() => {});
}

// ---------------------------------------------------------------- the store, read independently

export interface TrackRow {
  id: number;
  backing_path: string;
  format: string;
  content_version: number;
}

export interface ArtRow {
  sha256: string;
  mime: string;
  picture_type: number;
  description: string;
}

/** Read-only queries against the store (a fresh connection each call: sees external writes). */
export function query<T>(db: string, sql: string, ...params: (string | number)[]): T[] {
  using conn = closing(new DatabaseSync(db, { readOnly: true }));
  return conn.prepare(sql).all(...params) as T[];
}

export function tracks(db: string): TrackRow[] {
  return query<TrackRow>(
    db,
    "SELECT id, backing_path, format, content_version FROM tracks ORDER BY id",
  );
}

/** Text tag values of one track per lowercased key, in ordinal order. */
export function textTags(db: string, trackId: number): Map<string, string[]> {
  const rows = query<{ key: string; value: string }>(
    db,
    "SELECT key, value FROM tags WHERE track_id = ? AND value_blob IS NULL ORDER BY key, ordinal",
    trackId,
  );
  const out = new Map<string, string[]>();
  for (const r of rows) {
    const k = r.key.toLowerCase();
    out.set(k, [...(out.get(k) ?? []), r.value]);
  }
  return out;
}

export function artRows(db: string, trackId: number): ArtRow[] {
  return query<ArtRow>(
    db,
    `SELECT a.sha256, a.mime, ta.picture_type, ta.description
       FROM track_art ta JOIN art a ON a.id = ta.art_id
      WHERE ta.track_id = ? ORDER BY ta.ordinal`,
    trackId,
  );
}

/**
 * An external writer: the sqlite3 CLI, set up as the store contract asks of other
 * programs (busy timeout, foreign keys on, so deleting a track cascades).
 */
export async function sqlWrite(db: string, sql: string): Promise<void> {
  const setup = ["-cmd", ".timeout 5000", "-cmd", "PRAGMA foreign_keys = ON"].map(q).join(" ");
  await shOk(`sqlite3 -bail ${setup} ${q(db)} ${q(sql)}`);
}

// ---------------------------------------------------------------- expected names

/** The template-rendered stem of a track under the default template, as the test expects it. */
export function stemOf(db: string): (t: TrackRow) => string {
  return (t: TrackRow) =>
    ["albumartist", "album", "title"].map((k) =>
      sanitize(textTags(db, t.id).get(k)?.[0] || "Unknown")
    ).join("/");
}

/** Mounted path of each track id (default template). */
export function pathsById(lib: Library, mnt: string): Map<number, string> {
  const files = expectedFiles(tracks(lib.db), stemOf(lib.db));
  return new Map([...files].map(([rel, id]) => [id, `${mnt}/${rel}`]));
}

/** Served extension by stored format. */
export function servedExt(format: string, backingPath: string): string {
  const ext: Record<string, string> = {
    flac: "flac",
    mp3: "mp3",
    m4a: backingPath.toLowerCase().endsWith(".m4b") ? "m4b" : "m4a",
    opus: "opus",
    vorbis: "ogg",
    oggflac: "oga",
    wav: "wav",
  };
  return ext[format];
}

/** A plain template value as a path component: `/` and control characters become `_`. */
export function sanitize(value: string): string {
  // deno-lint-ignore no-control-regex
  return value.replace(/[\x00-\x1f/]/g, "_");
}

/**
 * The files a mount must show, given each track's rendered path without extension
 * (`render` returns null to drop a track): colliding names ranked by ascending id, the
 * first bare and later ones with ` (k)` before the extension. Returns path → track id.
 */
export function expectedFiles(
  rows: TrackRow[],
  render: (t: TrackRow) => string,
): Map<string, number> {
  const out = new Map<string, number>();
  const seen = new Map<string, number>();
  for (const t of [...rows].sort((a, b) => a.id - b.id)) {
    const stem = render(t);
    const ext = servedExt(t.format, t.backing_path);
    const key = `${stem}.${ext}`;
    const n = (seen.get(key) ?? 0) + 1;
    seen.set(key, n);
    out.set(n === 1 ? key : `${stem} (${n}).${ext}`, t.id);
  }
  return out;
}

/** Every regular file under `root`, relative, sorted (skips the metrics directory). */
export async function listFiles(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string, rel: string) => {
    for await (const e of Deno.readDir(dir)) {
      if (rel === "" && e.name === ".musefs-metrics") continue;
      const r = rel === "" ? e.name : `${rel}/${e.name}`;
      if (e.isDirectory) await walk(`${dir}/${e.name}`, r);
      else out.push(r);
    }
  };
  await walk(root, "");
  return out.sort();
}

// ---------------------------------------------------------------- mounts

/** Mount points (from /proc/self/mountinfo) at or under `prefix`. */
export async function mountsUnder(prefix: string): Promise<string[]> {
  const text = await Deno.readTextFile("/proc/self/mountinfo");
  return text.split("\n").map((l) => l.split(" ")[4]).filter((p) =>
    p !== undefined && (p === prefix || p.startsWith(`${prefix}/`))
  ).map((p) => p.replace(/\\(\d{3})/g, (_, o) => String.fromCharCode(parseInt(o, 8))));
}

export async function isMounted(path: string): Promise<boolean> {
  return (await mountsUnder(path)).includes(path);
}

async function lazyUnmount(path: string): Promise<void> {
  await sh(`umount -l ${q(path)}`);
}

/** A running `musefs mount`; disposing it stops it (see `stop`). */
export interface Mount extends AsyncDisposable {
  mountpoint: string;
  child: Deno.ChildProcess;
  /** stderr so far (the -v log). */
  log(): string;
  /** SIGTERM, wait for exit (SIGKILL after 15 s, then a lazy unmount); returns the exit code and output. */
  stop(): Promise<Ran>;
}

/** Collect a stream into `sink.text`, calling `onText` after each chunk. */
async function collect(
  stream: ReadableStream<Uint8Array>,
  sink: { text: string },
  onText: () => void,
): Promise<void> {
  for await (const chunk of stream) {
    sink.text += dec.decode(chunk, { stream: true });
    onText();
  }
}

/**
 * `musefs mount <mountpoint> --db <db> -v <flags>`; resolves once the mount log line
 * appears and the kernel lists the mount. Throws (after cleaning up) when the process
 * exits first or nothing happens within 30 s.
 */
export async function mount(db: string, mountpoint: string, flags: string[] = []): Promise<Mount> {
  const child = musefsProcess(["mount", mountpoint, "--db", db, "-v", ...flags]).spawn();
  const out = { text: "" };
  const err = { text: "" };
  let onReady!: () => void;
  const ready = new Promise<"ready">((r) => onReady = () => r("ready"));
  const check = () => {
    if (err.text.includes(`musefs mounted at ${mountpoint}`)) onReady();
  };
  const done = Promise.all([
    collect(child.stdout, out, () => {}),
    collect(child.stderr, err, check),
  ]);
  let status: Deno.CommandStatus | null = null;
  const exited = child.status.then((s) => (status = s, "exited" as const));
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<"timeout">((r) => timer = setTimeout(() => r("timeout"), 30_000));
  const first = await Promise.race([ready, exited, timeout]);
  clearTimeout(timer);
  let stopped: Promise<Ran> | null = null;
  const stop = (): Promise<Ran> =>
    stopped ??= (async () => {
      if (status === null) {
        try {
          child.kill("SIGTERM");
        } catch { /* already gone */ }
      }
      let killTimer: ReturnType<typeof setTimeout> | undefined;
      const gone = await Promise.race([
        child.status,
        new Promise<null>((r) => killTimer = setTimeout(() => r(null), 15_000)),
      ]);
      clearTimeout(killTimer);
      if (gone === null) child.kill("SIGKILL");
      const s = await child.status;
      await done;
      if (await isMounted(mountpoint)) await lazyUnmount(mountpoint);
      return { code: s.code, stdout: out.text, stderr: err.text };
    })();
  const handle: Mount = {
    mountpoint,
    child,
    log: () => err.text,
    stop,
    [Symbol.asyncDispose]: async () => {
      await stop();
    },
  };
  if (first !== "ready") {
    const r = await stop();
    throw new Error(`musefs mount did not become ready (${first}, exit ${r.code}):\n${r.stderr}`);
  }
  // The log line follows the INIT reply; the kernel lists the mount by then.
  if (!(await isMounted(mountpoint))) {
    await stop();
    throw new Error(`logged as mounted but ${mountpoint} is not in mountinfo`);
  }
  return handle;
}

/** Mount, run `body`, and always stop the mount (and detach it if the process did not). */
export async function withMount<T>(
  db: string,
  mountpoint: string,
  flags: string[],
  body: (m: Mount) => Promise<T>,
): Promise<T> {
  const m = await mount(db, mountpoint, flags);
  try {
    return await body(m);
  } finally {
    const r = await m.stop();
    if (r.code !== 0) console.warn(`musefs exited ${r.code}:\n${r.stderr}`);
  }
}

/** Poll `probe` until it returns true or `ms` pass; returns whether it did. */
export async function eventually(probe: () => Promise<boolean>, ms = 5000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await probe()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return await probe();
}

/** Read a whole file and report the errno name on failure (e.g. "EIO"). */
export async function readOrErrno(path: string): Promise<Uint8Array | string> {
  try {
    return await Deno.readFile(path);
  } catch (e) {
    return (e as { code?: string }).code ?? (e as Error).name;
  }
}
