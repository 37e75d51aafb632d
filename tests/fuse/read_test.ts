// Real mounts: large and concurrent reads are byte-identical, both when the
// backing data is in the page cache (served inline) and when it is cold
// (RWF_NOWAIT would block: served by I/O workers).

import assert from "node:assert/strict";
import { assertCleanStop, metric, noFuse, sh, shOk, startMount, tempDirs } from "./helpers.ts";

/**
 * Drop a file's pages from the page cache so the next read must hit the disk.
 * fadvise(DONTNEED) alone can leave pages behind on a busy machine; as root,
 * dropping the clean page cache makes it certain.
 */
async function evict(path: string): Promise<void> {
  await shOk(`sync "${path}" && dd if="${path}" iflag=nocache count=0 status=none`);
  await sh("sync && echo 1 > /proc/sys/vm/drop_caches");
}

Deno.test({
  name: "fuse read: a 64 MiB file reads back byte-identical, warm (inline) and cold (I/O workers)",
  ignore: noFuse,
  fn: async () => {
    await using dirs = await tempDirs();
    const { source, mountpoint } = dirs;
    await shOk(`head -c ${64 << 20} /dev/urandom > ${source}/big.flac`);
    // Also a .syn file: synthesized header + 8 MiB, so offloaded reads carry bytes pieces too.
    await shOk(`head -c ${8 << 20} /dev/urandom > ${source}/big.syn`);
    await using m = await startMount(source, mountpoint, { exposeMetrics: true });
    assert.equal(m.ready.readAheadRaised, true);
    // Cold: evicted backing pages, so the server must hand reads to workers.
    await evict(`${source}/big.flac`);
    await evict(`${source}/big.syn`);
    await shOk(`cmp ${source}/big.flac ${mountpoint}/big.flac`);
    await shOk(
      `(printf 'MUSEFS-SYNTHETIC-HEADER\\n'; cat ${source}/big.syn) | cmp - ${mountpoint}/big.syn`,
    );
    let text = await shOk(`cat ${mountpoint}/.musefs-metrics/metrics`);
    const offloaded = metric(text, "musefs_reads_offloaded_total");
    assert.ok(offloaded > 0, "cold reads went to I/O workers");
    assert.ok(metric(text, "musefs_pool_workers") >= 1);
    assert.equal(metric(text, "musefs_reads_inflight"), 0);
    assert.equal(metric(text, "musefs_read_errors_total"), 0);
    // Warm: drop the kernel's cache of the *mounted* file (not the backing
    // file), so reads come to us again and find the backing data cached.
    await shOk(`dd if=${mountpoint}/big.flac iflag=nocache count=0 status=none`);
    const before = metric(text, "musefs_reads_inline_total");
    await shOk(`cat ${source}/big.flac > /dev/null`);
    await shOk(`cmp ${source}/big.flac ${mountpoint}/big.flac`);
    text = await shOk(`cat ${mountpoint}/.musefs-metrics/metrics`);
    assert.ok(metric(text, "musefs_reads_inline_total") > before, "warm reads served inline");
    assert.equal(metric(text, "musefs_read_errors_total"), 0);
    await assertCleanStop(m);
  },
});

Deno.test({
  name: "fuse read: 8 concurrent readers and a tree walker all get correct bytes",
  ignore: noFuse,
  fn: async () => {
    await using dirs = await tempDirs();
    const { source, mountpoint } = dirs;
    for (let i = 0; i < 8; i++) {
      await Deno.mkdir(`${source}/album${i}`);
      await shOk(`head -c ${(3 << 20) + i * 4097} /dev/urandom > ${source}/album${i}/track.flac`);
      for (let j = 0; j < 20; j++) {
        await Deno.writeTextFile(`${source}/album${i}/small${j}.syn`, `small ${i} ${j}\n`);
      }
      if (i % 2 === 0) await evict(`${source}/album${i}/track.flac`);
    }
    await using m = await startMount(source, mountpoint, { exposeMetrics: true, workers: 3 });
    const readers = Array.from({ length: 8 }, (_, i) =>
      sh(
        `for k in 1 2 3; do cmp ${source}/album${i}/track.flac ${mountpoint}/album${i}/track.flac ` +
          `|| exit 1; dd if=${mountpoint}/album${i}/track.flac iflag=nocache count=0 status=none; done`,
      ));
    const walker = sh(
      `cd ${mountpoint} && for k in 1 2 3 4 5; do find . -type f -name '*.syn' | sort | ` +
        `xargs cat | sha256sum; done`,
    );
    const expected = await shOk(
      `cd ${source} && find . -type f -name '*.syn' | sort | ` +
        `while read f; do printf 'MUSEFS-SYNTHETIC-HEADER\\n'; cat "$f"; done | sha256sum`,
    );
    const results = await Promise.all(readers);
    for (const [i, r] of results.entries()) {
      assert.equal(r.code, 0, `reader ${i}: ${r.stdout}${r.stderr}`);
    }
    const w = await walker;
    assert.equal(w.code, 0, w.stderr);
    assert.deepEqual(w.stdout.trim().split("\n"), Array(5).fill(expected.trim()));
    const text = await shOk(`cat ${mountpoint}/.musefs-metrics/metrics`);
    assert.equal(metric(text, "musefs_read_errors_total"), 0);
    assert.equal(metric(text, "musefs_reads_inflight"), 0);
    assert.ok(metric(text, "musefs_pool_workers") <= 3);
    await assertCleanStop(m);
  },
});

Deno.test({
  name: "fuse read: replies made of thousands of pieces are assembled in order",
  ignore: noFuse,
  fn: async () => {
    await using dirs = await tempDirs();
    const { source, mountpoint } = dirs;
    await shOk(`head -c ${(8 << 20) + 777} /dev/urandom > ${source}/pieces.frag`);
    await using m = await startMount(source, mountpoint, { exposeMetrics: true });
    await shOk(`cmp ${source}/pieces.frag ${mountpoint}/pieces.frag`);
    // Small reads (fewer pieces than one writev takes) are served inline.
    await shOk(`dd if=${mountpoint}/pieces.frag iflag=nocache count=0 status=none`);
    const direct = await shOk(
      `dd if=${mountpoint}/pieces.frag bs=4096 skip=3 count=5 iflag=direct status=none | sha256sum`,
    );
    const expected = await shOk(
      `dd if=${source}/pieces.frag bs=4096 skip=3 count=5 status=none | sha256sum`,
    );
    assert.equal(direct, expected);
    const text = await shOk(`cat ${mountpoint}/.musefs-metrics/metrics`);
    assert.ok(metric(text, "musefs_reads_offloaded_total") > 0, "1 MiB reads went to workers");
    assert.equal(metric(text, "musefs_read_errors_total"), 0);
    await assertCleanStop(m);
  },
});
