// End to end: one user holding many open served files under a daemon with a
// low RLIMIT_NOFILE. Open files do not pin backing descriptors (they are
// reopened on demand, checked to be the same unchanged file), every held
// file still reads its bytes, the user over the per-user limit gets EMFILE,
// and another user's opens and reads keep working.

import assert from "node:assert/strict";
import fs from "node:fs";
import {
  expectedFiles,
  metric,
  noFuse,
  q,
  scannedLibrary,
  sh,
  shOk,
  stemOf,
  tracks,
  withMount,
} from "./helpers.ts";

const NOFILE = 256;
/** More than the per-user open-file limit a 256-descriptor daemon derives. */
const OPENS = 1000;

Deno.test({
  name: "e2e: descriptor exhaustion under a low RLIMIT_NOFILE: EMFILE for the opener only",
  ignore: noFuse,
  async fn() {
    await using lib = await scannedLibrary();
    const mnt = `${lib.base}/mnt`;
    // Another user must reach the mount point.
    await Deno.chmod(lib.base, 0o755);
    const held: number[] = [];
    try {
      await withMount(lib.db, mnt, ["--allow-other", "--expose-metrics"], async (m) => {
        await shOk(`prlimit --pid ${m.child.pid} --nofile=${NOFILE}:${NOFILE}`);
        // The daemon reads its limit again at most once a second (src/core/backing_fds.ts).
        await new Promise((r) => setTimeout(r, 1100));
        const files = [...expectedFiles(tracks(lib.db), stemOf(lib.db)).keys()].map((rel) =>
          `${mnt}/${rel}`
        );
        const want = new Map(files.map((p) => [p, Deno.readFileSync(p)]));

        let refused = 0;
        const heldPaths: string[] = [];
        for (let i = 0; i < OPENS; i++) {
          const path = files[i % files.length];
          try {
            // O_DIRECT: every read reaches the daemon (and its reopen path).
            held.push(fs.openSync(path, fs.constants.O_RDONLY | fs.constants.O_DIRECT));
            heldPaths.push(path);
          } catch (e) {
            assert.equal((e as { code?: string }).code, "EMFILE", `open ${i}: ${e}`);
            refused++;
          }
        }
        assert.ok(refused > 0, "the user over its limit was refused");
        assert.ok(held.length > NOFILE, `${held.length} files held open at once`);

        // Another user opens and reads while root holds its maximum.
        const other = files[3];
        const r = await sh(
          `setpriv --reuid=65534 --regid=65534 --clear-groups cat ${q(other)} | wc -c`,
        );
        assert.equal(r.code, 0, r.stderr);
        assert.equal(Number(r.stdout.trim()), want.get(other)!.length, `another user: ${r.stderr}`);

        // Every held file still reads its own bytes.
        for (let i = 0; i < held.length; i++) {
          const expected = want.get(heldPaths[i])!;
          const buf = new Uint8Array(expected.length + 4096);
          let got = 0;
          for (;;) {
            const n = fs.readSync(held[i], buf, got, 4096, got);
            if (n === 0) break;
            got += n;
          }
          assert.deepEqual(buf.subarray(0, got), expected, `held file ${i}: ${heldPaths[i]}`);
        }

        const metrics = await Deno.readTextFile(`${mnt}/.musefs-metrics/metrics`);
        assert.ok(
          metric(metrics, "musefs_backing_fds_open") <= metric(metrics, "musefs_backing_fds_max"),
        );
        assert.ok(metric(metrics, "musefs_backing_fds_max") < NOFILE, metrics);
        assert.ok(metric(metrics, "musefs_backing_fd_reopens_total") > 0, metrics);
        assert.equal(metric(metrics, "musefs_open_refusals_total"), refused, metrics);
        for (const fd of held.splice(0)) fs.closeSync(fd);
        // Once closed, the user opens again.
        assert.deepEqual(Deno.readFileSync(other), want.get(other));
      });
    } finally {
      for (const fd of held) fs.closeSync(fd);
    }
  },
});
