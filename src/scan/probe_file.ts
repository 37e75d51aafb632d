// Probe one backing file safely: open it once, fstat before and after,
// parse through a bounded positional reader, and report a file that changed
// meanwhile as "raced" — its probe may be torn, so nothing is stored for it
// and it is not counted as failed. Runs in the probe Workers (no database).

import { createHash } from "node:crypto";
import * as fs from "node:fs";
import { openLossy } from "../../ffi/lossy_path.ts";
import { probeKindForPath } from "../format/mod.ts";
import { probe } from "../format/mod.ts";
import { BoundedSource } from "../format/mod.ts";
import { FormatError, type ProbeResult } from "../format/mod.ts";
import { contentHashOfFd, fingerprintOf } from "./fingerprint.ts";
import { PreadSource } from "./pread_source.ts";
import { type BackingStamp, stampOfFd, stampsMatch } from "./stamp.ts";

export type ChecksumTier = "none" | "fingerprint" | "full";

/**
 * Called after a file is parsed and before it is stamped again (a file that
 * changed in between is reported as raced). The shipped probe Worker passes
 * nothing; a test harness Worker uses it to change files mid-probe.
 */
export type BeforeRestamp = (path: string) => void;

export interface ProbeCounters {
  /** Bytes the probe read from the file (positional reads, excluding the content hash). */
  probeBytes: number;
  preads: number;
  /** Bytes read for the content hash. */
  hashBytes: number;
}

export type ProbeOutcome =
  | {
    kind: "probed";
    path: string;
    stamp: BackingStamp;
    probe: ProbeResult;
    /** SHA-256 hex of each picture's bytes (the art table's content address), in order. */
    pictureSha256: string[];
    fingerprint: string | null;
    contentHash: string | null;
    counters: ProbeCounters;
  }
  | { kind: "failed"; path: string; message: string; counters: ProbeCounters }
  | { kind: "raced"; path: string; message: string; counters: ProbeCounters };

function describe(e: unknown): string {
  if (e instanceof FormatError) return `${e.kind}: ${e.message}`;
  if (e instanceof Error) return e.message;
  return String(e);
}

/** Probe `path` (dispatched by its extension) and compute the tier's checksums. */
export function probeFile(
  path: string,
  tier: ChecksumTier,
  beforeRestamp?: BeforeRestamp,
): ProbeOutcome {
  const counters: ProbeCounters = { probeBytes: 0, preads: 0, hashBytes: 0 };
  const kind = probeKindForPath(path);
  if (kind === null) {
    return { kind: "failed", path, message: "not a supported audio extension", counters };
  }
  let fd: number;
  try {
    // O_NONBLOCK: a FIFO swapped in after the walk must not hang the probe
    // (no effect on regular files).
    fd = openLossy(path, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch (e) {
    return { kind: "failed", path, message: describe(e), counters };
  }
  try {
    // Not a regular file (a directory, a device): the first read fails, and so does the file.
    const before = stampOfFd(fd, path);
    const src = new PreadSource(fd, before.size);
    let result: ProbeResult | null = null;
    let failure: string | null = null;
    try {
      result = probe(kind, new BoundedSource(src));
    } catch (e) {
      // Any parser failure (typed or not) fails this file only.
      failure = describe(e);
    }
    counters.probeBytes = src.bytesRead;
    counters.preads = src.preads;
    let contentHash: string | null = null;
    if (result && tier === "full") {
      const h = contentHashOfFd(fd, before.size);
      contentHash = h.hash;
      counters.hashBytes = h.bytes;
    }
    beforeRestamp?.(path);
    const after = stampOfFd(fd, path);
    if (!stampsMatch(before, after)) {
      return { kind: "raced", path, message: "changed during probe", counters };
    }
    if (!result) return { kind: "failed", path, message: failure ?? "unparseable", counters };
    const fingerprint = tier === "none" ? null : fingerprintOf(result);
    const stamp = before;
    // Hashed here, in parallel, rather than by the single writer.
    const pictureSha256 = result.pictures.map((p) => sha256Hex(p.data));
    return {
      kind: "probed",
      path,
      stamp,
      probe: result,
      pictureSha256,
      fingerprint,
      contentHash,
      counters,
    };
  } catch (e) {
    return { kind: "failed", path, message: describe(e), counters };
  } finally {
    try {
      fs.closeSync(fd);
    } catch { /* nothing left to do */ }
  }
}

/**
 * The whole-file SHA-256 of `path`, if its stamp still equals `expected`
 * (a move confirmation computed after the probe); null when it changed.
 */
export function contentHashIfUnchanged(path: string, expected: BackingStamp): string | null {
  const fd = openLossy(path, fs.constants.O_RDONLY);
  try {
    const before = stampOfFd(fd);
    if (!stampsMatch(before, expected)) return null;
    const { hash } = contentHashOfFd(fd, before.size);
    return stampsMatch(stampOfFd(fd), expected) ? hash : null;
  } finally {
    fs.closeSync(fd);
  }
}

function sha256Hex(data: Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/** Bytes of payload a probe carries (pictures, binary tags, structural bodies). */
export function payloadBytes(p: ProbeResult): number {
  let n = 0;
  for (const x of p.pictures) n += x.data.length;
  for (const x of p.binaryTags) n += x.data.length;
  for (const x of p.structural) n += x.body.length;
  return n;
}
