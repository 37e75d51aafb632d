// Backing stamps: nanosecond precision from statx (a chmod within the same
// second is seen), agreement with the kernel's own view (stat(1)), and the
// precision-tolerant comparison for stores stamped at ms or s precision.

import assert from "node:assert/strict";
import * as fs from "node:fs";
import {
  BackingIoError,
  fstatStamp,
  nativeStamps,
  stampsMatch,
  statStamp,
} from "../../src/core/stamp.ts";
import { scratchDir } from "../scratch.ts";

Deno.test("stamps have nanoseconds and agree with stat(1); fstat equals stat", () => {
  assert.ok(nativeStamps(), "statx available under -A on Linux");
  using tmp = scratchDir("musefs-stamp-");
  const dir = tmp.path;
  const path = `${dir}/f.bin`;
  Deno.writeFileSync(path, new Uint8Array(1234));
  const s = statStamp(path);
  const out = new Deno.Command("stat", { args: ["-c", "%s %.9Y %.9Z", path] }).outputSync();
  const [size, mtime, ctime] = new TextDecoder().decode(out.stdout).trim().split(" ");
  assert.equal(s.size, Number(size));
  assert.equal(s.mtimeNs, BigInt(mtime.replace(".", "")));
  assert.equal(s.ctimeNs, BigInt(ctime.replace(".", "")));
  const fd = fs.openSync(path, "r");
  assert.deepEqual(fstatStamp(fd), s);
  fs.closeSync(fd);
  // A ctime-only change right away (same second) is still a different stamp.
  Deno.chmodSync(path, 0o600);
  const after = statStamp(path);
  assert.equal(after.mtimeNs, s.mtimeNs);
  assert.notEqual(after.ctimeNs, s.ctimeNs);
  assert.ok(!stampsMatch(s, after));
  assert.throws(
    () => statStamp(`${dir}/missing`),
    (e: unknown) => e instanceof BackingIoError && e.code === "ENOENT",
  );
});

Deno.test("stamps recorded at millisecond or second precision compare at that grain", () => {
  const ns = { size: 10, mtimeNs: 1_700_000_000_123_456_789n, ctimeNs: 1_700_000_001_987_654_321n };
  assert.ok(stampsMatch(ns, ns));
  const ms = { size: 10, mtimeNs: 1_700_000_000_123_000_000n, ctimeNs: 1_700_000_001_000_000_000n };
  assert.ok(stampsMatch(ms, ns), "ms mtime, s ctime (node:fs-written) vs ns reading");
  assert.ok(stampsMatch(ns, ms), "symmetric");
  assert.ok(!stampsMatch({ ...ms, mtimeNs: 1_700_000_000_124_000_000n }, ns), "other ms");
  assert.ok(!stampsMatch({ ...ns, size: 11 }, ns), "size");
  assert.ok(
    !stampsMatch({ ...ns, mtimeNs: ns.mtimeNs + 1n }, ns),
    "one nanosecond apart at full precision",
  );
});
