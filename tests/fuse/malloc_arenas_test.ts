// The mount caps the C allocator's arenas (src/cli/mount.ts): glibc takes
// the setting, and memory a worker thread allocates and frees afterwards is
// then reused by the other threads instead of staying in an arena of its own.

import assert from "node:assert/strict";
import { limitMallocArenas } from "../../ffi/libc.ts";

Deno.test("glibc accepts the arena cap the mount sets", () => {
  assert.equal(limitMallocArenas(1), true);
  assert.equal(limitMallocArenas(0), true, "0 restores glibc's default rule");
});
