// The CLI as it ships, for the deployment tests: the shipped command line
// (tests/cli/run_musefs.ts) wrapped in a `musefs` executable, which fuse3's
// mount helper finds on its PATH.

import { musefsCommand } from "../cli/run_musefs.ts";

/** `deno run <shipped flags> main.ts <args>` as argv, the Deno binary first. */
export const shippedArgv = musefsCommand;

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
