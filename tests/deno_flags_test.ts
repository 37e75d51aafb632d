// One source of truth for how musefs runs: the Deno flags in
// src/cli/deno_flags.ts. The `musefs` task, build.ts's compile plan, the test
// helper that starts musefs processes, and the test and bench tasks (which run
// musefs code in-process) all use exactly that list, and no file under tests/
// or bench/ spells out permission flags of its own.

import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ARCHES, compilePlan } from "../build.ts";
import { DENO_FLAGS } from "../src/cli/deno_flags.ts";
import { denoRunArgs, MAIN, musefsCommand, taskDenoFlags } from "./cli/run_musefs.ts";
import { scratchDir } from "./scratch.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));

/** Flags that grant or deny permissions. */
function permissionFlags(args: readonly string[]): string[] {
  return args.filter((a) => /^(-A|--(allow|deny)-.*)$/.test(a));
}

Deno.test("the musefs task runs main.ts with exactly the shipped flags", () => {
  assert.deepEqual(taskDenoFlags("musefs", "main.ts"), [...DENO_FLAGS]);
});

Deno.test("deno compile gets exactly the shipped flags", () => {
  for (const step of compilePlan(ARCHES)) {
    const at = step.args.indexOf(DENO_FLAGS[0]);
    assert.ok(at > 0, `${step.target}: ${step.args.join(" ")}`);
    assert.deepEqual(step.args.slice(at, at + DENO_FLAGS.length), [...DENO_FLAGS]);
    assert.deepEqual(permissionFlags(step.args), permissionFlags(DENO_FLAGS));
    assert.equal(step.args.at(-1), "main.ts");
  }
});

Deno.test("tests start musefs with exactly the shipped flags", () => {
  assert.deepEqual(musefsCommand(["vacuum", "--db", "x.db"]), [
    Deno.execPath(),
    "run",
    ...DENO_FLAGS,
    MAIN,
    "vacuum",
    "--db",
    "x.db",
  ]);
  assert.deepEqual(denoRunArgs("serve.ts", ["a"]), ["run", ...DENO_FLAGS, "serve.ts", "a"]);
});

Deno.test("the test and bench tasks run musefs code in-process with the shipped flags", () => {
  assert.deepEqual(taskDenoFlags("test", "tests/").filter((f) => f !== "--no-check=remote"), [
    ...DENO_FLAGS,
  ]);
  assert.deepEqual(taskDenoFlags("bench", "bench/run.ts"), [...DENO_FLAGS]);
});

Deno.test("no test or benchmark spells out its own permission flags", async () => {
  // Built from pieces so this file does not match itself.
  const kinds = "(read|write|net|env|sys|run|ffi|import|all)";
  const literal = new RegExp(`["'\`](-A|--(allow|deny)-${kinds}(=[^"'\`]*)?)["'\`]`);
  const offenders: string[] = [];
  const walk = async (dir: string) => {
    for await (const e of Deno.readDir(dir)) {
      const path = join(dir, e.name);
      if (e.isDirectory && e.name !== ".cache") await walk(path);
      else if (e.isFile && e.name.endsWith(".ts")) {
        const lines = (await Deno.readTextFile(path)).split("\n");
        lines.forEach((l, i) => {
          if (literal.test(l)) offenders.push(`${path.slice(ROOT.length)}:${i + 1}: ${l.trim()}`);
        });
      }
    }
  };
  await walk(join(ROOT, "tests"));
  await walk(join(ROOT, "bench"));
  assert.deepEqual(offenders, [], "use musefsCommand/denoRunArgs (tests/cli/run_musefs.ts)");
});

// Why the list is --allow-all (docs/permissions.md): under the narrower list
// musefs shipped before, Deno refuses /proc (passthrough's capability check,
// the RSS metric), /sys (read_ahead_kb) and SQLite ATTACH (VACUUM). When a
// Deno upgrade lifts these limits, this test fails: revisit the list and
// the page.
Deno.test("Deno grants /proc, /sys and VACUUM only under the shipped flags", async () => {
  using tmp = scratchDir("musefs-flags-");
  const dir = tmp.path;
  const probe = join(dir, "probe.ts");
  await Deno.writeTextFile(
    probe,
    `import { DatabaseSync } from "node:sqlite";
    const attempt = (f: () => unknown) => { try { f(); return "ok"; } catch (e) { return String(e); } };
    console.log(JSON.stringify({
      proc: attempt(() => Deno.readTextFileSync("/proc/self/status")),
      sys: attempt(() => Deno.readDirSync("/sys").next()),
      vacuum: attempt(() => {
        const db = new DatabaseSync(${JSON.stringify(join(dir, "v.db"))});
        db.exec("CREATE TABLE IF NOT EXISTS t (x)");
        db.exec("VACUUM");
        db.close();
      }),
    }));`,
  );
  const run = async (flags: readonly string[]) => {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", ...flags, probe],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    return JSON.parse(new TextDecoder().decode(out.stdout));
  };
  const narrow = await run(
    ["read", "write", "env", "ffi", "run", "sys"].map((p) => `--allow-${p}`),
  );
  assert.match(narrow.proc, /all access/);
  assert.match(narrow.sys, /all access/);
  assert.match(narrow.vacuum, /too many attached databases - max 0/);
  assert.deepEqual(await run(DENO_FLAGS), { proc: "ok", sys: "ok", vacuum: "ok" });
});
