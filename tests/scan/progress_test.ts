// The progress display: plain lines per 5% bucket, the terminal bar's line.

import assert from "node:assert/strict";
import { BarProgress, createProgress, LineProgress } from "../../src/cli/progress.ts";

Deno.test("plain progress: one line per 5% bucket crossed and one at 100%", () => {
  const out: string[] = [];
  const p = new LineProgress((t) => out.push(t));
  p.walked(40);
  for (const done of [1, 2, 3, 10, 11, 39]) p.committed(done, 40);
  p.committed(40, 40);
  p.finish();
  assert.deepEqual(out, [
    "ingested 2/40 (5%)\n",
    "ingested 10/40 (25%)\n",
    "ingested 39/40 (97%)\n",
    "ingested 40/40 (100%)\n",
  ]);
});

Deno.test("--quiet progress writes nothing", () => {
  const out: string[] = [];
  const p = createProgress({ quiet: true, tty: false, write: (t) => out.push(t) });
  p.walked(3);
  p.committed(3, 3, "/x/a.flac");
  p.finish();
  assert.deepEqual(out, []);
});

Deno.test("terminal bar: count, percent, rate, ETA and the current file; cleared at the end", () => {
  let now = 1_000_000;
  const out: string[] = [];
  const bar = new BarProgress((t) => out.push(t), () => now, () => 120);
  bar.discovered(5);
  assert.match(bar.line(), /^. discovering files… 5 found$/);
  bar.walked(200);
  now += 10_000;
  bar.committed(50, 200, "/music/Some Album/01 - Song.flac");
  const line = bar.line();
  assert.match(
    line,
    /^. \[00:00:10\] \[#######-----------------------\] 50\/200 \(25%\) 5\.0\/s ETA 30 seconds {2}01 - Song\.flac$/,
  );
  bar.finish();
  assert.equal(out.at(-1), "\r\x1b[2K");
  assert.ok(out.every((t) => t.startsWith("\r\x1b[2K")));
});

Deno.test("progress before the total is known: count and rate, no percent or ETA", () => {
  let now = 1_000_000;
  const out: string[] = [];
  const bar = new BarProgress((t) => out.push(t), () => now, () => 120);
  bar.discovered(700);
  now += 10_000;
  // Scan probes while it walks: commits arrive before walked().
  bar.committed(300, null, "/music/A/02 - Other.flac");
  assert.match(bar.line(), /^. \[00:00:10\] 300 done, 700 found 30\/s {2}02 - Other\.flac$/);
  bar.walked(1000);
  bar.committed(500, 1000, "/music/A/03 - Third.flac");
  assert.match(bar.line(), /500\/1000 \(50%\) 50\/s ETA 10 seconds {2}03 - Third\.flac$/);
  bar.finish();

  const lines: string[] = [];
  const plain = new LineProgress((t) => lines.push(t));
  plain.committed(30, null);
  assert.deepEqual(lines, [], "no percentage without a total");
  plain.walked(40);
  plain.committed(35, 40);
  plain.committed(40, 40);
  plain.finish();
  assert.deepEqual(lines, ["ingested 35/40 (87%)\n", "ingested 40/40 (100%)\n"]);
});
