// Seeded hostile-input mutator and runner: thousands of corrupted copies of
// a real file (bit flips, byte runs, truncation, maximal and zero size
// fields), each probed inside a BoundedSource. Every input must end in a
// ProbeResult or a FormatError, quickly, within the read budget; a result
// must also synthesize and serve without any other kind of error.

import { inputFromProbe, materialize, synthesize } from "../../src/format/mod.ts";
import { BoundedSource, BufferSource } from "../../src/format/source.ts";
import {
  type ByteSource,
  FormatError,
  MAX_PROBE_BYTES,
  type ProbeResult,
} from "../../src/format/types.ts";

import { mulberry32 } from "../fixtures/tools.ts";
export { mulberry32 };

export type MutationKind = "bitflip" | "run" | "truncate" | "max-size" | "zero-size" | "splice";

const KINDS: MutationKind[] = ["bitflip", "run", "truncate", "max-size", "zero-size", "splice"];

/**
 * A mutated copy of `bytes` (1–3 mutations). `hot` is the length of the
 * region where structure lives (headers); most offsets land there.
 */
export function mutate(
  bytes: Uint8Array,
  rand: () => number,
  hot = bytes.length,
): { bytes: Uint8Array; applied: MutationKind[] } {
  let out = bytes.slice();
  const applied: MutationKind[] = [];
  const n = 1 + Math.floor(rand() * 3);
  const int = (max: number) => Math.floor(rand() * Math.max(1, max));
  const offset = () => (rand() < 0.85 ? int(Math.min(hot, out.length)) : int(out.length));
  for (let m = 0; m < n && out.length > 0; m++) {
    const kind = KINDS[int(KINDS.length)];
    applied.push(kind);
    switch (kind) {
      case "bitflip": {
        const flips = 1 + int(8);
        for (let i = 0; i < flips; i++) out[offset()] ^= 1 << int(8);
        break;
      }
      case "run": {
        const at = offset();
        const len = 1 + int(32);
        const v = [0x00, 0xff, 0x7f, 0x80, int(256)][int(5)];
        out.fill(v, at, Math.min(out.length, at + len));
        break;
      }
      case "truncate":
        out = out.slice(0, int(rand() < 0.7 ? Math.min(hot + 64, out.length) : out.length));
        break;
      case "max-size":
      case "zero-size": {
        const at = offset();
        const width = [1, 2, 3, 4, 8][int(5)];
        const v = kind === "zero-size" ? 0 : rand() < 0.5 ? 0xff : 0x7f;
        out.fill(v, at, Math.min(out.length, at + width));
        break;
      }
      case "splice": {
        // Duplicate a chunk elsewhere: repeated headers, shifted structure.
        const from = offset();
        const len = 1 + int(64);
        const chunk = out.slice(from, from + len);
        const at = offset();
        const next = new Uint8Array(out.length + chunk.length);
        next.set(out.subarray(0, at));
        next.set(chunk, at);
        next.set(out.subarray(at), at + chunk.length);
        out = next;
        break;
      }
    }
  }
  return { bytes: out, applied };
}

export interface FuzzOptions {
  /** Iterations (default from MUSEFS_FUZZ_ITERS, else 1500). */
  iterations?: number;
  seed?: number;
  /** Where structure lives (e.g. the original audio offset + a margin). */
  hot?: number;
  /** Per-input wall-clock bound in ms (generous: the machine is shared). */
  maxMs?: number;
  /** Also synthesize + materialize every successful probe. */
  synthesize?: boolean;
}

export interface FuzzFailure {
  seed: number;
  applied: MutationKind[];
  error: string;
}

export interface FuzzReport {
  iterations: number;
  ok: number;
  formatErrors: number;
  failures: FuzzFailure[];
}

export function fuzzIterations(fallback = 1500): number {
  const env = Deno.env.get("MUSEFS_FUZZ_ITERS");
  const n = env ? Number(env) : NaN;
  return Number.isSafeInteger(n) && n > 0 ? n : fallback;
}

/** Checks one input; returns an error description, or null when it behaved. */
export function checkOne(
  bytes: Uint8Array,
  probe: (src: ByteSource) => ProbeResult,
  opts: { maxMs?: number; synthesize?: boolean } = {},
): { outcome: "ok" | "format-error"; problem: string | null } {
  const src = new BoundedSource(new BufferSource(bytes));
  const t0 = performance.now();
  let outcome: "ok" | "format-error" = "ok";
  let problem: string | null = null;
  try {
    const r = probe(src);
    if (
      !Number.isSafeInteger(r.audioOffset) || !Number.isSafeInteger(r.audioLength) ||
      r.audioOffset < 0 || r.audioLength < 0 || r.audioOffset + r.audioLength > bytes.length
    ) {
      problem = `audio range ${r.audioOffset}+${r.audioLength} outside ${bytes.length}`;
    } else if (opts.synthesize) {
      try {
        const { input, blobs } = inputFromProbe(r, bytes.length);
        const backing = new BufferSource(bytes);
        materialize(synthesize(input, backing, blobs), { backing, blobs });
      } catch (e) {
        if (!(e instanceof FormatError)) problem = `synthesis threw ${describe(e)}`;
      }
    }
  } catch (e) {
    if (e instanceof FormatError) outcome = "format-error";
    else problem = `probe threw ${describe(e)}`;
  }
  const ms = performance.now() - t0;
  if (!problem && ms > (opts.maxMs ?? 2000)) problem = `took ${ms.toFixed(0)} ms`;
  if (!problem && src.bytesRead > MAX_PROBE_BYTES) problem = `read ${src.bytesRead} bytes`;
  return { outcome, problem };
}

function describe(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}\n${e.stack ?? ""}` : String(e);
}

/**
 * Runs `iterations` seeded mutations of `bytes` through `probe`. Seeds are
 * `seed + i`, so a failure reproduces with `mutate(bytes, mulberry32(seed), hot)`.
 */
export function fuzzProbe(
  bytes: Uint8Array,
  probe: (src: ByteSource) => ProbeResult,
  opts: FuzzOptions = {},
): FuzzReport {
  const iterations = opts.iterations ?? fuzzIterations();
  const base = opts.seed ?? 1;
  const report: FuzzReport = { iterations, ok: 0, formatErrors: 0, failures: [] };
  for (let i = 0; i < iterations; i++) {
    const seed = base + i;
    const m = mutate(bytes, mulberry32(seed), opts.hot);
    const { outcome, problem } = checkOne(m.bytes, probe, opts);
    if (problem) report.failures.push({ seed, applied: m.applied, error: problem });
    else if (outcome === "ok") report.ok++;
    else report.formatErrors++;
  }
  return report;
}

/** Replays one seed (regression cases). */
export function mutatedBySeed(bytes: Uint8Array, seed: number, hot?: number): Uint8Array {
  return mutate(bytes, mulberry32(seed), hot).bytes;
}

/**
 * Throws (with the first failing seeds and errors) when any mutated input
 * misbehaved; with `requireBothOutcomes`, also when the mutations never
 * produced both a result and a FormatError (a fuzzer that proves nothing).
 */
export function assertFuzzClean(report: FuzzReport, requireBothOutcomes = true): void {
  if (report.failures.length > 0) {
    const first = report.failures.slice(0, 3).map((f) =>
      `seed ${f.seed} [${f.applied.join(",")}]: ${f.error}`
    );
    throw new Error(
      `${report.failures.length} of ${report.iterations} mutated inputs misbehaved:\n` +
        first.join("\n"),
    );
  }
  if (requireBothOutcomes && (report.ok === 0 || report.formatErrors === 0)) {
    throw new Error(`mutations produced ${report.ok} results, ${report.formatErrors} errors`);
  }
}
