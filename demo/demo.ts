// `npx deno task demo [MOUNTPOINT]`: musefs on the bundled sample library
// (demo/library, see demo/README.md). Scans it into a temporary store, mounts
// it (at MOUNTPOINT, or a temporary folder), prints the tree and the tags of
// one served file as our own format probe reads them, serves until Ctrl-C,
// then unmounts and removes what it created. Where it cannot mount (no
// /dev/fuse, or not root and no fusermount3) it prints the dry run and what
// to install instead.
//
// musefs runs the way users run it: a child Deno with the shipped flags
// (src/cli/deno_flags.ts), never -A. `--exit-after-listing` (or the
// environment variable DEMO_EXIT_AFTER_LISTING=1) unmounts right after the
// listing, for scripts and the README test.

import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { DENO_FLAGS } from "../src/cli/deno_flags.ts";
import { probePath } from "../src/format/mod.ts";
import type { ByteSource } from "../src/format/types.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const LIBRARY = join(ROOT, "demo", "library");
const MAIN = join(ROOT, "main.ts");
/** A layout that shows the re-organisation: the files themselves sit flat, badly named. */
const TEMPLATE = "$albumartist/[$date - ]$album/${tracknumber:02} $title";
const MOUNT_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 5_000;

const dec = new TextDecoder();

function musefsCommand(args: string[], piped = false): Deno.Command {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", ...DENO_FLAGS, MAIN, ...args],
    stdin: "null",
    stdout: piped ? "piped" : "inherit",
    stderr: piped ? "piped" : "inherit",
  });
}

/** Runs a musefs command to completion, its output shown indented; throws on failure. */
async function musefs(args: string[]): Promise<void> {
  console.log(`$ musefs ${args.map(quote).join(" ")}`);
  const out = await musefsCommand(args, true).output();
  const text = (dec.decode(out.stdout) + dec.decode(out.stderr)).trimEnd();
  if (text) console.log(indent(text));
  if (out.code !== 0) throw new Error(`musefs ${args[0]} exited with ${out.code}`);
}

const quote = (s: string) => /^[\w./=:-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`;
const indent = (s: string) => s.split("\n").map((l) => `  ${l}`).join("\n");

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

function onPath(name: string): boolean {
  return (Deno.env.get("PATH") ?? "").split(":").some((dir) => dir && exists(join(dir, name)));
}

/** Whether /dev/fuse is a character device (Deno allows stat of /dev only with -A; `test` may). */
async function hasDevFuse(): Promise<boolean> {
  const r = await new Deno.Command("sh", { args: ["-c", "test -c /dev/fuse"] }).output();
  return r.success;
}

/** Why this machine cannot mount, with what to do about it; null when it can. */
export function mountBlocker(uid: number, devFuse: boolean, fusermount: boolean): string | null {
  if (!devFuse) {
    return "/dev/fuse is missing. Load the module (`sudo modprobe fuse`); in a container, " +
      "start it with `--device /dev/fuse --cap-add SYS_ADMIN`.";
  }
  if (uid !== 0 && !fusermount) {
    return "mounting as a normal user needs fusermount3: `sudo apt-get install fuse3` " +
      "(Debian/Ubuntu), or run the demo as root.";
  }
  return null;
}

/** Every entry under `dir`, depth first in name order, as an indented tree with sizes. */
export function treeLines(dir: string, depth = 0): string[] {
  const entries = [...Deno.readDirSync(dir)].sort((a, b) => a.name < b.name ? -1 : 1);
  const lines: string[] = [];
  for (const e of entries) {
    const path = join(dir, e.name);
    if (e.isDirectory) {
      lines.push(`${"  ".repeat(depth)}${e.name}/`);
      lines.push(...treeLines(path, depth + 1));
    } else {
      lines.push(`${"  ".repeat(depth)}${e.name}  (${Deno.statSync(path).size} bytes)`);
    }
  }
  return lines;
}

/** The first file under `dir` with extension `ext`, depth first in name order. */
function findFile(dir: string, ext: string): string | null {
  const entries = [...Deno.readDirSync(dir)].sort((a, b) => a.name < b.name ? -1 : 1);
  for (const e of entries) {
    const path = join(dir, e.name);
    if (e.isFile && e.name.endsWith(ext)) return path;
    if (e.isDirectory) {
      const found = findFile(path, ext);
      if (found) return found;
    }
  }
  return null;
}

/** The tags and pictures of a file as musefs' own probe reads them. */
export function tagLines(path: string): string[] {
  const bytes = Deno.readFileSync(path);
  const src: ByteSource = {
    size: bytes.length,
    read: (offset, length) => bytes.subarray(offset, offset + length),
  };
  const probe = probePath(path, src);
  if (!probe) return [`(not a music file: ${path})`];
  const lines = [
    `format ${probe.format}, audio ${probe.audioLength} bytes at ${probe.audioOffset}`,
  ];
  for (const t of probe.tags) lines.push(`${t.key} = ${t.value}`);
  for (const p of probe.pictures) {
    const size = p.width && p.height ? `${p.width}x${p.height}, ` : "";
    lines.push(`picture type ${p.pictureType} ${p.mime} (${size}${p.data.length} bytes)`);
  }
  return lines;
}

/** Resolves on the first SIGINT or SIGTERM. */
function nextSignal(): Promise<string> {
  return new Promise((resolve) => {
    const handlers: [Deno.Signal, () => void][] = [];
    for (const sig of ["SIGINT", "SIGTERM"] as const) {
      const h = () => {
        for (const [s, f] of handlers) Deno.removeSignalListener(s, f);
        resolve(sig);
      };
      handlers.push([sig, h]);
      Deno.addSignalListener(sig, h);
    }
  });
}

const sleep = (ms: number) => new Promise<"timeout">((r) => setTimeout(() => r("timeout"), ms));

/** Mounts, lists, serves (until a signal unless `exitAfterListing`), unmounts. */
async function serve(db: string, mountpoint: string, exitAfterListing: boolean): Promise<void> {
  const args = ["mount", mountpoint, "--db", db, "--template", TEMPLATE, "-v"];
  console.log(`$ musefs ${args.map(quote).join(" ")}`);
  const child = musefsCommand(args, true).spawn();
  const status = child.status;
  let mounted = false;
  const ready = Promise.withResolvers<void>();
  // Show musefs' log as it comes; its "mounted at" line says the mount is live.
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    let pending = "";
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      pending += chunk;
      let nl;
      while ((nl = pending.indexOf("\n")) >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        console.log(indent(line));
        if (line.includes("musefs mounted at")) ready.resolve();
      }
    }
    if (pending) console.log(indent(pending));
  };
  const pumps = Promise.all([pump(child.stdout), pump(child.stderr)]);
  const first = await Promise.race([
    ready.promise.then(() => "ready" as const),
    status.then(() => "exited" as const),
    sleep(MOUNT_TIMEOUT_MS),
  ]);
  try {
    if (first !== "ready") {
      throw new Error(
        first === "exited"
          ? `musefs mount exited with ${(await status).code} before the mount was ready`
          : `the mount was not ready after ${MOUNT_TIMEOUT_MS / 1000} s`,
      );
    }
    mounted = true;
    console.log(`\nThe mounted tree (${mountpoint}):`);
    console.log(indent(treeLines(mountpoint).join("\n")));
    const sample = findFile(mountpoint, ".flac");
    if (sample) {
      console.log(`\nTags of the served file ${sample.slice(mountpoint.length + 1)}:`);
      console.log(indent(tagLines(sample).join("\n")));
    }
    if (!exitAfterListing) {
      console.log(`\nServing at ${mountpoint}. Try \`ls -R '${mountpoint}'\` or play a file;`);
      console.log("press Ctrl-C to unmount and clean up.");
      await nextSignal();
      console.log("\nunmounting …");
    }
  } finally {
    // Ctrl-C in a terminal reaches musefs too (same process group) and it unmounts by itself;
    // otherwise ask it with SIGTERM, which unmounts cleanly.
    const stopped = mounted && !exitAfterListing ? await Promise.race([status, sleep(500)]) : null;
    if (stopped === "timeout" || stopped === null) {
      try {
        child.kill("SIGTERM");
      } catch { /* already exited */ }
    }
    if (await Promise.race([status, sleep(STOP_GRACE_MS)]) === "timeout") {
      child.kill("SIGKILL");
      await status;
      await new Deno.Command(Deno.uid() === 0 ? "umount" : "fusermount3", {
        args: Deno.uid() === 0 ? ["-l", mountpoint] : ["-uz", mountpoint],
        stdout: "null",
        stderr: "null",
      }).output().catch(() => undefined);
    }
    await pumps;
  }
  const code = (await status).code;
  if (code !== 0) throw new Error(`musefs mount exited with ${code}`);
  console.log(`unmounted ${mountpoint}; musefs exited 0`);
}

const USAGE = `usage: npx deno task demo [MOUNTPOINT] [--exit-after-listing]

Scans the sample library demo/library into a temporary store and mounts it at MOUNTPOINT
(created if missing and kept) or at a temporary folder; prints the tree and one file's tags,
then serves until Ctrl-C. --exit-after-listing (or DEMO_EXIT_AFTER_LISTING=1) unmounts
right after the listing.`;

async function main(): Promise<number> {
  if (Deno.args.includes("--help") || Deno.args.includes("-h")) {
    console.log(USAGE);
    return 0;
  }
  const unknown = Deno.args.filter((a) => a.startsWith("-") && a !== "--exit-after-listing");
  const positional = Deno.args.filter((a) => !a.startsWith("-"));
  if (unknown.length > 0 || positional.length > 1) {
    console.error(
      unknown.length > 0
        ? `demo: unknown option ${unknown[0]}`
        : `demo: one mountpoint at most, got ${positional.join(" ")}`,
    );
    console.error(USAGE);
    return 2;
  }
  const exitAfterListing = Deno.args.includes("--exit-after-listing") ||
    Deno.env.get("DEMO_EXIT_AFTER_LISTING") === "1";
  const tmp = await Deno.makeTempDir({ prefix: "musefs-demo-" });
  try {
    const db = join(tmp, "library.db");
    console.log(`Sample library: ${LIBRARY} (one file per format; demo/README.md)\n`);
    await musefs(["scan", LIBRARY, "--db", db]);
    const blocker = mountBlocker(Deno.uid() ?? 0, await hasDevFuse(), onPath("fusermount3"));
    if (blocker) {
      console.log("");
      await musefs(["mount", "--db", db, "--template", TEMPLATE, "--dry-run"]);
      console.log(`\nThis machine cannot mount: ${blocker}`);
      console.log("The dry run above is the tree the mount would show.");
      return 0;
    }
    const mountpoint = positional[0] ?? join(tmp, "mnt");
    const st = await Deno.stat(mountpoint).catch(() => null);
    if (st && !st.isDirectory) {
      throw new Error(`the mountpoint ${mountpoint} is not a directory: name a folder`);
    }
    await Deno.mkdir(mountpoint, { recursive: true });
    console.log("");
    await serve(db, mountpoint, exitAfterListing);
    return 0;
  } catch (e) {
    console.error(`demo failed: ${e instanceof Error ? e.message : e}`);
    console.error("docs/troubleshooting.md explains the mount errors and their fixes.");
    return 1;
  } finally {
    await Deno.remove(tmp, { recursive: true }).catch(() => undefined);
  }
}

if (import.meta.main) Deno.exit(await main());
