// The CLI as main.ts runs it, with probe Workers that inject the faults the
// test asks for (hooked_probe_worker.ts). Only tests/scan/helpers.ts starts
// it, when a test passes MUSEFS_TEST_PROBE_* variables: the shipped program
// has no such hooks.

import { runCli } from "../../src/cli/mod.ts";
import { setProbeWorkerModule } from "../../src/scan/pool.ts";

setProbeWorkerModule(new URL("./hooked_probe_worker.ts", import.meta.url).href);
Deno.exit(await runCli(Deno.args));
