// One request in, one reply out: decode the opcode's arguments, call the
// Library, encode the answer. Metadata handlers are synchronous; READ goes
// through the inline reader or the I/O pool. Every handler failure is
// mapped to an errno in errno.ts (unexpected ones also warn, rate-limited).

import * as libc from "../../ffi/libc.ts";
import {
  ATTR_OUT_SIZE,
  backingMap,
  direntSize,
  ENTRY_OUT_SIZE,
  FOPEN_DIRECT_IO,
  FOPEN_KEEP_CACHE,
  FOPEN_PASSTHROUGH,
  FUSE_DEV_IOC_BACKING_CLOSE,
  FUSE_DEV_IOC_BACKING_OPEN,
  FUSE_ROOT_ID,
  type FuseAttr,
  GETXATTR_IN_SIZE,
  GETXATTR_OUT_SIZE,
  IN_HEADER_SIZE,
  INIT_OUT_SIZE,
  KSTATFS_SIZE,
  Notify,
  Op,
  OPEN_OUT_SIZE,
  OUT_HEADER_SIZE,
  readGetxattrIn,
  readInitIn,
  writeAttrOut,
  writeDirent,
  writeEntryOut,
  writeGetxattrOut,
  writeInitOut,
  writeKstatfs,
  writeNotifyInvalEntry,
  writeNotifyInvalInode,
  writeOpenOut,
  writeOutHeader,
} from "../../ffi/fuse_abi.ts";
import { type Attr, type Library, type RefreshReport, XATTR } from "../core/mod.ts";
import { BackingWarnings } from "./backing_warn.ts";
import { errnoOf, RateLimitedWarn, type ServerLog, unservable } from "./errno.ts";
import { type InitWishes, type Negotiated, negotiateInit } from "./init.ts";
import type { IoPool } from "./io_pool.ts";
import { INFLIGHT_MAX, type ServerStats } from "./metrics.ts";
import { InlineReader } from "./read.ts";
import { Replier } from "./reply.ts";
import { MAX_READ } from "./defaults.ts";

const O_TRUNC = 0o1000;
const enc = new TextEncoder();
const dec = new TextDecoder();
/** F§5 statfs: 1 TiB of 512-byte blocks, 2^32 files, names up to 255 bytes. */
const STATFS = { blocks: 2 ** 40 / 512, files: 2 ** 32, bsize: 512, namelen: 255 };
const ATTR_BLKSIZE = 512;
const GETATTR_FH = 1;

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

export class Dispatcher {
  private readonly reply: Replier;
  private readonly inline: InlineReader;
  private readonly warn: RateLimitedWarn;
  private readonly backingWarn: BackingWarnings;
  private readonly attr: FuseAttr = {
    ino: 0,
    size: 0,
    blocks: 0,
    mtimeSec: 0,
    mtimeNsec: 0,
    mode: 0,
    nlink: 0,
    uid: 0,
    gid: 0,
    blksize: ATTR_BLKSIZE,
  };
  /** Open file handle → backing id registered for passthrough. */
  private readonly backingIds = new Map<number, number>();
  private readonly loggedOnce = new Set<string>();
  private passthrough = false;
  /** DESTROY arrived or the device is gone: the loop should stop. */
  ended = false;

  constructor(
    private readonly devFd: number,
    private readonly library: Library,
    private readonly pool: IoPool,
    private readonly stats: ServerStats,
    private readonly opts: DispatchOptions,
  ) {
    this.reply = new Replier(devFd);
    this.inline = new InlineReader(devFd);
    this.warn = new RateLimitedWarn(opts.log);
    this.backingWarn = new BackingWarnings(opts.log);
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
    this.warn.warn(`read failed: ${message}`);
    this.reply.error(unique, libc.E.EIO);
  }

  /** Handle the request of `len` bytes at the start of `buf`. */
  handle(buf: Uint8Array, v: DataView, len: number): void {
    const opcode = v.getUint32(4, true);
    const unique = v.getBigUint64(8, true);
    const nodeid = u64(v, 16);
    try {
      this.dispatch(opcode, unique, nodeid, buf, v, len);
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
        this.warn.warn(`${opName(opcode)} of inode ${nodeid}: ${(e as Error).message}`);
      }
      if (opcode !== Op.FORGET && opcode !== Op.BATCH_FORGET && opcode !== Op.INTERRUPT) {
        this.reply.error(unique, errno);
      }
    }
  }

  private dispatch(
    opcode: number,
    unique: bigint,
    nodeid: number,
    buf: Uint8Array,
    v: DataView,
    len: number,
  ): void {
    const r = this.reply;
    const body = OUT_HEADER_SIZE;
    const b = IN_HEADER_SIZE;
    switch (opcode) {
      case Op.READ: {
        const fh = u64(v, b);
        const offset = u64(v, b + 8);
        const size = Math.min(v.getUint32(b + 16, true), MAX_READ);
        const pieces = this.library.read(fh, nodeid, offset, size);
        if (this.inline.serve(unique, pieces)) {
          this.stats.inlineReads++;
          return;
        }
        if (this.pool.inflightReads >= INFLIGHT_MAX) {
          this.stats.readErrors++;
          r.error(unique, libc.E.EAGAIN);
          return;
        }
        this.stats.offloadedReads++;
        this.pool.submit(unique, pieces);
        return;
      }
      case Op.LOOKUP: {
        this.poll();
        // The name is copied: the core may keep it, the buffer is reused.
        const name = buf.slice(b, len - 1);
        this.fillAttr(this.library.lookup(nodeid, name));
        writeEntryOut(r.view, body, this.attr, this.opts.attrTtlMs);
        r.ok(unique, ENTRY_OUT_SIZE);
        return;
      }
      case Op.GETATTR:
        this.poll();
        // FUSE_GETATTR_FH: asked for an open file, which outlives its name.
        this.fillAttr(
          (v.getUint32(b, true) & GETATTR_FH) !== 0
            ? this.library.getattr(nodeid, u64(v, b + 8))
            : this.library.getattr(nodeid),
        );
        writeAttrOut(r.view, body, this.attr, this.opts.attrTtlMs);
        r.ok(unique, ATTR_OUT_SIZE);
        return;
      case Op.FORGET:
        this.library.forget(nodeid, u64(v, b));
        return;
      case Op.BATCH_FORGET: {
        const count = v.getUint32(b, true);
        for (let i = 0, o = b + 8; i < count && o + 16 <= len; i++, o += 16) {
          this.library.forget(u64(v, o), u64(v, o + 8));
        }
        return;
      }
      case Op.OPEN:
        this.open(unique, nodeid, v.getUint32(b, true), v.getUint32(24, true));
        return;
      case Op.RELEASE: {
        const fh = u64(v, b);
        const id = this.backingIds.get(fh);
        if (id !== undefined) {
          this.backingIds.delete(fh);
          const arg = new Uint8Array(4);
          new DataView(arg.buffer).setInt32(0, id, true);
          try {
            libc.ioctl(this.devFd, FUSE_DEV_IOC_BACKING_CLOSE, arg);
          } catch (e) {
            this.opts.log.debug(`backing close ${id}: ${(e as Error).message}`);
          }
        }
        this.stats.handlesOpen--;
        this.library.release(fh);
        r.ok(unique, 0);
        return;
      }
      case Op.OPENDIR: {
        this.poll();
        const fh = this.library.opendir(nodeid);
        this.stats.dirHandles++;
        writeOpenOut(r.view, body, BigInt(fh), 0);
        r.ok(unique, OPEN_OUT_SIZE);
        return;
      }
      case Op.READDIR:
      case Op.READDIRPLUS:
        this.poll();
        this.readdir(unique, nodeid, v, opcode === Op.READDIRPLUS);
        return;
      case Op.RELEASEDIR:
        this.stats.dirHandles--;
        this.library.releasedir(u64(v, b));
        r.ok(unique, 0);
        return;
      case Op.FLUSH:
      case Op.ACCESS:
        r.ok(unique, 0);
        return;
      case Op.STATFS:
        writeKstatfs(r.view, body, STATFS);
        r.ok(unique, KSTATFS_SIZE);
        return;
      case Op.GETXATTR: {
        const { size } = readGetxattrIn(v, b);
        const name = dec.decode(buf.subarray(b + GETXATTR_IN_SIZE, len - 1));
        const value = this.xattr(nodeid, name);
        this.xattrReply(unique, size, value === null ? null : enc.encode(value));
        return;
      }
      case Op.LISTXATTR: {
        const names = this.xattrNames(nodeid).map((n) => `${n}\0`).join("");
        this.xattrReply(unique, readGetxattrIn(v, b).size, enc.encode(names));
        return;
      }
      case Op.SETXATTR:
      case Op.REMOVEXATTR:
        // The kernel refuses these on our read-only mount (EROFS) before
        // asking; should one arrive, ENOSYS makes it answer ENOTSUP itself.
        this.once("xattr", "setting extended attributes is not supported (ENOTSUP)");
        r.error(unique, libc.E.ENOSYS);
        return;
      case Op.INTERRUPT:
        return; // reads finish quickly; the reply to the original request suffices
      case Op.INIT:
        this.init(unique, v, len);
        return;
      case Op.DESTROY:
        this.ended = true;
        r.ok(unique, 0);
        return;
      default:
        this.opts.log.debug(`unsupported request ${opName(opcode)}: ENOSYS`);
        r.error(unique, libc.E.ENOSYS);
    }
  }

  private xattrNames(nodeid: number): string[] {
    const names = this.library.xattrNames?.(nodeid) ?? [];
    return nodeid === FUSE_ROOT_ID ? [...names, XATTR.status] : names;
  }

  private xattr(nodeid: number, name: string): string | null {
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

  /** Answer GETXATTR/LISTXATTR: the size for a size-0 probe, ERANGE when it does not fit. */
  private xattrReply(unique: bigint, size: number, value: Uint8Array | null): void {
    const r = this.reply;
    if (value === null) {
      r.error(unique, libc.E.ENODATA);
    } else if (size === 0) {
      writeGetxattrOut(r.view, OUT_HEADER_SIZE, value.length);
      r.ok(unique, GETXATTR_OUT_SIZE);
    } else if (value.length > size || value.length > r.buf.length - OUT_HEADER_SIZE) {
      r.error(unique, libc.E.ERANGE);
    } else {
      r.buf.set(value, OUT_HEADER_SIZE);
      r.ok(unique, value.length);
    }
  }

  private once(key: string, message: string): void {
    if (this.loggedOnce.has(key)) return;
    this.loggedOnce.add(key);
    this.opts.log.debug(message);
  }

  private init(unique: bigint, v: DataView, len: number): void {
    const kernel = readInitIn(v, IN_HEADER_SIZE, len - IN_HEADER_SIZE);
    const negotiated = negotiateInit(kernel, this.opts);
    this.passthrough = negotiated.passthrough;
    this.stats.passthroughActive = negotiated.passthrough;
    writeInitOut(this.reply.view, OUT_HEADER_SIZE, negotiated.out);
    this.reply.ok(unique, INIT_OUT_SIZE);
    this.opts.onInit?.(negotiated);
  }

  private open(unique: bigint, nodeid: number, flags: number, uid: number): void {
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
    let openFlags = (res.keepCache ? FOPEN_KEEP_CACHE : 0) | (res.directIo ? FOPEN_DIRECT_IO : 0);
    let backingId = 0;
    if (this.passthrough && res.passthroughFd !== undefined) {
      try {
        backingId = libc.ioctl(
          this.devFd,
          FUSE_DEV_IOC_BACKING_OPEN,
          backingMap(res.passthroughFd),
        );
        this.backingIds.set(res.fh, backingId);
        openFlags = FOPEN_PASSTHROUGH;
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
    writeOpenOut(this.reply.view, OUT_HEADER_SIZE, BigInt(res.fh), openFlags, backingId);
    this.reply.ok(unique, OPEN_OUT_SIZE);
  }

  private readdir(unique: bigint, nodeid: number, v: DataView, plus: boolean): void {
    const b = IN_HEADER_SIZE;
    const fh = u64(v, b);
    const offset = u64(v, b + 8);
    const size = Math.min(v.getUint32(b + 16, true), this.reply.buf.length - OUT_HEADER_SIZE);
    const limit = Math.ceil(size / direntSize(1, plus));
    const entries = this.library.readdir(fh, nodeid, offset, limit);
    const out = this.reply.buf;
    const view = this.reply.view;
    let pos = OUT_HEADER_SIZE;
    const end = OUT_HEADER_SIZE + size;
    const ttlMs = this.opts.attrTtlMs;
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i];
      if (pos + direntSize(e.name.length, plus) > end) break;
      if (!plus) {
        pos += writeDirent(out, view, pos, e.ino, offset + i + 1, e.name, e.isDir);
        continue;
      }
      const dots = e.name[0] === 0x2e &&
        (e.name.length === 1 || (e.name.length === 2 && e.name[1] === 0x2e));
      let known = !dots;
      if (known) {
        try {
          this.fillAttr(this.library.getattr(e.ino));
        } catch {
          known = false; // vanished meanwhile: the kernel will LOOKUP it if needed
        }
      }
      if (!known) this.fillZeroAttr(e.ino, e.isDir);
      const start = pos;
      pos += writeDirent(out, view, pos, e.ino, offset + i + 1, e.name, e.isDir, {
        attr: this.attr,
        ttlMs,
      });
      // nodeid 0: "no attributes for this entry", the kernel links nothing.
      if (!known) view.setBigUint64(start, 0n, true);
    }
    this.reply.ok(unique, pos - OUT_HEADER_SIZE);
  }

  private fillAttr(a: Attr): void {
    const t = this.attr;
    t.ino = a.ino;
    t.size = a.size;
    t.blocks = a.blocks;
    t.mtimeSec = a.mtimeSec;
    t.mtimeNsec = a.mtimeNsec;
    t.mode = a.mode;
    t.nlink = a.nlink;
    t.uid = a.uid;
    t.gid = a.gid;
  }

  private fillZeroAttr(ino: number, isDir: boolean): void {
    this.fillAttr({
      ino,
      size: 0,
      blocks: 0,
      mtimeSec: 0,
      mtimeNsec: 0,
      mode: isDir ? 0o040000 : 0o100000,
      nlink: 1,
      uid: 0,
      gid: 0,
    });
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

function invalInode(ino: number): Uint8Array<ArrayBuffer> {
  const msg = new Uint8Array(OUT_HEADER_SIZE + 24);
  const v = new DataView(msg.buffer);
  writeOutHeader(v, msg.length, Notify.INVAL_INODE, 0n);
  writeNotifyInvalInode(v, OUT_HEADER_SIZE, ino, 0, 0);
  return msg;
}

function invalEntry(parent: number, name: Uint8Array): Uint8Array<ArrayBuffer> {
  const msg = new Uint8Array(OUT_HEADER_SIZE + 16 + name.length + 1);
  const v = new DataView(msg.buffer);
  writeOutHeader(v, msg.length, Notify.INVAL_ENTRY, 0n);
  writeNotifyInvalEntry(v, OUT_HEADER_SIZE, parent, name.length);
  msg.set(name, OUT_HEADER_SIZE + 16);
  return msg;
}

/** A u64 field as a number, without a BigInt (values stay below 2^53 here). */
function u64(v: DataView, o: number): number {
  return v.getUint32(o, true) + v.getUint32(o + 4, true) * 0x1_0000_0000;
}

const OP_NAMES = new Map<number, string>(Object.entries(Op).map(([k, n]) => [n, k]));
function opName(opcode: number): string {
  return OP_NAMES.get(opcode) ?? `opcode ${opcode}`;
}
