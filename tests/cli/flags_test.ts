// The flag engine on a small table of its own, in-process: token forms,
// precedence, repeated flags, positionals and the `--` terminator.

import assert from "node:assert/strict";
import {
  countFlag,
  envName,
  listFlag,
  optionalFlag,
  parseCommand,
  switchFlag,
  valueFlag,
} from "../../src/cli/flags.ts";
import { UsageError } from "../../src/cli/errors.ts";
import { isBoolish, parseBoolish, parseUnsigned } from "../../src/cli/values.ts";

const spec = {
  name: "demo",
  summary: "demo",
  positionals: [{ name: "FIRST", help: "", env: "MUSEFS_FIRST" }, {
    name: "REST",
    help: "",
    variadic: true,
  }],
  flags: {
    verbose: countFlag("verbose", "", { short: "v" }),
    quiet: switchFlag("quiet", "", { short: "q" }),
    jobs: valueFlag("jobs", "", {
      short: "j",
      parse: (r) => parseUnsigned(r, 16),
      default: () => 0,
    }),
    name: optionalFlag("name", "", { parse: (r) => r }),
    cache: valueFlag("cache", "", {
      parse: parseBoolish,
      default: () => true,
      optionalValue: { implicit: true, takesToken: isBoolish },
    }),
    tag: listFlag("tag", "", { parse: (r) => r.toUpperCase() }),
    secret: switchFlag("secret", "", { env: false }),
  },
};

const noEnv = () => undefined;
const envOf = (vars: Record<string, string>) => (n: string) => vars[n];

Deno.test("defaults when nothing is given", () => {
  const p = parseCommand(spec, [], noEnv);
  assert.deepEqual(p.flags, {
    verbose: 0,
    quiet: false,
    jobs: 0,
    name: undefined,
    cache: true,
    tag: [],
    secret: false,
  });
  assert.deepEqual(p.positionals, { FIRST: [], REST: [] });
  assert.equal(p.sources.jobs, "default");
});

Deno.test("token forms: --x v, --x=v, -j4, -j 4, clusters, repeats (last value wins)", () => {
  const p = parseCommand(
    spec,
    ["-vqv", "--jobs", "1", "--jobs=2", "-j3", "a", "--tag", "x", "--tag=y", "b", "c", "-j", "4"],
    noEnv,
  );
  assert.equal(p.flags.verbose, 2);
  assert.equal(p.flags.quiet, true);
  assert.equal(p.flags.jobs, 4);
  assert.deepEqual(p.flags.tag, ["X", "Y"]);
  assert.deepEqual(p.positionals, { FIRST: ["a"], REST: ["b", "c"] });
  assert.equal(p.sources.jobs, "flag");
});

Deno.test("`--` ends the flags; `-` alone is a positional", () => {
  const p = parseCommand(spec, ["-", "--", "--jobs", "-q"], noEnv);
  assert.deepEqual(p.positionals, { FIRST: ["-"], REST: ["--jobs", "-q"] });
  assert.equal(p.flags.quiet, false);
});

Deno.test("flag > env > default; switches read boolish env; env-less flags ignore env", () => {
  const env = envOf({
    MUSEFS_JOBS: "7",
    MUSEFS_QUIET: "yes",
    MUSEFS_SECRET: "1",
    MUSEFS_FIRST: "from-env",
    MUSEFS_TAG: "nope",
    MUSEFS_VERBOSE: "3",
  });
  const fromEnv = parseCommand(spec, [], env);
  assert.deepEqual(
    [fromEnv.flags.jobs, fromEnv.flags.quiet, fromEnv.flags.secret, fromEnv.flags.verbose],
    [7, true, false, 0],
  );
  assert.deepEqual(fromEnv.flags.tag, []);
  assert.deepEqual(fromEnv.positionals.FIRST, ["from-env"]);
  assert.equal(fromEnv.sources.jobs, "env");
  const fromFlags = parseCommand(spec, ["--jobs", "1", "given"], env);
  assert.equal(fromFlags.flags.jobs, 1);
  assert.deepEqual(fromFlags.positionals.FIRST, ["given"]);
  assert.equal(envName(spec.flags.jobs), "MUSEFS_JOBS");
  assert.equal(envName(spec.flags.secret), undefined);
  assert.equal(envName(spec.flags.tag), undefined);
});

Deno.test("optional values take the next token only when it parses", () => {
  assert.equal(parseCommand(spec, ["--cache", "off"], noEnv).flags.cache, false);
  const p = parseCommand(spec, ["--cache", "off-site"], envOf({ MUSEFS_CACHE: "0" }));
  assert.equal(p.flags.cache, true);
  assert.deepEqual(p.positionals.FIRST, ["off-site"]);
});

Deno.test("usage errors carry the command name", () => {
  for (
    const argv of [["--nope"], ["-z"], ["--quiet=1"], ["--jobs"], ["--jobs", "70000"], ["-j"]]
  ) {
    assert.throws(
      () => parseCommand(spec, argv, noEnv),
      (e) => e instanceof UsageError && e.command === "demo",
      argv.join(" "),
    );
  }
});
