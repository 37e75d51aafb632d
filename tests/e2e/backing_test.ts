// End to end: the backing files. Structure-only mode serves them byte for
// byte (through kernel passthrough when root), and a backing file changed
// behind the store's back gives EIO — never wrong or stale bytes — in both
// modes, even when the kernel had the old bytes cached.

import assert from "node:assert/strict";
import fs from "node:fs";
import {
  listFiles,
  metricOrNull,
  noFuse,
  pathsById,
  q,
  readOrErrno,
  scannedLibrary,
  sh,
  tracks,
  withMount,
} from "./helpers.ts";

/** A different byte at `offset`, same length; the mtime moves as any rewrite's would. */
async function flipByte(path: string, offset: number): Promise<void> {
  const bytes = await Deno.readFile(path);
  bytes[offset] ^= 0xff;
  await Deno.writeFile(path, bytes);
}

Deno.test({
  name: "e2e: structure-only serves the backing bytes through passthrough",
  ignore: noFuse,
  async fn() {
    await using lib = await scannedLibrary();
    const mnt = `${lib.base}/mnt`;
    await withMount(lib.db, mnt, ["--mode", "structure-only", "--expose-metrics"], async (m) => {
      assert.match(m.log(), /\(StructureOnly\), passthrough on/, m.log());
      const paths = pathsById(lib, mnt);
      assert.deepEqual(
        (await listFiles(mnt)).map((p) => `${mnt}/${p}`).sort(),
        [...paths.values()].sort(),
      );
      for (const row of tracks(lib.db)) {
        const served = paths.get(row.id)!;
        const r = await sh(`cmp ${q(served)} ${q(row.backing_path)}`);
        assert.equal(r.code, 0, `cmp ${served}: ${r.stdout}${r.stderr}`);
        assert.equal((await Deno.stat(served)).size, (await Deno.stat(row.backing_path)).size);
      }
      const metrics = await Deno.readTextFile(`${mnt}/.musefs-metrics/metrics`);
      assert.equal(metricOrNull(metrics, "musefs_passthrough_active"), 1, metrics);
      assert.equal(metricOrNull(metrics, "musefs_passthrough_disabled"), 0, metrics);
    });
  },
});

Deno.test({
  name: "e2e: a backing file changed behind the store gives EIO, not wrong bytes",
  ignore: noFuse,
  async fn(t) {
    await using lib = await scannedLibrary();
    const mnt = `${lib.base}/mnt`;
    const rows = tracks(lib.db);
    const byFormat = (f: string) => rows.find((r) => r.format === f)!;
    await withMount(lib.db, mnt, [], async () => {
      const paths = pathsById(lib, mnt);
      // Every served file is read once first: its pages sit in the kernel's cache.
      for (const p of paths.values()) assert.ok((await readOrErrno(p)) instanceof Uint8Array);

      await t.step("same length, different bytes", async () => {
        const row = byFormat("opus");
        const size = (await Deno.stat(row.backing_path)).size;
        await flipByte(row.backing_path, size - 10);
        assert.equal((await Deno.stat(row.backing_path)).size, size);
        assert.equal(await readOrErrno(paths.get(row.id)!), "EIO");
      });

      await t.step("a different length", async () => {
        const row = byFormat("oggflac");
        const f = await Deno.open(row.backing_path, { append: true });
        await f.write(new Uint8Array(4096));
        f.close();
        assert.equal(await readOrErrno(paths.get(row.id)!), "EIO");
      });

      await t.step("a touch (same bytes, new mtime)", async () => {
        const row = byFormat("wav");
        await sh(`touch ${q(row.backing_path)}`);
        assert.equal(await readOrErrno(paths.get(row.id)!), "EIO");
      });

      await t.step("a replacement by rename (new inode, same bytes)", async () => {
        const row = byFormat("vorbis");
        await Deno.copyFile(row.backing_path, `${row.backing_path}.new`);
        await Deno.rename(`${row.backing_path}.new`, row.backing_path);
        assert.equal(await readOrErrno(paths.get(row.id)!), "EIO");
      });

      await t.step("a handle opened before the change reads EIO after it", () => {
        const row = rows.filter((r) => r.format === "flac")[0];
        // O_DIRECT: every read reaches the mount instead of the kernel's page cache.
        const fd = fs.openSync(paths.get(row.id)!, fs.constants.O_RDONLY | fs.constants.O_DIRECT);
        try {
          const buf = new Uint8Array(4096);
          assert.equal(fs.readSync(fd, buf, 0, 4096, 0), 4096);
          const size = Deno.statSync(row.backing_path).size;
          const bytes = Deno.readFileSync(row.backing_path);
          bytes[size - 1] ^= 0xff;
          Deno.writeFileSync(row.backing_path, bytes);
          assert.throws(() => fs.readSync(fd, buf, 0, 4096, 0), { code: "EIO" });
        } finally {
          fs.closeSync(fd);
        }
      });

      await t.step("untouched files still serve", async () => {
        const row = byFormat("mp3");
        assert.ok((await readOrErrno(paths.get(row.id)!)) instanceof Uint8Array);
      });
    });

    await withMount(lib.db, mnt, ["--mode", "structure-only"], async (m) => {
      await t.step(
        "structure-only (passthrough): a changed backing file fails the open",
        async () => {
          assert.match(m.log(), /passthrough on/);
          const paths = pathsById(lib, mnt);
          const row = byFormat("m4a");
          const path = paths.get(row.id)!;
          assert.ok((await readOrErrno(path)) instanceof Uint8Array);
          await flipByte(row.backing_path, 100);
          assert.equal(await readOrErrno(path), "EIO");
        },
      );
    });
  },
});
