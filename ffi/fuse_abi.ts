// The FUSE kernel protocol (include/uapi/linux/fuse.h): opcodes, flags and
// the fixed-layout little-endian structs we read and write. Struct layouts
// are the same on every Linux architecture, which is why we speak this
// protocol instead of binding libfuse's per-arch structs.

export const FUSE_KERNEL_VERSION = 7;
/** Highest minor we implement; the negotiated minor is min(this, kernel's). */
export const FUSE_KERNEL_MINOR_VERSION = 41;
export const FUSE_ROOT_ID = 1;
/** The kernel refuses reads of /dev/fuse into buffers smaller than this. */
export const FUSE_MIN_READ_BUFFER = 8192;

export const Op = {
  LOOKUP: 1,
  FORGET: 2,
  GETATTR: 3,
  SETATTR: 4,
  READLINK: 5,
  SYMLINK: 6,
  MKNOD: 8,
  MKDIR: 9,
  UNLINK: 10,
  RMDIR: 11,
  RENAME: 12,
  LINK: 13,
  OPEN: 14,
  READ: 15,
  WRITE: 16,
  STATFS: 17,
  RELEASE: 18,
  FSYNC: 20,
  SETXATTR: 21,
  GETXATTR: 22,
  LISTXATTR: 23,
  REMOVEXATTR: 24,
  FLUSH: 25,
  INIT: 26,
  OPENDIR: 27,
  READDIR: 28,
  RELEASEDIR: 29,
  FSYNCDIR: 30,
  GETLK: 31,
  SETLK: 32,
  SETLKW: 33,
  ACCESS: 34,
  CREATE: 35,
  INTERRUPT: 36,
  BMAP: 37,
  DESTROY: 38,
  IOCTL: 39,
  POLL: 40,
  NOTIFY_REPLY: 41,
  BATCH_FORGET: 42,
  FALLOCATE: 43,
  READDIRPLUS: 44,
  RENAME2: 45,
  LSEEK: 46,
  COPY_FILE_RANGE: 47,
  SETUPMAPPING: 48,
  REMOVEMAPPING: 49,
  SYNCFS: 50,
  TMPFILE: 51,
  STATX: 52,
} as const;

/** INIT flags (first 32 bits in `flags`, the rest in `flags2` when INIT_EXT). */
export const Init = {
  ASYNC_READ: 1 << 0,
  POSIX_LOCKS: 1 << 1,
  FILE_OPS: 1 << 2,
  ATOMIC_O_TRUNC: 1 << 3,
  EXPORT_SUPPORT: 1 << 4,
  BIG_WRITES: 1 << 5,
  DONT_MASK: 1 << 6,
  SPLICE_WRITE: 1 << 7,
  SPLICE_MOVE: 1 << 8,
  SPLICE_READ: 1 << 9,
  FLOCK_LOCKS: 1 << 10,
  HAS_IOCTL_DIR: 1 << 11,
  AUTO_INVAL_DATA: 1 << 12,
  DO_READDIRPLUS: 1 << 13,
  READDIRPLUS_AUTO: 1 << 14,
  ASYNC_DIO: 1 << 15,
  WRITEBACK_CACHE: 1 << 16,
  NO_OPEN_SUPPORT: 1 << 17,
  PARALLEL_DIROPS: 1 << 18,
  HANDLE_KILLPRIV: 1 << 19,
  POSIX_ACL: 1 << 20,
  ABORT_ERROR: 1 << 21,
  MAX_PAGES: 1 << 22,
  CACHE_SYMLINKS: 1 << 23,
  NO_OPENDIR_SUPPORT: 1 << 24,
  EXPLICIT_INVAL_DATA: 1 << 25,
  MAP_ALIGNMENT: 1 << 26,
  SUBMOUNTS: 1 << 27,
  HANDLE_KILLPRIV_V2: 1 << 28,
  SETXATTR_EXT: 1 << 29,
  INIT_EXT: 1 << 30,
} as const;
/** Bits of `flags2` (flag bit 32 + n is bit n here). */
export const Init2 = {
  SECURITY_CTX: 1 << 0,
  HAS_INODE_DAX: 1 << 1,
  CREATE_SUPP_GROUP: 1 << 2,
  HAS_EXPIRE_ONLY: 1 << 3,
  DIRECT_IO_ALLOW_MMAP: 1 << 4,
  PASSTHROUGH: 1 << 5,
  NO_EXPORT_SUPPORT: 1 << 6,
  HAS_RESEND: 1 << 7,
} as const;

export const FOPEN_DIRECT_IO = 1 << 0;
export const FOPEN_KEEP_CACHE = 1 << 1;
export const FOPEN_NONSEEKABLE = 1 << 2;
export const FOPEN_CACHE_DIR = 1 << 3;
export const FOPEN_STREAM = 1 << 4;
export const FOPEN_NOFLUSH = 1 << 5;
export const FOPEN_PASSTHROUGH = 1 << 7;

export const Notify = {
  POLL: 1,
  INVAL_INODE: 2,
  INVAL_ENTRY: 3,
  STORE: 4,
  RETRIEVE: 5,
  DELETE: 6,
  RESEND: 7,
} as const;

// ioctl numbers on /dev/fuse: _IOR/_IOW(229, nr, size).
const ioc = (dir: number, nr: number, size: number) =>
  ((dir << 30) | (size << 16) | (229 << 8) | nr) >>> 0;
export const FUSE_DEV_IOC_CLONE = ioc(2, 0, 4);
export const FUSE_DEV_IOC_BACKING_OPEN = ioc(1, 1, 16);
export const FUSE_DEV_IOC_BACKING_CLOSE = ioc(1, 2, 4);

export const IN_HEADER_SIZE = 40;
export const OUT_HEADER_SIZE = 16;
export const ATTR_SIZE = 88;
export const ENTRY_OUT_SIZE = 40 + ATTR_SIZE;
export const ATTR_OUT_SIZE = 16 + ATTR_SIZE;
export const OPEN_OUT_SIZE = 16;
export const INIT_OUT_SIZE = 64;
export const KSTATFS_SIZE = 80;
export const DIRENT_HEADER_SIZE = 24;

/** The header every request starts with. */
export interface InHeader {
  len: number;
  opcode: number;
  unique: bigint;
  nodeid: number;
  uid: number;
  gid: number;
  pid: number;
}

export function readInHeader(v: DataView, o = 0): InHeader {
  return {
    len: v.getUint32(o, true),
    opcode: v.getUint32(o + 4, true),
    unique: v.getBigUint64(o + 8, true),
    nodeid: Number(v.getBigUint64(o + 16, true)),
    uid: v.getUint32(o + 24, true),
    gid: v.getUint32(o + 28, true),
    pid: v.getUint32(o + 32, true),
  };
}

export function writeOutHeader(
  v: DataView,
  len: number,
  error: number,
  unique: bigint,
  o = 0,
): void {
  v.setUint32(o, len, true);
  v.setInt32(o + 4, error, true);
  v.setBigUint64(o + 8, unique, true);
}

/** Attributes in the kernel's `struct fuse_attr` shape. */
export interface FuseAttr {
  ino: number;
  size: number;
  blocks: number;
  mtimeSec: number;
  mtimeNsec: number;
  mode: number;
  nlink: number;
  uid: number;
  gid: number;
  blksize: number;
}

export function writeAttr(v: DataView, o: number, a: FuseAttr): void {
  v.setBigUint64(o, BigInt(a.ino), true);
  v.setBigUint64(o + 8, BigInt(a.size), true);
  v.setBigUint64(o + 16, BigInt(a.blocks), true);
  const t = BigInt(a.mtimeSec);
  v.setBigUint64(o + 24, t, true); // atime
  v.setBigUint64(o + 32, t, true); // mtime
  v.setBigUint64(o + 40, t, true); // ctime
  v.setUint32(o + 48, a.mtimeNsec, true);
  v.setUint32(o + 52, a.mtimeNsec, true);
  v.setUint32(o + 56, a.mtimeNsec, true);
  v.setUint32(o + 60, a.mode, true);
  v.setUint32(o + 64, a.nlink, true);
  v.setUint32(o + 68, a.uid, true);
  v.setUint32(o + 72, a.gid, true);
  v.setUint32(o + 76, 0, true); // rdev
  v.setUint32(o + 80, a.blksize, true);
  v.setUint32(o + 84, 0, true); // flags
}

/** fuse_entry_out: nodeid, generation, entry/attr validity, attr. */
export function writeEntryOut(v: DataView, o: number, a: FuseAttr, ttlMs: number): void {
  v.setBigUint64(o, BigInt(a.ino), true);
  v.setBigUint64(o + 8, 0n, true); // generation
  const sec = BigInt(Math.floor(ttlMs / 1000));
  const nsec = (ttlMs % 1000) * 1_000_000;
  v.setBigUint64(o + 16, sec, true);
  v.setBigUint64(o + 24, sec, true);
  v.setUint32(o + 32, nsec, true);
  v.setUint32(o + 36, nsec, true);
  writeAttr(v, o + 40, a);
}

export function writeAttrOut(v: DataView, o: number, a: FuseAttr, ttlMs: number): void {
  v.setBigUint64(o, BigInt(Math.floor(ttlMs / 1000)), true);
  v.setUint32(o + 8, (ttlMs % 1000) * 1_000_000, true);
  v.setUint32(o + 12, 0, true);
  writeAttr(v, o + 16, a);
}

export function writeOpenOut(
  v: DataView,
  o: number,
  fh: bigint,
  openFlags: number,
  backingId = 0,
): void {
  v.setBigUint64(o, fh, true);
  v.setUint32(o + 8, openFlags, true);
  v.setInt32(o + 12, backingId, true);
}

export interface InitIn {
  major: number;
  minor: number;
  maxReadahead: number;
  flags: number;
  flags2: number;
}

export function readInitIn(v: DataView, o: number, len: number): InitIn {
  return {
    major: v.getUint32(o, true),
    minor: v.getUint32(o + 4, true),
    maxReadahead: v.getUint32(o + 8, true),
    flags: v.getUint32(o + 12, true),
    flags2: len >= 20 ? v.getUint32(o + 16, true) : 0,
  };
}

export interface InitOut {
  major: number;
  minor: number;
  maxReadahead: number;
  flags: number;
  flags2: number;
  maxBackground: number;
  congestionThreshold: number;
  maxWrite: number;
  timeGran: number;
  maxPages: number;
  maxStackDepth: number;
}

export function writeInitOut(v: DataView, o: number, x: InitOut): void {
  for (let i = 0; i < INIT_OUT_SIZE; i += 4) v.setUint32(o + i, 0, true);
  v.setUint32(o, x.major, true);
  v.setUint32(o + 4, x.minor, true);
  v.setUint32(o + 8, x.maxReadahead, true);
  v.setUint32(o + 12, x.flags >>> 0, true);
  v.setUint16(o + 16, x.maxBackground, true);
  v.setUint16(o + 18, x.congestionThreshold, true);
  v.setUint32(o + 20, x.maxWrite, true);
  v.setUint32(o + 24, x.timeGran, true);
  v.setUint16(o + 28, x.maxPages, true);
  v.setUint16(o + 30, 0, true); // map_alignment
  v.setUint32(o + 32, x.flags2 >>> 0, true);
  v.setUint32(o + 36, x.maxStackDepth, true);
}

/** The size of a dirent record with a name of `nameLen` bytes (8-byte aligned). */
export function direntSize(nameLen: number, plus: boolean): number {
  const base = (plus ? ENTRY_OUT_SIZE : 0) + DIRENT_HEADER_SIZE + nameLen;
  return (base + 7) & ~7;
}

export const DT_DIR = 4;
export const DT_REG = 8;

/** Write one fuse_dirent (or fuse_direntplus when `entry` is given); returns bytes written. */
export function writeDirent(
  buf: Uint8Array,
  v: DataView,
  o: number,
  ino: number,
  nextOffset: number,
  name: Uint8Array,
  isDir: boolean,
  entry?: { attr: FuseAttr; ttlMs: number },
): number {
  const size = direntSize(name.length, entry !== undefined);
  let p = o;
  if (entry) {
    writeEntryOut(v, p, entry.attr, entry.ttlMs);
    p += ENTRY_OUT_SIZE;
  }
  v.setBigUint64(p, BigInt(ino), true);
  v.setBigUint64(p + 8, BigInt(nextOffset), true);
  v.setUint32(p + 16, name.length, true);
  v.setUint32(p + 20, isDir ? DT_DIR : DT_REG, true);
  buf.set(name, p + DIRENT_HEADER_SIZE);
  buf.fill(0, p + DIRENT_HEADER_SIZE + name.length, o + size);
  return size;
}

export function writeKstatfs(
  v: DataView,
  o: number,
  s: { blocks: number; files: number; bsize: number; namelen: number },
): void {
  v.setBigUint64(o, BigInt(s.blocks), true); // blocks
  v.setBigUint64(o + 8, BigInt(s.blocks), true); // bfree
  v.setBigUint64(o + 16, BigInt(s.blocks), true); // bavail
  v.setBigUint64(o + 24, BigInt(s.files), true); // files
  v.setBigUint64(o + 32, BigInt(s.files), true); // ffree
  v.setUint32(o + 40, s.bsize, true);
  v.setUint32(o + 44, s.namelen, true);
  v.setUint32(o + 48, s.bsize, true); // frsize
  for (let i = 52; i < KSTATFS_SIZE; i += 4) v.setUint32(o + i, 0, true);
}

/** fuse_read_in: fh, offset, size (the rest is not needed for a read-only fs). */
export function readReadIn(v: DataView, o: number): { fh: bigint; offset: number; size: number } {
  return {
    fh: v.getBigUint64(o, true),
    offset: Number(v.getBigUint64(o + 8, true)),
    size: v.getUint32(o + 16, true),
  };
}

/** fuse_open_in: flags (open(2) flags). */
export function readOpenIn(v: DataView, o: number): { flags: number } {
  return { flags: v.getUint32(o, true) };
}

/** fuse_release_in: fh. */
export function readReleaseIn(v: DataView, o: number): { fh: bigint } {
  return { fh: v.getBigUint64(o, true) };
}

/** fuse_notify_inval_inode_out: ino, off, len. */
export function writeNotifyInvalInode(
  v: DataView,
  o: number,
  ino: number,
  off: number,
  len: number,
): void {
  v.setBigUint64(o, BigInt(ino), true);
  v.setBigInt64(o + 8, BigInt(off), true);
  v.setBigInt64(o + 16, BigInt(len), true);
}

/** fuse_notify_inval_entry_out: parent, namelen, flags; the name + NUL follow. */
export function writeNotifyInvalEntry(
  v: DataView,
  o: number,
  parent: number,
  nameLen: number,
): void {
  v.setBigUint64(o, BigInt(parent), true);
  v.setUint32(o + 8, nameLen, true);
  v.setUint32(o + 12, 0, true);
}

/** struct fuse_backing_map for FUSE_DEV_IOC_BACKING_OPEN. */
export function backingMap(fd: number): Uint8Array<ArrayBuffer> {
  const b = new Uint8Array(16);
  new DataView(b.buffer).setInt32(0, fd, true);
  return b;
}

/** fuse_getxattr_in (also LISTXATTR's): the caller's buffer size; the name (GETXATTR) follows. */
export const GETXATTR_IN_SIZE = 8;
export function readGetxattrIn(v: DataView, o: number): { size: number } {
  return { size: v.getUint32(o, true) };
}

/** fuse_getxattr_out: the value's size, the answer to a size-0 probe. */
export const GETXATTR_OUT_SIZE = 8;
export function writeGetxattrOut(v: DataView, o: number, size: number): void {
  v.setUint32(o, size, true);
  v.setUint32(o + 4, 0, true);
}
