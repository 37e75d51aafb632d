// The probe Worker of the test harness (hooked_main.ts): the shipped Worker
// plus faults chosen by the test through the environment —
// MUSEFS_TEST_PROBE_DELAY_MS (sleep in every probe, so a test can interrupt
// a scan mid-way), MUSEFS_TEST_PROBE_PAUSE (a directory: after the parse and
// before the second stamp, create `<dir>/paused` holding the path and wait
// for `<dir>/resume`) and MUSEFS_TEST_PROBE_CRASH (an uncaught error, killing
// the Worker, on a path containing this text).

/// <reference lib="deno.worker" />

import * as fs from "node:fs";
import { serveProbes } from "../../src/scan/probe_serve.ts";

function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function exists(path: string): boolean {
  try {
    fs.statSync(path);
    return true;
  } catch {
    return false;
  }
}

const delay = Number(Deno.env.get("MUSEFS_TEST_PROBE_DELAY_MS") ?? "");
const pause = Deno.env.get("MUSEFS_TEST_PROBE_PAUSE");
const crash = Deno.env.get("MUSEFS_TEST_PROBE_CRASH");

serveProbes({
  beforeProbe: (path) => {
    if (crash && path.includes(crash)) throw new Error(`test crash on ${path}`);
  },
  beforeRestamp: (path) => {
    if (Number.isFinite(delay) && delay > 0) sleep(delay);
    if (pause) {
      fs.writeFileSync(`${pause}/paused`, path);
      const deadline = Date.now() + 60_000;
      while (!exists(`${pause}/resume`) && Date.now() < deadline) sleep(10);
    }
  },
});
