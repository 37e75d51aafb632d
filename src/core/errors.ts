// The core's typed errors and the one place anything thrown becomes an
// FsError (an errno name) for the FUSE layer; an OS error is named by the
// rule of src/model/errors.ts (servedErrno).

import { FsError } from "./api.ts";
import { BackingIoError } from "./stamp.ts";
import { StoreError } from "../store/mod.ts";
import { FormatError } from "../format/mod.ts";
import { servedErrno } from "../model/mod.ts";

/** The backing file no longer matches the stamp the store (or the layout) recorded. */
export class BackingChangedError extends Error {
  override readonly name = "BackingChangedError";
  constructor(readonly path: string, why: string) {
    super(`backing file changed since it was scanned: ${path} (${why})`);
  }
}

/**
 * The stored rows do not fit the (unchanged) backing file: the geometry does
 * not point at audio, or synthesis refused the rows.
 */
export class GeometryError extends Error {
  override readonly name = "GeometryError";
  constructor(readonly trackId: number, readonly path: string, why: string) {
    super(`track ${trackId}: the stored rows do not fit ${path} (${why}); rescan it`);
  }
}

/** A track the tree names is gone from the store. */
export class TrackGoneError extends Error {
  override readonly name = "TrackGoneError";
  constructor(readonly trackId: number) {
    super(`track ${trackId} is no longer in the store`);
  }
}

/** The read snapshot kept seeing a newer content_version (a writer racing every attempt). */
export class ReadRaceError extends Error {
  override readonly name = "ReadRaceError";
  constructor(readonly trackId: number, attempts: number) {
    super(`track ${trackId} changed during each of ${attempts} read attempts`);
  }
}

/** Deno's error classes, for an error made without an OS code. */
const DENO_CODES: [new (...args: never[]) => Error, string][] = [
  [Deno.errors.NotFound, "ENOENT"],
  [Deno.errors.PermissionDenied, "EACCES"],
  [Deno.errors.NotADirectory, "ENOTDIR"],
  [Deno.errors.IsADirectory, "EISDIR"],
];

/** The OS error name ("ENOENT" …) of libc's ErrnoError, a BackingIoError, or a Deno or node error. */
function osCode(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code === "string") return code;
  for (const [cls, name] of DENO_CODES) if (e instanceof cls) return name;
  return undefined;
}

/** Map anything thrown (inside the core or the server) to the FsError the server answers with. */
export function toFsError(e: unknown): FsError {
  if (e instanceof FsError) return e;
  if (e instanceof TrackGoneError) return new FsError("ENOENT", e.message);
  if (e instanceof BackingIoError) {
    return new FsError(servedErrno(e.code), e.message, e.path);
  }
  if (e instanceof BackingChangedError || e instanceof GeometryError) {
    return new FsError("EIO", e.message, e.path);
  }
  if (e instanceof ReadRaceError) return new FsError("EIO", e.message);
  if (e instanceof StoreError || e instanceof FormatError) return new FsError("EIO", e.message);
  const message = e instanceof Error ? e.message : String(e);
  return new FsError(servedErrno(osCode(e)), message);
}

/** Run `fn`, rethrowing any failure as FsError. */
export function asFs<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw toFsError(e);
  }
}
