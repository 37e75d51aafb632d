// Run every benchmark in bench/, one after another, each in its own process
// (so one's memory and caches do not colour the next). Pass names to run a
// subset: `npx deno task bench format core`; arguments after `--` go to each
// benchmark run: `npx deno task bench media-scan -- --tracks 200000 --reps 1`.

import { DENO_FLAGS } from "../src/cli/deno_flags.ts";

const BENCHES: { name: string; file: string; flags: string[] }[] = [
  { name: "format", file: "bench/format_bench.ts", flags: [] },
  { name: "core", file: "bench/core_bench.ts", flags: ["--v8-flags=--expose-gc"] },
  { name: "scan", file: "bench/scan_bench.ts", flags: [] },
  { name: "fuse", file: "bench/fuse_bench.ts", flags: [] },
  { name: "memory", file: "bench/memory_bench.ts", flags: [] },
  { name: "media-scan", file: "bench/media_scan_bench.ts", flags: [] },
];

if (import.meta.main) {
  const dash = Deno.args.indexOf("--");
  const names = dash < 0 ? Deno.args : Deno.args.slice(0, dash);
  const passed = dash < 0 ? [] : Deno.args.slice(dash + 1);
  const want = names.length ? new Set(names) : null;
  let failed = 0;
  for (const b of BENCHES) {
    if (want && !want.has(b.name)) continue;
    try {
      Deno.statSync(b.file);
    } catch {
      console.log(`\n== ${b.name}: ${b.file} not present, skipped`);
      continue;
    }
    console.log(`\n== ${b.name} (${b.file})`);
    const { code } = await new Deno.Command(Deno.execPath(), {
      args: ["run", ...DENO_FLAGS, ...b.flags, b.file, ...passed],
      stdout: "inherit",
      stderr: "inherit",
    }).output();
    if (code !== 0) {
      console.log(`== ${b.name} failed (exit ${code})`);
      failed++;
    }
  }
  Deno.exit(failed ? 1 : 0);
}
