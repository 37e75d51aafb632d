// One rule for OS errors (src/model/errors.ts, servedErrno): the same OS
// error gives the reader the same errno whether the core wrapped it
// (BackingIoError → toFsError), the server met it raw (ErrnoError, a Deno
// error) or an I/O worker answered it from a failed pread.

import assert from "node:assert/strict";
import {
  E,
  ErrnoError,
  O_CLOEXEC,
  O_NOFOLLOW,
  O_RDONLY,
  open as libcOpen,
} from "../../ffi/libc.ts";
import { BackingIoError } from "../../ffi/stat.ts";
import { openBacking } from "../../src/core/backing.ts";
import { toFsError } from "../../src/core/errors.ts";
import { errnoOf } from "../../src/fuse/errno.ts";
import { servedErrno } from "../../src/model/mod.ts";

/** The errno each path answers with, one per way an OS error can reach the kernel. */
function answers(code: string, errno: number): Record<string, number> {
  const raw = new ErrnoError("open", errno);
  return {
    "ErrnoError through the server": errnoOf(raw).errno,
    "ErrnoError through the core": errnoOf(toFsError(raw)).errno,
    "BackingIoError through the core": errnoOf(toFsError(new BackingIoError(code, "/x", "m")))
      .errno,
    "BackingIoError through the server": errnoOf(new BackingIoError(code, "/x", "m")).errno,
    // What src/fuse/io_worker.ts answers for a failed pread.
    "I/O worker": E[servedErrno(raw.code)],
  };
}

Deno.test("os errno: every OS error reads the same through core, server and I/O worker", () => {
  const expected: Record<string, number> = {
    ENOENT: E.ENOENT,
    ENOTDIR: E.ENOENT,
    EACCES: E.EACCES,
    EPERM: E.EACCES,
    EMFILE: E.ENFILE,
    ENFILE: E.ENFILE,
  };
  for (const [code, errno] of Object.entries(E)) {
    const want = expected[code] ?? E.EIO;
    for (const [path, got] of Object.entries(answers(code, errno))) {
      assert.equal(got, want, `${code} ${path}`);
    }
  }
  // Names that are no OS error, or look like Object.prototype keys, are EIO.
  assert.equal(servedErrno("constructor"), "EIO");
  assert.equal(servedErrno(undefined), "EIO");
});

Deno.test("os errno: a real failed open reads the same from the core, libc and Deno", () => {
  const dir = Deno.makeTempDirSync({ prefix: "musefs-os-errno-" });
  using _ = { [Symbol.dispose]: () => Deno.removeSync(dir, { recursive: true }) };
  Deno.writeTextFileSync(`${dir}/file.flac`, "x");
  Deno.symlinkSync(`${dir}/file.flac`, `${dir}/link.flac`);
  const cases: [string, number][] = [
    [`${dir}/missing.flac`, E.ENOENT], // ENOENT
    [`${dir}/file.flac/inner.flac`, E.ENOENT], // ENOTDIR: a file where a directory was
    [`${dir}/link.flac`, E.EIO], // ELOOP: a symlink where a file was scanned (O_NOFOLLOW)
  ];
  const thrown = (fn: () => unknown): unknown => {
    try {
      fn();
    } catch (e) {
      return e;
    }
    assert.fail("no error thrown");
  };
  for (const [path, want] of cases) {
    const core = thrown(() => openBacking(path));
    assert.ok(core instanceof BackingIoError, String(core));
    assert.equal(errnoOf(toFsError(core)).errno, want, `core: ${path}`);
    const nofollow = path.endsWith("link.flac") ? O_NOFOLLOW : 0;
    const raw = thrown(() => libcOpen(path, O_RDONLY | O_CLOEXEC | nofollow));
    assert.ok(raw instanceof ErrnoError, String(raw));
    assert.equal(errnoOf(raw).errno, want, `libc: ${path}`);
    if (nofollow === 0) {
      assert.equal(errnoOf(thrown(() => Deno.openSync(path))).errno, want, `Deno: ${path}`);
    }
  }
});

Deno.test("os errno: Deno's error classes made without a code read as their OS error", () => {
  assert.equal(errnoOf(new Deno.errors.NotFound("gone")).errno, E.ENOENT);
  assert.equal(errnoOf(new Deno.errors.NotADirectory("x")).errno, E.ENOENT);
  assert.equal(errnoOf(new Deno.errors.PermissionDenied("x")).errno, E.EACCES);
  assert.equal(errnoOf(new Deno.errors.IsADirectory("x")).errno, E.EIO);
});
