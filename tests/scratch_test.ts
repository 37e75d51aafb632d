// The disposable fixtures release what they own when their scope ends,
// including when the test body throws.

import assert from "node:assert/strict";
import { closing, removing, scratchDir } from "./scratch.ts";

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

Deno.test("scratchDir: a real path, removed with its contents when the scope ends", () => {
  let path = "";
  {
    using tmp = scratchDir("musefs-scratch-test-");
    path = tmp.path;
    assert.equal(Deno.realPathSync(path), path);
    Deno.mkdirSync(`${path}/a/b`, { recursive: true });
    Deno.writeTextFileSync(`${path}/a/b/f`, "x");
  }
  assert.equal(exists(path), false);
});

Deno.test("scratchDir: removed when the body throws, and the body's error is what surfaces", () => {
  let path = "";
  assert.throws(() => {
    using tmp = scratchDir();
    path = tmp.path;
    throw new Error("the test failed");
  }, /the test failed/);
  assert.notEqual(path, "");
  assert.equal(exists(path), false);
});

Deno.test("scratchDir: under another directory when asked", () => {
  using parent = scratchDir();
  using child = scratchDir("inner-", { dir: parent.path });
  assert.ok(child.path.startsWith(`${parent.path}/inner-`), child.path);
});

Deno.test("removing: an already removed path is fine; disposing twice is fine", async () => {
  const path = Deno.makeTempDirSync();
  const owned = removing(path);
  Deno.removeSync(path);
  owned[Symbol.dispose]();
  await owned[Symbol.asyncDispose]();
  assert.equal(exists(path), false);
});

Deno.test("closing: close() runs once when the scope ends, also on a throw", () => {
  let closed = 0;
  const resource = { close: () => closed++ };
  assert.throws(() => {
    using r = closing(resource);
    assert.equal(r, resource);
    throw new Error("boom");
  }, /boom/);
  assert.equal(closed, 1);
});
