// `musefs scan <targets> --db PATH`: ingest each target in turn
// and print `scanned <target>: <N> file(s), <A> already present, skipped
// <S>, failed <F> in <duration>` for each. Exit 2 when any file failed; a
// hard error (missing target, store failure) aborts, keeping earlier targets.

import { scanTarget } from "../scan/mod.ts";
import { openStore } from "../store/mod.ts";
import { humanDuration } from "./human.ts";
import type { Io } from "./io.ts";
import type { ScanOptions } from "./options.ts";
import { runTargets } from "./scan_run.ts";

export function runScan(options: ScanOptions, io: Io): Promise<number> {
  const store = openStore(options.db, { mode: "rw", create: true, scanTuning: true });
  return runTargets("scan", store, options.targets, options.quiet, io, async (target, ctx) => {
    const stats = await scanTarget(store, {
      target,
      force: options.force,
      jobs: options.jobs,
      followSymlinks: options.followSymlinks,
      checksum: options.checksum,
      strictness: options.strictness,
      signal: ctx.signal,
    }, ctx.reporter);
    return {
      failed: stats.failed,
      summary: `scanned ${target}: ${stats.scanned} file(s), ${stats.alreadyPresent} already ` +
        `present, skipped ${stats.skipped}, failed ${stats.failed} in ` +
        humanDuration(stats.durationMs),
    };
  });
}
