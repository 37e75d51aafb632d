// The limiter for "cannot serve" warnings, on a fake clock: each path named
// once per interval, at most `limit` paths per window, and one line counting
// what the cap held back when the window ends or the mount stops.

import assert from "node:assert/strict";
import { BackingWarnings } from "../../src/fuse/backing_warn.ts";

function recorder() {
  const lines: string[] = [];
  return {
    lines,
    log: {
      error: (m: string) => lines.push(`E ${m}`),
      warn: (m: string) => lines.push(`W ${m}`),
      info: (m: string) => lines.push(`I ${m}`),
      debug: (m: string) => lines.push(`D ${m}`),
    },
  };
}

Deno.test("backing warnings: one per path per interval, repeats at debug", () => {
  const { lines, log } = recorder();
  let now = 0;
  const w = new BackingWarnings(log, {
    perPathMs: 1000,
    limit: 10,
    windowMs: 1000,
    now: () => now,
  });
  w.warn("/a", "a1");
  w.warn("/a", "a2");
  w.warn("/b", "b1");
  now = 999;
  w.warn("/a", "a3");
  now = 1000;
  w.warn("/a", "a4");
  w.flush();
  assert.deepEqual(lines, ["W a1", "D a2", "W b1", "D a3", "W a4"]);
});

Deno.test("backing warnings: a walk over many broken files logs limit + 1 lines", () => {
  const { lines, log } = recorder();
  let now = 0;
  const w = new BackingWarnings(log, {
    perPathMs: 60_000,
    limit: 3,
    windowMs: 60_000,
    now: () => now,
  });
  for (let round = 0; round < 2; round++) {
    for (let i = 0; i < 100; i++) w.warn(`/f${i}`, `cannot serve /f${i}`);
  }
  const warns = lines.filter((l) => l.startsWith("W "));
  assert.deepEqual(warns, ["W cannot serve /f0", "W cannot serve /f1", "W cannot serve /f2"]);
  // Round 1: 97 over the cap; round 2: 3 repeats (debug) and 97 over the cap.
  now = 30_000;
  w.flush(); // the mount stops
  assert.equal(
    lines.at(-1),
    "W 194 more file(s) that cannot be served: warnings suppressed (at most 3 per 60 s; -vv shows each)",
  );
  assert.equal(lines.filter((l) => l.startsWith("D ")).length, 200 - 3);
  w.flush();
  assert.equal(lines.filter((l) => l.startsWith("W ")).length, 4, "nothing more to report");
});

Deno.test("backing warnings: a new window names new paths and reports the old count first", () => {
  const { lines, log } = recorder();
  let now = 0;
  const w = new BackingWarnings(log, { perPathMs: 500, limit: 1, windowMs: 1000, now: () => now });
  w.warn("/a", "a");
  w.warn("/b", "b");
  w.warn("/c", "c");
  now = 1000;
  w.warn("/b", "b again");
  w.flush();
  assert.deepEqual(lines.filter((l) => l.startsWith("W ")), [
    "W a",
    "W 2 more file(s) that cannot be served: warnings suppressed (at most 1 per 1 s; -vv shows each)",
    "W b again",
  ]);
});

Deno.test("backing warnings: the count is reported when the window ends, without more warnings", async () => {
  const { lines, log } = recorder();
  const w = new BackingWarnings(log, { perPathMs: 50, limit: 1, windowMs: 50 });
  w.warn("/a", "a");
  w.warn("/b", "b");
  await new Promise((r) => setTimeout(r, 120));
  assert.deepEqual(lines.filter((l) => l.startsWith("W ")), [
    "W a",
    "W 1 more file(s) that cannot be served: warnings suppressed (at most 1 per 50 ms; -vv shows each)",
  ]);
  w.flush();
});
