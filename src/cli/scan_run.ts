// What `scan` and `revalidate` share on the command line: the store opened
// for bulk writes, the reporter (log lines + progress), and Ctrl-C handling — the first SIGINT/SIGTERM stops the run
// (the open batch is rolled back, committed batches stay, a rerun continues),
// a second exits at once.

import { ProbeAborted, type ScanReporter } from "../scan/mod.ts";
import type { Store } from "../store/mod.ts";
import { EXIT_OK, EXIT_SIGNAL, EXIT_USAGE } from "./errors.ts";
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

/** Progress for one target; the bar names files relative to the target's real path. */
export function progressFor(quiet: boolean, target?: string): Progress {
  let root: string | undefined;
  try {
    // The walk reports canonical paths; a target it cannot resolve fails there.
    if (target !== undefined) root = Deno.realPathSync(target);
  } catch { /* the walk reports it */ }
  return createProgress({ quiet, root });
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

/** What one target's run hands back: whether files failed, and its summary line. */
export interface TargetOutcome {
  failed: number;
  summary: string;
}

/**
 * Run `each` over the targets in turn with one store, progress per target,
 * Ctrl-C handling and the summary lines (not with --quiet). Exit 2 when any
 * file failed; a hard error propagates, keeping earlier targets committed.
 */
export async function runTargets(
  command: "scan" | "revalidate",
  store: Store,
  targets: readonly string[],
  quiet: boolean,
  io: Io,
  each: (
    target: string,
    ctx: { signal: AbortSignal; reporter: ScanReporter },
  ) => Promise<TargetOutcome>,
): Promise<number> {
  const interrupt = installInterrupt();
  let failed = false;
  try {
    for (const target of targets) {
      if (interrupt.signal.aborted) return interrupted(io, command);
      const progress = progressFor(quiet, target);
      let outcome;
      try {
        outcome = await each(target, {
          signal: interrupt.signal,
          reporter: reporterFor(progress),
        });
      } finally {
        progress.finish();
      }
      if (outcome.failed > 0) failed = true;
      if (!quiet) io.out(outcome.summary);
    }
  } catch (e) {
    if (e instanceof ProbeAborted) return interrupted(io, command);
    throw e;
  } finally {
    interrupt.dispose();
    store.close();
  }
  return failed ? EXIT_USAGE : EXIT_OK;
}
