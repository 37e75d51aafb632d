// Opening and reading backing files: the one open path, and the one owner of
// non-blocking reads.
//
// Opening (`openBacking`): O_NONBLOCK so a FIFO or device swapped in for a
// scanned file cannot stall the serving thread in open(2); O_NOFOLLOW so a
// symlink put in its place is refused; then fstat must show a regular file.
// Anything else answers EIO. Once it is known to be a regular file the fd
// goes back to blocking mode (the I/O workers' preads must wait, not fail).
//
// Reading now (`readNow`): preadv2(RWF_NOWAIT) answers "these bytes", "would
// block" or "unsupported". File systems without RWF_NOWAIT (NFS, CIFS, FUSE
// stores such as mergerfs, and tmpfs) answer EOPNOTSUPP; that is remembered
// per backing file system (st_dev), so one such store never makes another
// store's reads blocking or slow. Callers send "would block" and
// "unsupported" reads to the I/O workers; nothing here waits for a device or
// a network. tmpfs and ramfs are the exception: their file data is memory,
// so a plain pread answers at once, and they are read inline like cached
// data (sending each read to a worker would cost more than the read).
//
// Fds handed to an I/O worker are held (`holdBacking`) until the worker is
// done: closing one meanwhile (a handle released, an fd evicted to stay under
// the descriptor limit) is deferred, so its number is never reused for
// another file while a worker still reads it.

import * as fs from "node:fs";
import * as libc from "../../ffi/libc.ts";
import { exists, maybeLossy, openLossy, rawPath } from "../../ffi/lossy_path.ts";
import type { ByteSource } from "../format/mod.ts";
import { BackingIoError, type BackingStamp, fstatFile } from "./stamp.ts";

/** An open backing file as the open path checked it. */
export interface OpenedBacking {
  fd: number;
  /** The stamp fstat showed right after the open. */
  stamp: BackingStamp;
  dev: number;
  ino: bigint;
}

let ffi: boolean | undefined;
function ffiGranted(): boolean {
  if (ffi === undefined) {
    try {
      ffi = Deno.build.os === "linux" &&
        Deno.permissions.querySync({ name: "ffi" }).state === "granted";
    } catch {
      ffi = false;
    }
  }
  return ffi;
}

const OPEN_FLAGS = libc.O_RDONLY | libc.O_NONBLOCK | libc.O_NOFOLLOW | libc.O_CLOEXEC;

/** open(2) with OPEN_FLAGS; a name that is not valid UTF-8 by its stored lossy form (ffi/lossy_path.ts). */
function rawOpen(path: string): number {
  try {
    if (!ffiGranted()) return openLossy(path, fs.constants.O_RDONLY);
    if (maybeLossy(path) && !exists(path)) {
      return libc.openBytes(rawPath(path), path, OPEN_FLAGS);
    }
    return libc.open(path, OPEN_FLAGS);
  } catch (e) {
    const code = e instanceof libc.ErrnoError ? e.code : (e as { code?: string }).code ?? "EIO";
    const why = code === "ELOOP" ? "a symbolic link where a file was scanned" : code;
    throw new BackingIoError(code, path, `cannot open ${path}: ${why}`);
  }
}

/**
 * Open the backing file at `path` for serving: never blocks in open(2), never
 * follows a symlink at the last component, and only a regular file passes
 * (a FIFO, device, socket or directory throws BackingIoError "EIO"). The fd
 * is registered for `readNow`; close it with closeBacking.
 */
export function openBacking(path: string): OpenedBacking {
  const fd = rawOpen(path);
  try {
    const facts = fstatFile(fd, path);
    if (!facts.regular) {
      throw new BackingIoError("EIO", path, `${path} is not a regular file`);
    }
    // F_SETFL sets only the status flags, and O_NONBLOCK is the only one we asked for.
    if (ffiGranted()) libc.fcntl(fd, libc.F_SETFL, 0);
    register(fd, facts.dev);
    return { fd, stamp: facts.stamp, dev: facts.dev, ino: facts.ino };
  } catch (e) {
    closeFd(fd);
    throw e;
  }
}

function closeFd(fd: number): void {
  if (ffiGranted()) {
    libc.close(fd);
    return;
  }
  try {
    fs.closeSync(fd);
  } catch { /* already closed: nothing to release */ }
}

// ---- the fd registry: file system per fd, holds by I/O workers ------------------

/** fd → index into fsNowait (-1: not seen). */
let fsOf = new Int32Array(256).fill(-1);
/** fd → reads in flight on an I/O worker. */
let holds = new Int32Array(256);
/** fd → 1 when closeBacking came while held. */
let closeLater = new Uint8Array(256);
/** How a backing file system is read without blocking. */
const enum FsRead {
  /** preadv2(RWF_NOWAIT) works (the default until the file system says otherwise). */
  Nowait,
  /** No RWF_NOWAIT, but the data is memory (tmpfs, ramfs): a plain pread cannot wait. */
  Memory,
  /** No RWF_NOWAIT: every read goes to an I/O worker. */
  Unsupported,
}
/** Per backing file system (index from fsByDev). */
const fsNowait: FsRead[] = [];
const fsByDev = new Map<number, number>();

function grow(fd: number): void {
  if (fd < fsOf.length) return;
  let n = fsOf.length;
  while (n <= fd) n *= 2;
  const f = new Int32Array(n).fill(-1);
  f.set(fsOf);
  fsOf = f;
  const h = new Int32Array(n);
  h.set(holds);
  holds = h;
  const c = new Uint8Array(n);
  c.set(closeLater);
  closeLater = c;
}

function register(fd: number, dev: number): void {
  grow(fd);
  let slot = fsByDev.get(dev);
  if (slot === undefined) {
    slot = fsNowait.length;
    fsNowait.push(FsRead.Nowait);
    fsByDev.set(dev, slot);
  }
  fsOf[fd] = slot;
  holds[fd] = 0;
  closeLater[fd] = 0;
}

/**
 * Register a backing fd another thread of this process opened with
 * `openBacking` (the synthesis worker hands its fds over); close it with
 * closeBacking.
 */
export function adoptBacking(opened: OpenedBacking): OpenedBacking {
  register(opened.fd, opened.dev);
  return opened;
}

/** Close a backing fd (deferred while an I/O worker holds it). */
export function closeBacking(fd: number): void {
  if (fd < 0) return;
  if (fd < holds.length && holds[fd] > 0) {
    closeLater[fd] = 1;
    return;
  }
  if (fd < fsOf.length) fsOf[fd] = -1;
  closeFd(fd);
}

/** An I/O worker is about to read `fd`: keep it open until releaseBacking. */
export function holdBacking(fd: number): void {
  grow(fd);
  holds[fd]++;
}

/** The worker is done with `fd`; a close that came meanwhile happens now. */
export function releaseBacking(fd: number): void {
  if (fd >= holds.length || holds[fd] <= 0) return;
  if (--holds[fd] === 0 && closeLater[fd] === 1) {
    closeLater[fd] = 0;
    fsOf[fd] = -1;
    closeFd(fd);
  }
}

/**
 * How many backing file systems are read through the I/O workers only: they
 * answered EOPNOTSUPP to RWF_NOWAIT and are not memory (metrics, tests).
 */
export function nowaitUnsupportedFileSystems(): number {
  let n = 0;
  for (const how of fsNowait) if (how === FsRead.Unsupported) n++;
  return n;
}

/** How many backing file systems without RWF_NOWAIT are memory, read inline (metrics, tests). */
export function memoryFileSystems(): number {
  let n = 0;
  for (const how of fsNowait) if (how === FsRead.Memory) n++;
  return n;
}

/** EOPNOTSUPP from `fd`'s file system: memory (read inline from now on) or not (workers). */
function learnUnsupported(fd: number, slot: number): FsRead {
  let how = FsRead.Unsupported;
  try {
    const magic = libc.fsMagic(fd);
    if (magic === libc.TMPFS_MAGIC || magic === libc.RAMFS_MAGIC) how = FsRead.Memory;
  } catch (e) {
    // Cannot tell: the safe answer is the I/O workers.
    if (!(e instanceof libc.ErrnoError)) throw e;
  }
  fsNowait[slot] = how;
  return how;
}

/** A read of a memory file system: a plain pread, which has nothing to wait for. */
function readMemory(fd: number, into: Uint8Array, at: number, length: number, offset: number) {
  try {
    return libc.pread(fd, into.subarray(at, at + length) as Uint8Array<ArrayBuffer>, offset);
  } catch (e) {
    throw readFailure(fd, e);
  }
}

/** A failed read of backing `fd`, as the error the serving layers map. */
function readFailure(fd: number, e: unknown): BackingIoError {
  const code = e instanceof libc.ErrnoError ? e.code : "EIO";
  return new BackingIoError(code, `fd ${fd}`, `cannot read fd ${fd}: ${(e as Error).message}`);
}

// ---- reading ----------------------------------------------------------------------

/** readNow: the data is not in the page cache; an I/O worker must read it. */
export const WOULD_BLOCK = -1;
/** readNow: this file system cannot read without blocking; an I/O worker must read it. */
export const UNSUPPORTED = -2;

const nowIov = new libc.IoVec(1);

/** The fs slot of an fd not opened through openBacking (a server given raw fds). */
function adopt(fd: number): number {
  try {
    const dev = fstatFile(fd).dev;
    register(fd, dev);
    return fsOf[fd];
  } catch {
    return -1;
  }
}

/**
 * The one non-blocking read of backing bytes: up to `length` bytes at
 * `offset` into `into` from `at`. Returns how many were read (fewer than
 * asked at end of file or when only part is cached; 0 at end of file),
 * WOULD_BLOCK when the first page is not cached, or UNSUPPORTED when the
 * file system cannot tell (remembered for that file system). Other OS
 * errors throw BackingIoError.
 */
export function readNow(
  fd: number,
  into: Uint8Array,
  at: number,
  length: number,
  offset: number,
): number {
  if (!ffiGranted()) return UNSUPPORTED;
  let slot = fd < fsOf.length ? fsOf[fd] : -1;
  if (slot < 0) slot = adopt(fd);
  if (slot < 0) return UNSUPPORTED;
  const how = fsNowait[slot];
  if (how === FsRead.Unsupported) return UNSUPPORTED;
  if (length === 0) return 0;
  if (how === FsRead.Memory) return readMemory(fd, into, at, length, offset);
  try {
    const n = libc.preadv2(fd, nowIov.reset().push(into, at, length), offset, libc.RWF_NOWAIT);
    return n < 0 ? WOULD_BLOCK : n;
  } catch (e) {
    if (
      e instanceof libc.ErrnoError && (e.errno === libc.E.EOPNOTSUPP || e.errno === libc.E.EINVAL)
    ) {
      if (learnUnsupported(fd, slot) === FsRead.Memory) {
        return readMemory(fd, into, at, length, offset);
      }
      return UNSUPPORTED;
    }
    throw readFailure(fd, e);
  }
}

/** Blocking read of up to `length` bytes at `offset` into `into` (from `at`); short only at EOF. */
export function preadInto(
  fd: number,
  into: Uint8Array,
  at: number,
  length: number,
  offset: number,
  path: string,
): number {
  let got = 0;
  const native = ffiGranted();
  try {
    while (got < length) {
      const n = native
        ? libc.pread(
          fd,
          into.subarray(at + got, at + length) as Uint8Array<ArrayBuffer>,
          offset + got,
        )
        : fs.readSync(fd, into, at + got, length - got, offset + got);
      if (n === 0) break;
      got += n;
    }
  } catch (e) {
    const code = e instanceof libc.ErrnoError ? e.code : (e as { code?: string }).code ?? "EIO";
    throw new BackingIoError(code, path, `cannot read ${path}: ${(e as Error).message}`);
  }
  return got;
}

/** Where an FdSource finds its fd at the moment of a read (it may be reopened). */
export interface FdHolder {
  readonly fd: number;
}

/** A ByteSource over an open backing fd (synthesis reads of the front, stateless reads, Ogg audio). */
export class FdSource implements ByteSource {
  reads = 0;
  constructor(readonly file: FdHolder, readonly size: number, readonly path: string) {}

  read(offset: number, length: number): Uint8Array {
    const want = Math.max(0, Math.min(length, this.size - offset));
    const out = new Uint8Array(want);
    this.reads++;
    const got = preadInto(this.file.fd, out, 0, want, offset, this.path);
    return got === want ? out : out.subarray(0, got);
  }
}
