// The one place where errors become errno numbers for FUSE replies.

import { E, ENOTSUP, ErrnoError } from "../../ffi/libc.ts";
import { BackingIoError } from "../../ffi/stat.ts";
import { type Errno, FsError } from "../core/mod.ts";

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

/** Deno's error classes for I/O failures the core may let through. */
const DENO_ERRORS: [new (...args: never[]) => Error, number][] = [
  [Deno.errors.NotFound, E.ENOENT],
  [Deno.errors.PermissionDenied, E.EACCES],
  [Deno.errors.NotADirectory, E.ENOTDIR],
  [Deno.errors.IsADirectory, E.EISDIR],
];

/**
 * The errno for an error thrown by a handler, and whether it was expected
 * (a typed filesystem answer) rather than a fault worth a warning.
 */
export function errnoOf(e: unknown): { errno: number; expected: boolean } {
  if (e instanceof FsError) return { errno: NUMBERS[e.errno] ?? E.EIO, expected: true };
  // An OS error from a backing file keeps its own errno (missing file → ENOENT).
  if (e instanceof ErrnoError) return { errno: e.errno, expected: false };
  for (const [cls, errno] of DENO_ERRORS) {
    if (e instanceof cls) return { errno, expected: false };
  }
  return { errno: E.EIO, expected: false };
}

/** The backing file behind a failure and the errno name, when a served file could not be served. */
export function unservable(e: unknown): { path: string; errno: string } | null {
  if (e instanceof FsError && e.backingPath !== undefined) {
    return { path: e.backingPath, errno: e.errno };
  }
  if (e instanceof BackingIoError) return { path: e.path, errno: e.code };
  return null;
}

/** Errno names for FsError codes, in numbers (for tests and the metrics file). */
export function errnoNumber(name: Errno): number {
  return NUMBERS[name];
}
