// mount(8) and /etc/fstab through fuse3's mount helper, for real: a private
// mount namespace puts a `musefs` wrapper (the shipped command line) first on
// the default PATH (/usr/local/sbin) — mount(8) clears PATH, so that is
// where mount.fuse3 looks — and runs
//
//   mount -t fuse.musefs STORE MOUNTPOINT -o allow_other,template=…
//   mount -T <fstab> MOUNTPOINT
//
// The command must return 0 with the mount already answering, leave one
// daemon behind that ends when the filesystem is unmounted, and fail with
// the reason when the mount is refused. The namespace keeps all of it (the
// wrapper and the mounts) away from the rest of the machine.

import assert from "node:assert/strict";
import { noFuse, scannedLibrary, sh } from "../e2e/helpers.ts";
import { codeBlocks, read } from "../docs/markdown.ts";
import { q, writeWrapper } from "./shipped.ts";

const haveHelper =
  (await sh("test -x /sbin/mount.fuse3 && command -v unshare && command -v pgrep")).code === 0;
if (!haveHelper) {
  console.warn("SKIPPING mount(8) tests: needs /sbin/mount.fuse3 (fuse3), unshare, pgrep (procps)");
}

/** Run `script` as root in a private mount namespace; `set -e` is not used: markers report. */
function inNamespace(script: string) {
  return sh(`unshare --mount --propagation private sh -c ${q(script)}`);
}

/** `mount …` then checks, then unmount, then wait for the daemon to end; echoes markers. */
function mountScript(bin: string, mp: string, mountCommand: string): string {
  return [
    `mount --bind ${q(bin)} /usr/local/sbin || exit 99`,
    `${mountCommand}; echo "rc=$?"`,
    // No waiting here: the mount must answer as soon as the command returns.
    `ls -1 ${q(mp)} | sed 's/^/entry=/'`,
    `grep -F ' ${mp} ' /proc/self/mountinfo | sed 's/^/mountinfo=/'`,
    `echo "daemons=$(pgrep -fc -- ${q(`--db .* ${mp}$`)})"`,
    `umount ${q(mp)}; echo "umount=$?"`,
    // The daemon ends by itself once unmounted.
    `i=0; while pgrep -f -- ${
      q(`--db .* ${mp}$`)
    } >/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done`,
    `echo "left=$(pgrep -fc -- ${q(`--db .* ${mp}$`)})"`,
  ].join("\n");
}

function markers(out: string, key: string): string[] {
  return out.split("\n").filter((l) => l.startsWith(`${key}=`)).map((l) => l.slice(key.length + 1));
}

Deno.test({
  name: "deploy: mount -t fuse.musefs and an fstab line through mount.fuse3",
  ignore: noFuse || !haveHelper,
  async fn(t) {
    await using lib = await scannedLibrary("musefs-mount8-");
    const bin = `${lib.base}/bin`;
    const mp = `${lib.base}/mnt`;
    await Deno.mkdir(bin);
    await writeWrapper(bin);

    await t.step("mount -t fuse.musefs STORE MOUNTPOINT -o …", async () => {
      const r = await inNamespace(mountScript(
        bin,
        mp,
        `mount -t fuse.musefs ${q(lib.db)} ${q(mp)} -o allow_other,template='$title',ro`,
      ));
      assert.deepEqual(markers(r.stdout, "rc"), ["0"], r.stdout + r.stderr);
      const entries = markers(r.stdout, "entry");
      assert.ok(entries.includes("Ça va — 東京 ♫.flac"), entries.join("\n"));
      assert.ok(entries.every((e) => !e.includes("/")), "flat: template=$title applied");
      const info = markers(r.stdout, "mountinfo");
      assert.equal(info.length, 1, r.stdout);
      assert.match(info[0], / - fuse\.musefs musefs ro,.*allow_other/);
      assert.deepEqual(markers(r.stdout, "daemons"), ["1"], "one background daemon");
      assert.deepEqual(markers(r.stdout, "umount"), ["0"]);
      assert.deepEqual(markers(r.stdout, "left"), ["0"], "the daemon ended with the unmount");
    });

    await t.step("an fstab line: mount -T FSTAB MOUNTPOINT", async () => {
      const fstab = `${lib.base}/fstab`;
      // The README's example line, with this test's store and mountpoint.
      const example = codeBlocks(read("README.md")).filter((b) => b.lang === "fstab");
      assert.equal(example.length, 1, "one fstab example in the README");
      const line = example[0].code.trim();
      assert.match(line, /^\/var\/lib\/musefs\/library\.db\s+\/mnt\/music\s+fuse\.musefs\s/);
      await Deno.writeTextFile(
        fstab,
        line.replace("/var/lib/musefs/library.db", lib.db).replace("/mnt/music", mp) + "\n",
      );
      const r = await inNamespace(mountScript(bin, mp, `mount -T ${q(fstab)} ${q(mp)}`));
      assert.deepEqual(markers(r.stdout, "rc"), ["0"], r.stdout + r.stderr);
      // template=$albumartist/$album/$title as written: artist directories at the top.
      assert.deepEqual(markers(r.stdout, "entry"), ["Various Ärtists"], r.stdout);
      assert.match(markers(r.stdout, "mountinfo")[0] ?? "", /allow_other/);
      assert.equal(markers(r.stdout, "mountinfo").length, 1, r.stdout);
      assert.deepEqual(markers(r.stdout, "left"), ["0"]);
    });

    await t.step("a refused mount fails mount(8) with the reason, nothing left", async () => {
      const r = await inNamespace(mountScript(
        bin,
        lib.lib,
        `mount -t fuse.musefs ${q(lib.db)} ${q(lib.lib)} -o allow_other`,
      ));
      assert.notDeepEqual(markers(r.stdout, "rc"), ["0"], r.stdout);
      assert.match(r.stderr, /musefs: refusing to mount over the music library/);
      assert.equal(markers(r.stdout, "mountinfo").length, 0, r.stdout);
      assert.deepEqual(markers(r.stdout, "daemons"), ["0"]);
    });

    await t.step("an unknown option fails with its name", async () => {
      const r = await inNamespace(mountScript(
        bin,
        mp,
        `mount -t fuse.musefs ${q(lib.db)} ${q(mp)} -o templat='$title'`,
      ));
      assert.notDeepEqual(markers(r.stdout, "rc"), ["0"], r.stdout);
      assert.match(r.stderr, /unknown mount option 'templat'/);
      assert.equal(markers(r.stdout, "mountinfo").length, 0);
    });
  },
});
