// Shared helpers for the scan tests: libraries built from the real fixtures,
// the CLI run as a subprocess (as users run it), and store queries read
// straight from the SQLite file.

import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { fileURLToPath } from "node:url";
import { ensureFixtures, type Fixture, type FixtureName } from "../fixtures/fixtures.ts";
import { denoRunArgs, musefsCommand } from "../cli/run_musefs.ts";
import { closing } from "../scratch.ts";

export const MAIN = fileURLToPath(new URL("../../main.ts", import.meta.url));
/** main.ts with fault-injecting probe Workers, for runs given MUSEFS_TEST_PROBE_* variables. */
export const HOOKED_MAIN = fileURLToPath(new URL("./hooked_main.ts", import.meta.url));

export interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

const decoder = new TextDecoder();

export interface RunOptions {
  env?: Record<string, string>;
  /** Run as another user through setpriv (e.g. "nobody"). */
  asUser?: string;
}

function baseEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of ["PATH", "HOME", "DENO_DIR", "XDG_CACHE_HOME"]) {
    const value = Deno.env.get(name);
    if (value !== undefined) env[name] = value;
  }
  return env;
}

function command(args: string[], options: RunOptions): Deno.Command {
  const hooked = Object.keys(options.env ?? {}).some((k) => k.startsWith("MUSEFS_TEST_"));
  const argv = hooked ? [Deno.execPath(), ...denoRunArgs(HOOKED_MAIN, args)] : musefsCommand(args);
  const [cmd, cmdArgs] = options.asUser
    ? [
      "setpriv",
      [
        `--reuid=${options.asUser}`,
        `--regid=${options.asUser === "nobody" ? "nogroup" : options.asUser}`,
        "--clear-groups",
        ...argv,
      ],
    ]
    : [argv[0], argv.slice(1)];
  return new Deno.Command(cmd, {
    args: cmdArgs,
    env: { ...baseEnv(), NO_COLOR: "1", ...options.env },
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  });
}

/** `musefs <args>` to completion. */
export async function musefs(args: string[], options: RunOptions = {}): Promise<Ran> {
  const out = await command(args, options).output();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

/** `musefs <args>` started; the caller reads, signals and awaits it. */
export function spawnMusefs(args: string[], options: RunOptions = {}): Deno.ChildProcess {
  return command(args, options).spawn();
}

/** A child's stderr read as text as it comes: `until(re)` waits for a match, `rest()` for the end. */
export class StderrText {
  text = "";
  readonly #reader: ReadableStreamDefaultReader<string>;

  constructor(child: Deno.ChildProcess) {
    this.#reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  }

  /** Read until `re` matches what was read so far (or the stream ends); the text so far. */
  async until(re: RegExp): Promise<string> {
    while (!re.test(this.text)) {
      const { value, done } = await this.#reader.read();
      if (done) break;
      this.text += value;
    }
    return this.text;
  }

  /** Read to the end of the stream; the whole text. */
  async rest(): Promise<string> {
    for (;;) {
      const { value, done } = await this.#reader.read();
      if (done) return this.text;
      this.text += value;
    }
  }
}

/** Copy the named fixtures (all when omitted) into `dir` under their fixture file names. */
export async function copyFixtures(dir: string, names?: FixtureName[]): Promise<Fixture[]> {
  const all = await ensureFixtures();
  const chosen = names ? all.filter((f) => names.includes(f.name)) : all;
  await Deno.mkdir(dir, { recursive: true });
  for (const f of chosen) await Deno.copyFile(f.path, `${dir}/${f.name}${f.ext}`);
  return chosen;
}

export function makeTemp(prefix = "musefs-scan-test-"): string {
  return Deno.realPathSync(Deno.makeTempDirSync({ prefix }));
}

/** Run `sql` against the store file and return its rows (integers as bigint-safe numbers). */
export function query<T = Record<string, unknown>>(
  db: string,
  sql: string,
  ...params: (string | number | bigint | null | Uint8Array)[]
): T[] {
  using conn = closing(new DatabaseSync(db, { readOnly: true }));
  const st = conn.prepare(sql);
  st.setReadBigInts(false);
  return st.all(...params).map((r) => ({ ...r })) as T[];
}

export function exec(db: string, sql: string): void {
  using conn = closing(new DatabaseSync(db));
  conn.exec("PRAGMA foreign_keys = ON");
  conn.exec(sql);
}

export function count(db: string, table: string, where = "1"): number {
  return query<{ n: number }>(db, `SELECT count(*) AS n FROM ${table} WHERE ${where}`)[0].n;
}

/** The summary line for `target` on stdout, parsed. */
export function scannedLine(
  stdout: string,
  target: string,
): { files: number; present: number; skipped: number; failed: number } {
  const re = new RegExp(
    `^scanned ${escape(target)}: (\\d+) file\\(s\\), (\\d+) already present, ` +
      `skipped (\\d+), failed (\\d+) in \\d+ \\w+$`,
    "m",
  );
  const m = stdout.match(re);
  if (!m) throw new Error(`no scan summary for ${target} in:\n${stdout}`);
  return { files: +m[1], present: +m[2], skipped: +m[3], failed: +m[4] };
}

export function revalidatedLine(
  stdout: string,
  target: string,
): { updated: number; unchanged: number; pruned: number; failed: number } {
  const re = new RegExp(
    `^revalidated ${escape(target)}: (\\d+) updated, (\\d+) unchanged, (\\d+) pruned, ` +
      `(\\d+) failed in \\d+ \\w+$`,
    "m",
  );
  const m = stdout.match(re);
  if (!m) throw new Error(`no revalidate summary for ${target} in:\n${stdout}`);
  return { updated: +m[1], unchanged: +m[2], pruned: +m[3], failed: +m[4] };
}

/** Require exit `code` (default 0) and this `scanned <target>:` summary on stdout. */
export function assertScanned(
  r: Ran,
  target: string,
  want: ReturnType<typeof scannedLine>,
  code = 0,
): void {
  assert.equal(r.code, code, r.stderr);
  assert.deepEqual(scannedLine(r.stdout, target), want);
}

/** Require exit `code` (default 0) and this `revalidated <target>:` summary on stdout. */
export function assertRevalidated(
  r: Ran,
  target: string,
  want: ReturnType<typeof revalidatedLine>,
  code = 0,
): void {
  assert.equal(r.code, code, r.stderr);
  assert.deepEqual(revalidatedLine(r.stdout, target), want);
}

/** Run a Python snippet with the system python3 (bytes paths: names that are not UTF-8). */
export async function python(script: string, ...args: string[]): Promise<Deno.CommandOutput> {
  return await new Deno.Command("/usr/bin/python3", { args: ["-c", script, ...args] }).output();
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

export function sha256File(path: string): Promise<string> {
  return crypto.subtle.digest("SHA-256", Deno.readFileSync(path)).then((d) =>
    Array.from(new Uint8Array(d), (b) => b.toString(16).padStart(2, "0")).join("")
  );
}
