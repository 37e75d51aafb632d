// Runs main.ts in a child Deno, the way users run the binary, with a clean
// environment (no MUSEFS_* leaking in from the test runner). Every test or
// benchmark that starts a musefs process builds its argv here, from the
// shipped Deno flags (src/cli/deno_flags.ts), so what is tested is what ships.

import { fileURLToPath } from "node:url";
import { DENO_FLAGS } from "../../src/cli/deno_flags.ts";
import denoJson from "../../deno.json" with { type: "json" };

export const MAIN = fileURLToPath(new URL("../../main.ts", import.meta.url));

/** `run <shipped flags> <script> <args>`: Deno's arguments for running musefs code as a process. */
export function denoRunArgs(script: string, args: readonly string[] = []): string[] {
  return ["run", ...DENO_FLAGS, script, ...args];
}

/** The Deno flags of a deno.json task: the words between the subcommand and `script`. */
export function taskDenoFlags(task: keyof typeof denoJson.tasks, script: string): string[] {
  const words = denoJson.tasks[task].split(/\s+/);
  const sub = words.findIndex((w) => w === "run" || w === "test");
  const end = words.indexOf(script, sub);
  if (sub < 0 || end < 0) {
    throw new Error(`task ${task} does not run ${script}: ${denoJson.tasks[task]}`);
  }
  return words.slice(sub + 1, end);
}

/** The whole argv of `musefs <args>` run the shipped way: the Deno binary first. */
export function musefsCommand(args: readonly string[]): string[] {
  return [Deno.execPath(), ...denoRunArgs(MAIN, args)];
}

export interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

const decoder = new TextDecoder();

/** Run `musefs <args>` with only `env` (plus PATH/HOME/DENO_DIR) in the environment. */
export async function musefs(args: string[], env: Record<string, string> = {}): Promise<Ran> {
  const base: Record<string, string> = {};
  for (const name of ["PATH", "HOME", "DENO_DIR", "XDG_CACHE_HOME"]) {
    const value = Deno.env.get(name);
    if (value !== undefined) base[name] = value;
  }
  const [deno, ...argv] = musefsCommand(args);
  const out = await new Deno.Command(deno, {
    args: argv,
    env: { ...base, NO_COLOR: "1", ...env },
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

/** Run many invocations, at most `limit` at a time (the machine has 2 cores). */
export async function musefsAll(
  runs: ReadonlyArray<{ args: string[]; env?: Record<string, string> }>,
  limit = 3,
): Promise<Ran[]> {
  const results: Ran[] = new Array(runs.length);
  let next = 0;
  const worker = async () => {
    while (next < runs.length) {
      const i = next++;
      results[i] = await musefs(runs[i].args, runs[i].env);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, runs.length) }, worker));
  return results;
}

/** `MUSEFS_PRINT_OPTIONS=1 musefs <args>`: the resolved invocation as an object. */
export async function resolved(
  args: string[],
  env: Record<string, string> = {},
): Promise<Record<string, unknown> & { options: Record<string, unknown> }> {
  const r = await musefs(args, { ...env, MUSEFS_PRINT_OPTIONS: "1" });
  if (r.code !== 0) {
    throw new Error(`musefs ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
  }
  return JSON.parse(r.stdout);
}
