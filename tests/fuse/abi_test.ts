// The declared FUSE structs against byte layouts written out by hand from
// the kernel header (include/uapi/linux/fuse.h, protocol 7.41): each test
// lists the C fields in order as (width, value) pairs, packs them little-
// endian, and checks that the view decodes those bytes to the values and
// encodes the values to exactly those bytes.

import assert from "node:assert/strict";
import {
  AttrOut,
  BackingMap,
  BatchForgetIn,
  Dirent,
  DirentPlus,
  direntSize,
  EntryOut,
  ForgetIn,
  ForgetOne,
  GetattrIn,
  GetxattrIn,
  GetxattrOut,
  InHeader,
  InitIn,
  InitOut,
  Kstatfs,
  NotifyInvalEntryOut,
  NotifyInvalInodeOut,
  OpenIn,
  OpenOut,
  OutHeader,
  ReadIn,
  ReleaseIn,
  writeOutHeader,
} from "../../ffi/fuse_abi.ts";
import { i64, pad, struct, u32, u64, type View } from "../../ffi/fuse_struct.ts";
import { concatBytes } from "../fixtures/tools.ts";

type Cell = [width: 1 | 2 | 4 | 8, value: number | bigint];

/** Pack C fields little-endian, as the kernel lays them out (no implicit padding). */
function le(...cells: Cell[]): Uint8Array {
  const size = cells.reduce((n, [w]) => n + w, 0);
  const out = new Uint8Array(size);
  let p = 0;
  for (const [w, value] of cells) {
    let x = BigInt.asUintN(w * 8, BigInt(value));
    for (let i = 0; i < w; i++, x >>= 8n) out[p++] = Number(x & 0xffn);
    // every kernel field is naturally aligned
    assert.equal((p - w) % w, 0, `field at ${p - w} of width ${w} is misaligned`);
  }
  return out;
}

const zeros = (n: number): Cell[] => Array.from({ length: n / 4 }, () => [4, 0] as Cell);

/** The view decodes `bytes` to `fields`, and encoding `fields` into zeros gives `bytes`. */
function roundTrip<V extends View>(
  S: { new (): V; size: number },
  bytes: Uint8Array,
  fields: Record<string, unknown>,
  prefix = 7,
): V {
  assert.equal(S.size, bytes.length, "struct size");
  // At a non-zero offset of a larger buffer, as in the request and reply buffers.
  const buf = new Uint8Array(prefix + bytes.length + 5).fill(0xee);
  buf.set(bytes, prefix);
  const view = new S().at(new DataView(buf.buffer), prefix);
  assert.deepEqual(view.toObject(), fields);

  const out = new Uint8Array(prefix + bytes.length + 5).fill(0xee);
  const w = new S().at(new DataView(out.buffer), prefix).clear();
  assign(w as unknown as Record<string, unknown>, fields);
  assert.deepEqual(out.subarray(prefix, prefix + bytes.length), bytes);
  assert.ok(out.subarray(0, prefix).every((b) => b === 0xee), "wrote before the struct");
  assert.ok(out.subarray(prefix + bytes.length).every((b) => b === 0xee), "wrote past it");
  return view;
}

function assign(view: Record<string, unknown>, fields: Record<string, unknown>): void {
  for (const [k, x] of Object.entries(fields)) {
    if (typeof x === "object" && x !== null) {
      assign(view[k] as Record<string, unknown>, x as Record<string, unknown>);
    } else view[k] = x;
  }
}

Deno.test("abi: fuse_in_header and fuse_out_header", () => {
  roundTrip(
    InHeader,
    le(
      [4, 80],
      [4, 15],
      [8, 0x1234_5678_9abc_def0n],
      [8, 2 ** 40 + 3],
      [4, 1000],
      [4, 100],
      [
        4,
        4242,
      ],
      [2, 0],
      [2, 0],
    ),
    {
      len: 80,
      opcode: 15,
      unique: 0x1234_5678_9abc_def0n,
      nodeid: 2 ** 40 + 3,
      uid: 1000,
      gid: 100,
      pid: 4242,
      totalExtlen: 0,
    },
  );
  roundTrip(OutHeader, le([4, 16], [4, -2], [8, 0xffff_ffff_ffff_fff0n]), {
    len: 16,
    error: -2,
    unique: 0xffff_ffff_ffff_fff0n,
  });
  // writeOutHeader (used by the READ paths) writes the same layout.
  const b = new Uint8Array(20);
  writeOutHeader(new DataView(b.buffer), 16, -5, 9n, 4);
  assert.deepEqual(b.subarray(4), le([4, 16], [4, -5], [8, 9]));
});

Deno.test("abi: fuse_read_in (READ, READDIR, READDIRPLUS)", () => {
  roundTrip(
    ReadIn,
    le([8, 77], [8, 2 ** 33 + 4096], [4, 1 << 20], [4, 0], [8, 0xabcdef], [4, 0o100000], [4, 0]),
    {
      fh: 77,
      offset: 2 ** 33 + 4096,
      size: 1 << 20,
      readFlags: 0,
      lockOwner: 0xabcdef,
      flags: 0o100000,
    },
  );
});

const ATTR_BYTES = le(
  [8, 42], // ino
  [8, 5_000_000_123], // size
  [8, 9_765_626], // blocks
  [8, 1_700_000_000], // atime
  [8, 1_700_000_001], // mtime
  [8, 1_700_000_002], // ctime
  [4, 1], // atimensec
  [4, 2], // mtimensec
  [4, 999_999_999], // ctimensec
  [4, 0o100444], // mode
  [4, 1], // nlink
  [4, 1000], // uid
  [4, 100], // gid
  [4, 0], // rdev
  [4, 512], // blksize
  [4, 0], // flags
);
const ATTR = {
  ino: 42,
  size: 5_000_000_123,
  blocks: 9_765_626,
  atime: 1_700_000_000,
  mtime: 1_700_000_001,
  ctime: 1_700_000_002,
  atimensec: 1,
  mtimensec: 2,
  ctimensec: 999_999_999,
  mode: 0o100444,
  nlink: 1,
  uid: 1000,
  gid: 100,
  rdev: 0,
  blksize: 512,
  flags: 0,
};

const cat = (...parts: Uint8Array[]): Uint8Array => concatBytes(parts);

Deno.test("abi: fuse_entry_out and fuse_attr_out carry a fuse_attr of 88 bytes", () => {
  assert.equal(ATTR_BYTES.length, 88);
  const entry = {
    nodeid: 42,
    generation: 0,
    entryValid: 1,
    attrValid: 2,
    entryValidNsec: 500_000_000,
    attrValidNsec: 3,
  };
  roundTrip(
    EntryOut,
    cat(le([8, 42], [8, 0], [8, 1], [8, 2], [4, 500_000_000], [4, 3]), ATTR_BYTES),
    { ...entry, attr: ATTR },
  );
  assert.equal(EntryOut.offsetOf("attr"), 40);
  roundTrip(AttrOut, cat(le([8, 1], [4, 250_000_000], [4, 0]), ATTR_BYTES), {
    attrValid: 1,
    attrValidNsec: 250_000_000,
    dummy: 0,
    attr: ATTR,
  });
  assert.equal(AttrOut.offsetOf("attr"), 16);
});

Deno.test("abi: fuse_getxattr_in and fuse_getxattr_out", () => {
  roundTrip(GetxattrIn, le([4, 65536], [4, 0]), { size: 65536 });
  roundTrip(GetxattrOut, le([4, 123], [4, 0]), { size: 123 });
});

Deno.test("abi: fuse_init_in, and a 7.35 kernel's shorter one", () => {
  const fields = {
    major: 7,
    minor: 41,
    maxReadahead: 131072,
    flags: 0x7fff_ffff,
    flags2: 1 << 5,
  };
  roundTrip(
    InitIn,
    le([4, 7], [4, 41], [4, 131072], [4, 0x7fff_ffff], [4, 1 << 5], ...zeros(44)),
    fields,
  );
  // Before 7.36 the body ends after `flags`: flags2 must not be read.
  assert.equal(InitIn.covers("flags2", 16), false);
  assert.equal(InitIn.covers("flags2", 20), true);
  assert.equal(InitIn.covers("flags", 16), true);
});

Deno.test("abi: fuse_init_out (minor 41)", () => {
  roundTrip(
    InitOut,
    le(
      [4, 7], // major
      [4, 41], // minor
      [4, 512 * 1024], // max_readahead
      [4, 0xc000_6001], // flags
      [2, 64], // max_background
      [2, 48], // congestion_threshold
      [4, 4096], // max_write
      [4, 1], // time_gran
      [2, 256], // max_pages
      [2, 0], // map_alignment
      [4, 1 << 5], // flags2
      [4, 2], // max_stack_depth
      ...zeros(24), // unused[6]
    ),
    {
      major: 7,
      minor: 41,
      maxReadahead: 512 * 1024,
      flags: 0xc000_6001,
      maxBackground: 64,
      congestionThreshold: 48,
      maxWrite: 4096,
      timeGran: 1,
      maxPages: 256,
      mapAlignment: 0,
      flags2: 1 << 5,
      maxStackDepth: 2,
    },
  );
});

Deno.test("abi: getattr, open, release, forget and statfs structs", () => {
  roundTrip(OpenIn, le([4, 0o100000], [4, 0]), { flags: 0o100000, openFlags: 0 });
  roundTrip(OpenOut, le([8, 2 ** 35], [4, 1 << 7], [4, -1]), {
    fh: 2 ** 35,
    openFlags: 1 << 7,
    backingId: -1,
  });
  roundTrip(ReleaseIn, le([8, 9], [4, 0o100000], [4, 0], [8, 77]), {
    fh: 9,
    flags: 0o100000,
    releaseFlags: 0,
    lockOwner: 77,
  });
  roundTrip(ForgetIn, le([8, 3]), { nlookup: 3 });
  roundTrip(GetattrIn, le([4, 1], [4, 0], [8, 2 ** 34]), { getattrFlags: 1, fh: 2 ** 34 });
  roundTrip(BatchForgetIn, le([4, 2], [4, 0]), { count: 2 });
  roundTrip(ForgetOne, le([8, 2 ** 40], [8, 5]), { nodeid: 2 ** 40, nlookup: 5 });
  roundTrip(
    Kstatfs,
    le(
      [8, 2 ** 31],
      [8, 2 ** 31],
      [8, 2 ** 31],
      [8, 2 ** 32],
      [8, 2 ** 32],
      [4, 512],
      [
        4,
        255,
      ],
      [4, 512],
      [4, 0],
      ...zeros(24),
    ),
    {
      blocks: 2 ** 31,
      bfree: 2 ** 31,
      bavail: 2 ** 31,
      files: 2 ** 32,
      ffree: 2 ** 32,
      bsize: 512,
      namelen: 255,
      frsize: 512,
    },
  );
  roundTrip(BackingMap, le([4, 17], [4, 0], [8, 0]), { fd: 17, flags: 0 });
});

Deno.test("abi: dirent records and notifications", () => {
  roundTrip(Dirent, le([8, 5], [8, 3], [4, 9], [4, 8]), { ino: 5, off: 3, namelen: 9, type: 8 });
  assert.equal(DirentPlus.size, 128 + 24);
  assert.equal(DirentPlus.offsetOf("dirent"), 128);
  // the name follows the record, the whole padded to 8 bytes
  assert.equal(direntSize(1, false), 32);
  assert.equal(direntSize(8, false), 32);
  assert.equal(direntSize(9, false), 40);
  assert.equal(direntSize(1, true), 160);
  roundTrip(NotifyInvalInodeOut, le([8, 12], [8, -1], [8, 0]), { ino: 12, off: -1, len: 0 });
  roundTrip(NotifyInvalEntryOut, le([8, 1], [4, 4], [4, 0]), {
    parent: 1,
    namelen: 4,
    flags: 0,
  });
});

Deno.test("abi: 64-bit fields keep values up to 2^53 and negative offsets", () => {
  const S = struct("t", { a: u64, b: i64 });
  const buf = new DataView(new ArrayBuffer(16));
  const v = new S().at(buf, 0);
  for (const x of [0, 1, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1]) {
    v.a = x;
    assert.equal(v.a, x);
    assert.equal(buf.getBigUint64(0, true), BigInt(x));
  }
  for (const x of [0, -1, -(2 ** 32), -(2 ** 40) - 7, 2 ** 40 + 7]) {
    v.b = x;
    assert.equal(v.b, x);
    assert.equal(buf.getBigInt64(8, true), BigInt(x));
  }
});

Deno.test("abi: a declaration the C compiler would pad is refused", () => {
  assert.throws(() => struct("bad", { a: u32, b: u64 }), /bad\.b: offset 4 is not 8-byte aligned/);
  assert.throws(() => struct("bad", { a: u64, b: u32 }), /bad: size 12 needs trailing padding/);
  assert.throws(() => struct("bad", { at: u32 }), /name is taken/);
  assert.equal(struct("ok", { a: u64, b: u32, c: pad(4) }).size, 16);
});
