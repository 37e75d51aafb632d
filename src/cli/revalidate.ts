// `musefs revalidate <targets> --db PATH [--prune]` (also the deprecated
// `scan --revalidate`): refresh changed tracks structural-only and print
// `revalidated <target>: <U> updated, <C> unchanged, <P> pruned, <F> failed
// in <duration>` per target. Exit 2 when any file failed.

import { revalidateTarget } from "../scan/mod.ts";
import { openStore } from "../store/mod.ts";
import { humanDuration } from "./human.ts";
import type { Io } from "./io.ts";
import type { RevalidateOptions } from "./options.ts";
import { runTargets } from "./scan_run.ts";

export function runRevalidate(options: RevalidateOptions, io: Io): Promise<number> {
  // Unlike scan, revalidate never creates a store: there would be nothing to revalidate.
  const store = openStore(options.db, { mode: "rw", scanTuning: true });
  return runTargets(
    "revalidate",
    store,
    options.targets,
    options.quiet,
    io,
    async (target, ctx) => {
      const stats = await revalidateTarget(store, {
        target,
        prune: options.prune,
        jobs: options.jobs,
        followSymlinks: options.followSymlinks,
        checksum: options.checksum,
        signal: ctx.signal,
      }, ctx.reporter);
      return {
        failed: stats.failed,
        summary: `revalidated ${target}: ${stats.updated} updated, ${stats.unchanged} unchanged, ` +
          `${stats.pruned} pruned, ${stats.failed} failed in ${humanDuration(stats.durationMs)}`,
      };
    },
  );
}
