// What the serving thread and the synthesis worker share (src/core/synth_ahead.ts
// owns the worker; src/core/synth_worker.ts is its body).
//
// Job states live in a SharedArrayBuffer, one Int32 per slot (job seq mod
// SLOTS), so a job is built once: the worker claims a queued job
// (QUEUED → BUILDING) before it builds it, and the serving thread takes one
// it needs now (QUEUED → TAKEN) and builds it itself, which the worker then
// skips. Results come back through a shared byte ring, not as messages: in
// this Deno, `receiveMessageOnPort` costs ~8 µs for a plain result object
// and ~190 µs for a 4 KiB typed array in it, while a result read from the
// ring (its fields plus the layout's inline bytes) costs a few µs.
//
// A ring record, 4-byte aligned: u32 record length (bytes after the 8-byte
// header), u32 head length, the head (the `SynthResult` or `SizeResult`'s
// fields in binary, src/core/synth_wire.ts), then the inline bytes its
// "ring" segments point into (offsets after the head). A u32 WRAP where a
// record would start means the next record is at offset 0.
// The worker publishes the ring position after each record (`CTRL` BigInt
// [WRITTEN]); the serving thread reads records up to it and publishes its
// own position ([CONSUMED]), and the worker never writes past that.

import type { ServeMode } from "./defaults.ts";
import type { Id3Version, Segment } from "../format/mod.ts";
import type { ResolvedFile } from "./resolve.ts";
import type { OpenedBacking } from "./backing.ts";
import type { BuiltRowState } from "./size_index.ts";

/** Job slots (jobs in flight are kept below this). */
export const SLOTS = 4096;
/** Bytes of the ring that carries inline bytes back (bounds results not yet taken in). */
export const RING_BYTES = 1024 * 1024;

export const QUEUED = 1;
export const BUILDING = 2;
export const DONE = 3;
export const TAKEN = 4;
export const FAILED = 5;

/** Int32 index into the control array: jobs the worker has passed (seq + 1 of the last). */
export const CTRL_PROGRESS = 0;
/** Int32 index into the control array: WORKER_READY once the worker has its store open. */
export const CTRL_READY = 1;
export const WORKER_READY = 1;
/** Int32 index into the control array: KiB of images the worker's art cache holds. */
export const CTRL_ART_KIB = 2;
export const CTRL_INTS = 4;
/** BigInt64 indexes into the ring positions (monotonic byte counts). */
export const WRITTEN = 0;
export const CONSUMED = 1;
/** Where a record would start: the next one is at offset 0. */
export const WRAP = 0xffffffff;
export const RECORD_HEADER = 8;

export interface SynthWorkerInit {
  type: "init";
  dbPath: string;
  mode: ServeMode;
  id3Version: Id3Version;
  libraryRoots: readonly string[];
  /** Budget of the worker's own art cache (the images it slices for synthesis). */
  artCacheBytes: number;
  states: SharedArrayBuffer;
  ctrl: SharedArrayBuffer;
  /** BigInt64 [WRITTEN, CONSUMED]. */
  positions: SharedArrayBuffer;
  ring: SharedArrayBuffer;
  port: MessagePort;
}

/** Jobs: [seq, trackId] pairs, in the order they should be built. */
export interface SynthJobs {
  jobs: number[];
  /** Sizes only: each result is a `SizeResult` (a first scan's sizes, computed ahead). */
  sizes?: boolean;
}

/** What a size depends on and the size: enough for the serving thread's size index. */
export interface SizeResult {
  seq: number;
  sized: BuiltRowState & { trackId: number; size: number };
}

/** An inline segment whose bytes follow the record's head at [at, at + length). */
export interface RingSegment {
  kind: "ring";
  at: number;
  length: number;
}

export type WireSegment = Exclude<Segment, { kind: "inline" }> | RingSegment;

/** A built file as the worker puts it in the ring (inline bytes after the head). */
export interface SynthResult {
  seq: number;
  file: Omit<ResolvedFile, "layout"> & {
    layout: { size: number; segments: WireSegment[] };
  };
  geometryChecked: boolean;
  /**
   * The backing file the worker opened and checked, left open for the
   * serving thread (fds are the process's, not the thread's): the open of
   * this file uses it instead of opening it again. Whoever holds it closes it.
   */
  backing: OpenedBacking;
}

export function align4(n: number): number {
  return Math.ceil(n / 4) * 4;
}
