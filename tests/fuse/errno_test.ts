import assert from "node:assert/strict";
import { E, ErrnoError } from "../../ffi/libc.ts";
import { FsError } from "../../src/core/api.ts";
import { BackingIoError } from "../../ffi/stat.ts";
import { BackingChangedError, toFsError } from "../../src/core/errors.ts";
import { errnoOf, unservable } from "../../src/fuse/errno.ts";
import { RateLimitedWarn } from "../../src/fuse/log.ts";

Deno.test("errno: FsError names map to Linux numbers and count as expected", () => {
  assert.deepEqual(errnoOf(new FsError("ENOENT", "x")), { errno: 2, expected: true });
  assert.deepEqual(errnoOf(new FsError("EROFS", "x")), { errno: 30, expected: true });
  assert.deepEqual(errnoOf(new FsError("ENOTSUP", "x")), { errno: 95, expected: true });
  assert.deepEqual(errnoOf(new FsError("ENFILE", "x")), { errno: 23, expected: true });
});

Deno.test("errno: OS errors keep their errno; anything else is EIO; both warn", () => {
  assert.deepEqual(errnoOf(new ErrnoError("pread", E.EACCES)), { errno: 13, expected: false });
  assert.deepEqual(errnoOf(new Deno.errors.NotFound("gone")), { errno: 2, expected: false });
  assert.deepEqual(errnoOf(new TypeError("bug")), { errno: 5, expected: false });
  assert.deepEqual(errnoOf("a string"), { errno: 5, expected: false });
});

Deno.test("errno: warnings are limited per window, the rest go to debug and are counted", () => {
  const lines: string[] = [];
  let now = 0;
  const log = {
    error: (m: string) => lines.push(`E ${m}`),
    warn: (m: string) => lines.push(`W ${m}`),
    info: (m: string) => lines.push(`I ${m}`),
    debug: (m: string) => lines.push(`D ${m}`),
  };
  const w = new RateLimitedWarn(log, 2, 1000, () => now);
  for (let i = 0; i < 5; i++) w.warn(`m${i}`);
  assert.deepEqual(lines, ["W m0", "W m1", "D m2", "D m3", "D m4"]);
  now = 1000;
  w.warn("later");
  assert.deepEqual(lines.slice(5), [
    "W 3 similar warning(s) suppressed in the last window",
    "W later",
  ]);
});

Deno.test("errno: a backing file behind a failure is named, with its errno", () => {
  assert.deepEqual(
    unservable(toFsError(new BackingIoError("EACCES", "/lib/a.flac", "cannot open /lib/a.flac"))),
    { path: "/lib/a.flac", errno: "EACCES" },
  );
  assert.deepEqual(
    unservable(toFsError(new BackingChangedError("/lib/b.flac", "the open file changed"))),
    { path: "/lib/b.flac", errno: "EIO" },
  );
  assert.deepEqual(unservable(new BackingIoError("EIO", "/lib/c.mp3", "cannot read")), {
    path: "/lib/c.mp3",
    errno: "EIO",
  });
  assert.equal(unservable(new FsError("ENOENT", "no entry x in inode 1")), null);
  assert.equal(unservable(new TypeError("bug")), null);
});
