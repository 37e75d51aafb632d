// Real mounts: structure-only passthrough. Opens that hand the server a
// backing fd are registered with the kernel (FUSE_DEV_IOC_BACKING_OPEN) and
// answered FOPEN_PASSTHROUGH: the kernel then reads the backing file itself
// and no READ reaches the daemon, yet the bytes are identical.

import assert from "node:assert/strict";
import { assertCleanStop, metric, noFuse, shOk, startMount, tempDirs } from "./helpers.ts";
import { hasCapSysAdmin } from "../../src/fuse/privileges.ts";

const [major, minor] = Deno.osRelease().split(".").map(Number);
/** Linux 6.9+ offers FUSE passthrough to a daemon holding CAP_SYS_ADMIN. */
const passthroughKernel = major > 6 || (major === 6 && minor >= 9);
/** Why the passthrough tests cannot run here (Deno reports them ignored), or false. */
const noPassthrough = noFuse || !hasCapSysAdmin() || !passthroughKernel;
if (noPassthrough && !noFuse) {
  console.warn("passthrough tests ignored: they need Linux 6.9+ and CAP_SYS_ADMIN");
}

Deno.test({
  name: "fuse passthrough: backing files are served by the kernel, byte-identical",
  ignore: noPassthrough,
  fn: async () => {
    await using dirs = await tempDirs();
    const { source, mountpoint } = dirs;
    await shOk(`head -c ${16 << 20} /dev/urandom > ${source}/track.flac`);
    await Deno.writeTextFile(`${source}/daemon.syn`, "served by the daemon\n");
    await using m = await startMount(source, mountpoint, {
      passthrough: true,
      exposeMetrics: true,
    });
    assert.equal(m.ready.passthrough, true, "kernel ≥ 6.9 but no passthrough negotiated");
    const metricsFile = `${mountpoint}/.musefs-metrics/metrics`;
    const before = await shOk(`cat ${metricsFile}`);
    await shOk(`cmp ${source}/track.flac ${mountpoint}/track.flac`);
    await shOk(`cmp ${source}/track.flac ${mountpoint}/track.flac`);
    const after = await shOk(`cat ${metricsFile}`);
    assert.equal(metric(after, "musefs_passthrough_active"), 1);
    assert.equal(metric(after, "musefs_passthrough_disabled"), 0);
    assert.equal(metric(after, "musefs_passthrough_opens_total"), 2);
    // 32 MiB were read, but the only daemon reads are of the metrics file itself.
    const daemonReads = metric(after, "musefs_reads_inline_total") +
      metric(after, "musefs_reads_offloaded_total") -
      metric(before, "musefs_reads_inline_total") -
      metric(before, "musefs_reads_offloaded_total");
    assert.ok(daemonReads <= 3, `daemon served ${daemonReads} reads`);
    // Opens without a backing fd (synthesized) are still served by the daemon.
    const syn = await shOk(`cat ${mountpoint}/daemon.syn`);
    assert.match(syn, /served by the daemon\n$/);
    // mmap goes through the backing file too.
    const head = await shOk(
      `/usr/bin/python3 -c "import mmap,sys
f=open('${mountpoint}/track.flac','rb'); m=mmap.mmap(f.fileno(),0,prot=mmap.PROT_READ)
g=open('${source}/track.flac','rb').read()
print(m[:]==g)"`,
    );
    assert.equal(head.trim(), "True");
    await assertCleanStop(m);
  },
});

Deno.test({
  name: "fuse passthrough: not requested (synthesis mode) means every read reaches the daemon",
  ignore: noFuse,
  fn: async () => {
    await using dirs = await tempDirs();
    const { source, mountpoint } = dirs;
    await shOk(`head -c ${4 << 20} /dev/urandom > ${source}/track.flac`);
    await using m = await startMount(source, mountpoint, {
      passthrough: false,
      exposeMetrics: true,
    });
    assert.equal(m.ready.passthrough, false);
    await shOk(`cmp ${source}/track.flac ${mountpoint}/track.flac`);
    const text = await shOk(`cat ${mountpoint}/.musefs-metrics/metrics`);
    assert.equal(metric(text, "musefs_passthrough_active"), 0);
    assert.equal(metric(text, "musefs_passthrough_opens_total"), 0);
    assert.ok(
      metric(text, "musefs_reads_inline_total") +
          metric(text, "musefs_reads_offloaded_total") >= 4,
    );
    await assertCleanStop(m);
  },
});

Deno.test({
  name: "fuse passthrough: a failed backing registration turns passthrough off, reads still work",
  ignore: noPassthrough,
  fn: async () => {
    await using dirs = await tempDirs();
    const { source, mountpoint } = dirs;
    await shOk(`head -c ${1 << 20} /dev/urandom > ${source}/first.flac`);
    await shOk(`head -c ${1 << 20} /dev/urandom > ${source}/refused.badfd`);
    await shOk(`head -c ${1 << 20} /dev/urandom > ${source}/after.flac`);
    await using m = await startMount(source, mountpoint, {
      passthrough: true,
      exposeMetrics: true,
    });
    assert.equal(m.ready.passthrough, true, "kernel ≥ 6.9 but no passthrough negotiated");
    await shOk(`cmp ${source}/first.flac ${mountpoint}/first.flac`);
    await shOk(`cmp ${source}/refused.badfd ${mountpoint}/refused.badfd`);
    await shOk(`cmp ${source}/after.flac ${mountpoint}/after.flac`);
    const text = await shOk(`cat ${mountpoint}/.musefs-metrics/metrics`);
    assert.equal(metric(text, "musefs_passthrough_disabled"), 1);
    assert.equal(metric(text, "musefs_passthrough_active"), 0);
    assert.equal(metric(text, "musefs_passthrough_opens_total"), 1); // only the first
    assert.equal(metric(text, "musefs_read_errors_total"), 0);
    assert.equal(m.stderr().match(/kernel passthrough disabled/g)?.length, 1);
    await assertCleanStop(m);
  },
});
