// Backgrounding for the mount(8) form: mount(8) waits for its helper, so
// `musefs STORE MOUNTPOINT -o …` starts a copy of itself that mounts and
// serves, waits until that copy says the mount answers, and exits 0 — or
// exits with the copy's status and error when mounting fails. It never waits
// forever: after READY_TIMEOUT_MS the copy is stopped and the reason printed.
//
// Handshake: the copy's stdout is a pipe to this process. Once INIT is
// answered the copy writes READY_LINE there and points its stdin, stdout and
// stderr at /dev/null (a daemon must not keep its starter's pipes or
// terminal). Everything it logs before that reaches the user through this
// process's stderr.

import { fileURLToPath } from "node:url";
import * as libc from "../../ffi/libc.ts";
import { DENO_FLAGS } from "./deno_flags.ts";
import type { Io } from "./io.ts";

/** Set in the environment of the background copy. */
export const DAEMON_ENV = "_MUSEFS_DAEMON_CHILD";
export const READY_LINE = "musefs:ready";
/** A 200k-track store builds its view in seconds; a minute more covers a slow disk. */
export const READY_TIMEOUT_MS = 90_000;

/** The program and arguments that run this musefs again with `args`: the binary, or deno + flags + main.ts. */
export function selfCommand(args: readonly string[]): { program: string; args: string[] } {
  if (Deno.build.standalone) return { program: Deno.execPath(), args: [...args] };
  return {
    program: Deno.execPath(),
    args: ["run", ...DENO_FLAGS, fileURLToPath(Deno.mainModule), ...args],
  };
}

/**
 * Run `musefs <args>` in the background and wait for its mount to be ready.
 * Resolves to this process's exit code.
 */
export async function runInBackground(
  args: readonly string[],
  io: Io,
  options: {
    timeoutMs?: number;
    /** What to start instead of this program (tests of the handshake). */
    command?: { program: string; args: string[] };
  } = {},
): Promise<number> {
  const timeoutMs = options.timeoutMs ?? READY_TIMEOUT_MS;
  const env = Deno.env.toObject();
  // The copy is not the process a service manager started.
  delete env.NOTIFY_SOCKET;
  env[DAEMON_ENV] = "1";
  const self = options.command ?? selfCommand(args);
  const child = new Deno.Command(self.program, {
    args: self.args,
    env,
    clearEnv: true,
    cwd: "/",
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    detached: true,
  }).spawn();

  const dec = new TextDecoder();
  let stderrText = "";
  // The copy's log lines, passed on to our stderr as they come.
  const forward = (async () => {
    let partial = "";
    for await (const chunk of child.stderr) {
      const text = partial + dec.decode(chunk, { stream: true });
      stderrText += text.slice(partial.length);
      const lines = text.split("\n");
      partial = lines.pop()!;
      for (const line of lines) io.err(line);
    }
    if (partial !== "") io.err(partial);
  })();
  const ready = (async () => {
    let out = "";
    for await (const chunk of child.stdout) {
      out += dec.decode(chunk, { stream: true });
      if (out.includes(`${READY_LINE}\n`)) return "ready" as const;
    }
    return "closed" as const;
  })();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<"timeout">((r) => timer = setTimeout(() => r("timeout"), timeoutMs));
  const first = await Promise.race([ready, child.status.then(() => "exited" as const), timeout]);
  clearTimeout(timer);
  if (first === "ready") {
    // The copy lets go of its stderr right after saying ready: pass on what it logged before.
    await Promise.race([forward, new Promise((r) => setTimeout(r, 2000))]);
    child.unref();
    return 0;
  }
  if (first === "timeout") {
    try {
      child.kill("SIGTERM");
    } catch { /* gone meanwhile */ }
    io.err(
      `musefs: the mount did not become ready within ${timeoutMs / 1000} s; stopped it. ` +
        "Run `musefs mount` with the same options in the foreground (-v) to see where it stops",
    );
    // SIGTERM unmounts first; a copy stuck in a system call gets SIGKILL after 5 s.
    const killTimer = setTimeout(() => {
      try {
        child.kill("SIGKILL");
      } catch { /* gone */ }
    }, 5000);
    await child.status;
    clearTimeout(killTimer);
    return 1;
  }
  const status = await child.status;
  await forward;
  if (status.code !== 0) return status.code;
  // Exited 0 without saying ready: it never mounted (e.g. unmounted at once).
  if (!stderrText.includes("musefs:")) io.err("musefs: the mount ended before it was ready");
  return 1;
}

/**
 * In the background copy, once the mount answers: tell the starter, then
 * let go of its pipes (stdin, stdout and stderr become /dev/null).
 */
export function reportReadyAndDetach(): void {
  Deno.stdout.writeSync(new TextEncoder().encode(`${READY_LINE}\n`));
  const fd = libc.open("/dev/null", libc.O_RDWR | libc.O_CLOEXEC);
  for (const target of [0, 1, 2]) libc.dup2(fd, target);
  libc.close(fd);
}
