// Every metric name has one owner: the server and the library never report
// the same name, and the exposition refuses a name reported twice instead
// of dropping one of the values.

import assert from "node:assert/strict";
import { openLibrary } from "../../src/core/library.ts";
import { DuplicateMetricError, renderMetrics } from "../../src/fuse/exposition.ts";
import { METRICS_FILE_INO, MetricsLibrary } from "../../src/fuse/metrics.ts";
import { serverSamples, ServerStats } from "../../src/fuse/stats.ts";
import { disposeStore, fixtureStore } from "../core/ingest.ts";

const dec = new TextDecoder();

Deno.test("metrics: a name reported twice is an error naming it, not a dropped sample", () => {
  assert.throws(
    () =>
      renderMetrics([
        { name: "musefs_x", help: "X.", type: "gauge", value: 1 },
        { name: "musefs_y_total", help: "Y.", type: "counter", value: 2 },
        { name: "musefs_x", help: "again", type: "gauge", value: 9 },
      ]),
    (e) =>
      e instanceof DuplicateMetricError && e.metric === "musefs_x" && /musefs_x/.test(e.message),
  );
});

Deno.test("metrics: the server and a real library report disjoint names, each once", async () => {
  const t = await fixtureStore(["flac", "mp3"]);
  using _ = { [Symbol.dispose]: () => disposeStore(t) };
  const lib = new MetricsLibrary(openLibrary(t.db, { pollIntervalMs: 0 }), new ServerStats());
  using _lib = { [Symbol.dispose]: () => lib.close() };
  const server = serverSamples(new ServerStats(), lib.counts()).map((s) => s.name);
  const core = lib.metrics().map((s) => s.name);
  assert.ok(server.length > 10 && core.length > 10, `${server.length} and ${core.length}`);
  assert.deepEqual(core.filter((n) => server.includes(n)), [], "names both report");
  assert.equal(new Set(core).size, core.length, "a name the library reports twice");
  // The file a mount serves renders them all (a clash would throw here).
  const h = lib.open(METRICS_FILE_INO, 0);
  const piece = lib.read(h.fh, METRICS_FILE_INO, 0, 1 << 20)[0];
  const text = piece.kind === "bytes" ? dec.decode(piece.bytes) : "";
  lib.release(h.fh);
  const names = [...text.matchAll(/^(musefs_\w+) /gm)].map((m) => m[1]);
  assert.deepEqual(names, [...server, ...core]);
  for (
    const owned of [
      "musefs_handles_open",
      "musefs_dir_handles",
      "musefs_dir_handles_max",
      "musefs_read_errors_total",
      "musefs_refresh_generation",
      "musefs_tree_nodes",
    ]
  ) {
    assert.equal(names.filter((n) => n === owned).length, 1, owned);
  }
});
