// `musefs scan <targets> --db PATH`: ingest each target in turn (F§1, F§7)
// and print `scanned <target>: <N> file(s), <A> already present, skipped
// <S>, failed <F> in <duration>` for each. Exit 2 when any file failed; a
// hard error (missing target, store failure) aborts, keeping earlier targets.

import { ProbeAborted, scanTarget } from "../scan/mod.ts";
import { openStore } from "../store/mod.ts";
import { EXIT_OK, EXIT_USAGE } from "./errors.ts";
import { humanDuration } from "./human.ts";
import type { Io } from "./io.ts";
import type { ScanOptions } from "./options.ts";
import { installInterrupt, interrupted, progressFor, reporterFor, testHooks } from "./scan_run.ts";

export async function runScan(options: ScanOptions, io: Io): Promise<number> {
  const store = openStore(options.db, { mode: "rw", create: true, scanTuning: true });
  const interrupt = installInterrupt();
  const hooks = testHooks();
  let failed = false;
  try {
    for (const target of options.targets) {
      if (interrupt.signal.aborted) return interrupted(io, "scan");
      const progress = progressFor(options.quiet);
      let stats;
      try {
        stats = await scanTarget(store, {
          target,
          force: options.force,
          jobs: options.jobs,
          followSymlinks: options.followSymlinks,
          checksum: options.checksum,
          strictness: options.strictness,
          hooks,
          signal: interrupt.signal,
        }, reporterFor(progress));
      } finally {
        progress.finish();
      }
      if (stats.failed > 0) failed = true;
      if (!options.quiet) {
        io.out(
          `scanned ${target}: ${stats.scanned} file(s), ${stats.alreadyPresent} already present, ` +
            `skipped ${stats.skipped}, failed ${stats.failed} in ${
              humanDuration(stats.durationMs)
            }`,
        );
      }
    }
  } catch (e) {
    if (e instanceof ProbeAborted) return interrupted(io, "scan");
    throw e;
  } finally {
    interrupt.dispose();
    store.close();
  }
  return failed ? EXIT_USAGE : EXIT_OK;
}
