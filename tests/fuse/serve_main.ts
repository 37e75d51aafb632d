// A mount process for the FUSE tests: serves a directory through the real
// server. Usage: serve_main.ts MOUNTPOINT SOURCE_DIR [JSON options].
// Prints `READY {json}` once INIT is answered and `EXIT {json}` at the end;
// log lines go to stderr.

import { mountAndServe } from "../../src/fuse/server.ts";
import { DirLibrary, type DirLibraryOptions } from "./dir_library.ts";

interface FixtureOptions extends DirLibraryOptions {
  exposeMetrics?: boolean;
  forceFusermount?: boolean;
  allowOther?: boolean;
  workers?: number;
  graceMs?: number;
  attrTtlMs?: number;
}

const [mountpoint, source, json] = Deno.args;
const opts: FixtureOptions = json ? JSON.parse(json) : {};
const library = new DirLibrary(source, opts);
const line = (s: string) => console.error(`[serve] ${s}`);
const log = { error: line, warn: line, info: line, debug: () => {} };
try {
  const result = await mountAndServe(library, {
    mountpoint,
    allowOther: opts.allowOther ?? true,
    forceFusermount: opts.forceFusermount,
    passthrough: opts.passthrough,
    exposeMetrics: opts.exposeMetrics,
    pollIntervalMs: opts.pollIntervalMs ?? 200,
    workers: opts.workers,
    graceMs: opts.graceMs,
    attrTtlMs: opts.attrTtlMs,
    log,
    onReady: (info) => console.log(`READY ${JSON.stringify(info)}`),
  });
  console.log(`EXIT ${JSON.stringify(result)}`);
} catch (e) {
  console.error(`musefs: ${(e as Error).message}`);
  Deno.exit(1);
} finally {
  library.close();
}
