// The background handshake of the mount(8) form with real child processes:
// ready → 0 at once; an error exit → its status and its message; silence →
// stopped after the timeout with a message, never a hang. And the command
// line that re-runs musefs uses the shipped Deno flags.

import assert from "node:assert/strict";
import { DAEMON_ENV, READY_LINE, runInBackground, selfCommand } from "../../src/cli/daemon.ts";
import { DENO_FLAGS } from "../../src/cli/deno_flags.ts";
import type { Io } from "../../src/cli/io.ts";

function capture(): Io & { lines: string[] } {
  const lines: string[] = [];
  return { lines, out: (l) => lines.push(l), err: (l) => lines.push(l) };
}

const sh = (script: string) => ({ program: "/bin/sh", args: ["-c", script] });

Deno.test("daemon: ready line → exit 0 while the copy keeps running; its earlier log is passed on", async () => {
  const io = capture();
  const marker = `${Deno.makeTempDirSync()}/alive`;
  const started = Date.now();
  const code = await runInBackground([], io, {
    command: sh(
      `echo "warning: before ready" >&2; [ "$${DAEMON_ENV}" = 1 ] || exit 9; ` +
        `echo ${READY_LINE}; exec >/dev/null 2>&1; sleep 1; touch ${marker}`,
    ),
  });
  assert.equal(code, 0);
  assert.ok(Date.now() - started < 1000, "returned before the copy ended");
  assert.deepEqual(io.lines, ["warning: before ready"]);
  // The copy outlives the handshake.
  for (let i = 0; i < 50 && !exists(marker); i++) await new Promise((r) => setTimeout(r, 100));
  assert.ok(exists(marker), "the background copy went on running");
});

Deno.test("daemon: a failing copy → its exit status and message", async () => {
  const io = capture();
  const code = await runInBackground([], io, {
    command: sh(`echo "musefs: refusing to mount over the music library" >&2; exit 1`),
  });
  assert.equal(code, 1);
  assert.deepEqual(io.lines, ["musefs: refusing to mount over the music library"]);
});

Deno.test("daemon: a copy that exits 0 without ready still fails", async () => {
  const io = capture();
  assert.equal(await runInBackground([], io, { command: sh("exit 0") }), 1);
  assert.match(io.lines.join("\n"), /ended before it was ready/);
});

Deno.test("daemon: a silent copy is stopped after the timeout, with a message", async () => {
  const io = capture();
  const started = Date.now();
  // Ignores SIGTERM: the SIGKILL fallback must end it.
  const code = await runInBackground([], io, {
    timeoutMs: 300,
    command: sh("trap '' TERM; exec sleep 30"),
  });
  assert.equal(code, 1);
  assert.ok(Date.now() - started < 10_000, "bounded");
  assert.match(io.lines.join("\n"), /did not become ready within 0\.3 s/);
});

Deno.test("daemon: re-running musefs uses the shipped Deno flags and main.ts", () => {
  const self = selfCommand(["mount", "--db", "/x.db", "/mnt"]);
  assert.equal(self.program, Deno.execPath());
  if (Deno.build.standalone) {
    assert.deepEqual(self.args, ["mount", "--db", "/x.db", "/mnt"]);
  } else {
    assert.deepEqual(self.args.slice(0, 1 + DENO_FLAGS.length), ["run", ...DENO_FLAGS]);
    assert.deepEqual(self.args.slice(-4), ["mount", "--db", "/x.db", "/mnt"]);
  }
});

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}
