// End to end: the size index through real mounts with the shipped flags. A
// mount writes `<store>-sizes` when it stops; the next mount of the store
// answers a walk's stats from it (no synthesis) with the sizes the files
// read as; `--size-index off` writes nothing; a bad --size-index is refused.

import assert from "node:assert/strict";
import { metric, mount, musefsWithin, noFuse, type Ran, scannedLibrary } from "./helpers.ts";

/** Every served file under `root` (metrics excluded) → its stat size. */
async function statAll(root: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const walk = async (dir: string) => {
    for await (const e of Deno.readDir(dir)) {
      if (e.name === ".musefs-metrics") continue;
      const path = `${dir}/${e.name}`;
      if (e.isDirectory) await walk(path);
      else out.set(path.slice(root.length), (await Deno.stat(path)).size);
    }
  };
  await walk(root);
  return out;
}

async function metrics(mnt: string): Promise<string> {
  return await Deno.readTextFile(`${mnt}/.musefs-metrics/metrics`);
}

Deno.test({
  name: "e2e: size index: a second mount stats from it; off writes none; a bad path is refused",
  ignore: noFuse,
  async fn(t) {
    await using lib = await scannedLibrary();
    const mnt = `${lib.base}/mnt`;
    const index = `${lib.db}-sizes`;
    const n = lib.fixtures.size;
    let first = new Map<string, number>();

    await t.step(
      "the first mount synthesizes every size and writes the index when it stops",
      async () => {
        await using m = await mount(lib.db, mnt, ["--expose-metrics"]);
        first = await statAll(mnt);
        assert.equal(first.size, n);
        const text = await metrics(mnt);
        assert.equal(metric(text, "musefs_size_index_hits_total"), 0);
        assert.equal(metric(text, "musefs_size_index_entries"), n);
        const r = await m.stop();
        assert.equal(r.code, 0, r.stderr);
        assert.ok((await Deno.stat(index)).size > 0);
      },
    );

    await t.step("the next mount answers every stat from it, and files read as long", async () => {
      await using m = await mount(lib.db, mnt, ["--expose-metrics"]);
      const again = await statAll(mnt);
      assert.deepEqual(again, first);
      const text = await metrics(mnt);
      assert.equal(metric(text, "musefs_size_index_hits_total"), n);
      assert.equal(metric(text, "musefs_size_index_misses_total"), 0);
      assert.equal(metric(text, "musefs_cache_header_misses_total"), 0, "nothing synthesized");
      for (const [path, size] of again) {
        assert.equal((await Deno.readFile(`${mnt}${path}`)).length, size, path);
      }
      assert.equal(metric(await metrics(mnt), "musefs_size_index_corrections_total"), 0);
      assert.equal((await m.stop()).code, 0);
    });

    await t.step("--size-index off keeps sizes in memory only", async () => {
      await Deno.remove(index);
      await using m = await mount(lib.db, mnt, ["--size-index", "off"]);
      assert.deepEqual(await statAll(mnt), first);
      assert.equal((await m.stop()).code, 0);
      await assert.rejects(() => Deno.stat(index), Deno.errors.NotFound);
    });

    await t.step("--size-index <path> puts it elsewhere", async () => {
      const elsewhere = `${lib.base}/sizes.bin`;
      await using m = await mount(lib.db, mnt, ["--size-index", elsewhere]);
      await statAll(mnt);
      assert.equal((await m.stop()).code, 0);
      assert.ok((await Deno.stat(elsewhere)).size > 0);
      await assert.rejects(() => Deno.stat(index), Deno.errors.NotFound);
    });

    await t.step("a --size-index in a directory that does not exist is refused", async () => {
      const r = await musefsWithin([
        "mount",
        mnt,
        "--db",
        lib.db,
        "--size-index",
        `${lib.base}/no-such-dir/sizes`,
      ]);
      assert.notEqual(r, "timeout");
      const ran = r as Ran;
      assert.equal(ran.code, 1);
      assert.match(
        ran.stderr,
        /--size-index .*no-such-dir\/sizes: directory .*no-such-dir does not exist/,
      );
      const dir = await musefsWithin(["mount", mnt, "--db", lib.db, "--size-index", lib.base]);
      assert.equal((dir as Ran).code, 1);
      assert.match((dir as Ran).stderr, /--size-index .* is a directory/);
    });
  },
});
