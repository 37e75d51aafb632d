// What `scan` and `revalidate` share on the command line: the store opened
// for bulk writes, the reporter (log lines + progress), test hooks from the
// environment, and Ctrl-C handling — the first SIGINT/SIGTERM stops the run
// (the open batch is rolled back, committed batches stay, a rerun continues),
// a second exits at once.

import type { ProbeHooks, ScanReporter } from "../scan/mod.ts";
import { EXIT_SIGNAL } from "./errors.ts";
import type { Io } from "./io.ts";
import { createLogger } from "./log.ts";
import { createProgress, type Progress } from "./progress.ts";

export const scanLog = createLogger("musefs::scan");

/** A reporter that logs through musefs::scan and drives `progress`. */
export function reporterFor(progress: Progress): ScanReporter {
  return {
    warn: (m) => scanLog.warn(m),
    info: (m) => scanLog.info(m),
    debug: (m) => scanLog.debug(m),
    discovered: (n) => progress.discovered(n),
    walked: (n) => progress.walked(n),
    committed: (done, total, last) => progress.committed(done, total, last),
  };
}

export function progressFor(quiet: boolean): Progress {
  return createProgress({ quiet });
}

/**
 * Test hooks: MUSEFS_TEST_PROBE_DELAY_MS (sleep in every probe),
 * MUSEFS_TEST_PROBE_PAUSE (a directory; see ProbeHooks.pauseDir) and
 * MUSEFS_TEST_PROBE_CRASH (kill the probe Worker on a path containing it).
 */
export function testHooks(): ProbeHooks {
  const hooks: ProbeHooks = {};
  const delay = Number(Deno.env.get("MUSEFS_TEST_PROBE_DELAY_MS") ?? "");
  if (Number.isFinite(delay) && delay > 0) hooks.delayMs = delay;
  const pause = Deno.env.get("MUSEFS_TEST_PROBE_PAUSE");
  if (pause) hooks.pauseDir = pause;
  const crash = Deno.env.get("MUSEFS_TEST_PROBE_CRASH");
  if (crash) hooks.crashOn = crash;
  return hooks;
}

export interface Interrupt {
  signal: AbortSignal;
  dispose(): void;
}

/** First SIGINT/SIGTERM aborts `signal`; a second exits 130 immediately. */
export function installInterrupt(): Interrupt {
  const controller = new AbortController();
  const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
  const handler = () => {
    if (controller.signal.aborted) Deno.exit(EXIT_SIGNAL);
    controller.abort();
  };
  for (const s of signals) Deno.addSignalListener(s, handler);
  return {
    signal: controller.signal,
    dispose: () => {
      for (const s of signals) Deno.removeSignalListener(s, handler);
    },
  };
}

/** Report an interrupted run; its exit code. */
export function interrupted(io: Io, command: string): number {
  io.err(`musefs: ${command} interrupted; committed work is kept, run it again to continue`);
  return EXIT_SIGNAL;
}
