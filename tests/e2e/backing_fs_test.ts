// End to end: libraries on file systems without non-blocking reads. NFS,
// CIFS and FUSE stores such as mergerfs (bindfs here) answer EOPNOTSUPP to
// RWF_NOWAIT; their reads go to the I/O workers, remembered per backing file
// system, so other file systems of the same library keep reading inline.
// tmpfs answers EOPNOTSUPP too, but its data is memory: it is read inline.
// Every served file must read back exactly, with read-ahead off and on.

import assert from "node:assert/strict";
import { expectedBytes } from "../core/ingest.ts";
import { tmpfsLacksNowait } from "../core/nowait_probe.ts";
import { openStore } from "../../src/store/mod.ts";
import { ensureFixtures } from "../fixtures/fixtures.ts";
import {
  expectedFiles,
  type Library,
  metric,
  musefs,
  noFuse,
  owned,
  q,
  removeLibrary,
  sh,
  shOk,
  stemOf,
  type TrackRow,
  tracks,
  withMount,
} from "./helpers.ts";

/** Mounted path of each track id. */
function pathsById(db: string, mnt: string): Map<number, string> {
  const files = expectedFiles(tracks(db), stemOf(db));
  return new Map([...files].map(([rel, id]) => [id, `${mnt}/${rel}`]));
}

/** A temp dir with `lib/` and `mnt/`; `prepare` fills lib (and may mount things under base). */
async function library(
  prepare: (base: string, lib: string) => Promise<string>,
): Promise<Library & AsyncDisposable> {
  const base = await Deno.realPath(await Deno.makeTempDir({ prefix: "musefs-backing-fs-" }));
  const lib = `${base}/lib`;
  await Deno.mkdir(lib);
  await Deno.mkdir(`${base}/mnt`);
  const l: Library = { base, lib, db: `${base}/lib.db`, fixtures: new Map() };
  try {
    const scanned = await prepare(base, lib);
    const r = await musefs(["scan", scanned, "--db", l.db, "--quiet"]);
    if (r.code !== 0) throw new Error(`scan failed (${r.code}): ${r.stderr}`);
  } catch (e) {
    await removeLibrary(l);
    throw e;
  }
  return owned(l);
}

async function copyFixtures(dir: string, suffix = ""): Promise<void> {
  for (const f of await ensureFixtures()) {
    await Deno.copyFile(f.path, `${dir}/${f.name}${suffix}${f.ext}`);
  }
}

/** The served bytes every track must read back as (synthesized from the store in-process). */
function expected(db: string): Map<number, Uint8Array> {
  using store = openStore(db, { mode: "ro" });
  return new Map(tracks(db).map((t) => [t.id, expectedBytes(store, t.id)]));
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Read every served file (through `cat`, as a user would) and compare with the expected bytes. */
async function readsBack(db: string, mnt: string, flags: string[]): Promise<string> {
  const want = expected(db);
  let metrics = "";
  await withMount(db, mnt, [...flags, "--expose-metrics"], async () => {
    for (const [id, path] of pathsById(db, mnt)) {
      const r = await sh(`cat ${q(path)} > /dev/null`);
      assert.equal(r.code, 0, `cat ${path} (${flags.join(" ")}): ${r.stderr}`);
      const got = await Deno.readFile(path);
      assert.ok(sameBytes(got, want.get(id)!), `${path} (${flags.join(" ")}) reads back exactly`);
    }
    metrics = await Deno.readTextFile(`${mnt}/.musefs-metrics/metrics`);
  });
  return metrics;
}

const FLAG_SETS = [["--read-ahead-budget-mib", "0"], []];

Deno.test({
  name: "e2e: a library on tmpfs reads back exactly, read-ahead off and on",
  ignore: noFuse,
  async fn() {
    await using lib = await library(async (_base, dir) => {
      await shOk(`mount -t tmpfs -o size=64m musefs-test ${q(dir)}`);
      await copyFixtures(dir);
      return dir;
    });
    for (const flags of FLAG_SETS) {
      const metrics = await readsBack(lib.db, `${lib.base}/mnt`, flags);
      // On kernels whose tmpfs has RWF_NOWAIT, the bytes are all this test can check.
      if (tmpfsLacksNowait) {
        assert.equal(metric(metrics, "musefs_backing_memory_filesystems"), 1, metrics);
        assert.equal(metric(metrics, "musefs_backing_nowait_unsupported_filesystems"), 0);
        assert.equal(metric(metrics, "musefs_reads_offloaded_total"), 0, "memory is read inline");
      }
    }
  },
});

Deno.test({
  name: "e2e: a library through bindfs (a FUSE store) reads back exactly, read-ahead off and on",
  ignore: noFuse,
  async fn() {
    await using lib = await library(async (base, dir) => {
      await copyFixtures(dir);
      const bind = `${base}/bind`;
      await Deno.mkdir(bind);
      await shOk(`bindfs -r ${q(dir)} ${q(bind)}`);
      return bind;
    });
    for (const flags of FLAG_SETS) {
      const metrics = await readsBack(lib.db, `${lib.base}/mnt`, flags);
      assert.equal(metric(metrics, "musefs_backing_nowait_unsupported_filesystems"), 1, metrics);
      assert.ok(metric(metrics, "musefs_reads_offloaded_total") > 0, metrics);
    }
  },
});

Deno.test({
  name: "e2e: EOPNOTSUPP on one backing file system leaves another one's reads inline",
  ignore: noFuse,
  async fn() {
    await using lib = await library(async (base, dir) => {
      await copyFixtures(dir);
      // A FUSE store inside the library: its files read through the workers.
      await Deno.mkdir(`${base}/store`);
      await copyFixtures(`${base}/store`, "_fuse");
      await Deno.mkdir(`${dir}/fuse`);
      await shOk(`bindfs -r ${q(`${base}/store`)} ${q(`${dir}/fuse`)}`);
      return dir;
    });
    const mnt = `${lib.base}/mnt`;
    const want = expected(lib.db);
    const rows = tracks(lib.db);
    const onFuse = (r: TrackRow) => r.backing_path.includes("/fuse/");
    await withMount(lib.db, mnt, ["--expose-metrics"], async () => {
      const paths = pathsById(lib.db, mnt);
      const read = async (r: TrackRow) => {
        const got = await Deno.readFile(paths.get(r.id)!);
        assert.ok(sameBytes(got, want.get(r.id)!), `${r.backing_path} reads back exactly`);
      };
      for (const r of rows.filter(onFuse)) await read(r);
      const metricsFile = `${mnt}/.musefs-metrics/metrics`;
      const before = await Deno.readTextFile(metricsFile);
      assert.equal(metric(before, "musefs_backing_nowait_unsupported_filesystems"), 1, before);
      // The ext4 (or other disk) copies, warm in the page cache: answered inline.
      const onDisk = rows.filter((r) => !onFuse(r));
      for (const r of onDisk) await Deno.readFile(r.backing_path);
      for (const r of onDisk) await read(r);
      const after = await Deno.readTextFile(metricsFile);
      assert.equal(metric(after, "musefs_backing_nowait_unsupported_filesystems"), 1, after);
      const inline = metric(after, "musefs_reads_inline_total") -
        metric(before, "musefs_reads_inline_total");
      assert.ok(inline >= onDisk.length, `${inline} inline reads for ${onDisk.length} files`);
    });
  },
});
