// Hostile Ogg input: thousands of seeded mutations of the real fixtures must
// end in a ProbeResult or a FormatError (nothing else), quickly, inside the
// read budget, and every result must also synthesize and serve. The audio
// reader gets mutated pages with a non-zero sequence delta.

import assert from "node:assert/strict";
import { readOggAudio } from "../../src/format/ogg/audio.ts";
import { pageCrc, parsePageHeader, setPageCrc } from "../../src/format/ogg/page.ts";
import { readLayoutRange } from "../../src/format/layout.ts";
import { inputFromProbe } from "../../src/format/mod.ts";
import { INTERNAL_ERROR, probeOgg, synthesizeOgg } from "../../src/format/ogg/mod.ts";
import { BoundedSource, BufferSource } from "../../src/format/source.ts";
import {
  type ByteSource,
  FormatError,
  MAX_PROBE_BYTES,
  type ProbeResult,
} from "../../src/format/types.ts";
import { fixture, type FixtureName } from "../fixtures/fixtures.ts";
import { checkOne, fuzzIterations, fuzzProbe, mulberry32, mutate } from "./mutate.ts";
import { naiveRepatch } from "./ogg_util.ts";

const NAMES: FixtureName[] = ["opus", "ogg_vorbis", "ogg_flac"];

/** Seeds that once failed (none yet); replayed on every run. */
const REGRESSIONS: { name: FixtureName; seed: number }[] = [];

/** Only FormatErrors, and none that wraps an unexpected exception. */
function assertTyped(e: unknown, seed: number): void {
  if (!(e instanceof FormatError)) throw new Error(`seed ${seed}: ${e}`);
  assert(!e.message.includes(INTERNAL_ERROR), `seed ${seed}: ${e.message}`);
}

/** probeOgg, but an internal error surfaces as a plain Error (so fuzzProbe reports it). */
function strictProbe(src: ByteSource): ProbeResult {
  try {
    return probeOgg(src);
  } catch (e) {
    if (e instanceof FormatError && e.message.includes(INTERNAL_ERROR)) throw new Error(e.message);
    throw e;
  }
}

/**
 * Recomputes the CRC of every page that still parses, front to back, so
 * mutations get past the CRC check into the packet and comment parsers.
 */
function refixCrcs(bytes: Uint8Array): Uint8Array {
  let at = 0;
  for (;;) {
    let h;
    try {
      h = parsePageHeader(bytes, at);
    } catch {
      return bytes;
    }
    if (h === null || at + h.headerSize + h.bodySize > bytes.length) return bytes;
    const page = bytes.subarray(at, at + h.headerSize + h.bodySize);
    setPageCrc(page, pageCrc(page));
    at += page.length;
  }
}

for (const name of NAMES) {
  Deno.test(`ogg fuzz ${name}: mutations behind valid CRCs reach the packet parsers`, async () => {
    const bytes = await Deno.readFile((await fixture(name)).path);
    const hot = probeOgg(new BufferSource(bytes)).audioOffset + 64;
    const iterations = fuzzIterations(1500);
    const base = 7000 * (NAMES.indexOf(name) + 1);
    let ok = 0;
    let errors = 0;
    const kinds = new Map<string, number>();
    for (let i = 0; i < iterations; i++) {
      const seed = base + i;
      const m = refixCrcs(mutate(bytes, mulberry32(seed), hot).bytes);
      const t0 = performance.now();
      const src = new BoundedSource(new BufferSource(m));
      let result: ProbeResult | null = null;
      try {
        result = probeOgg(src);
        ok++;
      } catch (e) {
        assertTyped(e, seed);
        errors++;
        const msg = (e as Error).message.replace(/[0-9]+/g, "N");
        kinds.set(msg, (kinds.get(msg) ?? 0) + 1);
      }
      assert(src.bytesRead <= MAX_PROBE_BYTES);
      if (result !== null) {
        assert(result.audioOffset + result.audioLength === m.length, `seed ${seed}: geometry`);
        const { input, blobs } = inputFromProbe(result, m.length);
        const backing = new BufferSource(m);
        try {
          const layout = synthesizeOgg(input, backing, blobs);
          // Serve a few ranges: the audio reader meets the mutated pages too.
          for (const [at, len] of [[0, layout.size], [Math.floor(layout.size / 2), 999]]) {
            readLayoutRange(layout, at, len, { backing, blobs });
          }
        } catch (e) {
          assertTyped(e, seed);
        }
      }
      assert(performance.now() - t0 < 2000, `seed ${seed}: too slow`);
    }
    assert(ok > 20 && errors > 20, `ok ${ok}, errors ${errors}`);
    // Failures come from more than the page layer (comments, pictures, blocks, lacing …).
    if (Deno.env.get("OGG_FUZZ_KINDS")) console.log([...kinds].sort((a, b) => b[1] - a[1]));
    assert(kinds.size >= 5, `only ${[...kinds.keys()].join(" | ")}`);
  });

  Deno.test(`ogg fuzz ${name}: mutated files probe to a result or a FormatError`, async () => {
    const bytes = await Deno.readFile((await fixture(name)).path);
    const hot = probeOgg(new BufferSource(bytes)).audioOffset + 64;
    const report = fuzzProbe(bytes, strictProbe, {
      iterations: fuzzIterations(1500),
      seed: 1000 * (NAMES.indexOf(name) + 1),
      hot,
      synthesize: true,
    });
    assert.deepEqual(report.failures.slice(0, 3), [], `${report.failures.length} failures`);
    // The mutations must reach both outcomes, else they test nothing.
    assert(report.ok > 20, `${report.ok} mutated files still probed`);
    assert(report.formatErrors > 20, `${report.formatErrors} format errors`);
  });
}

Deno.test("ogg fuzz: regression seeds", async () => {
  for (const r of REGRESSIONS) {
    const bytes = await Deno.readFile((await fixture(r.name)).path);
    const hot = probeOgg(new BufferSource(bytes)).audioOffset + 64;
    const m = mutate(bytes, mulberry32(r.seed), hot);
    assert.equal(checkOne(m.bytes, strictProbe, { synthesize: true }).problem, null);
  }
});

Deno.test("ogg fuzz: hostile audio pages are served as the reference walk says", async () => {
  const bytes = await Deno.readFile((await fixture("ogg_flac")).path);
  const p = probeOgg(new BufferSource(bytes));
  const audio = bytes.subarray(p.audioOffset);
  const iterations = Math.ceil(fuzzIterations(1500) / 3);
  let served = 0;
  let compared = 0;
  for (let i = 0; i < iterations; i++) {
    const rand = mulberry32(50_000 + i);
    const m = mutate(audio, rand).bytes;
    const backing = new BufferSource(m);
    const seg = { offset: 0, length: m.length, seqDelta: 1 + Math.floor(rand() * 2 ** 32 - 1) };
    const from = Math.floor(rand() * Math.max(1, m.length));
    const length = Math.floor(rand() * (m.length - from + 1));
    const t0 = performance.now();
    let out: Uint8Array;
    try {
      out = readOggAudio(backing, seg, from, length);
    } catch (e) {
      // Damaged pages, cut-off pages and junk are served, never refused.
      throw new Error(`seed ${50_000 + i}: ${e}`);
    }
    assert(performance.now() - t0 < 2000, `seed ${50_000 + i} too slow`);
    assert.equal(out.length, length);
    served++;
    if (i % 10 === 0 || Deno.env.get("MUSEFS_FUZZ_ITERS")) {
      const want = naiveRepatch(m, seg.seqDelta).subarray(from, from + length);
      assert.deepEqual(out, want, `seed ${50_000 + i}: bytes differ from the reference`);
      compared++;
    }
  }
  assert(served === iterations && compared > 5, `served ${served}, compared ${compared}`);
});
