// Backing-file stamps (size, mtime_ns, ctime_ns) as the store records them,
// read from the file system with nanosecond precision. How two stamps are
// compared is a rule of its own: src/model/stamp.ts.
//
// Why native statx: Deno's node:fs reports mtimeNs with millisecond and
// ctimeNs with whole-second precision, so a chmod within the same second
// would go unseen and a store written by the original program (true
// nanoseconds) would look drifted on every file. statx(2) has a fixed layout
// on every Linux architecture. Without --allow-ffi (or off Linux) we fall
// back to node:fs.
//
// The scanner records stamps and the mount checks them through these same
// functions, so stored and observed stamps agree in precision.

import { cstr, cstrScratch } from "./cstr.ts";
import * as fs from "node:fs";
import * as libc from "./libc.ts";
import { LossyPathError, maybeLossy, rawPath } from "./lossy_path.ts";

export interface BackingStamp {
  size: number;
  mtimeNs: bigint;
  ctimeNs: bigint;
}

/** Why a backing file could not be stamped: missing (ENOENT) or another OS error. */
export class BackingIoError extends Error {
  override readonly name = "BackingIoError";
  constructor(readonly code: string, readonly path: string, message: string) {
    super(message);
  }
}

const STATX_BASIC_STATS = 0x7ff;
const AT_EMPTY_PATH = 0x1000;
const AT_FDCWD = -100;
const STATX_SIZE = 256;

type StatxFn = (
  dirfd: number,
  path: Uint8Array<ArrayBuffer>,
  flags: number,
  mask: number,
  buf: Uint8Array<ArrayBuffer>,
) => number;

let native: StatxFn | null | undefined;

function loadNative(): StatxFn | null {
  if (native !== undefined) return native;
  native = null;
  if (Deno.build.os !== "linux") return native;
  try {
    // Never prompt: without a granted --allow-ffi, use node:fs.
    if (Deno.permissions.querySync({ name: "ffi" }).state !== "granted") return native;
    const probe = new Uint8Array(STATX_SIZE);
    if (libc.statx(AT_FDCWD, cstr("/"), 0, STATX_BASIC_STATS, probe) === 0) native = libc.statx;
  } catch {
    native = null; // no statx in this libc: node:fs it is
  }
  return native;
}

/** True when stamps are read with nanosecond precision (statx). */
export function nativeStamps(): boolean {
  return loadNative() !== null;
}

const buf = new Uint8Array(STATX_SIZE);
const view = new DataView(buf.buffer);
const EMPTY = new Uint8Array(1);

function timeNs(at: number): bigint {
  return view.getBigInt64(at, true) * 1_000_000_000n + BigInt(view.getUint32(at + 8, true));
}

function nativeStat(
  statx: StatxFn,
  fd: number,
  path: Uint8Array<ArrayBuffer>,
  flags: number,
  what: string,
): BackingStamp {
  const errno = statx(fd, path, flags, STATX_BASIC_STATS, buf);
  if (errno !== 0) {
    const code = libc.errnoName(errno);
    throw new BackingIoError(code, what, `cannot stat ${what}: ${code}`);
  }
  return {
    size: Number(view.getBigUint64(40, true)),
    mtimeNs: timeNs(112),
    ctimeNs: timeNs(96),
  };
}

function fromNode(st: fs.BigIntStats): BackingStamp {
  return { size: Number(st.size), mtimeNs: st.mtimeNs, ctimeNs: st.ctimeNs };
}

function nodeError(e: unknown, path: string): BackingIoError {
  const code = (e as { code?: string }).code ?? "EIO";
  return new BackingIoError(code, path, `cannot stat ${path}: ${(e as Error).message}`);
}

/** The stamp of the file at `path` (follows symlinks). Throws BackingIoError. */
export function statStamp(path: string): BackingStamp {
  const n = loadNative();
  if (n) {
    try {
      return nativeStat(n, AT_FDCWD, cstrScratch(path), 0, path);
    } catch (e) {
      if (!(e instanceof BackingIoError && e.code === "ENOENT" && maybeLossy(path))) throw e;
    }
    // A name that is not valid UTF-8, stored in its lossy form: stat the real bytes.
    let raw: Uint8Array;
    try {
      raw = rawPath(path);
    } catch (e) {
      if (e instanceof LossyPathError) throw new BackingIoError(e.code, path, e.message);
      throw e;
    }
    const c = new Uint8Array(raw.length + 1);
    c.set(raw);
    return nativeStat(n, AT_FDCWD, c, 0, path);
  }
  try {
    return fromNode(fs.statSync(path, { bigint: true }));
  } catch (e) {
    const err = nodeError(e, path);
    // Without libc a lossy name cannot be checked: never report it missing.
    if (err.code === "ENOENT" && maybeLossy(path)) {
      throw new BackingIoError("EIO", path, `cannot stat ${path}: not a UTF-8 name`);
    }
    throw err;
  }
}

/** The stamp of an open file descriptor. Throws BackingIoError. */
export function fstatStamp(fd: number, path = `fd ${fd}`): BackingStamp {
  const n = loadNative();
  if (n) return nativeStat(n, fd, EMPTY, AT_EMPTY_PATH, path);
  try {
    return fromNode(fs.fstatSync(fd, { bigint: true }));
  } catch (e) {
    throw nodeError(e, path);
  }
}

/** What the daemon checks of an open backing fd: its stamp, type and identity. */
export interface FileFacts {
  stamp: BackingStamp;
  /** S_ISREG: a regular file (not a FIFO, device, socket or directory). */
  regular: boolean;
  /** The file system it lives on (st_dev as one number) and its inode there. */
  dev: number;
  ino: bigint;
}

const S_IFMT = 0o170000;
const S_IFREG = 0o100000;

/** Stamp, type and identity of an open file descriptor. Throws BackingIoError. */
export function fstatFile(fd: number, path = `fd ${fd}`): FileFacts {
  const n = loadNative();
  if (n) {
    const stamp = nativeStat(n, fd, EMPTY, AT_EMPTY_PATH, path);
    return {
      stamp,
      regular: (view.getUint16(28, true) & S_IFMT) === S_IFREG,
      dev: view.getUint32(136, true) * 0x100000 + view.getUint32(140, true),
      ino: view.getBigUint64(32, true),
    };
  }
  try {
    const st = fs.fstatSync(fd, { bigint: true });
    return { stamp: fromNode(st), regular: st.isFile(), dev: Number(st.dev), ino: st.ino };
  } catch (e) {
    throw nodeError(e, path);
  }
}
