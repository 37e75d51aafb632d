// Runs main.ts in a child Deno, the way users run the binary, with a clean
// environment (no MUSEFS_* leaking in from the test runner).

import { fileURLToPath } from "node:url";

export const MAIN = fileURLToPath(new URL("../../main.ts", import.meta.url));

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
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
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
