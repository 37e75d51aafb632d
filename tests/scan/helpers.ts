// Shared helpers for the scan tests: libraries built from the real fixtures,
// the CLI run as a subprocess (as users run it), and store queries read
// straight from the SQLite file.

import { DatabaseSync } from "node:sqlite";
import { fileURLToPath } from "node:url";
import { ensureFixtures, type Fixture, type FixtureName } from "../fixtures/fixtures.ts";
import { denoRunArgs, musefsCommand } from "../cli/run_musefs.ts";

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
  const conn = new DatabaseSync(db, { readOnly: true });
  try {
    const st = conn.prepare(sql);
    st.setReadBigInts(false);
    return st.all(...params).map((r) => ({ ...r })) as T[];
  } finally {
    conn.close();
  }
}

export function exec(db: string, sql: string): void {
  const conn = new DatabaseSync(db);
  try {
    conn.exec("PRAGMA foreign_keys = ON");
    conn.exec(sql);
  } finally {
    conn.close();
  }
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

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

export function sha256File(path: string): Promise<string> {
  return crypto.subtle.digest("SHA-256", Deno.readFileSync(path)).then((d) =>
    Array.from(new Uint8Array(d), (b) => b.toString(16).padStart(2, "0")).join("")
  );
}
