// Real mounts: after the library reports a refresh, the kernel's caches of
// changed files and vanished names are dropped, so readers see the new
// state. A control mount whose library reports nothing shows the stale
// cache, proving the notifications are what makes the difference.

import assert from "node:assert/strict";
import { assertCleanStop, noFuse, sh, shOk, startMount, tempDirs } from "./helpers.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function scenario(invalidate: boolean): Promise<{ content: string; oldNameStat: number }> {
  await using dirs = await tempDirs();
  const { source, mountpoint } = dirs;
  await Deno.writeTextFile(`${source}/song.flac`, "A".repeat(10000));
  await Deno.writeTextFile(`${source}/gone.flac`, "gone");
  // Long TTLs: without notifications the kernel trusts its caches for a minute.
  await using m = await startMount(source, mountpoint, {
    invalidate,
    pollIntervalMs: 100,
    attrTtlMs: 60_000,
  });
  assert.equal(await shOk(`cat ${mountpoint}/song.flac`), "A".repeat(10000));
  await shOk(`stat ${mountpoint}/gone.flac`);
  // Same size, new bytes, in place; and one file disappears.
  await Deno.writeTextFile(`${source}/song.flac`, "B".repeat(10000));
  await Deno.remove(`${source}/gone.flac`);
  await sleep(800); // several poll timer ticks
  const content = await shOk(`cat ${mountpoint}/song.flac`);
  const oldNameStat = (await sh(`stat ${mountpoint}/gone.flac`)).code;
  await assertCleanStop(m);
  return { content, oldNameStat };
}

Deno.test({
  name: "fuse invalidation: changed bytes and vanished names are dropped from the kernel's caches",
  ignore: noFuse,
  fn: async () => {
    const fresh = await scenario(true);
    assert.equal(fresh.content, "B".repeat(10000));
    assert.notEqual(fresh.oldNameStat, 0, "the vanished name is gone at once");
  },
});

Deno.test({
  name: "fuse invalidation (control): without a refresh report the kernel keeps serving its cache",
  ignore: noFuse,
  fn: async () => {
    const stale = await scenario(false);
    assert.equal(stale.content, "A".repeat(10000));
    assert.equal(stale.oldNameStat, 0, "the cached entry survives until its TTL");
  },
});
