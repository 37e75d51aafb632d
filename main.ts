// musefs: a read-only FUSE view of a music library. Everything lives in src/cli.
import { runCli } from "./src/cli/mod.ts";

Deno.exit(await runCli(Deno.args));
