// Opening and reading backing files through node:fs (in Deno 2.9 these are
// real OS file descriptors: the FUSE server can pread them itself and hand
// them to the kernel for passthrough).

import * as fs from "node:fs";
import * as libc from "../../ffi/libc.ts";
import { openLossy } from "../../ffi/lossy_path.ts";
import type { ByteSource } from "../format/mod.ts";
import { BackingIoError } from "./stamp.ts";

/**
 * Open `path` read-only (a name that is not valid UTF-8 by its stored lossy
 * form, see ffi/lossy_path.ts); failures become BackingIoError with the OS
 * code (ENOENT, EACCES …).
 */
export function openBacking(path: string): number {
  try {
    return openLossy(path, fs.constants.O_RDONLY);
  } catch (e) {
    const code = (e as { code?: string }).code ?? "EIO";
    throw new BackingIoError(code, path, `cannot open ${path}: ${(e as Error).message}`);
  }
}

export function closeBacking(fd: number): void {
  try {
    fs.closeSync(fd);
  } catch { /* already closed: nothing to release */ }
}

/** Read up to `length` bytes at `offset` into `into` (from `at`); returns how many (short only at EOF). */
export function preadInto(
  fd: number,
  into: Uint8Array,
  at: number,
  length: number,
  offset: number,
  path: string,
): number {
  let got = 0;
  try {
    while (got < length) {
      const n = fs.readSync(fd, into, at + got, length - got, offset + got);
      if (n === 0) break;
      got += n;
    }
  } catch (e) {
    const code = (e as { code?: string }).code ?? "EIO";
    throw new BackingIoError(code, path, `cannot read ${path}: ${(e as Error).message}`);
  }
  return got;
}

let nowaitAvailable: boolean | undefined;
const nowaitIov = new libc.IoVec(1);

/**
 * Read what the page cache already holds of [offset, offset+length) without
 * ever blocking (preadv2 RWF_NOWAIT): the bytes read (possibly fewer than
 * asked, 0 when the first page is not cached), or null when non-blocking
 * reads are unavailable (no --allow-ffi, or a kernel/file system without
 * RWF_NOWAIT) and the caller must decide whether a blocking read is fine.
 */
export function preadCached(
  fd: number,
  into: Uint8Array,
  length: number,
  offset: number,
  path: string,
): number | null {
  if (nowaitAvailable === undefined) {
    try {
      nowaitAvailable = Deno.build.os === "linux" &&
        Deno.permissions.querySync({ name: "ffi" }).state === "granted";
    } catch {
      nowaitAvailable = false;
    }
  }
  if (!nowaitAvailable) return null;
  try {
    nowaitIov.reset().push(into, 0, length);
    const n = libc.preadv2(fd, nowaitIov, offset, libc.RWF_NOWAIT);
    return n < 0 ? 0 : n;
  } catch (e) {
    if (
      e instanceof libc.ErrnoError && (e.errno === libc.E.EOPNOTSUPP || e.errno === libc.E.EINVAL)
    ) {
      nowaitAvailable = false; // this kernel or file system cannot: say so once, read blocking
      return null;
    }
    const code = e instanceof libc.ErrnoError ? e.code : "EIO";
    throw new BackingIoError(code, path, `cannot read ${path}: ${(e as Error).message}`);
  }
}

/** A ByteSource over an open backing fd (synthesis reads of the front, stateless reads, Ogg audio). */
export class FdSource implements ByteSource {
  reads = 0;
  constructor(readonly fd: number, readonly size: number, readonly path: string) {}

  read(offset: number, length: number): Uint8Array {
    const want = Math.max(0, Math.min(length, this.size - offset));
    const out = new Uint8Array(want);
    this.reads++;
    const got = preadInto(this.fd, out, 0, want, offset, this.path);
    return got === want ? out : out.subarray(0, got);
  }
}
