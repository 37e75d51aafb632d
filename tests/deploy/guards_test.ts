// Deployment guards, end to end through the CLI: a mountpoint over or inside
// the scanned library, or one that already carries a musefs mount, is
// refused before anything is mounted (exit 1, one line naming the conflict,
// no hang); scan and revalidate walk past a musefs mount inside a target.

import assert from "node:assert/strict";
import {
  isMounted,
  type Library,
  mount,
  musefsWithin,
  noFuse,
  type Ran,
  scannedLibrary,
  tracks,
  withMount,
} from "../e2e/helpers.ts";

/** `musefs args` that must end by itself within `ms`: a hang is a failure, not a wait. */
async function exitsWithin(args: string[], ms = 20_000): Promise<Ran> {
  const first = await musefsWithin(args, ms);
  assert.notEqual(first, "timeout", `musefs ${args.join(" ")} still running after ${ms} ms`);
  return first as Ran;
}

async function refused(
  lib: Library,
  mountpoint: string,
  message: RegExp,
  mountedBefore = false,
): Promise<void> {
  const r = await exitsWithin(["mount", mountpoint, "--db", lib.db]);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /^musefs: /);
  assert.match(r.stderr, message);
  assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
  assert.equal(await isMounted(mountpoint), mountedBefore, "nothing mounted");
}

Deno.test({
  name: "deploy: mount guards refuse the library, its inside and a second mount",
  ignore: noFuse,
  async fn(t) {
    await using lib = await scannedLibrary("musefs-guard-");
    await t.step("over the library: its directory, an ancestor, a symlink to it", async () => {
      const over = /refusing to mount over the music library: .* holds scanned files \(e\.g\. /;
      await refused(lib, lib.lib, over);
      await refused(lib, lib.base, over);
      // A relative mountpoint and a symlink to the library are the same directory.
      await Deno.symlink(lib.lib, `${lib.base}/link`);
      await refused(lib, `${lib.base}/link`, over);
    });

    await t.step("inside the library", async () => {
      const inside = /refusing to mount inside the music library: .* lies in .*lib, which holds/;
      await Deno.mkdir(`${lib.lib}/view`);
      await refused(lib, `${lib.lib}/view`, inside);
      await Deno.mkdir(`${lib.lib}/deeper/view`, { recursive: true });
      await refused(lib, `${lib.lib}/deeper/view`, inside);
    });

    await t.step("beside the library is fine; mounting twice is refused", async () => {
      const mnt = `${lib.base}/mnt`;
      await withMount(lib.db, mnt, [], async (m) => {
        await refused(
          lib,
          mnt,
          /is already a musefs mount \(fuse\.musefs\); unmount it first/,
          true,
        );
        // The first mount still serves.
        assert.ok((await Array.fromAsync(Deno.readDir(mnt))).length > 0);
        const mounts = (await Deno.readTextFile("/proc/self/mountinfo")).split("\n")
          .filter((l) => l.split(" ")[4] === mnt);
        assert.equal(mounts.length, 1, "exactly one mount at the mountpoint");
        assert.match(mounts[0], / - fuse\.musefs musefs /);
        await Deno.symlink(mnt, `${lib.base}/mnt-link`);
        await refused(lib, `${lib.base}/mnt-link`, /is already a musefs mount/);
        // A first mount that cannot answer (its process stopped) is refused too, not waited on.
        m.child.kill("SIGSTOP");
        try {
          await refused(lib, mnt, /is already a musefs mount/, true);
        } finally {
          m.child.kill("SIGCONT");
        }
      });
    });

    await t.step("a dead musefs mount (killed process) is detached, not refused", async () => {
      const mnt = `${lib.base}/mnt`;
      await using dead = await mount(lib.db, mnt);
      dead.child.kill("SIGKILL");
      await dead.child.status;
      assert.equal(await isMounted(mnt), true, "the killed process left its mount");
      await withMount(lib.db, mnt, [], async (m) => {
        assert.match(m.log(), /dead FUSE mount was left here by a killed process/);
        assert.ok((await Array.fromAsync(Deno.readDir(mnt))).length > 0);
      });
    });
  },
});

Deno.test({
  name: "deploy: scan and revalidate do not enter a musefs mount",
  ignore: noFuse,
  async fn() {
    // Disposal lazily detaches whatever is still mounted under the library (the mount here).
    await using lib = await scannedLibrary("musefs-guard-walk-");
    const mnt = `${lib.base}/mnt`;
    const other = `${lib.base}/other.db`;
    await withMount(lib.db, mnt, [], async () => {
      assert.ok((await Array.fromAsync(Deno.readDir(mnt))).length > 0, "the mount serves");
      // A second store scanning the directory that holds both the library and the mount.
      const scan = await exitsWithin(["scan", lib.base, "--db", other, "-v"]);
      assert.equal(scan.code, 0, scan.stderr);
      assert.match(scan.stderr, new RegExp(`not descending into ${mnt}: it is a musefs mount`));
      const found = tracks(other).map((t) => t.backing_path);
      assert.equal(found.length, lib.fixtures.size, found.join("\n"));
      assert.ok(found.every((p) => p.startsWith(`${lib.lib}/`)), found.join("\n"));

      const reval = await exitsWithin(["revalidate", lib.base, "--db", other, "-v", "--prune"]);
      assert.equal(reval.code, 0, reval.stderr);
      assert.match(reval.stderr, new RegExp(`not descending into ${mnt}: it is a musefs mount`));
      assert.equal(tracks(other).length, lib.fixtures.size, "nothing pruned");

      const quiet = await exitsWithin(["scan", lib.base, "--db", other]);
      assert.doesNotMatch(quiet.stderr, /not descending/, "said at -v only");

      // The mount itself as a target: skipped whole, with a warning.
      const target = await exitsWithin(["scan", mnt, "--db", `${lib.base}/third.db`]);
      assert.match(
        target.stderr,
        new RegExp(`skipping ${mnt}: it is the musefs mount at ${mnt}`),
      );
      assert.match(target.stdout, /scanned .*: 0 file\(s\)/);
      const inside = (await Array.fromAsync(Deno.readDir(mnt)))[0].name;
      const deep = await exitsWithin([
        "scan",
        `${mnt}/${inside}`,
        "--db",
        `${lib.base}/third.db`,
      ]);
      assert.match(deep.stderr, /it is inside the musefs mount at/);
    });
  },
});
