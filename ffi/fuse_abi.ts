// The FUSE kernel protocol (include/uapi/linux/fuse.h): opcodes, flags and
// the fixed-layout little-endian structs we read and write. Struct layouts
// are the same on every Linux architecture, which is why we speak this
// protocol instead of binding libfuse's per-arch structs.

import { i32, i64, pad, struct, u16, u32, u64, u64n } from "./fuse_struct.ts";
export type { FieldsOf, Layout, Struct, View, ViewOf } from "./fuse_struct.ts";

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

// ---------------------------------------------------------------- structs
// Each struct as in the kernel header, fields in order (camelCase names);
// fuse_struct.ts derives the offsets. Only structs this server reads or
// writes are declared.

/** fuse_in_header: starts every request. */
export const InHeader = struct("fuse_in_header", {
  len: u32,
  opcode: u32,
  unique: u64n,
  nodeid: u64,
  uid: u32,
  gid: u32,
  pid: u32,
  totalExtlen: u16,
  padding: pad(2),
});

/** fuse_out_header: starts every reply and notification (`error` is -errno, or the notify code). */
export const OutHeader = struct("fuse_out_header", {
  len: u32,
  error: i32,
  unique: u64n,
});

export const IN_HEADER_SIZE = InHeader.size;
export const OUT_HEADER_SIZE = OutHeader.size;

/** fuse_attr: what stat(2) reports. */
export const Attr = struct("fuse_attr", {
  ino: u64,
  size: u64,
  blocks: u64,
  atime: u64,
  mtime: u64,
  ctime: u64,
  atimensec: u32,
  mtimensec: u32,
  ctimensec: u32,
  mode: u32,
  nlink: u32,
  uid: u32,
  gid: u32,
  rdev: u32,
  blksize: u32,
  flags: u32,
});

/** fuse_entry_out: LOOKUP's reply and the head of each READDIRPLUS record. */
export const EntryOut = struct("fuse_entry_out", {
  nodeid: u64,
  generation: u64,
  entryValid: u64,
  attrValid: u64,
  entryValidNsec: u32,
  attrValidNsec: u32,
  attr: Attr,
});

/** fuse_getattr_in: GETATTR's body; `fh` is set when `getattrFlags` has FUSE_GETATTR_FH. */
export const GetattrIn = struct("fuse_getattr_in", { getattrFlags: u32, dummy: pad(4), fh: u64 });
export const FUSE_GETATTR_FH = 1 << 0;

/** fuse_attr_out: GETATTR's reply. */
export const AttrOut = struct("fuse_attr_out", {
  attrValid: u64,
  attrValidNsec: u32,
  dummy: u32,
  attr: Attr,
});

/** fuse_forget_in: FORGET's body. */
export const ForgetIn = struct("fuse_forget_in", { nlookup: u64 });

/** fuse_batch_forget_in: BATCH_FORGET's body; `count` fuse_forget_one records follow. */
export const BatchForgetIn = struct("fuse_batch_forget_in", { count: u32, dummy: pad(4) });
export const ForgetOne = struct("fuse_forget_one", { nodeid: u64, nlookup: u64 });

/** fuse_open_in: OPEN's and OPENDIR's body (`flags` are open(2)'s). */
export const OpenIn = struct("fuse_open_in", { flags: u32, openFlags: u32 });

/** fuse_open_out: OPEN's and OPENDIR's reply; `backingId` names a passthrough file. */
export const OpenOut = struct("fuse_open_out", { fh: u64, openFlags: u32, backingId: i32 });

/** fuse_release_in: RELEASE's and RELEASEDIR's body. */
export const ReleaseIn = struct("fuse_release_in", {
  fh: u64,
  flags: u32,
  releaseFlags: u32,
  lockOwner: u64,
});

/** fuse_read_in: READ's, READDIR's and READDIRPLUS's body. */
export const ReadIn = struct("fuse_read_in", {
  fh: u64,
  offset: u64,
  size: u32,
  readFlags: u32,
  lockOwner: u64,
  flags: u32,
  padding: pad(4),
});

/** fuse_getxattr_in: GETXATTR's (the name follows) and LISTXATTR's body. */
export const GetxattrIn = struct("fuse_getxattr_in", { size: u32, padding: pad(4) });

/** fuse_getxattr_out: the value's size, the answer to a size-0 probe. */
export const GetxattrOut = struct("fuse_getxattr_out", { size: u32, padding: pad(4) });

/** fuse_init_in: kernels before 7.36 send only the first four fields. */
export const InitIn = struct("fuse_init_in", {
  major: u32,
  minor: u32,
  maxReadahead: u32,
  flags: u32,
  flags2: u32,
  unused: pad(44),
});

/** fuse_init_out as of minor 41 (the highest we negotiate). */
export const InitOut = struct("fuse_init_out", {
  major: u32,
  minor: u32,
  maxReadahead: u32,
  flags: u32,
  maxBackground: u16,
  congestionThreshold: u16,
  maxWrite: u32,
  timeGran: u32,
  maxPages: u16,
  mapAlignment: u16,
  flags2: u32,
  maxStackDepth: u32,
  unused: pad(24),
});

/** fuse_kstatfs (the whole of fuse_statfs_out). */
export const Kstatfs = struct("fuse_kstatfs", {
  blocks: u64,
  bfree: u64,
  bavail: u64,
  files: u64,
  ffree: u64,
  bsize: u32,
  namelen: u32,
  frsize: u32,
  padding: pad(4),
  spare: pad(24),
});

/** fuse_dirent: one READDIR record; the name follows, padded to 8 bytes. */
export const Dirent = struct("fuse_dirent", {
  ino: u64,
  off: u64,
  namelen: u32,
  type: u32,
});

/** fuse_direntplus: one READDIRPLUS record; the name follows, padded to 8 bytes. */
export const DirentPlus = struct("fuse_direntplus", { entryOut: EntryOut, dirent: Dirent });

/** fuse_notify_inval_inode_out: drop cached data of an inode (`len` 0: all of it). */
export const NotifyInvalInodeOut = struct("fuse_notify_inval_inode_out", {
  ino: u64,
  off: i64,
  len: i64,
});

/** fuse_notify_inval_entry_out: drop a cached name; the name and a NUL follow. */
export const NotifyInvalEntryOut = struct("fuse_notify_inval_entry_out", {
  parent: u64,
  namelen: u32,
  flags: u32,
});

/** fuse_backing_map: the argument of FUSE_DEV_IOC_BACKING_OPEN. */
export const BackingMap = struct("fuse_backing_map", { fd: i32, flags: u32, padding: pad(8) });

/** `Dirent.type` values (d_type of readdir(3)). */
export const DT_DIR = 4;
export const DT_REG = 8;

/** The size of a dirent record with a name of `nameLen` bytes (8-byte aligned). */
export function direntSize(nameLen: number, plus: boolean): number {
  const base = (plus ? DirentPlus.size : Dirent.size) + nameLen;
  return (base + 7) & ~7;
}

const outHeader = new OutHeader();

/** Write a reply or notification header at byte `o` of `v` (a shared view: no allocation). */
export function writeOutHeader(
  v: DataView,
  len: number,
  error: number,
  unique: bigint,
  o = 0,
): void {
  const h = outHeader.at(v, o);
  h.len = len;
  h.error = error;
  h.unique = unique;
}

/** A standalone argument buffer for an ioctl on /dev/fuse. */
export function backingMap(fd: number): Uint8Array<ArrayBuffer> {
  const b = new Uint8Array(BackingMap.size);
  new BackingMap().at(new DataView(b.buffer), 0).fd = fd;
  return b;
}

/** The argument of FUSE_DEV_IOC_BACKING_CLOSE: the backing id (an int32). */
export function backingId(id: number): Uint8Array<ArrayBuffer> {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setInt32(0, id, true);
  return b;
}
