// The README's two set-up commands ("Try it in two commands"), as written:
// - they are the first section of the README and exactly these two commands;
// - the demo command runs (after `npm ci`, which this test runs under) with
//   LANG and LC_ALL unset, up to mounting, listing and a clean exit — or, where
//   this machine cannot mount, to the dry run and what to install;
// - the test-suite command is the one the CI workflow runs (running it here
//   would recurse into this suite), and the README's apt line lists the
//   packages it installs.

import assert from "node:assert/strict";
import { codeBlocks, read, ROOT } from "./markdown.ts";
import { mountBlocker, treeLines } from "../../demo/demo.ts";
import { scratchDir } from "../scratch.ts";

const readme = read("README.md");
const HEADING = "## Try it in two commands";

/** Run `cmd args` in the repo root with exactly `env`; require exit 0; stdout + stderr. */
async function runOk(cmd: string, args: string[], env: Record<string, string>): Promise<string> {
  const r = await new Deno.Command(cmd, {
    args,
    cwd: ROOT,
    env,
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  const out = dec.decode(r.stdout) + dec.decode(r.stderr);
  assert.equal(r.code, 0, out);
  return out;
}

function setupCommands(): string[] {
  const start = readme.indexOf(`\n${HEADING}\n`);
  assert.ok(start >= 0, `README has a "${HEADING}" section`);
  const before = readme.slice(0, start);
  assert.ok(!/\n## /.test(before), `"${HEADING}" is the README's first section`);
  const rest = readme.slice(start + HEADING.length + 2);
  const [block] = codeBlocks(rest.slice(0, rest.search(/\n## /)));
  return block.code.split("\n").map((l) => l.replace(/\s+#.*$/, "").trim()).filter(Boolean);
}

const canMount = Deno.uid() === 0 &&
  new Deno.Command("sh", { args: ["-c", "test -c /dev/fuse"] }).outputSync().success;

Deno.test("README: the two set-up commands open the README", () => {
  assert.deepEqual(setupCommands(), ["npm ci && npx deno task demo", "bash .ci/run"]);
});

Deno.test("README: the test-suite command is what CI runs", () => {
  const [, suite] = setupCommands();
  const workflow = read(".github/workflows/ci.yml");
  const runs = [...workflow.matchAll(/^\s*(?:- )?run: (.+)$/gm)].map((m) => m[1].trim());
  assert.deepEqual(runs, [suite]);
});

Deno.test("README: the apt line lists what .ci/run installs", () => {
  const apt = /sudo apt-get install ([^\n]+)/.exec(readme);
  assert.ok(apt, "README has an apt-get install line");
  const listed = new Set(apt[1].trim().split(/\s+/));
  const script = read(".ci/run");
  const array = /^packages=\(([^)]*)\)/m.exec(script);
  assert.ok(array, ".ci/run has a packages=(…) list");
  // Installed only as dependencies of the others or for HTTPS: not worth a mention.
  const implicit = new Set(["python3", "ca-certificates"]);
  const installed = array[1].trim().split(/\s+/).filter((p) => !implicit.has(p));
  assert.deepEqual(installed.filter((p) => !listed.has(p)), []);
  assert.deepEqual([...listed].filter((p) => !installed.includes(p)), []);
});

Deno.test("README: the demo command runs as written, with LANG and LC_ALL unset", async () => {
  const [demo] = setupCommands();
  // npm ci has run: this suite runs from node_modules' Deno. Running it again would
  // replace node_modules under the running tests.
  assert.ok(demo.startsWith("npm ci && "), demo);
  const command = demo.slice("npm ci && ".length);
  const env: Record<string, string> = { DEMO_EXIT_AFTER_LISTING: "1", NO_COLOR: "1" };
  for (const name of ["PATH", "HOME", "DENO_DIR", "XDG_CACHE_HOME"]) {
    const value = Deno.env.get(name);
    if (value !== undefined) env[name] = value;
  }
  const out = await runOk("bash", ["-euo", "pipefail", "-c", command], env);
  assert.match(out, /scanned .*: 7 file\(s\).*failed 0/);
  const tmp = /musefs-demo-[\w]+/.exec(out)?.[0];
  assert.ok(tmp, out);
  if (canMount) {
    assert.match(out, /musefs mounted at .*: 7 files in 4 directories/);
    // The tree, with UTF-8 names although the locale is unset, and one file's tags.
    for (
      const line of [
        "The Oscillators/",
        "2024 - Test Tones/",
        "01 A440.flac",
        "03 Café Low E.m4a",
        "03 Lossless in Ogg.oga",
      ]
    ) assert.ok(out.includes(line), `${line} in\n${out}`);
    assert.match(out, /title = A440/);
    assert.match(out, /picture type 3 image\/jpeg \(64x64/);
    assert.match(out, /unmounted .*; musefs exited 0/);
    assert.ok(!(await Deno.readTextFile("/proc/self/mounts")).includes(tmp), "left mounted");
  } else {
    assert.match(out, /dry run: 7 files across 4 directories/);
    assert.match(out, /This machine cannot mount: /);
  }
  await assert.rejects(Deno.stat(`/tmp/${tmp}`), Deno.errors.NotFound, "temp folder removed");
});

/** setpriv's absolute path (the child's PATH will not have it), or "" when missing. */
const setpriv = new TextDecoder().decode(
  new Deno.Command("sh", { args: ["-c", "command -v setpriv || true"] }).outputSync().stdout,
).trim();

Deno.test({
  name: "demo: as a normal user without fusermount3 it shows the dry run and what to install",
  ignore: Deno.uid() !== 0 || setpriv === "",
  async fn() {
    // PATH holds only sh and test: no fusermount3. The user `nobody` cannot mount without it.
    using scratch = scratchDir("musefs-demo-nofuse-");
    const tmp = scratch.path;
    await Deno.chmod(tmp, 0o777);
    await Deno.symlink("/bin/sh", `${tmp}/sh`);
    const { tasks } = JSON.parse(read("deno.json"));
    const out = await runOk(
      setpriv,
      ["--reuid=65534", "--regid=65534", "--clear-groups", "/bin/sh", "-c", tasks.demo],
      { PATH: tmp, HOME: tmp, DENO_DIR: `${tmp}/deno`, TMPDIR: tmp, NO_COLOR: "1" },
    );
    assert.match(out, /dry run: 7 files across 4 directories/);
    assert.match(out, /01 A440\.flac/);
    assert.match(
      out,
      /cannot mount: mounting as a normal user needs fusermount3: `sudo apt-get install fuse3`/,
    );
    assert.doesNotMatch(out, /musefs mounted at/);
  },
});

Deno.test("demo: says what to install when it cannot mount", () => {
  assert.equal(mountBlocker(0, true, false), null);
  assert.equal(mountBlocker(1000, true, true), null);
  assert.match(mountBlocker(1000, true, false)!, /sudo apt-get install fuse3/);
  assert.match(mountBlocker(0, false, true)!, /\/dev\/fuse is missing.*modprobe fuse/);
});

Deno.test("demo: the sample library has one tagged file per format", () => {
  const lines = treeLines(`${ROOT}demo/library`);
  const exts = lines.map((l) => /\.(\w+) {2}\(/.exec(l)?.[1]).sort();
  assert.deepEqual(exts, ["flac", "m4a", "mp3", "oga", "ogg", "opus", "wav"]);
});
