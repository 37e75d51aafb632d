// The dispatcher is a table: every opcode it answers has one row, and the
// protocol layer's byte offsets and mode bits live only in ffi/.

import assert from "node:assert/strict";
import { IN_HEADER_SIZE, Op } from "../../ffi/fuse_abi.ts";
import { OP_TABLE, OPS } from "../../src/fuse/ops.ts";

const root = new URL("../../", import.meta.url);
const fuseDir = new URL("src/fuse/", root);

function fuseSources(): [string, string][] {
  return [...Deno.readDirSync(fuseDir)]
    .filter((e) => e.isFile && e.name.endsWith(".ts"))
    .map((e) => [e.name, Deno.readTextFileSync(new URL(e.name, fuseDir))]);
}

Deno.test("ops: each row names its opcode and appears once in the table", () => {
  const seen = new Set<number>();
  for (const row of OPS) {
    assert.equal(Op[row.name as keyof typeof Op], row.opcode, row.name);
    assert.ok(!seen.has(row.opcode), `${row.name} twice`);
    seen.add(row.opcode);
    assert.equal(OP_TABLE[row.opcode], row);
    if (row.in !== null) assert.ok(row.minBody <= row.in.size, row.name);
  }
  assert.equal(OP_TABLE.filter((r) => r !== undefined).length, OPS.length);
});

Deno.test("ops: the requests a read-only mount must answer all have rows", () => {
  const answered: (keyof typeof Op)[] = [
    "INIT",
    "DESTROY",
    "LOOKUP",
    "FORGET",
    "BATCH_FORGET",
    "GETATTR",
    "OPEN",
    "READ",
    "RELEASE",
    "FLUSH",
    "OPENDIR",
    "READDIR",
    "READDIRPLUS",
    "RELEASEDIR",
    "STATFS",
    "ACCESS",
    "GETXATTR",
    "LISTXATTR",
    "SETXATTR",
    "REMOVEXATTR",
    "INTERRUPT",
  ];
  assert.deepEqual(OPS.map((r) => r.name).sort(), [...answered].sort());
  // Only these three get no reply at all; the kernel waits for every other one.
  assert.deepEqual(
    OPS.filter((r) => r.noReply).map((r) => r.name).sort(),
    ["BATCH_FORGET", "FORGET", "INTERRUPT"],
  );
  // INIT from a kernel before 7.36 is 16 bytes: major, minor, max_readahead, flags.
  assert.equal(OP_TABLE[Op.INIT]!.minBody, 16);
  assert.equal(IN_HEADER_SIZE, 40);
});

Deno.test("ops: every opcode src/fuse names has a row, and none is switched on", () => {
  for (const [file, text] of fuseSources()) {
    assert.doesNotMatch(text, /\bcase Op\./, `${file} switches on opcodes`);
    for (const m of text.matchAll(/\bOp\.([A-Z_]+)/g)) {
      assert.ok(OP_TABLE[Op[m[1] as keyof typeof Op]], `${file}: Op.${m[1]} has no row`);
    }
  }
});

Deno.test("ops: src/fuse writes no protocol offsets or mode bits inline", () => {
  for (const [file, text] of fuseSources()) {
    assert.doesNotMatch(
      text,
      /\.(get|set)(Big)?U?Int(8|16|32|64)\(/,
      `${file} reads or writes a DataView at a byte offset; declare the field in ffi/fuse_abi.ts`,
    );
    assert.doesNotMatch(text, /0o0?[14]0000\b/, `${file} spells out mode type bits`);
  }
});
