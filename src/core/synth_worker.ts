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
import { closeBacking, openBacking, type OpenedBacking } from "./backing.ts";
import { type BackingAccess, backingAccess } from "./backing_access.ts";
import { ArtCache } from "./reader.ts";
import { SIDE_STORE_CACHE_KIB } from "./defaults.ts";
import {
  buildResolved,
  checkRowStamp,
  geometryProblem,
  recordedStamp,
  synthesizedSizeOf,
  synthInputOf,
} from "./resolve.ts";
import {
  align4,
  BUILDING,
  CONSUMED,
  CTRL_ART_KIB,
  CTRL_PROGRESS,
  CTRL_READY,
  DONE,
  FAILED,
  QUEUED,
  RECORD_HEADER,
  type SizeResult,
  SLOTS,
  type SynthJobs,
  type SynthResult,
  type SynthWorkerInit,
  type WireSegment,
  WORKER_READY,
  WRAP,
  WRITTEN,
} from "./synth_messages.ts";
import { WireWriter, writeSizeResult, writeSynthResult } from "./synth_wire.ts";

/** Jobs whose rows are read first, alone: the next file is wanted soonest. */
const FIRST_CHUNK = 2;

let init: SynthWorkerInit;
let store: Store;
let access: BackingAccess;
/** Whole images this worker's synthesis slices, within the mount's art cache budget. */
let images: ArtCache;
let states: Int32Array;
let ctrl: Int32Array;
let positions: BigInt64Array;
let ring: Uint8Array;
let ringWords: Uint32Array;
/** Ring bytes written (monotonic), published in positions[WRITTEN] after each record. */
let written = 0;
/** Where each record's head is written before it is copied into the ring. */
const wire = new WireWriter();

self.onmessage = (ev: MessageEvent<SynthWorkerInit>) => {
  init = ev.data;
  // Normal priority: the work is what the serving thread would do at open
  // anyway; under SCHED_IDLE a 20k-track read pass took in fewer layouts
  // and took 0.3-0.7 s longer.
  // The serving thread has the store open and checked it; opening the file
  // here outside SQLite would drop that connection's locks (store/open.ts).
  // Failing, the worker ends with an error, which stops build-ahead.
  store = openStore(init.dbPath, {
    mode: "ro",
    foreignKeyCheck: false,
    openElsewhere: true,
    cacheKiB: SIDE_STORE_CACHE_KIB,
  });
  access = backingAccess(init.dbPath, init.libraryRoots);
  // In one arena (see ArtCache), unpinned before each job: a job's layout
  // keeps no view of an image (its record is copied into the ring).
  images = new ArtCache(store, init.artCacheBytes, true);
  states = new Int32Array(init.states);
  ctrl = new Int32Array(init.ctrl);
  positions = new BigInt64Array(init.positions);
  ring = new Uint8Array(init.ring);
  ringWords = new Uint32Array(init.ring);
  init.port.onmessage = (m: MessageEvent<SynthJobs>) => {
    const { jobs, sizes = false } = m.data;
    // The first jobs' rows alone, then the rest's in one batch.
    const cut = Math.min(jobs.length, FIRST_CHUNK * 2);
    run(jobs.slice(0, cut), sizes);
    if (cut < jobs.length) run(jobs.slice(cut), sizes);
  };
  self.onmessage = null;
  Atomics.store(ctrl, CTRL_READY, WORKER_READY);
};

function run(jobs: number[], sizes: boolean): void {
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
      images.unpin();
      const r = rows?.get(jobs[i + 1]);
      const ok = r !== undefined && (sizes ? size(seq, r) : build(seq, r));
      // Before the job is published: whoever sees it done sees the images it used.
      Atomics.store(ctrl, CTRL_ART_KIB, Math.ceil(images.bytes / 1024));
      Atomics.store(states, slot, ok ? DONE : FAILED);
      Atomics.notify(states, slot);
    }
    Atomics.store(ctrl, CTRL_PROGRESS, seq + 1);
  }
}

/**
 * Open `row`'s backing file, check it against the access policy and the
 * row's stamp, and run `use` with it; false when any of that fails. `use`
 * returns whether its record went into the ring; with `handOver` the fd
 * goes with that record (the serving thread closes it), else it is closed here.
 */
function withBacking(
  row: SynthRows["row"],
  handOver: boolean,
  use: (opened: OpenedBacking) => boolean,
): boolean {
  let opened: OpenedBacking;
  try {
    opened = openBacking(row.backingPath);
  } catch {
    return false;
  }
  let put = false;
  try {
    access.check(opened.fd, row.backingPath);
    checkRowStamp(row, opened);
    put = use(opened);
    return put;
  } catch {
    return false;
  } finally {
    if (!(handOver && put)) closeBacking(opened.fd);
  }
}

/** Size one file (synthesis that only counts) and put the size in the ring. */
function size(seq: number, rows: SynthRows): boolean {
  if (init.mode !== "synthesis") return false;
  const { row } = rows;
  return withBacking(row, false, (opened) => {
    const input = synthInputOf(rows, init.id3Version);
    const size = synthesizedSizeOf(row, input, opened, store, images);
    const result: SizeResult = {
      seq,
      sized: {
        trackId: row.id,
        contentVersion: row.contentVersion,
        updatedAt: row.updatedAt,
        format: row.format,
        audioOffset: row.audioOffset,
        audioLength: row.audioLength,
        backingPath: row.backingPath,
        stamp: recordedStamp(row),
        size,
      },
    };
    return put(writeSizeResult(wire, result), []);
  });
}

/**
 * Write one record (its head, then the inline bytes) into the ring and
 * publish it; false when the ring has no room (the serving thread has not
 * taken in enough yet).
 */
function put(head: Uint8Array, inline: readonly Uint8Array[]): boolean {
  let inlineLength = 0;
  for (const b of inline) inlineLength += b.length;
  const length = head.length + inlineLength;
  const total = align4(RECORD_HEADER + length);
  const size = ring.length;
  if (total > size / 4) return false;
  const end = written % size;
  const wrap = end + total > size;
  const start = wrap ? written + size - end : written;
  if (start + total - Number(Atomics.load(positions, CONSUMED)) > size) return false;
  if (wrap) ringWords[end / 4] = WRAP;
  const at = wrap ? 0 : end;
  ringWords[at / 4] = length;
  ringWords[at / 4 + 1] = head.length;
  ring.set(head, at + RECORD_HEADER);
  let p = at + RECORD_HEADER + head.length;
  for (const b of inline) {
    ring.set(b, p);
    p += b.length;
  }
  written = start + total;
  Atomics.store(positions, WRITTEN, BigInt(written));
  return true;
}

/** Build one file and put it in the ring; false when it is left to the serving thread. */
function build(seq: number, rows: SynthRows): boolean {
  const { row } = rows;
  return withBacking(row, true, (opened) => {
    const input = init.mode === "synthesis" ? synthInputOf(rows, init.id3Version) : null;
    const file = buildResolved(row, input, opened, init.mode, store, images);
    if (file.layout.sizeOnly) return false;
    const geometryChecked = init.mode === "synthesis" && geometryProblem(file, opened) === null;
    if (init.mode === "synthesis" && !geometryChecked) return false;
    let inline = 0;
    const segments: WireSegment[] = [];
    const bytes: Uint8Array[] = [];
    for (const s of file.layout.segments) {
      if (s.kind !== "inline") segments.push(s);
      else {
        segments.push({ kind: "ring", at: inline, length: s.bytes.length });
        bytes.push(s.bytes);
        inline += s.bytes.length;
      }
    }
    const result: SynthResult = {
      seq,
      file: { ...file, layout: { size: file.layout.size, segments } },
      geometryChecked,
      backing: opened,
    };
    // Full ring: the serving thread builds this one itself.
    return put(writeSynthResult(wire, result), bytes);
  });
}
