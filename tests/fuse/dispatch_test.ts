// The dispatcher's table rows end to end without a mount: requests packed
// with the declared structs go through Dispatcher.handle, and the replies it
// writes land in a real file standing in for /dev/fuse, where they are
// decoded again. A request is sent twice, over a reply buffer filled with
// 0x00 and then 0xff: the two replies differ when one leaves any byte of
// its struct unwritten.

import assert from "node:assert/strict";
import {
  AttrOut,
  DirentPlus,
  EntryOut,
  FOPEN_KEEP_CACHE,
  FOPEN_NOFLUSH,
  ForgetIn,
  GetattrIn,
  GetxattrIn,
  GetxattrOut,
  IN_HEADER_SIZE,
  InHeader,
  InitIn,
  InitOut,
  Op,
  OpenIn,
  OpenOut,
  OUT_HEADER_SIZE,
  OutHeader,
  ReadIn,
} from "../../ffi/fuse_abi.ts";
import * as libc from "../../ffi/libc.ts";
import { silentLog } from "../../src/fuse/log.ts";
import { Dispatcher } from "../../src/fuse/dispatch.ts";
import { IoPool } from "../../src/fuse/io_pool.ts";
import { ServerStats } from "../../src/fuse/stats.ts";
import { DirLibrary } from "./dir_library.ts";

const enc = new TextEncoder();

interface Reply {
  error: number;
  unique: bigint;
  body: Uint8Array;
  view: DataView;
}

function setup() {
  const dir = Deno.makeTempDirSync({ prefix: "musefs-dispatch-" });
  Deno.writeTextFileSync(`${dir}/song.flac`, "x".repeat(5000));
  Deno.mkdirSync(`${dir}/Album`);
  const device = `${dir}.replies`;
  const fd = libc.open(device, libc.O_WRONLY | 0o100 /* O_CREAT */ | 0o1000, /* O_TRUNC */ 0o600);
  const library = new DirLibrary(dir);
  const pool = new IoPool(fd, 1, silentLog, () => {});
  const d = new Dispatcher(fd, library, pool, new ServerStats(), {
    attrTtlMs: 1500,
    log: silentLog,
    maxReadaheadKib: 1024,
    maxBackground: 64,
    passthrough: false,
  });
  const req = new Uint8Array(4096);
  const reqView = new DataView(req.buffer);
  let read = 0;
  let unique = 100n;
  return {
    library,
    d,
    /** Send one request: header, then the body struct's fields, then `tail` bytes. */
    send(
      opcode: number,
      nodeid: number,
      body?: { size: number; fill: (v: DataView, o: number) => void },
      tail = new Uint8Array(0),
      stale = 0xee,
    ): bigint {
      req.fill(0);
      d.reply.buf.fill(stale);
      const bodyLen = body?.size ?? 0;
      const len = IN_HEADER_SIZE + bodyLen + tail.length;
      const h = new InHeader().at(reqView, 0);
      h.len = len;
      h.opcode = opcode;
      h.unique = ++unique;
      h.nodeid = nodeid;
      body?.fill(reqView, IN_HEADER_SIZE);
      req.set(tail, IN_HEADER_SIZE + bodyLen);
      d.handle(req, reqView, len);
      return unique;
    },
    /** The replies written since the last call. */
    replies(): Reply[] {
      const all = Deno.readFileSync(device);
      const out: Reply[] = [];
      while (read < all.length) {
        const v = new DataView(all.buffer, all.byteOffset + read);
        const h = new OutHeader().at(v, 0);
        const body = all.slice(read + OUT_HEADER_SIZE, read + h.len);
        out.push({ error: h.error, unique: h.unique, body, view: new DataView(body.buffer) });
        read += h.len;
      }
      return out;
    },
    [Symbol.dispose]() {
      pool.close();
      d.close();
      libc.close(fd);
      Deno.removeSync(device);
      Deno.removeSync(dir, { recursive: true });
    },
  };
}

/** Send twice over differently filled reply buffers; the one reply, the same both times. */
function fully(s: ReturnType<typeof setup>, ...args: Parameters<ReturnType<typeof setup>["send"]>) {
  const [opcode, nodeid, body, tail] = args;
  const u1 = s.send(opcode, nodeid, body, tail, 0x00);
  const first = one(s.replies(), u1);
  const u2 = s.send(opcode, nodeid, body, tail, 0xff);
  const again = one(s.replies(), u2);
  assert.deepEqual(again.body, first.body, "a byte of the reply was left from the previous one");
  return first;
}

function one(replies: Reply[], unique: bigint): Reply {
  assert.equal(replies.length, 1);
  assert.equal(replies[0].unique, unique);
  return replies[0];
}

const readIn = (fh: number, offset: number, size: number) => ({
  size: ReadIn.size,
  fill(v: DataView, o: number) {
    const r = new ReadIn().at(v, o);
    r.fh = fh;
    r.offset = offset;
    r.size = size;
  },
});

Deno.test("dispatch: GETATTR and LOOKUP write every byte of their replies", () => {
  using s = setup();
  let r = fully(s, Op.GETATTR, 1, { size: GetattrIn.size, fill() {} }); // no FUSE_GETATTR_FH
  assert.equal(r.error, 0);
  assert.equal(r.body.length, AttrOut.size);
  const ao = new AttrOut().at(r.view, 0);
  assert.equal(ao.attrValid, 1);
  assert.equal(ao.attrValidNsec, 500_000_000);
  assert.equal(ao.attr.ino, 1);
  assert.equal(ao.attr.mode & 0o170000, 0o040000);
  assert.equal(ao.attr.blksize, 512);

  r = fully(s, Op.LOOKUP, 1, undefined, enc.encode("song.flac\0"));
  assert.equal(r.error, 0);
  assert.equal(r.body.length, EntryOut.size);
  const eo = new EntryOut().at(r.view, 0);
  const want = s.library.lookup(1, enc.encode("song.flac"));
  assert.equal(eo.nodeid, want.ino);
  assert.equal(eo.entryValid, 1);
  assert.equal(eo.entryValidNsec, 500_000_000);
  assert.equal(eo.attr.size, 5000);
  assert.equal(eo.attr.blocks, 10);
  assert.equal(eo.attr.mtime, want.mtimeSec);
  assert.equal(eo.attr.ctimensec, want.mtimeNsec);

  const u = s.send(Op.LOOKUP, 1, undefined, enc.encode("missing\0"));
  assert.equal(one(s.replies(), u).error, -libc.E.ENOENT);
});

Deno.test("dispatch: OPEN asks for no FLUSH (read-only: nothing to flush on close)", () => {
  using s = setup();
  const ino = s.library.lookup(1, enc.encode("song.flac")).ino;
  const u = s.send(Op.OPEN, ino, {
    size: OpenIn.size,
    fill: (v, o) => {
      new OpenIn().at(v, o).flags = 0;
    },
  });
  const out = new OpenOut().at(one(s.replies(), u).view, 0);
  assert.equal(out.openFlags & FOPEN_NOFLUSH, FOPEN_NOFLUSH);
  assert.equal(out.openFlags & FOPEN_KEEP_CACHE, FOPEN_KEEP_CACHE);
});

Deno.test("dispatch: READDIRPLUS records carry entries; dots come without attributes", () => {
  using s = setup();
  const open = s.send(Op.OPENDIR, 1);
  const fh = new OpenOut().at(one(s.replies(), open).view, 0).fh;
  const u = s.send(Op.READDIRPLUS, 1, readIn(fh, 0, 4096));
  const r = one(s.replies(), u);
  const names: string[] = [];
  const rec = new DirentPlus();
  for (let p = 0; p < r.body.length;) {
    rec.at(r.view, p);
    const d = rec.dirent;
    const name = new TextDecoder().decode(
      r.body.subarray(p + DirentPlus.size, p + DirentPlus.size + d.namelen),
    );
    names.push(name);
    assert.equal(d.off, names.length);
    if (name === "." || name === "..") {
      assert.equal(rec.entryOut.nodeid, 0, `${name} must not be linked`);
    } else {
      assert.equal(rec.entryOut.nodeid, d.ino);
      assert.equal(rec.entryOut.attr.ino, d.ino);
      assert.equal(rec.entryOut.attrValid, 1);
    }
    p += (DirentPlus.size + d.namelen + 7) & ~7;
  }
  assert.deepEqual(names.sort(), [".", "..", "Album", "song.flac"]);
});

Deno.test("dispatch: INIT from an old kernel (16-byte body) and GETXATTR probes", () => {
  using s = setup();
  let u = s.send(Op.INIT, 0, {
    size: InitIn.offsetOf("flags2"),
    fill(v, o) {
      const i = new InitIn().at(v, o);
      i.major = 7;
      i.minor = 31;
      i.maxReadahead = 131072;
      i.flags = 0xffff_ffff;
    },
  });
  let r = one(s.replies(), u);
  assert.equal(r.body.length, InitOut.size);
  const io = new InitOut().at(r.view, 0);
  assert.equal(io.minor, 31);
  assert.equal(io.maxPages, 256);
  assert.equal(io.flags2, 0);
  assert.ok(
    r.body.subarray(InitOut.offsetOf("unused")).every((b) => b === 0),
    "fuse_init_out's unused bytes must be zero",
  );

  const name = enc.encode("user.musefs.status\0");
  const probe = (size: number) => ({
    size: GetxattrIn.size,
    fill: (v: DataView, o: number) => void (new GetxattrIn().at(v, o).size = size),
  });
  u = s.send(Op.GETXATTR, 1, probe(0), name);
  r = one(s.replies(), u);
  const valueLen = new GetxattrOut().at(r.view, 0).size;
  assert.ok(valueLen > 10);
  u = s.send(Op.GETXATTR, 1, probe(valueLen), name);
  r = one(s.replies(), u);
  assert.equal(r.body.length, valueLen);
  assert.equal(JSON.parse(new TextDecoder().decode(r.body)).pid, Deno.pid);
  u = s.send(Op.GETXATTR, 1, probe(valueLen - 1), name);
  assert.equal(one(s.replies(), u).error, -libc.E.ERANGE);
});

Deno.test("dispatch: no row means ENOSYS; FORGET is never answered; a short body is refused", () => {
  using s = setup();
  let u = s.send(Op.MKDIR, 1);
  assert.equal(one(s.replies(), u).error, -libc.E.ENOSYS);
  s.send(Op.FORGET, 2, {
    size: ForgetIn.size,
    fill: (v, o) => void (new ForgetIn().at(v, o).nlookup = 1),
  });
  s.send(Op.INTERRUPT, 0);
  assert.deepEqual(s.replies(), []);
  // READ whose body stops before fuse_read_in's end
  u = s.send(Op.READ, 2, { size: 16, fill() {} });
  assert.equal(one(s.replies(), u).error, -libc.E.EIO);
});
