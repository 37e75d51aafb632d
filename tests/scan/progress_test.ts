// The progress display: plain lines per 5% bucket and a heartbeat while the
// walk runs; the terminal bar's line, naming files relative to the target.

import assert from "node:assert/strict";
import { DENO_FLAGS } from "../../src/cli/deno_flags.ts";
import { BarProgress, createProgress, displayPath, LineProgress } from "../../src/cli/progress.ts";
import { copyFixtures, HOOKED_MAIN } from "./helpers.ts";
import { scratchDir } from "../scratch.ts";

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

Deno.test("terminal bar: the current file relative to the scan target", () => {
  let now = 1_000_000;
  const out: string[] = [];
  const bar = createProgress({
    quiet: false,
    tty: true,
    write: (t) => out.push(t),
    now: () => now,
    columns: () => 200,
    root: "/music",
  }) as BarProgress;
  bar.walked(3);
  now += 1000;
  bar.committed(1, 3, "/music/Some Album/CD 1/01 - Song.flac");
  assert.match(bar.line(), / {2}Some Album\/CD 1\/01 - Song\.flac$/);
  bar.committed(2, 3, "/elsewhere/linked.flac"); // a followed symlink out of the target
  assert.match(bar.line(), / {2}\/elsewhere\/linked\.flac$/);
  bar.finish();
  assert.equal(displayPath("/music/a.flac", "/music/a.flac"), "a.flac"); // the target is the file
  assert.equal(displayPath("/music/x/a.flac", "/"), "music/x/a.flac");
  assert.equal(displayPath("/music/x/a.flac", undefined), "a.flac");
});

Deno.test("plain progress: a status line after every silent interval, during and after the walk", () => {
  let now = 0;
  const out: string[] = [];
  const p = new LineProgress((t) => out.push(t), { now: () => now, intervalMs: 1000 });
  try {
    p.discovered(10);
    now = 500;
    p.tick();
    assert.deepEqual(out, [], "not before the interval");
    now = 1000;
    p.tick();
    p.discovered(25);
    p.committed(3, null);
    now = 1500;
    p.tick();
    now = 2000;
    p.tick();
    p.walked(40);
    p.committed(3, 40); // 7%: a bucket line, which restarts the interval
    now = 2500;
    p.tick();
    now = 3100;
    p.tick();
    p.committed(40, 40);
    now = 9000;
    p.tick();
  } finally {
    p.finish();
  }
  assert.deepEqual(out, [
    "discovering… 10 files found\n",
    "discovering… 25 files found, 3 done\n",
    "ingested 3/40 (7%)\n",
    "ingested 3/40 (7%)\n",
    "ingested 40/40 (100%)\n",
  ]);
});

Deno.test("plain progress: the heartbeat runs on its own timer", async () => {
  const out: string[] = [];
  const p = createProgress({
    quiet: false,
    tty: false,
    write: (t) => out.push(t),
    heartbeatMs: 20,
  });
  try {
    p.discovered(7);
    for (let i = 0; i < 100 && out.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
  } finally {
    p.finish();
  }
  assert.ok(out.length >= 2, `lines: ${JSON.stringify(out)}`);
  assert.ok(out.every((l) => l === "discovering… 7 files found\n"), JSON.stringify(out));
  const after = out.length;
  await new Promise((r) => setTimeout(r, 60));
  assert.equal(out.length, after, "finish() stops the heartbeat");
});

function hasScript(): boolean {
  try {
    return new Deno.Command("script", { args: ["--version"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

Deno.test({
  name: "scan on a terminal: the bar names the current file relative to the target",
  // `script` (util-linux) provides the pseudo-terminal.
  ignore: !hasScript(),
  fn: async () => {
    using tmp = scratchDir("musefs-scan-test-");
    const dir = tmp.path;
    const music = `${dir}/music`;
    // Four slow probes, one at a time: a batch commits (naming its last file) after 1 s open.
    await copyFixtures(`${music}/Album One`, ["flac", "opus", "mp3_v24", "wav"]);
    const cmd = [
      "stty cols 300 rows 40;",
      "exec",
      Deno.execPath(),
      "run",
      ...DENO_FLAGS,
      HOOKED_MAIN, // main.ts with slow probes (MUSEFS_TEST_PROBE_DELAY_MS)
      "scan",
      music,
      "--db",
      `${dir}/lib.db`,
      "--jobs",
      "1",
    ].map((w) => w.endsWith(";") ? w : `'${w}'`).join(" ");
    const out = await new Deno.Command("script", {
      args: ["-qec", cmd, "/dev/null"],
      env: { MUSEFS_TEST_PROBE_DELAY_MS: "700", TERM: "xterm" },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout);
    assert.equal(out.code, 0, text);
    assert.match(text, / {2}Album One\/(flac\.flac|opus\.opus|mp3_v24\.mp3|wav\.wav)/);
    assert.doesNotMatch(text, new RegExp(` {2}${dir}/music/Album One/`));
  },
});
