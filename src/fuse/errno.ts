// Where errors become errno numbers for FUSE replies: the errno names of
// FsError as numbers; which name an error gets is the core's toFsError.

import { E, ENOTSUP } from "../../ffi/libc.ts";
import { BackingIoError } from "../../ffi/stat.ts";
import { type Errno, FsError, toFsError } from "../core/mod.ts";

const NUMBERS: Record<Errno, number> = {
  ENOENT: E.ENOENT,
  ENOTDIR: E.ENOTDIR,
  EISDIR: E.EISDIR,
  EIO: E.EIO,
  EROFS: E.EROFS,
  ENFILE: E.ENFILE,
  EMFILE: E.EMFILE,
  EAGAIN: E.EAGAIN,
  EACCES: E.EACCES,
  EINVAL: E.EINVAL,
  ENOSYS: E.ENOSYS,
  ENOTSUP: ENOTSUP,
};

/**
 * The errno for an error thrown by a handler, and whether it was expected
 * (a typed filesystem answer) rather than a fault worth a warning. Anything
 * else is named by the core's toFsError, so an OS error reads the same
 * whichever layer let it through (docs/design.md, "Errors").
 */
export function errnoOf(e: unknown): { errno: number; expected: boolean } {
  if (e instanceof FsError) return { errno: NUMBERS[e.errno] ?? E.EIO, expected: true };
  return { errno: NUMBERS[toFsError(e).errno] ?? E.EIO, expected: false };
}

/** The backing file behind a failure and the errno answered, when a served file could not be served. */
export function unservable(e: unknown): { path: string; errno: string } | null {
  const answer = e instanceof BackingIoError ? toFsError(e) : e;
  if (answer instanceof FsError && answer.backingPath !== undefined) {
    return { path: answer.backingPath, errno: answer.errno };
  }
  return null;
}

/** Errno names for FsError codes, in numbers (for tests and the metrics file). */
export function errnoNumber(name: Errno): number {
  return NUMBERS[name];
}
