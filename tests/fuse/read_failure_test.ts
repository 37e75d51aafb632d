// A read that fails on an I/O worker is warned about with the backing file it
// was for (through the rate-limited "cannot serve" warning), like a read that
// fails inline; the kernel gets EIO.

import assert from "node:assert/strict";
import * as libc from "../../ffi/libc.ts";
import { XATTR } from "../../src/core/api.ts";
import { Dispatcher } from "../../src/fuse/dispatch.ts";
import { IoPool } from "../../src/fuse/io_pool.ts";
import type { ServerLog } from "../../src/fuse/log.ts";
import { ServerStats } from "../../src/fuse/stats.ts";
import { DirLibrary } from "./dir_library.ts";

/** A directory library that names a backing file for every inode, as the core does. */
class NamedLibrary extends DirLibrary {
  xattr(_ino: number, name: string): string | null {
    return name === XATTR.backingPath ? "/srv/music/gone.flac" : null;
  }
}

Deno.test("a read that fails on an I/O worker is warned about with its backing file", () => {
  const dir = Deno.makeTempDirSync({ prefix: "musefs-readfail-" });
  const device = `${dir}.replies`;
  const fd = libc.open(device, libc.O_WRONLY | 0o100 | 0o1000, 0o600);
  const warnings: string[] = [];
  const log: ServerLog = {
    error() {},
    warn: (m) => warnings.push(m),
    info() {},
    debug() {},
  };
  const pool = new IoPool(fd, 1, log, () => {});
  const d = new Dispatcher(fd, new NamedLibrary(dir), pool, new ServerStats(), {
    attrTtlMs: 1000,
    log,
    maxReadaheadKib: 1024,
    maxBackground: 64,
    passthrough: false,
  });
  try {
    // A cold piece goes to the workers; then the worker reports its failure.
    d.serveRead(41n, [{ kind: "file", fd: 1 << 20, offset: 0, length: 4096, cold: true }], 7);
    d.failRead(41n, "pread: EIO (Input/output error)");
    assert.deepEqual(warnings, [
      "cannot serve /srv/music/gone.flac (READ → EIO): pread: EIO (Input/output error)",
    ]);
    // An unknown request (never offloaded) still warns, without a path.
    d.failRead(99n, "pread: EIO");
    assert.equal(warnings.at(-1), "read failed: pread: EIO");
  } finally {
    pool.close();
    d.close();
    libc.close(fd);
    Deno.removeSync(dir, { recursive: true });
    Deno.removeSync(device);
  }
});
