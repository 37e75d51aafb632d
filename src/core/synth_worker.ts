// The synthesis worker: builds the layouts of files the serving thread
// expects to be opened soon (the rest of a directory a walker is reading),
// with its own read-only store connection, exactly as the serving thread's
// miss path does (src/core/resolve.ts `buildResolved`): the track's rows,
// the backing file opened the one way (`openBacking`), its stamp checked
// against the row, the access policy, the synthesis, the geometry check.
// Anything that fails is left to the serving thread, which builds the file
// itself and reports the error then.

/// <reference lib="deno.worker" />

import { openStore, readSynthRows, type Store, type SynthRows } from "../store/mod.ts";
import { closeBacking, openBacking } from "./backing.ts";
import { type BackingAccess, backingAccess } from "./backing_access.ts";
import { buildResolved, checkRowStamp, geometryProblem, synthInputOf } from "./resolve.ts";
import {
  BUILDING,
  CTRL_PROGRESS,
  DONE,
  FAILED,
  QUEUED,
  RING_BYTES,
  SLOTS,
  type SynthJobs,
  type SynthResult,
  type SynthWorkerInit,
  type WireSegment,
} from "./synth_messages.ts";

let init: SynthWorkerInit;
let store: Store;
let access: BackingAccess;
let states: Int32Array;
let ctrl: Int32Array;
let consumed: BigInt64Array;
let ring: Uint8Array;
/** Ring bytes written (monotonic); the serving thread advances `consumed` behind it. */
let written = 0;

self.onmessage = (ev: MessageEvent<SynthWorkerInit>) => {
  init = ev.data;
  store = openStore(init.dbPath, { mode: "ro", foreignKeyCheck: false });
  access = backingAccess(init.dbPath, init.libraryRoots);
  states = new Int32Array(init.states);
  ctrl = new Int32Array(init.ctrl);
  consumed = new BigInt64Array(init.consumed);
  ring = new Uint8Array(init.ring);
  init.port.onmessage = (m: MessageEvent<SynthJobs>) => run(m.data.jobs);
  self.onmessage = null;
};

function run(jobs: number[]): void {
  // The rows of every job still queued, in one snapshot and one batch.
  const ids: number[] = [];
  for (let i = 0; i < jobs.length; i += 2) {
    if (Atomics.load(states, jobs[i] % SLOTS) === QUEUED) ids.push(jobs[i + 1]);
  }
  let rows: Map<number, SynthRows> | null = null;
  try {
    rows = ids.length === 0 ? null : readSynthRows(store, ids);
  } catch {
    rows = null; // a refused row: the serving thread reads each file alone
  }
  for (let i = 0; i < jobs.length; i += 2) {
    const seq = jobs[i];
    const slot = seq % SLOTS;
    if (Atomics.compareExchange(states, slot, QUEUED, BUILDING) === QUEUED) {
      const r = rows?.get(jobs[i + 1]);
      const ok = r !== undefined && build(seq, r);
      Atomics.store(states, slot, ok ? DONE : FAILED);
      Atomics.notify(states, slot);
    }
    Atomics.store(ctrl, CTRL_PROGRESS, seq + 1);
  }
}

/** Build one file and send it; false when it is left to the serving thread. */
function build(seq: number, rows: SynthRows): boolean {
  const { row } = rows;
  let opened;
  try {
    opened = openBacking(row.backingPath);
  } catch {
    return false;
  }
  try {
    access.check(opened.fd, row.backingPath);
    checkRowStamp(row, opened);
    const input = init.mode === "synthesis" ? synthInputOf(rows, init.id3Version) : null;
    const file = buildResolved(row, input, opened, init.mode, store);
    if (file.layout.sizeOnly) return false;
    const geometryChecked = init.mode === "synthesis" && geometryProblem(file, opened) === null;
    if (init.mode === "synthesis" && !geometryChecked) return false;
    // Inline bytes go into the ring, contiguous, after any padding to its start.
    let need = 0;
    for (const s of file.layout.segments) if (s.kind === "inline") need += s.bytes.length;
    if (need > RING_BYTES / 4) return false;
    let at = written % RING_BYTES;
    let start = written;
    if (at + need > RING_BYTES) {
      start += RING_BYTES - at;
      at = 0;
    }
    if (start + need - Number(Atomics.load(consumed, 0)) > RING_BYTES) return false; // full
    const segments: WireSegment[] = [];
    let p = at;
    for (const s of file.layout.segments) {
      if (s.kind !== "inline") {
        segments.push(s);
        continue;
      }
      ring.set(s.bytes, p);
      segments.push({ kind: "ring", at: p, length: s.bytes.length });
      p += s.bytes.length;
    }
    written = start + need;
    const result: SynthResult = {
      seq,
      file: { ...file, layout: { size: file.layout.size, segments } },
      ringEnd: written,
      geometryChecked,
    };
    init.port.postMessage(result);
    return true;
  } catch {
    return false;
  } finally {
    closeBacking(opened.fd);
  }
}
