// The probe Worker the pool starts (probe_serve.ts does the work).

/// <reference lib="deno.worker" />

import { serveProbes } from "./probe_serve.ts";

serveProbes();
