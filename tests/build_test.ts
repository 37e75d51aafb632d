// The compile plan of build.ts, checked without network: both Linux targets,
// version-stamped outputs in dist/, worker modules included, node_modules
// excluded, DENORT_BIN routed per target. Its Deno flags are checked against
// the shipped list in deno_flags_test.ts.

import assert from "node:assert/strict";
import denoJson from "../deno.json" with { type: "json" };
import { ARCHES, compilePlan, WORKER_MODULES } from "../build.ts";
import { taskDenoFlags } from "./cli/run_musefs.ts";

/** build.ts is tooling, not musefs: run it with the flags of the `build` task. */
const BUILD_FLAGS = taskDenoFlags("build", "build.ts");

Deno.test("compile plan: one step per Linux target with a versioned output", () => {
  const plan = compilePlan();
  assert.deepEqual(plan.map((s) => s.target), [
    "x86_64-unknown-linux-gnu",
    "aarch64-unknown-linux-gnu",
  ]);
  for (const step of plan) {
    assert.equal(step.output, `dist/musefs-${denoJson.version}-${step.arch}-linux`);
    assert.equal(step.args[0], "compile");
    const at = step.args.indexOf("--target");
    assert.equal(step.args[at + 1], step.target);
    assert.equal(step.args[step.args.indexOf("--output") + 1], step.output);
    assert.equal(step.args.at(-1), "main.ts");
  }
});

Deno.test("compile plan: includes and excludes", () => {
  for (const step of compilePlan(ARCHES)) {
    const exclude = step.args.indexOf("--exclude");
    assert.equal(step.args[exclude + 1], "node_modules");
    assert.ok(step.args.includes("--no-npm"));
    const included = step.args.flatMap((a, i) => a === "--include" ? [step.args[i + 1]] : []);
    // Every worker module that exists must be embedded (Workers load by URL).
    const present = WORKER_MODULES.filter((m) => {
      try {
        Deno.statSync(m);
        return true;
      } catch {
        return false;
      }
    });
    assert.deepEqual(included, present);
    assert.ok(present.length > 0, "the scan and FUSE worker modules exist");
  }
});

Deno.test("compile plan: DENORT_BIN per target, plain DENORT_BIN only for the host", () => {
  const host = Deno.build.arch === "aarch64" ? "aarch64" : "x86_64";
  const other = host === "x86_64" ? "aarch64" : "x86_64";
  const plain = compilePlan(ARCHES, { DENORT_BIN: "/opt/denort" });
  assert.equal(plain.find((s) => s.arch === host)!.denortBin, "/opt/denort");
  assert.equal(plain.find((s) => s.arch === other)!.denortBin, undefined);
  const per = compilePlan(ARCHES, {
    DENORT_BIN_X86_64: "/opt/x",
    DENORT_BIN_AARCH64: "/opt/a",
  });
  assert.deepEqual(per.map((s) => s.denortBin), ["/opt/x", "/opt/a"]);
  assert.deepEqual(compilePlan(["aarch64"]).map((s) => s.arch), ["aarch64"]);
});

Deno.test("build without a runtime says why in one line and exits 1", async () => {
  const env = { ...Deno.env.toObject() };
  delete env.DENORT_BIN;
  delete env.DENORT_BIN_X86_64;
  delete env.DENORT_BIN_AARCH64;
  // An unreachable proxy makes the runtime download impossible whatever the network.
  env.HTTPS_PROXY = "http://127.0.0.1:9";
  env.https_proxy = "http://127.0.0.1:9";
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...BUILD_FLAGS, "build.ts", "--target", "x86_64"],
    env,
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr).trim().split("\n").filter((l) =>
    l.startsWith("build:")
  );
  assert.equal(out.code, 1);
  assert.equal(stderr.length, 1);
  assert.match(stderr[0], /cannot compile for x86_64: .*denort.*DENORT_BIN/);
});

Deno.test("build rejects an unknown --target", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...BUILD_FLAGS, "build.ts", "--target", "riscv64"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 2);
  assert.match(new TextDecoder().decode(out.stderr), /--target must be x86_64 or aarch64/);
});
