import assert from "node:assert/strict";
import { Init, Init2 } from "../../ffi/fuse_abi.ts";
import { MAX_PAGES, negotiateInit, PASSTHROUGH_STACK_DEPTH } from "../../src/fuse/init.ts";

const ALL = 0x7fffffff;
const kernel = (minor: number, flags = ALL, flags2 = Init2.PASSTHROUGH) => ({
  major: 7,
  minor,
  maxReadahead: 131072,
  flags,
  flags2,
});
const wishes = { maxReadaheadKib: 512, maxBackground: 64, passthrough: false };

Deno.test("init: asks for async reads, parallel dirops, readdirplus and 1 MiB requests", () => {
  const n = negotiateInit(kernel(45), wishes);
  assert.equal(n.minor, 41);
  assert.equal(n.out.minor, 41);
  for (
    const f of [
      Init.ASYNC_READ,
      Init.PARALLEL_DIROPS,
      Init.DO_READDIRPLUS,
      Init.READDIRPLUS_AUTO,
      Init.MAX_PAGES,
    ]
  ) {
    assert.ok(n.out.flags & f, `flag ${f}`);
  }
  assert.equal(n.out.flags & Init.EXPORT_SUPPORT, 0);
  assert.equal(n.out.flags & Init.WRITEBACK_CACHE, 0);
  assert.equal(n.out.maxPages, MAX_PAGES);
  assert.equal(n.out.maxReadahead, 512 * 1024);
  assert.equal(n.out.maxBackground, 64);
  assert.equal(n.out.congestionThreshold, 48);
  assert.equal(n.out.timeGran, 1);
  assert.equal(n.passthrough, false);
  assert.equal(n.out.flags2, 0);
});

Deno.test("init: never claims flags the kernel did not offer; minor follows an older kernel", () => {
  const n = negotiateInit(kernel(31, Init.ASYNC_READ | Init.MAX_PAGES, 0), {
    ...wishes,
    passthrough: true,
  });
  assert.equal(n.minor, 31);
  assert.equal(n.out.flags, Init.ASYNC_READ | Init.MAX_PAGES);
  assert.equal(n.passthrough, false);
  assert.equal(n.out.maxStackDepth, 0);
});

Deno.test("init: passthrough only when wished, offered (flags2) and minor ≥ 40", () => {
  const yes = negotiateInit(kernel(45), { ...wishes, passthrough: true });
  assert.equal(yes.passthrough, true);
  assert.equal(yes.out.flags2 & Init2.PASSTHROUGH, Init2.PASSTHROUGH);
  assert.equal(yes.out.maxStackDepth, PASSTHROUGH_STACK_DEPTH);
  assert.equal(
    negotiateInit(kernel(45, ALL, 0), { ...wishes, passthrough: true }).passthrough,
    false,
  );
  assert.equal(negotiateInit(kernel(39), { ...wishes, passthrough: true }).passthrough, false);
  assert.equal(
    negotiateInit(kernel(45, ALL & ~Init.INIT_EXT), { ...wishes, passthrough: true }).passthrough,
    false,
  );
});

Deno.test("init: readahead saturates at u32; max_background is clamped to u16", () => {
  const n = negotiateInit(kernel(45), {
    ...wishes,
    maxReadaheadKib: 2 ** 32,
    maxBackground: 100_000,
  });
  assert.equal(n.out.maxReadahead, 0xffffffff);
  assert.equal(n.out.maxBackground, 0xffff);
});
