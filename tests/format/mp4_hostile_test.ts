// Hostile MP4 input: regression cases for box-size overflow (the original's
// box-bounds overflow and co64 offset-add bugs) and seeded mutations of the
// fixtures. Every input must end in a ProbeResult or a FormatError, quickly,
// inside the read budget; a result must synthesize (or fail typed), and a
// served file must probe again with the same audio bytes.

import assert from "node:assert/strict";
import { probeMp4, synthesizeMp4 } from "../../src/format/mp4.ts";
import { inputFromProbe, materialize } from "../../src/format/mod.ts";
import { BoundedSource, BufferSource } from "../../src/format/source.ts";
import {
  type ByteSource,
  FormatError,
  type FormatErrorKind,
  MAX_MP4_METADATA_BYTES,
  MAX_PROBE_BYTES,
} from "../../src/format/types.ts";
import { fixture } from "../fixtures/fixtures.ts";
import { fuzzIterations, mulberry32, mutate } from "./mutate.ts";
import {
  box,
  buildMp4,
  cat,
  fourcc,
  FTYP,
  RecordingSource,
  u32,
  u64,
  VirtualSource,
  walk,
  zeros,
} from "./mp4_util.ts";

function expectError(bytes: Uint8Array | ByteSource, kind: FormatErrorKind, what: string): void {
  const src = bytes instanceof Uint8Array ? new BufferSource(bytes) : bytes;
  assert.throws(
    () => probeMp4(new BoundedSource(src)),
    (e) => {
      assert.ok(e instanceof FormatError, `${what}: ${e}`);
      assert.ok(!e.message.startsWith("internal:"), `${what}: ${e.message}`);
      assert.equal(e.kind, kind, `${what}: ${e.message}`);
      return true;
    },
  );
}

/** A file whose moov is `moov` (moov after a small mdat). */
const withMoov = (moov: Uint8Array) => cat(FTYP, box("mdat", zeros(16)), moov);

function soundTrak(table: Uint8Array): Uint8Array {
  return box(
    "trak",
    box(
      "mdia",
      box("hdlr", u32(0), u32(0), fourcc("soun"), zeros(13)),
      box("minf", box("stbl", table)),
    ),
  );
}

Deno.test("mp4 regression: a child box larger than its parent is a FormatError", () => {
  // trak declares 0x7fffffff bytes inside a ~60-byte moov.
  const trak = soundTrak(box("stco", u32(0), u32(0)));
  const lying = trak.slice();
  lying.set(u32(0x7fffffff), 0);
  expectError(withMoov(box("moov", lying)), "truncated", "trak past moov");
  // stbl declares one byte more than minf holds.
  const deep = trak.slice();
  const stbl = walk(box("moov", trak)).find((b) => b.type === "stbl")!;
  deep.set(u32(stbl.size + 1), stbl.start - 8);
  expectError(withMoov(box("moov", deep)), "truncated", "stbl past minf");
});

Deno.test("mp4 regression: size fields 0, < 8, largesize inside containers", () => {
  const table = box("stco", u32(0), u32(0));
  for (
    const [size, kind] of [[0, "malformed"], [4, "malformed"], [7, "malformed"], [
      1,
      "truncated",
    ]] as const
  ) {
    const t = soundTrak(table).slice();
    t.set(u32(size), 8); // the mdia header
    expectError(withMoov(box("moov", t)), kind, `mdia size ${size}`);
  }
});

Deno.test("mp4 regression: top-level largesize beyond 2^53 or past EOF", () => {
  expectError(
    cat(
      FTYP,
      u32(1),
      fourcc("mdat"),
      Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff),
    ),
    "too-large",
    "largesize 2^64-1",
  );
  expectError(cat(FTYP, u32(1), fourcc("mdat"), u64(2 ** 40)), "truncated", "largesize past EOF");
  expectError(cat(FTYP, u32(1), fourcc("mdat"), u64(8)), "malformed", "largesize below header");
  expectError(cat(FTYP, u32(0xfffffff0), fourcc("mdat")), "truncated", "mdat past EOF");
});

Deno.test("mp4 regression: chunk tables with lying counts or wild 64-bit offsets", () => {
  expectError(
    withMoov(box("moov", soundTrak(box("stco", u32(0), u32(0xffffffff))))),
    "malformed",
    "stco count 2^32-1",
  );
  expectError(
    withMoov(box("moov", soundTrak(box("co64", u32(0), u32(0x20000000), zeros(8))))),
    "malformed",
    "co64 count beyond box",
  );
  // The co64 offset-add regression: offsets near 2^64 or 2^53 must never be
  // added to a shift; they are refused at probe time.
  expectError(
    withMoov(box("moov", soundTrak(box("co64", u32(0), u32(1), zeros(8).fill(0xff))))),
    "malformed",
    "co64 entry 2^64-1",
  );
  expectError(
    withMoov(box("moov", soundTrak(box("co64", u32(0), u32(1), u64(2 ** 53 - 1))))),
    "unsupported",
    "co64 entry 2^53-1",
  );
  expectError(
    withMoov(box("moov", box("trak", box("mdia", box("hdlr", u32(0), fourcc("soun")))))),
    "malformed",
    "hdlr too short",
  );
});

Deno.test("mp4 regression: oversize ftyp/moov are refused from their headers alone", () => {
  const huge = MAX_MP4_METADATA_BYTES + 8;
  for (const type of ["moov", "ftyp"]) {
    const head = cat(u32(huge), fourcc(type));
    const pre = type === "moov" ? cat(FTYP, box("mdat", zeros(16))) : new Uint8Array(0);
    const rest = type === "ftyp" ? cat(box("moov"), box("mdat")) : new Uint8Array(0);
    const src = new RecordingSource(
      new VirtualSource(pre.length + huge + rest.length, [[0, pre], [pre.length, head], [
        pre.length + huge,
        rest,
      ]]),
    );
    expectError(src, "too-large", `${type} of ${huge} bytes`);
    const total = src.reads.reduce((n, [, len]) => n + len, 0);
    assert.ok(total < 256, `${type}: read ${total} bytes`);
  }
});

Deno.test("mp4 regression: the lenient ilst walk survives every single-byte corruption", () => {
  const file = buildMp4({ moovFirst: true });
  const ilst = walk(file).find((b) => b.type === "ilst")!;
  for (let i = ilst.start; i < ilst.start + ilst.size; i++) {
    for (const v of [0x00, 0xff, 0x01, 0x08]) {
      const m = file.slice();
      m[i] = v;
      try {
        probeMp4(new BoundedSource(new BufferSource(m)));
      } catch (e) {
        assert.ok(
          e instanceof FormatError && !e.message.startsWith("internal:"),
          `${i}=${v}: ${e}`,
        );
      }
    }
  }
});

/** One mutated input: null when it behaved, else what went wrong. */
function checkMp4(bytes: Uint8Array, maxMs: number): string | null {
  const src = new BoundedSource(new BufferSource(bytes));
  const t0 = performance.now();
  try {
    const p = probeMp4(src);
    if (p.audioOffset < 0 || p.audioOffset + p.audioLength > bytes.length) {
      return `audio range ${p.audioOffset}+${p.audioLength} outside ${bytes.length}`;
    }
    try {
      const { input, blobs } = inputFromProbe(p, bytes.length);
      const backing = new BufferSource(bytes);
      const served = materialize(synthesizeMp4(input, backing, blobs), { backing, blobs });
      const again = probeMp4(new BufferSource(served));
      const a = bytes.subarray(p.audioOffset, p.audioOffset + p.audioLength);
      const b = served.subarray(again.audioOffset, again.audioOffset + again.audioLength);
      if (a.length !== b.length || a.some((v, i) => v !== b[i])) return "served audio differs";
    } catch (e) {
      if (!(e instanceof FormatError) || e.message.startsWith("internal:")) {
        return `synthesis threw ${e instanceof Error ? e.stack : e}`;
      }
    }
  } catch (e) {
    if (!(e instanceof FormatError) || e.message.startsWith("internal:")) {
      return `probe threw ${e instanceof Error ? e.stack : e}`;
    }
  }
  const ms = performance.now() - t0;
  if (ms > maxMs) return `took ${ms.toFixed(0)} ms`;
  if (src.bytesRead > MAX_PROBE_BYTES) return `read ${src.bytesRead} bytes`;
  return null;
}

async function corpus(): Promise<[string, Uint8Array][]> {
  const out: [string, Uint8Array][] = [];
  for (const name of ["m4a_moov_first", "m4a_moov_last", "m4b"] as const) {
    out.push([name, await Deno.readFile((await fixture(name)).path)]);
  }
  out.push([
    "hand-made co64 + text track",
    buildMp4({
      moovFirst: true,
      tracks: [{ handler: "soun", chunks: [0, 99], co64: true }, { handler: "text", chunks: [5] }],
    }),
  ]);
  return out;
}

Deno.test("mp4 hostile: seeded mutations end in a result or a FormatError", async () => {
  const iterations = fuzzIterations(1500);
  for (const [name, bytes] of await corpus()) {
    const failures: string[] = [];
    let ok = 0;
    for (let i = 0; i < iterations; i++) {
      const seed = 1 + i;
      // Structure sits at both ends (moov first or last): mutate anywhere.
      const m = mutate(bytes, mulberry32(seed), bytes.length);
      const problem = checkMp4(m.bytes, 1000);
      if (problem) failures.push(`seed ${seed} (${m.applied.join(",")}): ${problem}`);
      else if (probeOk(m.bytes)) ok++;
    }
    assert.deepEqual(failures.slice(0, 5), [], `${name}: ${failures.length} failures`);
    // A fuzzer that rejects everything tests nothing: many mutants must still parse.
    assert.ok(ok > iterations / 10, `${name}: only ${ok} of ${iterations} mutants parsed`);
  }
});

function probeOk(bytes: Uint8Array): boolean {
  try {
    probeMp4(new BufferSource(bytes));
    return true;
  } catch {
    return false;
  }
}
