// Real mounts: stopping (signals, busy mounts, grace), recovering a dead
// mount left by a killed process, and mounting as a non-root user through
// fusermount3.

import assert from "node:assert/strict";
import {
  assertCleanStop,
  isMounted,
  noFuse,
  SERVE_MAIN,
  sh,
  shOk,
  startMount,
  tempDirs,
} from "./helpers.ts";
import { denoRunArgs } from "../cli/run_musefs.ts";

async function until(what: string, check: () => boolean | Promise<boolean>, ms = 10_000) {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A process holding `path` open (stdin) until killed. */
function holdOpen(path: string): Deno.ChildProcess {
  return new Deno.Command("sh", {
    args: ["-c", `exec sleep 60 < "${path}"`],
    stdout: "null",
    stderr: "null",
  }).spawn();
}

async function release(holder: Deno.ChildProcess): Promise<void> {
  try {
    holder.kill("SIGKILL");
  } catch { /* gone */ }
  await holder.status;
}

/** Mount `source` and serve it on this thread until `stop` aborts (resolves once ready). */
async function serveInProcess(source: string, mountpoint: string, attrTtlMs?: number) {
  const { DirLibrary } = await import("./dir_library.ts");
  const { mountAndServe } = await import("../../src/fuse/server.ts");
  const library = new DirLibrary(source);
  const stop = new AbortController();
  let ready: (() => void) | null = null;
  const isReady = new Promise<void>((r) => ready = r);
  const serving = mountAndServe(library, {
    mountpoint,
    attrTtlMs,
    handleSignals: false,
    signal: stop.signal,
    onReady: () => ready!(),
  });
  await isReady;
  return { library, stop, serving };
}

/**
 * A mount whose one file is held open by another process (so unmounting finds it busy);
 * disposing it kills the holder, then stops the mount.
 */
async function busyMount(source: string, mountpoint: string, graceMs: number) {
  await Deno.writeTextFile(`${source}/a.txt`, "a\n");
  const m = await startMount(source, mountpoint, { graceMs });
  const holder = holdOpen(`${mountpoint}/a.txt`);
  const busy = {
    m,
    [Symbol.asyncDispose]: async () => {
      await release(holder);
      await m[Symbol.asyncDispose]();
    },
  };
  try {
    await until("the holder to open the file", async () => {
      const r = await sh(`ls -l /proc/${holder.pid}/fd 2>/dev/null | grep -c ${mountpoint}`);
      return r.stdout.trim() === "1";
    });
  } catch (e) {
    await busy[Symbol.asyncDispose]();
    throw e;
  }
  return busy;
}

Deno.test({
  name: "fuse lifecycle: SIGTERM unmounts cleanly and the process exits 0",
  ignore: noFuse,
  fn: async () => {
    await using dirs = await tempDirs();
    const { source, mountpoint } = dirs;
    await Deno.writeTextFile(`${source}/a.txt`, "a\n");
    await using m = await startMount(source, mountpoint);
    assert.equal(await shOk(`cat ${mountpoint}/a.txt`), "a\n");
    assert.ok(await isMounted(mountpoint));
    const r = await m.stop();
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /EXIT \{"reason":"unmounted"\}/);
    assert.equal(await isMounted(mountpoint), false);
  },
});

Deno.test({
  name: "fuse lifecycle: a busy mount is detached on the first signal; a second signal exits 130",
  ignore: noFuse,
  fn: async () => {
    await using dirs = await tempDirs();
    const { source, mountpoint } = dirs;
    await using busy = await busyMount(source, mountpoint, 60_000);
    const { m } = busy;
    m.child.kill("SIGTERM");
    await until("a lazy detach", () => m.stderr().includes("busy; detaching it lazily"));
    await until("the mountpoint to be detached", async () => !(await isMounted(mountpoint)));
    // Still serving the open file: the process is alive until a second signal.
    const alive = await Promise.race([
      m.child.status.then(() => false),
      new Promise<boolean>((r) => setTimeout(() => r(true), 300)),
    ]);
    assert.ok(alive, "the mount process waits for open files after the first signal");
    m.child.kill("SIGTERM");
    const r = await m.wait();
    assert.equal(r.code, 130, r.stderr);
  },
});

Deno.test({
  name: "fuse lifecycle: a busy mount stops serving after the grace period and exits 0",
  ignore: noFuse,
  fn: async () => {
    await using dirs = await tempDirs();
    const { source, mountpoint } = dirs;
    await using busy = await busyMount(source, mountpoint, 300);
    const { m } = busy;
    const started = Date.now();
    m.child.kill("SIGTERM");
    const r = await m.wait();
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /"reason":"grace-expired"/);
    assert.ok(Date.now() - started < 5000, "bounded exit");
    assert.equal(await isMounted(mountpoint), false);
  },
});

Deno.test({
  name: "fuse lifecycle: a dead mount left by kill -9 is detected and replaced on the next start",
  ignore: noFuse,
  fn: async () => {
    await using dirs = await tempDirs();
    const { source, mountpoint } = dirs;
    await Deno.writeTextFile(`${source}/a.txt`, "a\n");
    await using first = await startMount(source, mountpoint);
    first.child.kill("SIGKILL");
    await first.wait();
    const dead = await sh(`stat ${mountpoint}`);
    assert.match(dead.stderr, /Transport endpoint is not connected/);
    await using second = await startMount(source, mountpoint);
    assert.match(second.stderr(), /dead FUSE mount was left here by a killed process/);
    assert.equal(await shOk(`cat ${mountpoint}/a.txt`), "a\n");
    await assertCleanStop(second);
    assert.equal(await isMounted(mountpoint), false);
  },
});

const unprivilegedTools =
  (await sh("command -v unshare && command -v setpriv && command -v fusermount3"))
    .code === 0;

Deno.test({
  name:
    "fuse lifecycle: a non-root user mounts through libfuse3 + fusermount3 and unmounts on SIGTERM",
  ignore: noFuse || !unprivilegedTools,
  fn: async () => {
    await using dirs = await tempDirs();
    const { base, source, mountpoint } = dirs;
    await Deno.writeTextFile(`${source}/a.txt`, "unprivileged\n");
    await Deno.mkdir(`${base}/denodir`);
    await shOk(`chmod 755 ${base} && chown -R nobody:nogroup ${base}`);
    const serve = denoRunArgs(SERVE_MAIN, [mountpoint, source, '{"allowOther":false}'])
      .map((a) => `'${a.replaceAll("'", `'\\''`)}'`).join(" ");
    const asNobody = "setpriv --reuid=nobody --regid=nogroup --clear-groups " +
      `env HOME=${base} DENO_DIR=${base}/denodir`;
    // A private mount namespace in which /dev/fuse has its usual 0666 mode
    // (it is 0600 on some hosts); nothing changes outside this namespace.
    const script = `
      set -e
      mknod ${base}/fuse c 10 229 && chmod 666 ${base}/fuse && mount --bind ${base}/fuse /dev/fuse
      ${asNobody} ${Deno.execPath()} ${serve} > ${base}/out 2> ${base}/err &
      pid=$!
      for i in $(seq 1 200); do grep -q READY ${base}/out && break; sleep 0.1; done
      grep -q READY ${base}/out
      grep " ${mountpoint} " /proc/self/mountinfo | grep -o 'fuse.musefs.*' > ${base}/mountinfo
      ${asNobody} cat ${mountpoint}/a.txt > ${base}/read
      kill -TERM $pid
      set +e
      wait $pid
      echo $? > ${base}/code
      grep -c " ${mountpoint} " /proc/self/mountinfo > ${base}/after || true
    `;
    const r = await sh(
      `unshare -m --propagation private sh -c '${script.replaceAll("'", "'\\''")}'`,
    );
    const read = (f: string) => Deno.readTextFile(`${base}/${f}`).catch(() => "");
    const diag = `${r.stderr}\n${await read("err")}`;
    assert.equal(r.code, 0, diag);
    assert.match(await read("mountinfo"), /fuse\.musefs musefs ro,user_id=65534,group_id=65534/);
    assert.equal(await read("read"), "unprivileged\n", diag);
    assert.equal((await read("code")).trim(), "0", diag);
    assert.equal((await read("after")).trim(), "0", "unmounted by fusermount3 -u");
    assert.match(await read("out"), /EXIT \{"reason":"unmounted"\}/);
  },
});

Deno.test({
  name: "fuse lifecycle: in-process serve() stops when its AbortSignal fires",
  ignore: noFuse,
  fn: async () => {
    await using dirs = await tempDirs();
    const { source, mountpoint } = dirs;
    await Deno.writeTextFile(`${source}/a.txt`, "in process\n");
    const { library, stop, serving } = await serveInProcess(source, mountpoint);
    // The shell runs in another process; our event loop stays free to serve it.
    assert.equal(await shOk(`cat ${mountpoint}/a.txt`), "in process\n");
    stop.abort();
    const result = await serving;
    assert.equal(result.reason, "unmounted");
    assert.equal(await isMounted(mountpoint), false);
    library.close();
  },
});

Deno.test({
  name: "fuse lifecycle: timers still run while a tight stat loop keeps the mount busy",
  ignore: noFuse,
  fn: async () => {
    await using dirs = await tempDirs();
    const { source, mountpoint } = dirs;
    await Deno.writeTextFile(`${source}/a.txt`, "a\n");
    // TTL 0: every stat is a request, back to back, so the serving loop
    // (on this thread) rarely goes idle; a timer of ours must still fire.
    const { library, stop, serving } = await serveInProcess(source, mountpoint, 0);
    const statter = new Deno.Command(Deno.execPath(), {
      args: [
        "eval",
        `const p = ${JSON.stringify(`${mountpoint}/a.txt`)};
         let n = 0; const end = Date.now() + 20000;
         try { while (Date.now() < end) { Deno.statSync(p); n++; } } catch { /* unmounted */ }
         console.log(n);`,
      ],
      stdout: "piped",
      stderr: "null",
    }).spawn();
    let aborted = 0;
    setTimeout(() => {
      aborted = Date.now();
      stop.abort();
    }, 500);
    let guard: ReturnType<typeof setTimeout> | undefined;
    try {
      const result = await Promise.race([
        serving,
        new Promise<null>((r) => guard = setTimeout(() => r(null), 5000)),
      ]);
      assert.ok(result !== null, "serve() did not stop within 5 s");
      assert.equal(result.reason, "unmounted");
      assert.ok(aborted > 0 && Date.now() - aborted < 2000, "stopped promptly after the abort");
      assert.equal(await isMounted(mountpoint), false);
      const stats = Number(new TextDecoder().decode((await statter.output()).stdout).trim());
      assert.ok(stats > 1000, `the stat loop was busy (${stats} stats)`);
    } finally {
      clearTimeout(guard);
      try {
        statter.kill("SIGKILL");
      } catch { /* ended */ }
      await statter.status.catch(() => {});
      if (await isMounted(mountpoint)) await sh(`umount -l ${mountpoint}`);
      await serving.catch(() => {});
      library.close();
    }
  },
});
