// probeFile over real fixtures: bounded reads, checksums, failures; the
// fingerprint's layout; the positional reader's cache and counters.

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import { ensureFixtures } from "../fixtures/fixtures.ts";
import { probePath } from "../../src/format/mod.ts";
import { BufferSource } from "../../src/format/source.ts";
import type { ProbeResult } from "../../src/format/types.ts";
import { fingerprintOf } from "../../src/scan/fingerprint.ts";
import { probeFile } from "../../src/scan/probe_file.ts";
import { MIN_READ, PreadSource } from "../../src/scan/pread_source.ts";
import { sha256File } from "./helpers.ts";
import { scratchDir } from "../scratch.ts";

Deno.test("probeFile: every fixture probes like an in-memory probe, within a small read budget", async () => {
  for (const f of await ensureFixtures()) {
    const out = probeFile(f.path, "full");
    assert.equal(out.kind, "probed", `${f.name}: ${out.kind !== "probed" ? out.message : ""}`);
    if (out.kind !== "probed") continue;
    const bytes = Deno.readFileSync(f.path);
    const expected = probePath(f.path, new BufferSource(bytes))!;
    assert.deepEqual(out.probe, expected, f.name);
    assert.equal(out.stamp.size, bytes.length);
    assert.equal(out.fingerprint, fingerprintOf(expected));
    assert.equal(out.contentHash, await sha256File(f.path));
    assert.equal(out.counters.hashBytes, bytes.length);
    // Metadata only, each byte at most once: well under the 64 KiB window of the original.
    assert.ok(
      out.counters.probeBytes <= Math.min(bytes.length, 10 * 1024),
      `${f.name} read ${out.counters.probeBytes}`,
    );
  }
});

Deno.test("probeFile: unparseable, empty, missing and directory paths fail with a reason", () => {
  using tmp = scratchDir("musefs-scan-test-");
  const dir = tmp.path;
  Deno.writeFileSync(`${dir}/zero.flac`, new Uint8Array(0));
  Deno.writeTextFileSync(`${dir}/junk.mp3`, "hello");
  Deno.mkdirSync(`${dir}/folder.wav`);
  for (const name of ["zero.flac", "junk.mp3", "missing.opus", "folder.wav", "x.txt"]) {
    const out = probeFile(`${dir}/${name}`, "fingerprint");
    assert.equal(out.kind, "failed", name);
    if (out.kind === "failed") assert.ok(out.message.length > 0);
  }
});

Deno.test("fingerprint: length-prefixed fields in the documented order", () => {
  const p: ProbeResult = {
    format: "flac",
    audioOffset: 42,
    audioLength: 1000,
    tags: [{ key: "title", value: "Ça", ordinal: 0 }],
    pictures: [{
      mime: "image/png",
      pictureType: 3,
      description: "",
      width: null,
      height: 7,
      data: new Uint8Array([1, 2]),
    }],
    binaryTags: [{ key: "APPLICATION", ordinal: 0, data: new Uint8Array([9]) }],
    structural: [{ kind: "STREAMINFO", ordinal: 0, body: new Uint8Array([5, 6, 7]) }],
  };
  const u64 = (n: number) => {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, BigInt(n), true);
    return b;
  };
  const enc = (s: string) => new TextEncoder().encode(s);
  const f = (b: Uint8Array) => [u64(b.length), b];
  const parts = [
    ...f(enc("flac")),
    u64(42),
    u64(1000),
    u64(1),
    ...f(enc("title")),
    ...f(enc("Ça")),
    u64(1),
    ...f(enc("image/png")),
    u64(3),
    ...f(enc("")),
    u64(0),
    u64(7),
    ...f(new Uint8Array([1, 2])),
    u64(1),
    ...f(enc("APPLICATION")),
    ...f(new Uint8Array([9])),
    u64(1),
    ...f(enc("STREAMINFO")),
    ...f(new Uint8Array([5, 6, 7])),
  ];
  const h = createHash("sha256");
  for (const part of parts) h.update(part);
  assert.equal(fingerprintOf(p), h.digest("hex"));
  const retagged = { ...p, tags: [{ key: "title", value: "Ca", ordinal: 0 }] };
  assert.notEqual(fingerprintOf(retagged), fingerprintOf(p));
});

Deno.test("PreadSource: widens small reads, serves re-reads from its buffer, counts system calls", () => {
  using tmp = scratchDir("musefs-scan-test-");
  const dir = tmp.path;
  const data = new Uint8Array(10_000).map((_, i) => i & 0xff);
  Deno.writeFileSync(`${dir}/f`, data);
  const fd = fs.openSync(`${dir}/f`, "r");
  try {
    const src = new PreadSource(fd, data.length);
    assert.deepEqual(src.read(10, 4), data.subarray(10, 14));
    assert.equal(src.preads, 1);
    assert.equal(src.bytesRead, MIN_READ);
    assert.deepEqual(src.read(100, 200), data.subarray(100, 300)); // inside the buffer
    assert.equal(src.preads, 1);
    assert.deepEqual(src.read(9_000, 5_000), data.subarray(9_000)); // clamped at EOF
    assert.equal(src.bytesRead, MIN_READ + 1_000);
    assert.deepEqual(src.read(20_000, 10), new Uint8Array(0));
    // Starts inside a held buffer: only the bytes after it are read.
    assert.deepEqual(src.read(4_000, 1_000), data.subarray(4_000, 5_000));
    assert.equal(src.bytesRead, MIN_READ + 1_000 + MIN_READ);
    assert.equal(src.preads, 3);
  } finally {
    fs.closeSync(fd);
  }
});
