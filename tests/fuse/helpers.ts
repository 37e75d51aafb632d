// Shared helpers for the FUSE tests: start a real mount in a subprocess,
// run shell commands against it, and skip cleanly where FUSE is unusable.

import assert from "node:assert/strict";
import * as libc from "../../ffi/libc.ts";
import { denoRunArgs } from "../cli/run_musefs.ts";

export const SERVE_MAIN = new URL("./serve_main.ts", import.meta.url).pathname;
const dec = new TextDecoder();

/** Why real-mount tests cannot run here, or null when they can. */
export function fuseUnavailable(): string | null {
  if (libc.geteuid() !== 0) return "not root (these tests mount with mount(2))";
  try {
    const fd = libc.open("/dev/fuse", libc.O_RDWR | libc.O_CLOEXEC);
    libc.close(fd);
  } catch (e) {
    return `/dev/fuse is unusable: ${(e as Error).message}`;
  }
  return null;
}

const skipReason = fuseUnavailable();
if (skipReason) console.warn(`SKIPPING real-mount FUSE tests: ${skipReason}`);
/** `ignore` flag for Deno.test. */
export const noFuse = skipReason !== null;

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** An unlabelled sample's value in a Prometheus text exposition, or null when it is absent. */
export function metricOrNull(text: string, name: string): number | null {
  const line = text.split("\n").find((l) => l.startsWith(`${name} `));
  return line === undefined ? null : Number(line.slice(name.length + 1));
}

/** An unlabelled sample's value in a Prometheus text exposition (asserted present). */
export function metric(text: string, name: string): number {
  const value = metricOrNull(text, name);
  assert.ok(value !== null, `metric ${name} missing in:\n${text}`);
  return value;
}

/** Run a shell command (in a separate process: never blocks our event loop). */
export async function sh(script: string): Promise<RunResult> {
  const out = await new Deno.Command("sh", {
    args: ["-c", script],
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** Run and require success. */
export async function shOk(script: string): Promise<string> {
  const r = await sh(script);
  if (r.code !== 0) throw new Error(`\`${script}\` failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

/** A running mount; disposing it stops it (see `stop`) and lazily detaches a mount left behind. */
export interface MountHandle extends AsyncDisposable {
  mountpoint: string;
  source: string;
  ready: Record<string, unknown>;
  child: Deno.ChildProcess;
  /** stderr collected so far. */
  stderr(): string;
  /** Wait for exit; returns code and stdout. */
  wait(): Promise<{ code: number; stdout: string; stderr: string }>;
  /** SIGTERM and wait (the server unmounts); SIGKILL if it has not exited in 15 s. */
  stop(): Promise<{ code: number; stdout: string; stderr: string }>;
}

/** Stop a mount and require a clean exit (run last in a test; disposal stops it on failure). */
export async function assertCleanStop(m: { stop(): Promise<RunResult> }): Promise<RunResult> {
  const r = await m.stop();
  assert.equal(r.code, 0, r.stderr);
  return r;
}

async function collect(
  stream: ReadableStream<Uint8Array>,
  sink: { text: string },
  onLine?: (l: string) => void,
) {
  let pending = "";
  for await (const chunk of stream) {
    const s = dec.decode(chunk, { stream: true });
    sink.text += s;
    pending += s;
    let i;
    while ((i = pending.indexOf("\n")) >= 0) {
      onLine?.(pending.slice(0, i));
      pending = pending.slice(i + 1);
    }
  }
}

/** A temp dir pair (source, mountpoint); disposing it detaches a leftover mount and removes both. */
export interface TempDirs extends AsyncDisposable {
  base: string;
  source: string;
  mountpoint: string;
}

/** Make a temp dir pair: `await using dirs = await tempDirs()`. */
export async function tempDirs(): Promise<TempDirs> {
  const base = await Deno.makeTempDir({ prefix: "musefs-fuse-" });
  await Deno.mkdir(`${base}/src`);
  await Deno.mkdir(`${base}/mnt`);
  return {
    base,
    source: `${base}/src`,
    mountpoint: `${base}/mnt`,
    [Symbol.asyncDispose]: () => cleanup(base),
  };
}

/** Start serve_main.ts on `mountpoint` and wait until INIT was answered. */
export async function startMount(
  source: string,
  mountpoint: string,
  options: Record<string, unknown> = {},
): Promise<MountHandle> {
  const child = new Deno.Command(Deno.execPath(), {
    args: denoRunArgs(SERVE_MAIN, [mountpoint, source, JSON.stringify(options)]),
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const out = { text: "" };
  const err = { text: "" };
  let resolveReady: (v: Record<string, unknown>) => void;
  const ready = new Promise<Record<string, unknown>>((r) => resolveReady = r);
  const outDone = collect(child.stdout, out, (l) => {
    if (l.startsWith("READY ")) resolveReady(JSON.parse(l.slice(6)));
  });
  const errDone = collect(child.stderr, err);
  const status = child.status;
  const exited = status.then((s) => ({ exited: s.code }));
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<{ timeout: true }>((r) =>
    timer = setTimeout(() => r({ timeout: true }), 30_000)
  );
  const first = await Promise.race([ready, exited, timeout]);
  clearTimeout(timer);
  const wait = async () => {
    const s = await status;
    await Promise.all([outDone, errDone]);
    return { code: s.code, stdout: out.text, stderr: err.text };
  };
  if ("exited" in first || "timeout" in first) {
    if ("timeout" in first) child.kill("SIGKILL");
    const r = await wait();
    throw new Error(`mount did not become ready: ${JSON.stringify(first)}\n${r.stderr}`);
  }
  let stopped: Promise<{ code: number; stdout: string; stderr: string }> | null = null;
  const stop = () =>
    stopped ??= (async () => {
      try {
        child.kill("SIGTERM");
      } catch { /* already gone */ }
      let killTimer: ReturnType<typeof setTimeout> | undefined;
      const gone = await Promise.race([
        status,
        new Promise<null>((r) => killTimer = setTimeout(() => r(null), 15_000)),
      ]);
      clearTimeout(killTimer);
      if (gone === null) {
        try {
          child.kill("SIGKILL");
        } catch { /* already gone */ }
      }
      return await wait();
    })();
  return {
    mountpoint,
    source,
    ready: first as Record<string, unknown>,
    child,
    stderr: () => err.text,
    wait,
    stop,
    [Symbol.asyncDispose]: async () => {
      await stop();
      await detach(mountpoint);
    },
  };
}

/** True when `path` is a mount point (per /proc/self/mountinfo). */
export async function isMounted(path: string): Promise<boolean> {
  const text = await Deno.readTextFile("/proc/self/mountinfo");
  return text.split("\n").some((l) => l.split(" ")[4] === path);
}

/** Lazily detach `path` if it is still a mount point (a test's last-resort cleanup). */
async function detach(path: string): Promise<void> {
  if (await isMounted(path)) {
    try {
      libc.umount2(path, libc.MNT_DETACH);
    } catch { /* raced with the server's own unmount */ }
  }
}

/** Best-effort cleanup of a test's directories (detaching any leftover mount). */
export async function cleanup(base: string): Promise<void> {
  await detach(`${base}/mnt`);
  await Deno.remove(base, { recursive: true }).catch(() => {});
}
