// The README's quick start, run as written: the set-up block's musefs command,
// and the whole "Try it on the fixture library" block (fixtures, scan, dry
// run, mount, an SQL edit the mount follows, unmount). Paths under /tmp are
// moved into a private temp folder; nothing else in the commands changes.

import assert from "node:assert/strict";
import { join } from "node:path";
import { FIXTURE_NAMES } from "../fixtures/fixtures.ts";
import { codeBlocks, read, ROOT } from "./markdown.ts";

const readme = read("README.md");

function sectionBlocks(heading: string): string[] {
  const start = readme.indexOf(`\n${heading}\n`);
  assert.ok(start >= 0, `README has a "${heading}" section`);
  const rest = readme.slice(start + heading.length + 2);
  const end = rest.search(/\n#{2,3} /);
  return codeBlocks(end >= 0 ? rest.slice(0, end) : rest).map((b) => b.code);
}

async function bash(script: string, cwd: string): Promise<{ code: number; out: string }> {
  // Output goes to a file, not a pipe: a command the script leaves running in the background
  // (the mount, when a later line fails) would hold a pipe open and hang the test.
  const log = await Deno.makeTempFile({ prefix: "musefs-readme-log-" });
  try {
    const r = await new Deno.Command("bash", {
      args: ["-euo", "pipefail", "-c", `exec >'${log}' 2>&1\n${script}`],
      cwd,
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).output();
    return { code: r.code, out: await Deno.readTextFile(log) };
  } finally {
    await Deno.remove(log);
  }
}

const canMount = Deno.uid() === 0 && (() => {
  try {
    Deno.statSync("/dev/fuse");
    return true;
  } catch {
    return false;
  }
})();

Deno.test("README quick start: the set-up block runs musefs", async () => {
  const [setup] = sectionBlocks("## Quick start (from source)");
  const commands = setup.split("\n").map((l) => l.replace(/\s+#.*$/, "").trim()).filter(Boolean);
  assert.deepEqual(commands, ["npm ci", "npx deno task musefs --help", "npx deno task test"]);
  // npm ci has run (this test runs under it); the test command is this very suite.
  const r = await bash(commands[1], ROOT);
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /Usage: musefs/);
});

Deno.test({
  name: "README quick start: the fixture library block works as written",
  ignore: !canMount,
  async fn() {
    const [block] = sectionBlocks("### Try it on the fixture library");
    const tmp = await Deno.makeTempDir({ prefix: "musefs-readme-" });
    const script = block.replaceAll("/tmp/", `${tmp}/`);
    const mnt = join(tmp, "mnt");
    try {
      const r = await bash(script, ROOT);
      assert.equal(r.code, 0, r.out);
      const n = FIXTURE_NAMES.length;
      assert.match(r.out, new RegExp(`scanned .*: ${n} file\\(s\\)`));
      assert.match(r.out, new RegExp(`dry run: ${n} files across 2 directories`));
      assert.match(
        r.out,
        /Renamed\.(flac|mp3|m4a|m4b|ogg|oga|opus|wav)/,
        "the mount followed the SQL edit",
      );
      // `umount` ended the mount and musefs exited on its own.
      const mounts = await Deno.readTextFile("/proc/self/mounts");
      assert.ok(!mounts.includes(mnt), "nothing left mounted");
    } finally {
      const mounts = await Deno.readTextFile("/proc/self/mounts");
      if (mounts.includes(mnt)) await bash(`umount -l '${mnt}'`, ROOT);
      await Deno.remove(tmp, { recursive: true });
    }
  },
});
