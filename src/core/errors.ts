// The core's typed errors and the one place they become FsError (errno
// names) for the FUSE layer.

import { FsError } from "./api.ts";
import { BackingIoError } from "./stamp.ts";
import { StoreError } from "../store/mod.ts";
import { FormatError } from "../format/mod.ts";

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

const OS_ERRNO: Record<string, FsError["errno"]> = {
  ENOENT: "ENOENT",
  ENOTDIR: "ENOENT",
  EACCES: "EACCES",
  EPERM: "EACCES",
  // The daemon is out of descriptors: the opener is told so, and may retry.
  EMFILE: "ENFILE",
  ENFILE: "ENFILE",
};

/** Map anything thrown inside the core to the FsError the server answers with. */
export function toFsError(e: unknown): FsError {
  if (e instanceof FsError) return e;
  if (e instanceof TrackGoneError) return new FsError("ENOENT", e.message);
  if (e instanceof BackingIoError) {
    return new FsError(OS_ERRNO[e.code] ?? "EIO", e.message, e.path);
  }
  if (e instanceof BackingChangedError || e instanceof GeometryError) {
    return new FsError("EIO", e.message, e.path);
  }
  if (e instanceof ReadRaceError) return new FsError("EIO", e.message);
  if (e instanceof StoreError || e instanceof FormatError) return new FsError("EIO", e.message);
  const message = e instanceof Error ? e.message : String(e);
  return new FsError("EIO", message);
}

/** Run `fn`, rethrowing any failure as FsError. */
export function asFs<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw toFsError(e);
  }
}
