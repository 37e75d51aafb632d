// The backing open path and the one non-blocking read: only regular files
// open (a FIFO neither hangs nor opens, a symlink is refused), RWF_NOWAIT
// support is remembered per file system, a held fd outlives its close until
// the holder releases it, and the descriptor bound reopens evicted files only
// when they are still the same unchanged file.

import assert from "node:assert/strict";
import { FsError } from "../../src/core/api.ts";
import {
  closeBacking,
  holdBacking,
  memoryFileSystems,
  nowaitUnsupportedFileSystems,
  openBacking,
  readNow,
  releaseBacking,
  UNSUPPORTED,
} from "../../src/core/backing.ts";
import { BackingFds, fdCapFor } from "../../src/core/backing_fds.ts";
import { BackingChangedError } from "../../src/core/errors.ts";
import { BackingIoError, fstatStamp } from "../../src/core/stamp.ts";
import { fuseStore, noFuseStore, tmpfsLacksNowait } from "./nowait_probe.ts";
import { type ScratchDir, scratchDir } from "../scratch.ts";

/** A temp dir on a disk file system by default (tmpfs is read differently), gone with its scope. */
function tempDir(under = Deno.env.get("TMPDIR") ?? "/var/tmp"): ScratchDir {
  return scratchDir("musefs-backing-", { dir: under });
}

function isTmpfs(dir: string): boolean {
  const mounts = Deno.readTextFileSync("/proc/self/mounts").split("\n").map((l) => l.split(" "));
  let best = "";
  let type = "";
  for (const [, mp, fstype] of mounts) {
    if (mp !== undefined && (dir === mp || dir.startsWith(mp.endsWith("/") ? mp : `${mp}/`))) {
      if (mp.length >= best.length) [best, type] = [mp, fstype];
    }
  }
  return type === "tmpfs";
}

Deno.test("openBacking: regular files only, never a FIFO, a symlink or a directory", () => {
  using tmp = tempDir();
  const dir = tmp.path;
  Deno.writeFileSync(`${dir}/a.flac`, new Uint8Array(1000).fill(7));
  const o = openBacking(`${dir}/a.flac`);
  assert.equal(o.stamp.size, 1000);
  closeBacking(o.fd);

  new Deno.Command("mkfifo", { args: [`${dir}/fifo.flac`] }).outputSync();
  assert.throws(
    () => openBacking(`${dir}/fifo.flac`),
    (e: unknown) => e instanceof BackingIoError && e.code === "EIO" && /regular/.test(e.message),
  );
  Deno.symlinkSync(`${dir}/a.flac`, `${dir}/link.flac`);
  assert.throws(
    () => openBacking(`${dir}/link.flac`),
    (e: unknown) => e instanceof BackingIoError && e.code === "ELOOP",
  );
  assert.throws(() => openBacking(dir), (e: unknown) => e instanceof BackingIoError);
  assert.throws(
    () => openBacking(`${dir}/missing.flac`),
    (e: unknown) => e instanceof BackingIoError && e.code === "ENOENT",
  );
});

Deno.test({
  name: "readNow: EOPNOTSUPP (a FUSE store) is remembered for that file system only",
  // Needs a FUSE store next to a disk file system.
  ignore: noFuseStore || isTmpfs(Deno.realPathSync("/var/tmp")),
  async fn() {
    await using fuse = await fuseStore();
    using diskTmp = tempDir("/var/tmp");
    const disk = diskTmp.path;
    const bytes = new Uint8Array(8192).map((_, i) => i & 0xff);
    Deno.writeFileSync(`${fuse.src}/a`, bytes);
    Deno.writeFileSync(`${disk}/a`, bytes);
    Deno.readFileSync(`${disk}/a`); // in the page cache
    const unsupported = nowaitUnsupportedFileSystems();
    const a = openBacking(`${fuse.mnt}/a`);
    const b = openBacking(`${disk}/a`);
    try {
      const into = new Uint8Array(8192);
      assert.equal(readNow(a.fd, into, 0, 4096, 0), UNSUPPORTED, "a FUSE store has no RWF_NOWAIT");
      assert.equal(readNow(a.fd, into, 0, 4096, 0), UNSUPPORTED, "remembered");
      assert.equal(nowaitUnsupportedFileSystems(), unsupported + 1);
      assert.equal(readNow(b.fd, into, 0, 8192, 0), 8192, "the disk still reads at once");
      assert.deepEqual(into, bytes);
    } finally {
      closeBacking(a.fd);
      closeBacking(b.fd);
    }
  },
});

Deno.test({
  name: "readNow: tmpfs has no RWF_NOWAIT but is memory, so it is read at once",
  ignore: !tmpfsLacksNowait,
  fn() {
    using shm = tempDir("/dev/shm");
    const bytes = new Uint8Array(8192).map((_, i) => (i * 7) & 0xff);
    Deno.writeFileSync(`${shm.path}/a`, bytes);
    const unsupported = nowaitUnsupportedFileSystems();
    const a = openBacking(`${shm.path}/a`);
    try {
      const into = new Uint8Array(8192);
      assert.equal(readNow(a.fd, into, 0, 4096, 0), 4096);
      assert.equal(readNow(a.fd, into, 4096, 8192, 4096), 4096, "short at end of file");
      assert.deepEqual(into, bytes);
      assert.equal(readNow(a.fd, into, 0, 10, 8192), 0, "0 at end of file");
      assert.ok(memoryFileSystems() >= 1, "counted as memory");
      assert.equal(nowaitUnsupportedFileSystems(), unsupported, "not sent to the workers");
    } finally {
      closeBacking(a.fd);
    }
  },
});

Deno.test("a held fd stays open across closeBacking until released", () => {
  using tmp = tempDir();
  const dir = tmp.path;
  Deno.writeFileSync(`${dir}/a`, new Uint8Array(10));
  const o = openBacking(`${dir}/a`);
  holdBacking(o.fd);
  closeBacking(o.fd);
  assert.equal(fstatStamp(o.fd).size, 10, "still open while held");
  releaseBacking(o.fd);
  assert.throws(() => fstatStamp(o.fd), (e: unknown) => (e as BackingIoError).code === "EBADF");
});

Deno.test("the descriptor bound: LRU eviction, checked reopens, per-user and total limits", () => {
  using tmp = tempDir();
  const dir = tmp.path;
  const fds = new BackingFds(2);
  const files = [0, 1, 2].map((i) => {
    const path = `${dir}/${i}`;
    Deno.writeFileSync(path, new Uint8Array(100 + i));
    return fds.adopt(path, openBacking(path));
  });
  assert.equal(fds.openFds, 2);
  assert.equal(files[0].fd, -1, "the least recently used one was closed");
  const fd = fds.acquire(files[0]);
  assert.equal(fstatStamp(fd).size, 100);
  assert.equal(fds.reopens, 1);
  assert.equal(fds.openFds, 2);

  // Evicted, then replaced by another file at the same path: no reopen.
  fds.acquire(files[2]);
  assert.equal(files[1].fd, -1);
  Deno.removeSync(`${dir}/1`);
  Deno.writeFileSync(`${dir}/1`, new Uint8Array(101));
  assert.throws(() => fds.acquire(files[1]), BackingChangedError);
  for (const f of files) fds.release(f);
  assert.equal(fds.openFds, 0);

  for (let i = 0; i < fds.perUser; i++) fds.admit(1000);
  assert.throws(
    () => fds.admit(1000),
    (e: unknown) => e instanceof FsError && e.errno === "EMFILE",
  );
  for (let i = 0; i < fds.total - fds.perUser; i++) fds.admit(1001 + (i % 3));
  assert.throws(
    () => fds.admit(2000),
    (e: unknown) => e instanceof FsError && e.errno === "ENFILE",
  );
  fds.leave(1000);
  fds.admit(2000);
  assert.equal(fds.refusals, 2);
});

Deno.test("the descriptor cap follows RLIMIT_NOFILE with a reserve", () => {
  assert.equal(fdCapFor(256), 96);
  assert.equal(fdCapFor(1024), 480);
  assert.equal(fdCapFor(20), 8);
  assert.equal(fdCapFor(Infinity), 16384);
  assert.equal(fdCapFor(10_000_000), 16384);
});
