import assert from "node:assert/strict";
import { FsError, S_IFDIR, S_IFREG } from "../../src/core/api.ts";
import { METRICS_DIR_INO, METRICS_FILE_INO, MetricsLibrary } from "../../src/fuse/metrics.ts";
import { renderMetrics } from "../../src/fuse/exposition.ts";
import { ServerStats } from "../../src/fuse/stats.ts";
import { DirLibrary } from "./dir_library.ts";
import { scratchDir } from "../scratch.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** A metrics-wrapped directory library over a temp dir; closed and removed when the scope ends. */
async function library(): Promise<{ lib: MetricsLibrary; stats: ServerStats } & Disposable> {
  const scratch = scratchDir("musefs-metrics-");
  const dir = scratch.path;
  for (const n of ["b.flac", "a.flac", "c.mp3"]) await Deno.writeTextFile(`${dir}/${n}`, n);
  await Deno.mkdir(`${dir}/sub`);
  const stats = new ServerStats();
  const lib = new MetricsLibrary(new DirLibrary(dir), stats);
  return {
    lib,
    stats,
    [Symbol.dispose]: () => {
      lib.close();
      scratch[Symbol.dispose]();
    },
  };
}

Deno.test("metrics: the root lists .musefs-metrics once, at index 2, at every offset", async () => {
  using fixture = await library();
  const { lib } = fixture;
  const fh = lib.opendir(1);
  const all = lib.readdir(fh, 1, 0).map((e) => dec.decode(e.name));
  assert.deepEqual(all, [".", "..", ".musefs-metrics", "a.flac", "b.flac", "c.mp3", "sub"]);
  // One entry at a time, as a kernel with a tiny buffer would ask.
  const oneByOne: string[] = [];
  for (let off = 0;; off++) {
    const got = lib.readdir(fh, 1, off, 1);
    if (got.length === 0) break;
    oneByOne.push(dec.decode(got[0].name));
  }
  assert.deepEqual(oneByOne, all);
  lib.releasedir(fh);
  // Other directories are untouched.
  const sub = lib.lookup(1, enc.encode("sub")).ino;
  const sfh = lib.opendir(sub);
  assert.deepEqual(lib.readdir(sfh, sub, 0).map((e) => dec.decode(e.name)), [".", ".."]);
});

Deno.test("metrics: lookup, getattr and read of the metrics file; rendered once per open", async () => {
  using fixture = await library();
  const { lib, stats } = fixture;
  const d = lib.lookup(1, enc.encode(".musefs-metrics"));
  assert.equal(d.ino, METRICS_DIR_INO);
  assert.equal(d.mode & S_IFDIR, S_IFDIR);
  const f = lib.lookup(METRICS_DIR_INO, enc.encode("metrics"));
  assert.equal(f.ino, METRICS_FILE_INO);
  assert.equal(f.mode, S_IFREG | 0o444);
  assert.equal(f.size, 0);
  assert.throws(() => lib.lookup(METRICS_DIR_INO, enc.encode("other")), FsError);
  assert.throws(
    () => lib.open(METRICS_FILE_INO, 1),
    (e) => e instanceof FsError && e.errno === "EROFS",
  );
  stats.readErrors = 7;
  const h = lib.open(METRICS_FILE_INO, 0);
  assert.equal(h.directIo, true);
  stats.readErrors = 8; // after the open: the body does not change
  const pieces = lib.read(h.fh, METRICS_FILE_INO, 0, 1 << 20);
  assert.equal(pieces.length, 1);
  const text = pieces[0].kind === "bytes" ? dec.decode(pieces[0].bytes) : "";
  assert.match(text, /^# TYPE musefs_read_errors_total counter\nmusefs_read_errors_total 7$/m);
  assert.match(text, /^musefs_tree_nodes 5$/m); // root, sub and 3 files
  // Reading past the end gives nothing (EOF for DIRECT_IO).
  const tail = lib.read(h.fh, METRICS_FILE_INO, text.length, 4096);
  assert.equal(tail[0].kind === "bytes" ? tail[0].bytes.length : -1, 0);
  lib.release(h.fh);
  // Real files still go to the library.
  const a = lib.lookup(1, enc.encode("a.flac"));
  const ha = lib.open(a.ino, 0);
  assert.equal(lib.read(ha.fh, a.ino, 0, 100)[0].kind, "file");
  lib.release(ha.fh);
});

Deno.test("metrics: Prometheus text with HELP and TYPE", () => {
  const text = renderMetrics([
    { name: "musefs_x", help: "X.", type: "gauge", value: 1 },
    { name: "musefs_y_total", help: "Y.", type: "counter", value: 2.5 },
  ]);
  assert.equal(
    text,
    "# HELP musefs_x X.\n# TYPE musefs_x gauge\nmusefs_x 1\n" +
      "# HELP musefs_y_total Y.\n# TYPE musefs_y_total counter\nmusefs_y_total 2.5\n",
  );
});

Deno.test("metrics: the decorator passes the server's nextRequest on to the core", () => {
  using scratch = scratchDir("musefs-metrics-");
  class Spy extends DirLibrary {
    nextRequests = 0;
    nextRequest(): void {
      this.nextRequests++;
    }
  }
  const inner = new Spy(scratch.path);
  const lib = new MetricsLibrary(inner, new ServerStats());
  lib.nextRequest();
  lib.nextRequest();
  assert.equal(inner.nextRequests, 2, "the core's art cache is unpinned once per request");
  lib.close();
});
