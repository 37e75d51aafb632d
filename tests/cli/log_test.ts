// The logger: -v counts, MUSEFS_LOG/RUST_LOG override, line format, sinks.

import assert from "node:assert/strict";
import {
  configureLogging,
  createLogger,
  levelFromVerbosity,
  logLevel,
  parseLevelSpec,
  setLogSink,
} from "../../src/cli/log.ts";

Deno.test("-v counts map to levels as env_logger's did", () => {
  assert.equal(levelFromVerbosity(0), "warn");
  assert.equal(levelFromVerbosity(1), "info");
  assert.equal(levelFromVerbosity(2), "debug");
  assert.equal(levelFromVerbosity(3), "trace");
  assert.equal(levelFromVerbosity(9), "trace");
});

Deno.test("level specs: plain, per-target (most verbose wins), junk ignored", () => {
  assert.equal(parseLevelSpec("debug"), "debug");
  assert.equal(parseLevelSpec("INFO"), "info");
  assert.equal(parseLevelSpec("musefs=trace,hyper=warn"), "trace");
  assert.equal(parseLevelSpec("off"), "off");
  assert.equal(parseLevelSpec("nonsense"), undefined);
});

Deno.test("MUSEFS_LOG beats RUST_LOG beats -v; lines carry level and target", () => {
  const env = (vars: Record<string, string>) => (name: string) => vars[name];
  assert.equal(configureLogging(2, env({})), "debug");
  assert.equal(configureLogging(0, env({ RUST_LOG: "info" })), "info");
  assert.equal(configureLogging(3, env({ RUST_LOG: "info", MUSEFS_LOG: "error" })), "error");
  const lines: string[] = [];
  const previous = setLogSink((l) => lines.push(l));
  try {
    configureLogging(1, env({}));
    assert.equal(logLevel(), "info");
    const log = createLogger("musefs::scan");
    log.debug("hidden");
    log.info("shown");
    log.warn("also shown");
    assert.equal(log.enabled("debug"), false);
    assert.equal(log.enabled("info"), true);
    assert.equal(lines.length, 2);
    assert.match(lines[0], /^\[\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ INFO {2}musefs::scan\] shown$/);
    assert.match(lines[1], /^\[\S+ WARN {2}musefs::scan\] also shown$/);
  } finally {
    setLogSink(previous);
    configureLogging(0, () => undefined);
  }
});
