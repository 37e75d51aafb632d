// End to end, the features that depend on the Deno flags musefs ships with
// (src/cli/deno_flags.ts, docs/permissions.md): `musefs vacuum` run through
// the `musefs` task itself, and a structure-only mount as root that turns on
// kernel passthrough, raises the connection's read_ahead_kb and reports its
// resident size. Under the narrower flags musefs once shipped, each of these
// silently did not happen.

import assert from "node:assert/strict";
import {
  eventually,
  listFiles,
  metricOrNull,
  noFuse,
  q,
  REPO,
  scannedLibrary,
  sh,
  sqlWrite,
  withMount,
} from "./helpers.ts";

const dec = new TextDecoder();

/** `npx deno task musefs <args>` as a user types it (cwd = repo root). */
async function task(args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["task", "-q", "musefs", ...args],
    cwd: REPO,
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** VmRSS of `pid` in bytes, read by this process. */
function residentOf(pid: number): number {
  const m = /^VmRSS:\s*(\d+)\s*kB/m.exec(Deno.readTextFileSync(`/proc/${pid}/status`));
  assert.ok(m, `no VmRSS for ${pid}`);
  return Number(m[1]) * 1024;
}

/** The "major:minor" of the fuse.musefs mount at `mountpoint`, from mountinfo. */
function deviceOf(mountpoint: string): string {
  for (const line of Deno.readTextFileSync("/proc/self/mountinfo").split("\n")) {
    const f = line.split(" ");
    const dash = f.indexOf("-");
    if (f[4] === mountpoint && f[dash + 1] === "fuse.musefs") return f[2];
  }
  throw new Error(`${mountpoint} is not a musefs mount`);
}

Deno.test({
  name: "shipped flags: `deno task musefs vacuum` compacts, and names a store in use",
  async fn() {
    await using lib = await scannedLibrary("musefs-shipped-");
    // Free pages to reclaim: drop every track (cascades to tags, art links).
    await sqlWrite(lib.db, "DELETE FROM tracks; DELETE FROM art;");
    const r = await task(["vacuum", "--db", lib.db]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^vacuumed ${lib.db}: .+ → .+ \\(reclaimed .+\\)\\n$`));

    // A writer holding the store: the in-use message, exit 1.
    const holder = new Deno.Command("/usr/bin/python3", {
      args: [
        "-c",
        "import sqlite3, sys\n" +
        "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n" +
        "c.execute('BEGIN EXCLUSIVE')\n" +
        "print('holding', flush=True)\n" +
        "sys.stdin.read()\n" +
        "c.execute('ROLLBACK')\n",
        lib.db,
      ],
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    const reader = holder.stdout.getReader();
    assert.equal(dec.decode((await reader.read()).value).trim(), "holding");
    reader.releaseLock();
    try {
      const busy = await task(["vacuum", "--db", lib.db]);
      assert.equal(busy.code, 1, busy.stdout);
      assert.match(
        busy.stderr,
        /^musefs: the store is in use — unmount the filesystem or stop any scan before vacuuming \(open in process \d+: /,
      );
    } finally {
      await holder.stdin.close();
      await holder.stdout.cancel();
      assert.equal((await holder.status).code, 0);
    }
  },
});

Deno.test({
  name: "shipped flags: structure-only as root has passthrough, read_ahead_kb 1024 and RSS",
  ignore: noFuse,
  async fn() {
    await using lib = await scannedLibrary("musefs-shipped-");
    const mnt = `${lib.base}/mnt`;
    const flags = ["--mode", "structure-only", "--expose-metrics"];
    await withMount(lib.db, mnt, flags, async (m) => {
      assert.match(m.log(), /\(StructureOnly\), passthrough on$/m, m.log());

      const ra = await Deno.readTextFile(`/sys/class/bdi/${deviceOf(mnt)}/read_ahead_kb`);
      assert.equal(ra.trim(), "1024");

      // One whole read through the kernel, so a passthrough open is counted.
      const files = await listFiles(mnt);
      assert.ok(files.length > 0);
      const read = await sh(`cat ${q(`${mnt}/${files[0]}`)} > /dev/null`);
      assert.equal(read.code, 0, read.stderr);

      const text = await Deno.readTextFile(`${mnt}/.musefs-metrics/metrics`);
      assert.equal(metricOrNull(text, "musefs_passthrough_active"), 1, text);
      assert.ok(metricOrNull(text, "musefs_passthrough_opens_total")! >= 1, text);
      const rss = metricOrNull(text, "musefs_process_resident_bytes");
      assert.ok(rss !== null, `musefs_process_resident_bytes missing in\n${text}`);
      const measured = residentOf(m.child.pid);
      assert.ok(
        rss > measured / 2 && rss < measured * 2,
        `reported ${rss} B, /proc/${m.child.pid}/status says ${measured} B`,
      );
    });
  },
});

Deno.test({
  name:
    "shipped flags: a synthesis mount has its build-ahead worker up when mounted, and trims the allocator after requests",
  ignore: noFuse,
  async fn() {
    await using lib = await scannedLibrary("musefs-shipped-");
    const mnt = `${lib.base}/mnt`;
    const metrics = async () => await Deno.readTextFile(`${mnt}/.musefs-metrics/metrics`);
    await withMount(lib.db, mnt, ["--expose-metrics"], async () => {
      // Up before any file was asked for: it started with the mount.
      const first = await metrics();
      assert.equal(metricOrNull(first, "musefs_synth_ahead_worker_running"), 1, first);
      assert.equal(metricOrNull(first, "musefs_synth_ahead_adopted_total"), 0, first);
      const files = await listFiles(mnt);
      assert.ok(files.length > 0);
      const read = await sh(`cd ${q(mnt)} && cat ${files.map(q).join(" ")} > /dev/null`);
      assert.equal(read.code, 0, read.stderr);
      let text = "";
      const trimmed = await eventually(async () => {
        text = await metrics();
        return metricOrNull(text, "musefs_malloc_trims_total")! >= 1;
      }, 5000);
      assert.ok(trimmed, `no trim within 5 s of the reads:\n${text}`);
      assert.ok(metricOrNull(text, "musefs_malloc_trim_seconds_total")! > 0, text);
      assert.equal(metricOrNull(text, "musefs_synth_ahead_worker_running"), 1, "it stays");
    });
    await withMount(lib.db, mnt, ["--expose-metrics", "--build-ahead", "false"], async () => {
      const text = await metrics();
      assert.equal(metricOrNull(text, "musefs_synth_ahead_worker_running"), 0, text);
    });
  },
});
