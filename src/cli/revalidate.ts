// `musefs revalidate <targets> --db PATH [--prune]` (also the deprecated
// `scan --revalidate`): refresh changed tracks structural-only and print
// `revalidated <target>: <U> updated, <C> unchanged, <P> pruned, <F> failed
// in <duration>` per target. Exit 2 when any file failed.

import { ProbeAborted, revalidateTarget } from "../scan/mod.ts";
import { openStore } from "../store/mod.ts";
import { EXIT_OK, EXIT_USAGE } from "./errors.ts";
import { humanDuration } from "./human.ts";
import type { Io } from "./io.ts";
import type { RevalidateOptions } from "./options.ts";
import { installInterrupt, interrupted, progressFor, reporterFor, testHooks } from "./scan_run.ts";

export async function runRevalidate(options: RevalidateOptions, io: Io): Promise<number> {
  // Unlike scan, revalidate never creates a store: there would be nothing to revalidate.
  const store = openStore(options.db, { mode: "rw", scanTuning: true });
  const interrupt = installInterrupt();
  const hooks = testHooks();
  let failed = false;
  try {
    for (const target of options.targets) {
      if (interrupt.signal.aborted) return interrupted(io, "revalidate");
      const progress = progressFor(options.quiet);
      let stats;
      try {
        stats = await revalidateTarget(store, {
          target,
          prune: options.prune,
          jobs: options.jobs,
          followSymlinks: options.followSymlinks,
          checksum: options.checksum,
          hooks,
          signal: interrupt.signal,
        }, reporterFor(progress));
      } finally {
        progress.finish();
      }
      if (stats.failed > 0) failed = true;
      if (!options.quiet) {
        io.out(
          `revalidated ${target}: ${stats.updated} updated, ${stats.unchanged} unchanged, ` +
            `${stats.pruned} pruned, ${stats.failed} failed in ${humanDuration(stats.durationMs)}`,
        );
      }
    }
  } catch (e) {
    if (e instanceof ProbeAborted) return interrupted(io, "revalidate");
    throw e;
  } finally {
    interrupt.dispose();
    store.close();
  }
  return failed ? EXIT_USAGE : EXIT_OK;
}
