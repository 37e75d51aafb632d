// The operation table: per opcode, the struct its body starts with and a
// small handler that reads the decoded fields, calls the library (through
// the Dispatcher) and answers. Adding an opcode is one row; opcodes without
// a row are answered ENOSYS. No handler names a byte offset: the structs in
// ffi/fuse_abi.ts do.

import {
  BatchForgetIn,
  type FieldsOf,
  ForgetIn,
  ForgetOne,
  FUSE_GETATTR_FH,
  GetattrIn,
  GetxattrIn,
  IN_HEADER_SIZE,
  InitIn,
  Kstatfs,
  type Layout,
  Op,
  OpenIn,
  ReadIn,
  ReleaseIn,
  type Struct,
  type View,
  type ViewOf,
} from "../../ffi/fuse_abi.ts";
import type { Dispatcher } from "./dispatch.ts";
import { MAX_READ } from "./defaults.ts";

/** The request being handled; one reused object (the buffer is the server's). */
export interface Request {
  opcode: number;
  unique: bigint;
  nodeid: number;
  /** The caller's user id. */
  uid: number;
  /** The whole request, header included, and its length in bytes. */
  buf: Uint8Array;
  view: DataView;
  len: number;
}

export interface OpRow {
  readonly opcode: number;
  readonly name: string;
  /** The struct the body starts with (what the handler reads); null: none or only a name. */
  readonly in: Struct<Layout> | null;
  /** Shortest body accepted (older kernels send a shorter fuse_init_in). */
  readonly minBody: number;
  /** FORGET, BATCH_FORGET and INTERRUPT are never answered, not even with an error. */
  readonly noReply: boolean;
  readonly handle: (d: Dispatcher, req: Request, input: View) => void;
}

type OpName = keyof typeof Op;

function row<L extends Layout>(
  name: OpName,
  input: Struct<L>,
  handle: (d: Dispatcher, req: Request, input: ViewOf<L>) => void,
  extra: { minBody?: number; noReply?: boolean } = {},
): OpRow {
  return {
    opcode: Op[name],
    name,
    in: input as unknown as Struct<Layout>,
    minBody: extra.minBody ?? input.size,
    noReply: extra.noReply ?? false,
    handle: handle as OpRow["handle"],
  };
}

function bare(
  name: OpName,
  handle: (d: Dispatcher, req: Request) => void,
  noReply = false,
): OpRow {
  return { opcode: Op[name], name, in: null, minBody: 0, noReply, handle };
}

/** The bytes after the header and `skip` more, without the kernel's trailing NUL. */
function nameAfter(req: Request, skip: number): Uint8Array {
  return req.buf.subarray(IN_HEADER_SIZE + skip, req.len - 1);
}

const dec = new TextDecoder();
const enc = new TextEncoder();
/** statfs(2) of the mount: 1 TiB of 512-byte blocks, 2^32 files, names up to 255 bytes. */
const STATFS = { blocks: 2 ** 40 / 512, files: 2 ** 32, bsize: 512, namelen: 255 };
const STATFS_OUT: Partial<FieldsOf<typeof Kstatfs>> = {
  blocks: STATFS.blocks,
  bfree: STATFS.blocks,
  bavail: STATFS.blocks,
  files: STATFS.files,
  ffree: STATFS.files,
  bsize: STATFS.bsize,
  namelen: STATFS.namelen,
  frsize: STATFS.bsize,
};

export const OPS: readonly OpRow[] = [
  row("READ", ReadIn, (d, req, r) => {
    const pieces = d.library.read(r.fh, req.nodeid, r.offset, Math.min(r.size, MAX_READ));
    d.serveRead(req.unique, pieces, req.nodeid);
  }),
  bare("LOOKUP", (d, req) => {
    d.poll();
    // The name is copied: the core may keep it, the buffer is reused.
    d.replyEntry(req.unique, d.library.lookup(req.nodeid, nameAfter(req, 0).slice()));
  }),
  row("GETATTR", GetattrIn, (d, req, g) => {
    d.poll();
    // FUSE_GETATTR_FH: asked for an open file, which outlives its name.
    const a = (g.getattrFlags & FUSE_GETATTR_FH) !== 0
      ? d.library.getattr(req.nodeid, g.fh)
      : d.library.getattr(req.nodeid);
    d.replyAttr(req.unique, a);
  }),
  row("FORGET", ForgetIn, (d, req, f) => d.library.forget(req.nodeid, f.nlookup), {
    noReply: true,
  }),
  row("BATCH_FORGET", BatchForgetIn, (d, req, b) => {
    const one = d.forgetOne;
    let o = IN_HEADER_SIZE + BatchForgetIn.size;
    for (let i = 0; i < b.count && o + ForgetOne.size <= req.len; i++, o += ForgetOne.size) {
      one.at(req.view, o);
      d.library.forget(one.nodeid, one.nlookup);
    }
  }, { noReply: true }),
  row("OPEN", OpenIn, (d, req, o) => d.open(req.unique, req.nodeid, o.flags, req.uid)),
  row("RELEASE", ReleaseIn, (d, req, r) => d.release(req.unique, r.fh)),
  bare("OPENDIR", (d, req) => {
    d.poll();
    const fh = d.library.opendir(req.nodeid);
    d.stats.dirHandles++;
    d.replyOpen(req.unique, fh, 0, 0);
  }),
  row("READDIR", ReadIn, (d, req, r) => {
    d.poll();
    d.readdir(req.unique, req.nodeid, r.fh, r.offset, r.size, false);
  }),
  row("READDIRPLUS", ReadIn, (d, req, r) => {
    d.poll();
    d.readdir(req.unique, req.nodeid, r.fh, r.offset, r.size, true);
  }),
  row("RELEASEDIR", ReleaseIn, (d, req, r) => {
    d.stats.dirHandles--;
    d.library.releasedir(r.fh);
    d.reply.ok(req.unique, 0);
  }),
  bare("FLUSH", (d, req) => d.reply.ok(req.unique, 0)),
  bare("ACCESS", (d, req) => d.reply.ok(req.unique, 0)),
  bare("STATFS", (d, req) => {
    d.out.kstatfs.clear().assign(STATFS_OUT);
    d.reply.ok(req.unique, Kstatfs.size);
  }),
  row("GETXATTR", GetxattrIn, (d, req, g) => {
    const value = d.xattr(req.nodeid, dec.decode(nameAfter(req, GetxattrIn.size)));
    d.replyXattr(req.unique, g.size, value === null ? null : enc.encode(value));
  }),
  row("LISTXATTR", GetxattrIn, (d, req, g) => {
    const names = d.xattrNames(req.nodeid).map((n) => `${n}\0`).join("");
    d.replyXattr(req.unique, g.size, enc.encode(names));
  }),
  // The kernel refuses these on our read-only mount (EROFS) before asking;
  // should one arrive, ENOSYS makes it answer ENOTSUP itself.
  bare("SETXATTR", (d, req) => d.noXattrWrites(req.unique)),
  bare("REMOVEXATTR", (d, req) => d.noXattrWrites(req.unique)),
  // Reads finish quickly; the reply to the original request suffices.
  bare("INTERRUPT", () => {}, true),
  row("INIT", InitIn, (d, req, i) => {
    const body = req.len - IN_HEADER_SIZE;
    d.init(req.unique, {
      minor: i.minor,
      flags: i.flags,
      flags2: InitIn.covers("flags2", body) ? i.flags2 : 0,
    });
  }, { minBody: InitIn.offsetOf("flags2") }),
  bare("DESTROY", (d, req) => {
    d.ended = true;
    d.reply.ok(req.unique, 0);
  }),
];

/** The rows indexed by opcode (undefined: not implemented, ENOSYS). */
export const OP_TABLE: readonly (OpRow | undefined)[] = (() => {
  const table: (OpRow | undefined)[] = [];
  for (const r of OPS) {
    if (table[r.opcode] !== undefined) throw new Error(`two rows for ${r.name}`);
    table[r.opcode] = r;
  }
  return table;
})();

const OP_NAMES = new Map<number, string>(Object.entries(Op).map(([k, n]) => [n, k]));

export function opName(opcode: number): string {
  return OP_NAMES.get(opcode) ?? `opcode ${opcode}`;
}
