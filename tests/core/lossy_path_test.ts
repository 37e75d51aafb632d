// Lossy paths (names that are not valid UTF-8, stored with U+FFFD): mapped
// back to the real bytes by listing directories through libc, opened and
// stat'ed by them; missing and ambiguous names are told apart; messages show
// the real bytes escaped.

import assert from "node:assert/strict";
import * as fs from "node:fs";
import {
  escapeName,
  LossyPathError,
  openLossy,
  rawPath,
  readDirLossy,
} from "../../ffi/lossy_path.ts";
import { BackingIoError, statStamp } from "../../ffi/stat.ts";
import { scratchDir } from "../scratch.ts";

async function py(code: string, ...args: string[]): Promise<void> {
  const out = await new Deno.Command("/usr/bin/python3", { args: ["-c", code, ...args] }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
}

Deno.test("lossy paths: open, stat and list by the real bytes; missing and ambiguous names", async () => {
  using tmp = scratchDir("musefs-lossy-");
  const dir = tmp.path;
  await py(
    "import os,sys; d=sys.argv[1].encode(); os.mkdir(d+b'/d\\xfe'); " +
      "open(d+b'/d\\xfe/caf\\xe9.flac','wb').write(b'hello world'); " +
      "open(d+b'/d\\xfe/tw\\xe9','wb').write(b'1'); open(d+b'/d\\xfe/tw\\xea','wb').write(b'2')",
    dir,
  );
  const path = `${dir}/d\uFFFD/caf\uFFFD.flac`;
  const raw = rawPath(path);
  assert.equal(
    escapeName(raw),
    `${escapeName(new TextEncoder().encode(dir))}/d\\xfe/caf\\xe9.flac`,
  );
  const fd = openLossy(path, fs.constants.O_RDONLY);
  try {
    const buf = new Uint8Array(11);
    assert.equal(fs.readSync(fd, buf, 0, 11, 0), 11);
    assert.equal(new TextDecoder().decode(buf), "hello world");
  } finally {
    fs.closeSync(fd);
  }
  assert.equal(statStamp(path).size, 11);
  assert.deepEqual(
    readDirLossy(`${dir}/d\uFFFD`).map((e) => [e.name, escapeName(e.raw), e.isFile]).sort(),
    [["caf\uFFFD.flac", "caf\\xe9.flac", true], ["tw\uFFFD", "tw\\xe9", true], [
      "tw\uFFFD",
      "tw\\xea",
      true,
    ]],
  );
  // Missing: ENOENT (so prune may drop the row); ambiguous: another code (never "gone").
  assert.throws(
    () => rawPath(`${dir}/d\uFFFD/none\uFFFD.flac`),
    (e) => e instanceof LossyPathError && e.code === "ENOENT",
  );
  assert.throws(
    () => statStamp(`${dir}/d\uFFFD/none\uFFFD.flac`),
    (e) => e instanceof BackingIoError && e.code === "ENOENT",
  );
  assert.throws(
    () => statStamp(`${dir}/d\uFFFD/tw\uFFFD`),
    (e) => e instanceof BackingIoError && e.code === "ENOTUNIQ" && /2 names in/.test(e.message),
  );
  // A literal U+FFFD in a valid name is opened as is.
  await Deno.writeTextFile(`${dir}/real\uFFFD.txt`, "plain");
  const lit = openLossy(`${dir}/real\uFFFD.txt`, fs.constants.O_RDONLY);
  fs.closeSync(lit);
  assert.equal(statStamp(`${dir}/real\uFFFD.txt`).size, 5);
});

Deno.test("escapeName: valid UTF-8 as text, other bytes and backslash as \\xNN", () => {
  const b = Uint8Array.of(0x63, 0xe9, 0x5c, 0xe2, 0x82, 0xac, 0xf0, 0x9f, 0x8e, 0xb5, 0x80, 0xff);
  assert.equal(escapeName(b), "c\\xe9\\x5c€🎵\\x80\\xff");
  assert.equal(escapeName(Uint8Array.of(0xe2, 0x82)), "\\xe2\\x82");
});
