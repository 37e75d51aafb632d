// Typed bindings to the libc calls Deno and node:fs do not offer: raw
// reads/writes on /dev/fuse, writev, preadv2 with RWF_NOWAIT, poll,
// mount/umount2, ioctl, statx, and the opens and stats the server and the
// scanner make of backing files. errno is read right after each synchronous
// call on the calling thread and carried in `ErrnoError`.
//
// Everything here is loaded lazily: importing this module costs nothing
// until a function is called (commands that need no native call never
// load libc).

import { cstr, cstrScratch } from "./cstr.ts";

export class ErrnoError extends Error {
  override readonly name = "ErrnoError";
  constructor(readonly call: string, readonly errno: number) {
    super(`${call}: ${errnoName(errno)} (${strerror(errno)})`);
  }
  get code(): string {
    return errnoName(this.errno);
  }
}

/** Linux errno numbers (identical on x86_64 and aarch64). */
export const E = {
  EPERM: 1,
  ENOENT: 2,
  EINTR: 4,
  EIO: 5,
  EBADF: 9,
  EAGAIN: 11,
  ENOMEM: 12,
  EACCES: 13,
  EBUSY: 16,
  EEXIST: 17,
  ENODEV: 19,
  ENOTDIR: 20,
  EISDIR: 21,
  EINVAL: 22,
  ENFILE: 23,
  EMFILE: 24,
  ENOSPC: 28,
  EROFS: 30,
  ERANGE: 34,
  ENAMETOOLONG: 36,
  ENOSYS: 38,
  ELOOP: 40,
  ENODATA: 61,
  EOPNOTSUPP: 95,
  ENOTCONN: 107,
} as const;
export const ENOTSUP = E.EOPNOTSUPP;

const names = new Map<number, string>(Object.entries(E).map(([k, v]) => [v, k]));
export function errnoName(errno: number): string {
  return names.get(errno) ?? `errno ${errno}`;
}

const symbols = {
  __errno_location: { parameters: [], result: "pointer" },
  strerror: { parameters: ["i32"], result: "pointer" },
  open: { parameters: ["buffer", "i32", "u32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  read: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  write: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  writev: { parameters: ["i32", "buffer", "i32"], result: "isize" },
  pread64: { parameters: ["i32", "buffer", "usize", "i64"], result: "isize" },
  preadv2: { parameters: ["i32", "buffer", "i32", "i64", "i32"], result: "isize" },
  poll: { parameters: ["buffer", "u64", "i32"], result: "i32" },
  poll_nb: { name: "poll", parameters: ["buffer", "u64", "i32"], result: "i32", nonblocking: true },
  write_nb: {
    name: "write",
    parameters: ["i32", "buffer", "usize"],
    result: "isize",
    nonblocking: true,
  },
  mount: { parameters: ["buffer", "buffer", "buffer", "u64", "buffer"], result: "i32" },
  umount2: { parameters: ["buffer", "i32"], result: "i32" },
  ioctl: { parameters: ["i32", "u64", "buffer"], result: "i32" },
  fcntl: { parameters: ["i32", "i32", "i32"], result: "i32" },
  getrlimit: { parameters: ["i32", "buffer"], result: "i32" },
  fcntl_ptr: { name: "fcntl", parameters: ["i32", "i32", "buffer"], result: "i32" },
  readlink: { parameters: ["buffer", "buffer", "usize"], result: "isize" },
  statx: { parameters: ["i32", "buffer", "i32", "u32", "buffer"], result: "i32" },
  fstatfs: { parameters: ["i32", "buffer"], result: "i32" },
  getuid: { parameters: [], result: "u32" },
  geteuid: { parameters: [], result: "u32" },
  getgid: { parameters: [], result: "u32" },
  getpid: { parameters: [], result: "i32" },
  socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
  sendto: { parameters: ["i32", "buffer", "usize", "i32", "buffer", "u32"], result: "isize" },
  dup2: { parameters: ["i32", "i32"], result: "i32" },
  mallopt: { parameters: ["i32", "i32"], result: "i32" },
  malloc_trim: { parameters: ["usize"], result: "i32" },
} as const satisfies Deno.ForeignLibraryInterface;

type Libc = Deno.DynamicLibrary<typeof symbols>["symbols"];
let lib: Libc | null = null;
let errnoView: Deno.UnsafePointerView | null = null;

function libc(): Libc {
  if (lib) return lib;
  const dl = Deno.dlopen("libc.so.6", symbols);
  lib = dl.symbols;
  errnoView = new Deno.UnsafePointerView(lib.__errno_location()!);
  return lib;
}

/** errno of the main thread (valid right after a synchronous call). */
function errno(): number {
  return errnoView!.getInt32();
}

function strerror(n: number): string {
  try {
    const p = libc().strerror(n);
    return p ? Deno.UnsafePointerView.getCString(p) : `errno ${n}`;
  } catch {
    return `errno ${n}`;
  }
}

function num(v: number | bigint): number {
  return typeof v === "bigint" ? Number(v) : v;
}

function check(call: string, r: number | bigint): number {
  const n = num(r);
  if (n < 0) throw new ErrnoError(call, errno());
  return n;
}

export const O_RDONLY = 0;
export const O_WRONLY = 1;
export const O_RDWR = 2;
export const O_ACCMODE = 3;
export const O_NONBLOCK = 0o4000;
/** Architecture-specific: aarch64 moved O_NOFOLLOW (and O_DIRECTORY, O_DIRECT). */
export const O_NOFOLLOW = Deno.build.arch === "aarch64" ? 0o100000 : 0o400000;
export const O_CLOEXEC = 0o2000000;

export function open(path: string, flags: number, mode = 0): number {
  const fd = libc().open(cstrScratch(path), flags, mode);
  return fd >= 0 ? fd : check(`open ${path}`, fd);
}

/** open(2) of a path given as raw bytes (a name that is not valid UTF-8), shown as `shown`. */
export function openBytes(raw: Uint8Array, shown: string, flags: number, mode = 0): number {
  const c = new Uint8Array(raw.length + 1);
  c.set(raw);
  return check(`open ${shown}`, libc().open(c, flags, mode));
}

export function close(fd: number): void {
  libc().close(fd);
}

/** read(2); retries EINTR. */
export function read(fd: number, buf: Uint8Array<ArrayBuffer>): number {
  for (;;) {
    const n = num(libc().read(fd, buf, BigInt(buf.length)));
    if (n >= 0) return n;
    const e = errno();
    if (e !== E.EINTR) throw new ErrnoError("read", e);
  }
}

/**
 * read(2) that reports failure as -errno instead of throwing (EINTR is
 * retried): for a nonblocking fd that is often empty, where an exception per
 * EAGAIN would cost more than the read. `size`: buf.length, as the call takes it.
 */
export function readNow(
  fd: number,
  buf: Uint8Array<ArrayBuffer>,
  size: bigint = BigInt(buf.length),
): number {
  for (;;) {
    const n = num(libc().read(fd, buf, size));
    if (n >= 0) return n;
    const e = errno();
    if (e !== E.EINTR) return -e;
  }
}

export function write(fd: number, buf: Uint8Array<ArrayBuffer>): number {
  return check("write", libc().write(fd, buf, BigInt(buf.length)));
}

/** A reusable iovec array for up to `max` buffers. */
export class IoVec {
  readonly raw: BigUint64Array<ArrayBuffer>;
  readonly bytes: Uint8Array<ArrayBuffer>;
  count = 0;
  constructor(readonly max: number) {
    this.raw = new BigUint64Array(max * 2);
    this.bytes = new Uint8Array(this.raw.buffer);
  }
  reset(): this {
    this.count = 0;
    return this;
  }
  /** Add a buffer (or a part of one). The buffer must stay alive until the call returns. */
  push(buf: Uint8Array, offset = 0, length = buf.length - offset): this {
    if (this.count >= this.max) throw new RangeError("iovec full");
    if (length === 0) return this;
    const base = Deno.UnsafePointer.value(Deno.UnsafePointer.of(buf as Uint8Array<ArrayBuffer>));
    this.raw[this.count * 2] = BigInt(base) + BigInt(offset);
    this.raw[this.count * 2 + 1] = BigInt(length);
    this.count++;
    return this;
  }
}

export function writev(fd: number, iov: IoVec): number {
  return check("writev", libc().writev(fd, iov.bytes, iov.count));
}

/** pread(2); retries EINTR; returns bytes read (short only at end of file). */
export function pread(fd: number, buf: Uint8Array<ArrayBuffer>, offset: number): number {
  for (;;) {
    const n = num(libc().pread64(fd, buf, BigInt(buf.length), BigInt(offset)));
    if (n >= 0) return n;
    const e = errno();
    if (e !== E.EINTR) throw new ErrnoError("pread", e);
  }
}

/**
 * Random access to `size` bytes of `fd` by blocking preads (a format
 * ByteSource): `read` returns exactly `length` bytes unless the file ends
 * first. For threads that may wait (the I/O workers, tests).
 */
export function preadSource(fd: number, size: number) {
  return {
    size,
    read(offset: number, length: number): Uint8Array {
      const n = Math.max(0, Math.min(length, size - offset));
      const out = new Uint8Array(n);
      let got = 0;
      while (got < n) {
        const k = pread(fd, out.subarray(got), offset + got);
        if (k === 0) break;
        got += k;
      }
      return got === n ? out : out.subarray(0, got);
    },
  };
}

export const RWF_NOWAIT = 0x8;

/**
 * preadv2 with flags into `iov`. With RWF_NOWAIT returns -1 (instead of
 * throwing) when the data is not in the page cache and the read would block.
 */
export function preadv2(fd: number, iov: IoVec, offset: number, flags: number): number {
  const n = num(libc().preadv2(fd, iov.bytes, iov.count, BigInt(offset), flags));
  if (n >= 0) return n;
  const e = errno();
  if (e === E.EAGAIN && (flags & RWF_NOWAIT)) return -1;
  throw new ErrnoError("preadv2", e);
}

/** struct statfs (120 bytes on 64-bit Linux; f_type, a `long`, first). */
const statfsBuf = new Uint8Array(120);
const statfsView = new DataView(statfsBuf.buffer);

/** f_type of the file system holding `fd` (fstatfs(2)): TMPFS_MAGIC, NFS_SUPER_MAGIC … */
export function fsMagic(fd: number): number {
  check("fstatfs", libc().fstatfs(fd, statfsBuf));
  return Number(statfsView.getBigUint64(0, true) & 0xffff_ffffn);
}

/** tmpfs and ramfs: file systems whose file data lives in memory. */
export const TMPFS_MAGIC = 0x01021994;
export const RAMFS_MAGIC = 0x858458f6;

export const POLLIN = 0x1;
export const POLLERR = 0x8;
export const POLLHUP = 0x10;
export const POLLNVAL = 0x20;

const pollBuf = new Uint8Array(8);
const pollView = new DataView(pollBuf.buffer);
const pollBufAsync = new Uint8Array(8);
const pollViewAsync = new DataView(pollBufAsync.buffer);

/** poll one fd for `events`; returns revents (0 on timeout). */
export function pollOne(fd: number, events: number, timeoutMs: number): number {
  pollView.setInt32(0, fd, true);
  pollView.setInt16(4, events, true);
  pollView.setInt16(6, 0, true);
  const n = libc().poll(pollBuf, 1n, timeoutMs);
  if (n < 0) {
    const e = errno();
    if (e === E.EINTR) return 0;
    throw new ErrnoError("poll", e);
  }
  return n === 0 ? 0 : pollView.getInt16(6, true);
}

/** poll one fd on a helper thread: the event loop keeps running while waiting. */
/**
 * write(2) on a thread of the runtime's blocking pool: for writes that may
 * block (a FUSE notification waits for the kernel to drop pages) without a
 * thread of our own. The bytes written, or -1 (errno is that thread's, so it
 * is not known here).
 */
export async function writeAsync(fd: number, buf: Uint8Array<ArrayBuffer>): Promise<number> {
  return num(await libc().write_nb(fd, buf, BigInt(buf.length)));
}

export async function pollOneAsync(fd: number, events: number, timeoutMs: number): Promise<number> {
  pollViewAsync.setInt32(0, fd, true);
  pollViewAsync.setInt16(4, events, true);
  pollViewAsync.setInt16(6, 0, true);
  const n = await libc().poll_nb(pollBufAsync, 1n, timeoutMs);
  return n <= 0 ? 0 : pollViewAsync.getInt16(6, true);
}

export const MS_RDONLY = 1;
export const MS_NOSUID = 2;
export const MS_NODEV = 4;

export function mount(
  source: string,
  target: string,
  fstype: string,
  flags: number,
  data: string,
): void {
  check(
    `mount ${target}`,
    libc().mount(cstr(source), cstr(target), cstr(fstype), BigInt(flags), cstr(data)),
  );
}

export const MNT_FORCE = 1;
export const MNT_DETACH = 2;

export function umount2(target: string, flags: number): void {
  check(`umount ${target}`, libc().umount2(cstr(target), flags));
}

/** ioctl with a pointer argument; returns the (non-negative) result. */
export function ioctl(fd: number, request: number, arg: Uint8Array<ArrayBuffer>): number {
  return check("ioctl", libc().ioctl(fd, BigInt(request), arg));
}

/**
 * statx(2) into `buf` (256 bytes, the same layout on every architecture).
 * Returns 0, or the errno (no exception: callers stat on hot paths).
 */
export function statx(
  dirfd: number,
  path: Uint8Array<ArrayBuffer>,
  flags: number,
  mask: number,
  buf: Uint8Array<ArrayBuffer>,
): number {
  return libc().statx(dirfd, path, flags, mask, buf) === 0 ? 0 : errno();
}

export const F_GETFL = 3;
export const F_SETFL = 4;

export function fcntl(fd: number, cmd: number, arg: number): number {
  return check("fcntl", libc().fcntl(fd, cmd, arg));
}

export const RLIMIT_NOFILE = 7;

/** getrlimit(2): the soft and hard limit (Infinity for RLIM_INFINITY). */
export function getrlimit(resource: number): { soft: number; hard: number } {
  const buf = new BigUint64Array(2);
  check("getrlimit", libc().getrlimit(resource, new Uint8Array(buf.buffer)));
  const lim = (v: bigint) => v >= 2n ** 63n ? Infinity : Number(v);
  return { soft: lim(buf[0]), hard: lim(buf[1]) };
}

/** readlink(2): the link's target as raw bytes (names need not be valid UTF-8). */
export function readlinkBytes(path: string): Uint8Array {
  const buf = new Uint8Array(4096);
  const n = check(`readlink ${path}`, libc().readlink(cstr(path), buf, BigInt(buf.length)));
  return buf.slice(0, n);
}

const F_GETLK = 5;
export const F_RDLCK = 0;
export const F_WRLCK = 1;
const F_UNLCK = 2;

/**
 * F_GETLK: the pid of a process whose POSIX record lock conflicts with a
 * `type` lock on [start, start + len) of `fd`, or null when none does (our
 * own locks never conflict). `struct flock` is the same 32 bytes on x86_64
 * and aarch64: short type, short whence, off_t start, off_t len, pid_t pid.
 */
export function lockHolder(fd: number, type: number, start: number, len: number): number | null {
  const buf = new Uint8Array(32);
  const view = new DataView(buf.buffer);
  view.setInt16(0, type, true);
  view.setInt16(2, 0, true); // SEEK_SET
  view.setBigInt64(8, BigInt(start), true);
  view.setBigInt64(16, BigInt(len), true);
  check("fcntl(F_GETLK)", libc().fcntl_ptr(fd, F_GETLK, buf));
  return view.getInt16(0, true) === F_UNLCK ? null : view.getInt32(24, true);
}

export function getuid(): number {
  return libc().getuid();
}
export function geteuid(): number {
  return libc().geteuid();
}
export function getgid(): number {
  return libc().getgid();
}

const AF_UNIX = 1;
const SOCK_DGRAM = 2;
const MSG_NOSIGNAL = 0x4000;
/** sizeof(sockaddr_un.sun_path). */
const SUN_PATH_MAX = 108;

/**
 * Send one datagram to the unix socket at `path` (a leading "@" names the
 * abstract namespace). Deno can listen on such sockets but not send to a
 * path without unstable APIs, hence the native call.
 */
export function sendUnixDatagram(path: string, message: Uint8Array<ArrayBuffer>): void {
  const name = new TextEncoder().encode(path.startsWith("@") ? "\0" + path.slice(1) : path);
  if (name.length >= SUN_PATH_MAX) throw new RangeError(`socket path too long: ${path}`);
  // sockaddr_un: sa_family_t (u16, native order), then the path; a file path is NUL-terminated.
  const addr = new Uint8Array(2 + SUN_PATH_MAX);
  new DataView(addr.buffer).setUint16(0, AF_UNIX, true);
  addr.set(name, 2);
  const len = 2 + name.length + (path.startsWith("@") ? 0 : 1);
  const fd = check("socket", libc().socket(AF_UNIX, SOCK_DGRAM | O_CLOEXEC, 0));
  try {
    check(
      `sendto ${path}`,
      libc().sendto(fd, message, BigInt(message.length), MSG_NOSIGNAL, addr, len),
    );
  } finally {
    libc().close(fd);
  }
}

/** dup2(2): make `newFd` refer to what `oldFd` does. */
export function dup2(oldFd: number, newFd: number): void {
  check("dup2", libc().dup2(oldFd, newFd));
}

/** mallopt(3) parameter: the most malloc arenas the process creates. */
const M_ARENA_MAX = -8;

/**
 * Cap the C allocator's arenas at `n` for the threads that have not
 * allocated yet (glibc; false where mallopt refused). Each thread otherwise
 * gets an arena of its own, and freed memory stays in it.
 */
export function limitMallocArenas(n: number): boolean {
  try {
    return libc().mallopt(M_ARENA_MAX, n) === 1;
  } catch {
    return false;
  }
}

/**
 * malloc_trim(3): hand the pages the C allocator holds free, in every arena,
 * back to the system (glibc). False where nothing was released or the call
 * is missing.
 */
export function trimMalloc(): boolean {
  try {
    return libc().malloc_trim(0n) === 1;
  } catch {
    return false;
  }
}
