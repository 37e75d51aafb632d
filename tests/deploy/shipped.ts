// The CLI as it ships, for the deployment tests: the Deno command line with
// the shipped flag list (src/cli/deno_flags.ts), and a `musefs` executable
// wrapping it, which fuse3's mount helper finds on its PATH.

import { fileURLToPath } from "node:url";
import { DENO_FLAGS } from "../../src/cli/deno_flags.ts";

export const MAIN = fileURLToPath(new URL("../../main.ts", import.meta.url));

/** `deno run <shipped flags> main.ts` as argv. */
export function shippedArgv(args: readonly string[]): string[] {
  return [Deno.execPath(), "run", ...DENO_FLAGS, MAIN, ...args];
}

/** Quote for sh. */
export function q(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

/**
 * Write an executable `musefs` into `dir` that runs the shipped command line
 * (the stand-in for /usr/local/bin/musefs). mount(8) clears PATH for its
 * helpers, so the wrapper names everything absolutely and keeps DENO_DIR.
 */
export async function writeWrapper(dir: string): Promise<string> {
  const path = `${dir}/musefs`;
  const denoDir = Deno.env.get("DENO_DIR");
  const lines = [
    "#!/bin/sh",
    ...(denoDir ? [`export DENO_DIR=${q(denoDir)}`] : []),
    `exec ${shippedArgv([]).map(q).join(" ")} "$@"`,
  ];
  await Deno.writeTextFile(path, lines.join("\n") + "\n", { mode: 0o755 });
  return path;
}
