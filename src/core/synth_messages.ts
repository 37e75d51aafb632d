// What the serving thread and the synthesis worker share (src/core/synth_ahead.ts
// owns the worker; src/core/synth_worker.ts is its body).
//
// Job states live in a SharedArrayBuffer, one Int32 per slot (job seq mod
// SLOTS), so a job is built once: the worker claims a queued job
// (QUEUED → BUILDING) before it builds it, and the serving thread takes one
// it needs now (QUEUED → TAKEN) and builds it itself, which the worker then
// skips. Results come back as messages without typed arrays (Deno's
// receiveMessageOnPort deserializes a typed array very slowly, ~5 ms per
// 80 KiB); a layout's inline bytes travel through a shared byte ring instead
// and the message says where.

import type { ServeMode } from "./defaults.ts";
import type { Id3Version, Segment } from "../format/mod.ts";
import type { ResolvedFile } from "./resolve.ts";

/** Job slots (jobs in flight are kept below this). */
export const SLOTS = 4096;
/** Bytes of the ring that carries inline bytes back (bounds results not yet taken in). */
export const RING_BYTES = 4 * 1024 * 1024;

export const QUEUED = 1;
export const BUILDING = 2;
export const DONE = 3;
export const TAKEN = 4;
export const FAILED = 5;

/** Int32 indexes into the control array. */
export const CTRL_PROGRESS = 0; // jobs the worker has passed (seq + 1 of the last)
export const CTRL_INTS = 4;

export interface SynthWorkerInit {
  type: "init";
  dbPath: string;
  mode: ServeMode;
  id3Version: Id3Version;
  libraryRoots: readonly string[];
  states: SharedArrayBuffer;
  ctrl: SharedArrayBuffer;
  /** BigInt64 [0]: ring bytes the serving thread has taken in (monotonic). */
  consumed: SharedArrayBuffer;
  ring: SharedArrayBuffer;
  port: MessagePort;
}

/** Jobs: [seq, trackId] pairs, in the order they should be built. */
export interface SynthJobs {
  jobs: number[];
}

/** An inline segment whose bytes are in the ring at [at, at + length). */
export interface RingSegment {
  kind: "ring";
  at: number;
  length: number;
}

export type WireSegment = Exclude<Segment, { kind: "inline" }> | RingSegment;

export interface SynthResult {
  seq: number;
  file: Omit<ResolvedFile, "layout"> & { layout: { size: number; segments: WireSegment[] } };
  /** The ring position (monotonic) after this result's bytes. */
  ringEnd: number;
  geometryChecked: boolean;
}
