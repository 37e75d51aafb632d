// The real-mount fixtures clean up when a test body throws: the mount
// process is stopped and nothing stays mounted (the handle's own doing, not
// the temp dirs'), then the temp dirs are gone.

import assert from "node:assert/strict";
import { isMounted, noFuse, shOk, startMount, tempDirs } from "./helpers.ts";

Deno.test({
  name: "fuse fixtures: a body that throws still stops the mount and removes the dirs",
  ignore: noFuse,
  fn: async () => {
    let base = "";
    await assert.rejects(async () => {
      await using dirs = await tempDirs();
      base = dirs.base;
      await Deno.writeTextFile(`${dirs.source}/a.txt`, "a\n");
      let child: Deno.ChildProcess | undefined;
      await assert.rejects(async () => {
        await using m = await startMount(dirs.source, dirs.mountpoint);
        child = m.child;
        assert.equal(await shOk(`cat ${dirs.mountpoint}/a.txt`), "a\n");
        throw new Error("the inner body failed");
      }, /the inner body failed/);
      assert.equal(await isMounted(dirs.mountpoint), false, "nothing left mounted");
      assert.equal((await child!.status).code, 0, "the server was stopped and exited cleanly");
      throw new Error("the outer body failed");
    }, /the outer body failed/);
    await assert.rejects(Deno.stat(base), Deno.errors.NotFound, "temp dirs removed");
  },
});
