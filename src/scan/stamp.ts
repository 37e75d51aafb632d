// The backing stamp of a file: size, mtime and ctime in nanoseconds (the
// tracks columns). Read through the same functions the mount uses to check a
// backing file before serving it (ffi/stat.ts: statx with true
// nanoseconds when --allow-ffi is granted, node:fs otherwise), so stored and
// observed stamps always agree in precision. Deno's own stat reports mtime in
// milliseconds and ctime in whole seconds only.

import { type BackingStamp, fstatStamp, statStamp } from "../../ffi/stat.ts";

export type { BackingStamp };

/** Stamp of an open descriptor. Throws BackingIoError (err.code ENOENT …). */
export function stampOfFd(fd: number, path?: string): BackingStamp {
  return fstatStamp(fd, path);
}

/** Stamp of a path (symlinks followed). Throws BackingIoError (err.code ENOENT …). */
export function stampOfPath(path: string): BackingStamp {
  return statStamp(path);
}

export { stampsMatch } from "../model/mod.ts";

/** True when a stat error means the path does not exist (ENOENT, ENOTDIR). */
export function isGone(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return code === "ENOENT" || code === "ENOTDIR" || e instanceof Deno.errors.NotFound;
}
