// The end-to-end fixtures clean up when a test body throws: `musefs mount`
// is stopped and nothing stays mounted (the handle's own doing, not the
// library's), then the scanned library is removed.

import assert from "node:assert/strict";
import { isMounted, mount, noFuse, scannedLibrary } from "./helpers.ts";

Deno.test({
  name: "e2e fixtures: a body that throws still stops musefs and removes the library",
  ignore: noFuse,
  async fn() {
    let base = "";
    await assert.rejects(async () => {
      await using lib = await scannedLibrary("musefs-disposal-");
      base = lib.base;
      const mnt = `${lib.base}/mnt`;
      let child: Deno.ChildProcess | undefined;
      await assert.rejects(async () => {
        await using m = await mount(lib.db, mnt);
        child = m.child;
        assert.ok((await Array.fromAsync(Deno.readDir(mnt))).length > 0, "the mount serves");
        throw new Error("the inner body failed");
      }, /the inner body failed/);
      assert.equal(await isMounted(mnt), false, "nothing left mounted");
      assert.equal((await child!.status).code, 0, "musefs was stopped and exited cleanly");
      throw new Error("the outer body failed");
    }, /the outer body failed/);
    await assert.rejects(Deno.stat(base), Deno.errors.NotFound, "library removed");
  },
});
