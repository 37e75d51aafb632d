// What a probe Worker does: takes chunks of paths, probes each
// (probe_file.ts) and posts the outcomes back, transferring the payload
// buffers instead of copying them. It waits on the shared budget before
// posting, so probed payload awaiting the writer stays bounded however fast
// the probes run. probe_worker.ts is the module the pool starts.

/// <reference lib="deno.worker" />

import { acquireBudget, type FromWorker, type ToWorker } from "./messages.ts";
import {
  type BeforeRestamp,
  type ChecksumTier,
  payloadBytes,
  probeFile,
  type ProbeOutcome,
} from "./probe_file.ts";

/** Seams for a test harness's own Worker module; the shipped Worker passes none. */
export interface ProbeSeams {
  /** Called before each file is probed (a throw here kills the Worker). */
  beforeProbe?: (path: string) => void;
  beforeRestamp?: BeforeRestamp;
}

/** Post what was gathered once it holds this much payload, not only at chunk end. */
const FLUSH_BYTES = 1 << 20;

let tier: ChecksumTier = "fingerprint";
let seams: ProbeSeams = {};
let budget: Int32Array | null = null;

/** A buffer the view owns alone (so transferring it moves nothing else). */
function own(view: Uint8Array): Uint8Array {
  const whole = view.byteOffset === 0 && view.byteLength === view.buffer.byteLength &&
    view.buffer instanceof ArrayBuffer;
  return whole ? view : view.slice();
}

function transferables(outcomes: ProbeOutcome[]): ArrayBuffer[] {
  const seen = new Set<ArrayBuffer>();
  for (const o of outcomes) {
    if (o.kind !== "probed") continue;
    const p = o.probe;
    for (const x of p.pictures) x.data = own(x.data);
    for (const x of p.binaryTags) x.data = own(x.data);
    for (const x of p.structural) x.body = own(x.body);
    for (
      const v of [
        ...p.pictures.map((x) => x.data),
        ...p.binaryTags.map((x) => x.data),
        ...p.structural.map((x) => x.body),
      ]
    ) {
      if (v.buffer instanceof ArrayBuffer && v.buffer.byteLength > 0) seen.add(v.buffer);
    }
  }
  return [...seen];
}

function post(chunkId: number, outcomes: ProbeOutcome[], bytes: number, last: boolean): void {
  const budgetKiB = Math.ceil(bytes / 1024);
  if (budget) acquireBudget(budget, budgetKiB);
  const message: FromWorker = { type: "results", chunkId, outcomes, budgetKiB, last };
  self.postMessage(message, transferables(outcomes));
}

function runChunk(id: number, paths: string[]): void {
  let pending: ProbeOutcome[] = [];
  let bytes = 0;
  for (let i = 0; i < paths.length; i++) {
    seams.beforeProbe?.(paths[i]);
    const outcome = probeFile(paths[i], tier, seams.beforeRestamp);
    pending.push(outcome);
    if (outcome.kind === "probed") bytes += payloadBytes(outcome.probe);
    if (bytes >= FLUSH_BYTES && i < paths.length - 1) {
      post(id, pending, bytes, false);
      pending = [];
      bytes = 0;
    }
  }
  post(id, pending, bytes, true);
}

/** Serve the pool's messages in this Worker. */
export function serveProbes(given: ProbeSeams = {}): void {
  seams = given;
  self.onmessage = onMessage;
}

function onMessage(event: MessageEvent<ToWorker>): void {
  const m = event.data;
  if (m.type === "init") {
    tier = m.tier;
    budget = new Int32Array(m.budget);
    const ready: FromWorker = { type: "ready" };
    self.postMessage(ready);
  } else if (m.type === "chunk") {
    runChunk(m.id, m.paths);
  }
}
