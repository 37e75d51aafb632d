// One request in, one reply out: the header picks the row of the operation
// table (ops.ts), whose handler reads its body struct, calls the Library and
// answers through the reply views kept here. This file holds the session's
// state and the operations larger than a few lines (open with passthrough,
// readdir, xattr replies, change notifications). Metadata handlers are
// synchronous; READ goes through the inline reader or the I/O pool. Every
// handler failure is mapped to an errno in errno.ts (unexpected ones also
// warn, rate-limited).

import * as libc from "../../ffi/libc.ts";
import {
  AttrOut,
  backingId,
  backingMap,
  Dirent,
  DirentPlus,
  direntSize,
  DT_DIR,
  DT_REG,
  EntryOut,
  FOPEN_DIRECT_IO,
  FOPEN_KEEP_CACHE,
  FOPEN_NOFLUSH,
  FOPEN_PASSTHROUGH,
  ForgetOne,
  FUSE_DEV_IOC_BACKING_CLOSE,
  FUSE_DEV_IOC_BACKING_OPEN,
  FUSE_ROOT_ID,
  GetxattrOut,
  IN_HEADER_SIZE,
  InHeader,
  InitOut,
  Kstatfs,
  Notify,
  NotifyInvalEntryOut,
  NotifyInvalInodeOut,
  Op,
  OpenOut,
  OUT_HEADER_SIZE,
  type View,
  writeOutHeader,
} from "../../ffi/fuse_abi.ts";
import {
  type Attr,
  attrsOfMany,
  type DirEntry,
  type Library,
  type ReadPiece,
  type RefreshReport,
  S_IFDIR,
  S_IFREG,
  XATTR,
} from "../core/mod.ts";
import { BackingWarnings } from "./backing_warn.ts";
import { errnoOf, unservable } from "./errno.ts";
import { RateLimitedWarn, type ServerLog } from "./log.ts";
import { type InitWishes, type KernelInit, type Negotiated, negotiateInit } from "./init.ts";
import type { IoPool } from "./io_pool.ts";
import { INFLIGHT_MAX } from "./defaults.ts";
import type { ServerStats } from "./stats.ts";
import { OP_TABLE, opName, type Request } from "./ops.ts";
import { InlineReader } from "./read.ts";
import { Replier } from "./reply.ts";

const O_TRUNC = 0o1000;
const ATTR_BLKSIZE = 512;

type AttrView = InstanceType<typeof EntryOut>["attr"];

export interface DispatchOptions extends InitWishes {
  attrTtlMs: number;
  log: ServerLog;
  /**
   * What the root's `user.musefs.status` attribute reports besides what the
   * server knows itself (process id, passthrough, start time, counts).
   */
  status?: () => Record<string, unknown>;
  /** Called once after INIT was answered (the mount is usable from then on). */
  onInit?: (negotiated: Negotiated) => void;
}

/** Offloaded reads whose file is remembered for a failure warning. */
const OFFLOADED_REMEMBERED = 4 * INFLIGHT_MAX;

export class Dispatcher {
  readonly reply: Replier;
  private readonly inline: InlineReader;
  private readonly warn: RateLimitedWarn;
  private readonly backingWarn: BackingWarnings;
  /** Offloaded reads by request → inode (see serveRead). */
  private readonly offloaded = new Map<bigint, number>();
  private readonly header = new InHeader();
  private readonly req: Request = {
    opcode: 0,
    unique: 0n,
    nodeid: 0,
    uid: 0,
    buf: new Uint8Array(0),
    view: new DataView(new ArrayBuffer(0)),
    len: 0,
  };
  /** One view per opcode over its request body (null: the row reads no struct). */
  private readonly inputs: (View | null)[] = OP_TABLE.map((r) => r?.in ? new r.in() : null);
  /** BATCH_FORGET walks its records with this view. */
  readonly forgetOne = new ForgetOne();
  /** Reply bodies, each a view at the start of the reply buffer's body. */
  readonly out: {
    readonly entry: InstanceType<typeof EntryOut>;
    readonly attr: InstanceType<typeof AttrOut>;
    readonly open: InstanceType<typeof OpenOut>;
    readonly getxattr: InstanceType<typeof GetxattrOut>;
    readonly init: InstanceType<typeof InitOut>;
    readonly kstatfs: InstanceType<typeof Kstatfs>;
  };
  /** READDIR(PLUS) records, moved along the reply buffer. */
  private readonly dirent = new Dirent();
  private readonly direntPlus = new DirentPlus();
  /** Open file handle → backing id registered for passthrough. */
  private readonly backingIds = new Map<number, number>();
  private readonly loggedOnce = new Set<string>();
  private passthrough = false;
  /** DESTROY arrived or the device is gone: the loop should stop. */
  ended = false;

  constructor(
    private readonly devFd: number,
    readonly library: Library,
    private readonly pool: IoPool,
    readonly stats: ServerStats,
    private readonly opts: DispatchOptions,
  ) {
    this.reply = new Replier(devFd);
    this.inline = new InlineReader(devFd);
    this.warn = new RateLimitedWarn(opts.log);
    this.backingWarn = new BackingWarnings(opts.log);
    const v = this.reply.view, body = OUT_HEADER_SIZE;
    this.out = {
      entry: new EntryOut().at(v, body),
      attr: new AttrOut().at(v, body),
      open: new OpenOut().at(v, body),
      getxattr: new GetxattrOut().at(v, body),
      init: new InitOut().at(v, body),
      kstatfs: new Kstatfs().at(v, body),
    };
  }

  /** Serving is over: report warnings still held back. */
  close(): void {
    this.backingWarn.flush();
  }

  get deviceGone(): boolean {
    return this.reply.gone || this.inline.gone;
  }

  /** Answer EIO for a read whose worker failed. */
  failRead(unique: bigint, message: string): void {
    this.stats.readErrors++;
    const path = this.offloadedPath(unique);
    if (path !== null) {
      this.backingWarn.warn(path, `cannot serve ${path} (READ → EIO): ${message}`);
    } else {
      this.warn.warn(`read failed: ${message}`);
    }
    this.reply.error(unique, libc.E.EIO);
  }

  /** The backing file of an offloaded read, when it is still remembered (for the warning). */
  private offloadedPath(unique: bigint): string | null {
    const nodeid = this.offloaded.get(unique);
    if (nodeid === undefined) return null;
    this.offloaded.delete(unique);
    try {
      return this.library.xattr?.(nodeid, XATTR.backingPath) ?? null;
    } catch {
      return null; // the track is gone: the warning goes without its path
    }
  }

  /** Handle the request of `len` bytes at the start of `buf` (`v` views the same bytes). */
  handle(buf: Uint8Array, v: DataView, len: number): void {
    // What earlier requests were served is written by now (replies go out
    // before handle returns; reads handed to a worker were copied).
    this.library.nextRequest?.();
    const h = this.header.at(v, 0);
    const req = this.req;
    const opcode = req.opcode = h.opcode;
    req.unique = h.unique;
    req.nodeid = h.nodeid;
    req.uid = h.uid;
    req.buf = buf;
    req.view = v;
    req.len = len;
    const row = OP_TABLE[opcode];
    try {
      if (row === undefined) {
        this.opts.log.debug(`unsupported request ${opName(opcode)}: ENOSYS`);
        this.reply.error(req.unique, libc.E.ENOSYS);
        return;
      }
      if (len < IN_HEADER_SIZE + row.minBody) {
        throw new Error(`request of ${len} bytes is too short for ${row.in?.structName}`);
      }
      row.handle(this, req, this.inputs[opcode]?.at(v, IN_HEADER_SIZE) as View);
    } catch (e) {
      const { errno, expected } = errnoOf(e);
      if (opcode === Op.READ) this.stats.readErrors++;
      const backing = unservable(e);
      if (backing !== null) {
        this.backingWarn.warn(
          backing.path,
          `cannot serve ${backing.path} (${opName(opcode)} → ${backing.errno}): ${
            (e as Error).message
          }`,
        );
      } else if (!expected) {
        this.warn.warn(`${opName(opcode)} of inode ${req.nodeid}: ${(e as Error).message}`);
      }
      if (!row?.noReply) this.reply.error(req.unique, errno);
    }
  }
  // ---------------------------------------------------------------- replies

  /** Answer a LOOKUP: the entry and its attributes, valid for the attribute TTL. */
  replyEntry(unique: bigint, a: Attr): void {
    putEntry(this.out.entry, a, this.opts.attrTtlMs);
    this.reply.ok(unique, EntryOut.size);
  }

  replyAttr(unique: bigint, a: Attr): void {
    const out = this.out.attr;
    const ttlMs = this.opts.attrTtlMs;
    out.attrValid = Math.floor(ttlMs / 1000);
    out.attrValidNsec = (ttlMs % 1000) * 1_000_000;
    out.dummy = 0;
    putAttr(out.attr, a);
    this.reply.ok(unique, AttrOut.size);
  }

  replyOpen(unique: bigint, fh: number, openFlags: number, backingId: number): void {
    const out = this.out.open;
    out.fh = fh;
    out.openFlags = openFlags;
    out.backingId = backingId;
    this.reply.ok(unique, OpenOut.size);
  }

  /** Answer GETXATTR/LISTXATTR: the size for a size-0 probe, ERANGE when it does not fit. */
  replyXattr(unique: bigint, size: number, value: Uint8Array | null): void {
    const r = this.reply;
    if (value === null) {
      r.error(unique, libc.E.ENODATA);
    } else if (size === 0) {
      this.out.getxattr.clear().size = value.length;
      r.ok(unique, GetxattrOut.size);
    } else if (value.length > size || value.length > r.buf.length - OUT_HEADER_SIZE) {
      r.error(unique, libc.E.ERANGE);
    } else {
      r.buf.set(value, OUT_HEADER_SIZE);
      r.ok(unique, value.length);
    }
  }

  // ---------------------------------------------------------------- operations

  /** Answer a READ from its pieces: inline when nothing blocks, else on an I/O worker. */
  serveRead(unique: bigint, pieces: ReadPiece[], nodeid = 0): void {
    if (this.inline.serve(unique, pieces)) {
      this.stats.inlineReads++;
      return;
    }
    if (this.pool.inflightReads >= INFLIGHT_MAX) {
      this.stats.readErrors++;
      this.reply.error(unique, libc.E.EAGAIN);
      return;
    }
    this.stats.offloadedReads++;
    // Which file each offloaded read is for, so a failure can be named; bounded
    // (successes are never reported back, so the oldest entries just go).
    this.offloaded.set(unique, nodeid);
    if (this.offloaded.size > OFFLOADED_REMEMBERED) {
      this.offloaded.delete(this.offloaded.keys().next().value!);
    }
    this.pool.submit(unique, pieces);
  }

  xattrNames(nodeid: number): string[] {
    const names = this.library.xattrNames?.(nodeid) ?? [];
    return nodeid === FUSE_ROOT_ID ? [...names, XATTR.status] : names;
  }

  xattr(nodeid: number, name: string): string | null {
    if (nodeid === FUSE_ROOT_ID && name === XATTR.status) return this.status();
    return this.library.xattr?.(nodeid, name) ?? null;
  }

  /** The mount's status as one JSON object (read by `musefs status`). */
  private status(): string {
    const { files, dirs } = this.library.counts();
    return JSON.stringify({
      ...this.opts.status?.(),
      pid: Deno.pid,
      passthrough: this.passthrough,
      started_at: Math.floor(this.stats.startedAt / 1000),
      files,
      directories: dirs,
    });
  }

  noXattrWrites(unique: bigint): void {
    this.once("xattr", "setting extended attributes is not supported (ENOTSUP)");
    this.reply.error(unique, libc.E.ENOSYS);
  }

  private once(key: string, message: string): void {
    if (this.loggedOnce.has(key)) return;
    this.loggedOnce.add(key);
    this.opts.log.debug(message);
  }

  init(unique: bigint, kernel: KernelInit): void {
    const negotiated = negotiateInit(kernel, this.opts);
    this.passthrough = negotiated.passthrough;
    this.stats.passthroughActive = negotiated.passthrough;
    this.out.init.clear().assign(negotiated.out);
    this.reply.ok(unique, InitOut.size);
    this.opts.onInit?.(negotiated);
  }

  open(unique: bigint, nodeid: number, flags: number, uid: number): void {
    if ((flags & libc.O_ACCMODE) !== libc.O_RDONLY || (flags & O_TRUNC) !== 0) {
      this.reply.error(unique, libc.E.EROFS);
      return;
    }
    // Counted before the call so an open metrics file counts itself.
    this.stats.handlesOpen++;
    let res;
    try {
      res = this.library.open(nodeid, flags, uid);
    } catch (e) {
      this.stats.handlesOpen--;
      throw e;
    }
    // A read-only file system has nothing to flush: FOPEN_NOFLUSH spares every
    // close(2) a FLUSH round trip (kernels before 5.16 ignore the flag and
    // keep sending FLUSH, which is answered at once).
    let openFlags = FOPEN_NOFLUSH | (res.keepCache ? FOPEN_KEEP_CACHE : 0) |
      (res.directIo ? FOPEN_DIRECT_IO : 0);
    let backingId = 0;
    if (this.passthrough && res.passthroughFd !== undefined) {
      try {
        backingId = libc.ioctl(
          this.devFd,
          FUSE_DEV_IOC_BACKING_OPEN,
          backingMap(res.passthroughFd),
        );
        this.backingIds.set(res.fh, backingId);
        openFlags = FOPEN_PASSTHROUGH | FOPEN_NOFLUSH;
        this.stats.passthroughOpens++;
      } catch (e) {
        // One failure turns passthrough off for the session; reads go through us.
        this.passthrough = false;
        this.stats.passthroughDisabled = true;
        backingId = 0;
        this.opts.log.warn(
          `kernel passthrough disabled for this mount: registering a backing file failed ` +
            `(${(e as Error).message}); serving reads in the daemon`,
        );
      }
    }
    this.replyOpen(unique, res.fh, openFlags, backingId);
  }

  release(unique: bigint, fh: number): void {
    const id = this.backingIds.get(fh);
    if (id !== undefined) {
      this.backingIds.delete(fh);
      try {
        libc.ioctl(this.devFd, FUSE_DEV_IOC_BACKING_CLOSE, backingId(id));
      } catch (e) {
        this.opts.log.debug(`backing close ${id}: ${(e as Error).message}`);
      }
    }
    this.stats.handlesOpen--;
    this.library.release(fh);
    this.reply.ok(unique, 0);
  }

  /** READDIR(PLUS): as many records from `offset` as fit in `size` bytes. */
  readdir(
    unique: bigint,
    nodeid: number,
    fh: number,
    offset: number,
    size: number,
    plus: boolean,
  ): void {
    size = Math.min(size, this.reply.buf.length - OUT_HEADER_SIZE);
    const limit = Math.ceil(size / direntSize(1, plus));
    const entries = this.library.readdir(fh, nodeid, offset, limit);
    const out = this.reply.buf;
    const view = this.reply.view;
    let pos = OUT_HEADER_SIZE;
    const end = OUT_HEADER_SIZE + size;
    const ttlMs = this.opts.attrTtlMs;
    // Attributes of every entry that fits, asked for at once (the core reads
    // their rows in one batch); "." and ".." carry none. An entry without
    // attributes (vanished or unservable meanwhile) is sent with nodeid 0:
    // the kernel will LOOKUP it if needed, and that answers the error.
    const attrs = plus ? this.#listingAttrs(entries, end - pos) : [];
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i];
      const recLen = direntSize(e.name.length, plus);
      if (pos + recLen > end) break;
      let d;
      if (plus) {
        const rec = this.direntPlus.at(view, pos);
        d = rec.dirent;
        const attr = attrs[i] ?? null;
        if (attr !== null) {
          putEntry(rec.entryOut, attr, ttlMs);
        } else {
          // nodeid 0: "no attributes for this entry", the kernel links nothing.
          const a = rec.entryOut.clear().attr;
          a.ino = e.ino;
          a.mode = e.isDir ? S_IFDIR : S_IFREG;
          a.nlink = 1;
          a.blksize = ATTR_BLKSIZE;
        }
      } else {
        d = this.dirent.at(view, pos);
      }
      d.ino = e.ino;
      d.off = offset + i + 1;
      d.namelen = e.name.length;
      d.type = e.isDir ? DT_DIR : DT_REG;
      const nameAt = pos + (plus ? DirentPlus.size : Dirent.size);
      out.set(e.name, nameAt);
      out.fill(0, nameAt + e.name.length, pos + recLen);
      pos += recLen;
    }
    this.reply.ok(unique, pos - OUT_HEADER_SIZE);
  }

  /** Attributes of the leading `entries` whose records fit in `room` bytes (null for dots). */
  #listingAttrs(entries: readonly DirEntry[], room: number): (Attr | null)[] {
    const inos: number[] = [];
    const at: number[] = [];
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i];
      room -= direntSize(e.name.length, true);
      if (room < 0) break;
      if (isDots(e.name)) continue;
      inos.push(e.ino);
      at.push(i);
    }
    const got = attrsOfMany(this.library, inos);
    const out: (Attr | null)[] = new Array(entries.length).fill(null);
    for (let k = 0; k < at.length; k++) out[at[k]] = got[k];
    return out;
  }

  /** Ask the library for changes and tell the kernel what to drop. Never throws. */
  poll(): void {
    let report: RefreshReport | null;
    try {
      report = this.library.poll();
    } catch (e) {
      this.warn.warn(`refresh failed: ${(e as Error).message}`);
      return;
    }
    if (report === null) return;
    this.stats.refreshGeneration++;
    for (const ino of report.invalidateInodes) this.pool.notify(invalInode(ino));
    for (const { parent, name } of report.invalidateEntries) {
      this.pool.notify(invalEntry(parent, name));
    }
  }
}

function isDots(name: Uint8Array): boolean {
  return name[0] === 0x2e && (name.length === 1 || (name.length === 2 && name[1] === 0x2e));
}

// The hot replies below set every byte of their struct themselves (reserved
// fields included) instead of clearing it first: the reply buffer holds
// whatever the previous reply left there.

/** fuse_attr from the library's attributes (atime = ctime = mtime; rdev and flags 0). */
function putAttr(out: AttrView, a: Attr): void {
  out.ino = a.ino;
  out.size = a.size;
  out.blocks = a.blocks;
  out.atime = a.mtimeSec;
  out.mtime = a.mtimeSec;
  out.ctime = a.mtimeSec;
  out.atimensec = a.mtimeNsec;
  out.mtimensec = a.mtimeNsec;
  out.ctimensec = a.mtimeNsec;
  out.mode = a.mode;
  out.nlink = a.nlink;
  out.uid = a.uid;
  out.gid = a.gid;
  out.rdev = 0;
  out.blksize = ATTR_BLKSIZE;
  out.flags = 0;
}

/** fuse_entry_out (generation 0: inode numbers are never reused within a mount). */
function putEntry(out: InstanceType<typeof EntryOut>, a: Attr, ttlMs: number): void {
  out.nodeid = a.ino;
  out.generation = 0;
  const sec = Math.floor(ttlMs / 1000);
  const nsec = (ttlMs % 1000) * 1_000_000;
  out.entryValid = sec;
  out.attrValid = sec;
  out.entryValidNsec = nsec;
  out.attrValidNsec = nsec;
  putAttr(out.attr, a);
}

const invalInodeOut = new NotifyInvalInodeOut();
const invalEntryOut = new NotifyInvalEntryOut();

function invalInode(ino: number): Uint8Array<ArrayBuffer> {
  const msg = new Uint8Array(OUT_HEADER_SIZE + NotifyInvalInodeOut.size);
  const v = new DataView(msg.buffer);
  writeOutHeader(v, msg.length, Notify.INVAL_INODE, 0n);
  invalInodeOut.at(v, OUT_HEADER_SIZE).ino = ino; // off 0, len 0: all of it
  return msg;
}

function invalEntry(parent: number, name: Uint8Array): Uint8Array<ArrayBuffer> {
  const msg = new Uint8Array(OUT_HEADER_SIZE + NotifyInvalEntryOut.size + name.length + 1);
  const v = new DataView(msg.buffer);
  writeOutHeader(v, msg.length, Notify.INVAL_ENTRY, 0n);
  const out = invalEntryOut.at(v, OUT_HEADER_SIZE);
  out.parent = parent;
  out.namelen = name.length;
  msg.set(name, OUT_HEADER_SIZE + NotifyInvalEntryOut.size);
  return msg;
}
