// Read-ahead windows: none for a handle's first read, then floor 512 KiB,
// doubling on sequential misses up to clamp(budget/4, 512 KiB, 8 MiB), reset
// on a seek, a shared budget with LRU eviction, budget 0 disabling — over a
// real file, bytes checked.

import assert from "node:assert/strict";
import * as fs from "node:fs";
import { closeBacking, openBacking } from "../../src/core/backing.ts";
import { fuseStore, noFuseStore } from "./nowait_probe.ts";
import {
  perStreamCap,
  READ_AHEAD_FLOOR,
  ReadAheadPool,
  ReadAheadWindow,
} from "../../src/core/readahead.ts";

const MiB = 1024 * 1024;

/** A window whose handle has read one byte at `at` (a first read gets no window). */
function started(w: ReadAheadWindow, at: number): ReadAheadWindow {
  assert.equal(w.read(at, 1), null, "a handle's first read is read directly");
  return w;
}

function withFile(size: number, fn: (fd: number, bytes: Uint8Array, path: string) => void): void {
  const dir = Deno.makeTempDirSync({ prefix: "musefs-readahead-" });
  const path = `${dir}/audio.bin`;
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 31 + (i >>> 9)) & 0xff;
  Deno.writeFileSync(path, bytes);
  const fd = fs.openSync(path, "r");
  try {
    fn(fd, bytes, path);
  } finally {
    fs.closeSync(fd);
    Deno.removeSync(dir, { recursive: true });
  }
}

Deno.test("per-stream cap is clamp(budget / 4, 512 KiB, 8 MiB)", () => {
  assert.equal(perStreamCap(64 * MiB), 8 * MiB);
  assert.equal(perStreamCap(16 * MiB), 4 * MiB);
  assert.equal(perStreamCap(1 * MiB), 512 * 1024);
  assert.equal(perStreamCap(1024 * MiB), 8 * MiB);
});

Deno.test("sequential misses double the window up to the cap; a seek resets it", () => {
  withFile(40 * MiB, (fd, bytes, path) => {
    const pool = new ReadAheadPool(64 * MiB);
    const w = new ReadAheadWindow(pool, { fd }, bytes.length, path);
    const chunk = 128 * 1024;
    const sizes: number[] = [];
    assert.equal(w.read(0, chunk), null, "the first read: no window");
    assert.equal(pool.charged, 0);
    for (let at = chunk; at < 30 * MiB; at += chunk) {
      const got = w.read(at, chunk);
      assert.ok(got !== null);
      assert.deepEqual(got, bytes.subarray(at, at + chunk));
      if (sizes.at(-1) !== w.windowSize) sizes.push(w.windowSize);
    }
    assert.deepEqual(sizes, [512 * 1024, 1 * MiB, 2 * MiB, 4 * MiB, 8 * MiB]);
    const preads = pool.preads;
    assert.ok(preads < 10, `few large preads (${preads}) for 240 reads`);
    assert.ok(pool.hits > 200);
    // A seek far away: back to the floor.
    const got = w.read(35 * MiB + 3, 1000);
    assert.deepEqual(got, bytes.subarray(35 * MiB + 3, 35 * MiB + 1003));
    assert.equal(w.windowSize, READ_AHEAD_FLOOR);
    assert.equal(pool.charged, READ_AHEAD_FLOOR);
    // The end of the file clips the window; when nothing lies past the request, read directly.
    const tail = w.read(bytes.length - 1000, 10);
    assert.deepEqual(tail, bytes.subarray(bytes.length - 1000, bytes.length - 990));
    assert.equal(w.holding, 1000);
    const fresh = new ReadAheadWindow(pool, { fd }, bytes.length, path);
    assert.equal(fresh.read(bytes.length - 10, 10), null);
    fresh.close();
    w.close();
    assert.equal(pool.charged, 0);
  });
});

Deno.test("the budget is shared: other streams' windows are evicted least recently used first", () => {
  withFile(8 * MiB, (fd, bytes, path) => {
    const pool = new ReadAheadPool(1 * MiB); // two floor windows fit
    const ws = [0, 2, 4].map((at) =>
      started(new ReadAheadWindow(pool, { fd }, bytes.length, path), at * MiB)
    );
    ws[0].read(0, 1000);
    ws[1].read(2 * MiB, 1000);
    assert.equal(pool.charged, 1 * MiB);
    ws[0].read(10, 10); // hit: ws[0] is now the most recent
    ws[2].read(4 * MiB, 1000);
    assert.equal(pool.charged, 1 * MiB, "never above the budget");
    assert.equal(ws[1].holding, 0, "the least recently used window went");
    assert.ok(ws[0].holding > 0 && ws[2].holding > 0);
    for (const w of ws) w.close();
    assert.equal(pool.charged, 0);
  });
});

Deno.test("budget 0 disables windows; requests as large as the window are read directly", () => {
  withFile(4 * MiB, (fd, bytes, path) => {
    const off = new ReadAheadPool(0);
    assert.equal(new ReadAheadWindow(off, { fd }, bytes.length, path).read(0, 100), null);
    const pool = new ReadAheadPool(64 * MiB);
    const w = new ReadAheadWindow(pool, { fd }, bytes.length, path);
    assert.equal(w.read(0, 1 * MiB), null, "a 1 MiB read gains nothing from a 512 KiB window");
    assert.equal(pool.charged, 0);
    // Small reads continuing the stream still get a window that grows past them.
    const got = w.read(1 * MiB, 256 * 1024);
    assert.ok(got !== null, "window for a small sequential read");
    assert.deepEqual(got, bytes.subarray(1 * MiB, 1 * MiB + 256 * 1024));
    assert.ok(w.windowSize > 256 * 1024);
    w.close();
  });
});

Deno.test("a window is filled only from the page cache: uncached data is left to the server", async () => {
  const dir = await Deno.makeTempDir({ prefix: "musefs-readahead-cold-" });
  const path = `${dir}/cold.bin`;
  const bytes = new Uint8Array(4 * MiB).map((_, i) => (i * 7) & 0xff);
  await Deno.writeFile(path, bytes);
  // Write back and evict the file's pages, so the first read would have to wait for the disk.
  const evict = await new Deno.Command("/usr/bin/python3", {
    args: [
      "-c",
      "import os,sys; fd=os.open(sys.argv[1], os.O_RDONLY); os.fsync(fd); " +
      "os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED); os.close(fd)",
      path,
    ],
  }).output();
  assert.equal(evict.code, 0);
  const fd = fs.openSync(path, "r");
  try {
    const pool = new ReadAheadPool(64 * MiB);
    const w = started(new ReadAheadWindow(pool, { fd }, bytes.length, path), 0);
    assert.equal(w.read(0, 64 * 1024), null, "cold data: no blocking fill on this thread");
    assert.equal(pool.uncached, 1);
    assert.equal(pool.charged, 0);
    // The server's own (off-thread) read warms the cache; the next miss fills a window.
    const warm = new Uint8Array(bytes.length);
    fs.readSync(fd, warm, 0, bytes.length, 0);
    const got = w.read(64 * 1024, 64 * 1024);
    assert.ok(got !== null);
    assert.deepEqual(got, bytes.subarray(64 * 1024, 128 * 1024));
    w.close();
  } finally {
    fs.closeSync(fd);
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("requests of the floor size or more bypass the window (the kernel already reads ahead)", () => {
  withFile(8 * MiB, (fd, bytes, path) => {
    const pool = new ReadAheadPool(64 * MiB);
    const w = started(new ReadAheadWindow(pool, { fd }, bytes.length, path), 0);
    assert.ok(w.read(0, 64 * 1024) !== null, "small reads use a window");
    assert.equal(w.read(1 * MiB, READ_AHEAD_FLOOR), null);
    assert.equal(w.read(2 * MiB, 1 * MiB), null);
    assert.equal(pool.charged, 0, "no window held for large reads");
    w.close();
  });
});

Deno.test({
  name:
    "on a file system without RWF_NOWAIT a window does no I/O of its own and marks the miss cold",
  ignore: noFuseStore, // needs a file system without RWF_NOWAIT that is not memory
  async fn() {
    await using fuse = await fuseStore();
    Deno.writeFileSync(`${fuse.src}/audio.bin`, new Uint8Array(2 * MiB).fill(5));
    const path = `${fuse.mnt}/audio.bin`;
    const opened = openBacking(path);
    try {
      const pool = new ReadAheadPool(64 * MiB);
      const w = started(new ReadAheadWindow(pool, opened, 2 * MiB, path), 0);
      assert.equal(w.read(0, 4096), null, "no blocking fill on the serving thread");
      assert.equal(w.coldMiss, true, "the server sends it straight to an I/O worker");
      assert.equal(pool.uncached, 1);
      assert.equal(pool.charged, 0);
      assert.equal(w.read(0, 1 * MiB), null);
      assert.equal(w.coldMiss, false, "a large read is probed by the server itself");
    } finally {
      closeBacking(opened.fd);
    }
  },
});
