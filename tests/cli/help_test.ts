// --version and --help, run as a user would. The expected flags and
// environment variables are written out here from docs/cli.md (not read from the
// CLI's own tables), so a flag missing from the help or renamed fails.

import assert from "node:assert/strict";
import denoJson from "../../deno.json" with { type: "json" };
import { musefs, musefsAll } from "./run_musefs.ts";

type Expected = ReadonlyArray<readonly [flag: string, env: string | null, def?: string]>;

const SCAN: Expected = [
  ["--db", "MUSEFS_DB"],
  ["--revalidate", "MUSEFS_REVALIDATE", "false"],
  ["--force", "MUSEFS_FORCE", "false"],
  ["--jobs", "MUSEFS_JOBS", "0"],
  ["--follow-symlinks", "MUSEFS_FOLLOW_SYMLINKS", "false"],
  ["--quiet", "MUSEFS_QUIET", "false"],
  ["--checksum", "MUSEFS_CHECKSUM", "fingerprint"],
  ["--fast", "MUSEFS_FAST", "false"],
  ["--strict", "MUSEFS_STRICT", "false"],
  ["--verbose", null],
];

const REVALIDATE: Expected = [
  ["--db", "MUSEFS_DB"],
  ["--prune", "MUSEFS_PRUNE", "false"],
  ["--jobs", "MUSEFS_JOBS", "0"],
  ["--follow-symlinks", "MUSEFS_FOLLOW_SYMLINKS", "false"],
  ["--quiet", "MUSEFS_QUIET", "false"],
  ["--checksum", "MUSEFS_CHECKSUM", "fingerprint"],
  ["--verbose", null],
];

const MOUNT: Expected = [
  ["--db", "MUSEFS_DB"],
  ["--template", "MUSEFS_TEMPLATE", "$albumartist/$album/$title"],
  ["--default-fallback", "MUSEFS_DEFAULT_FALLBACK", "Unknown"],
  ["--fallback", null],
  ["--skip-on-missing", "MUSEFS_SKIP_ON_MISSING", "false"],
  ["--mode", "MUSEFS_MODE", "synthesis"],
  ["--extensions", "MUSEFS_EXTENSIONS", "served"],
  ["--poll-interval-ms", "MUSEFS_POLL_INTERVAL_MS", "1000"],
  ["--attr-ttl-ms", "MUSEFS_ATTR_TTL_MS", "1000"],
  ["--max-readahead-kib", "MUSEFS_MAX_READAHEAD_KIB", "512"],
  ["--read-ahead-budget-mib", "MUSEFS_READ_AHEAD_BUDGET_MIB", "32"],
  ["--max-background", "MUSEFS_MAX_BACKGROUND", "64"],
  ["--workers", "MUSEFS_WORKERS", "0"],
  ["--keep-cache", "MUSEFS_KEEP_CACHE", "true"],
  ["--case-insensitive", "MUSEFS_CASE_INSENSITIVE"],
  ["--owner", "MUSEFS_OWNER"],
  ["--group", "MUSEFS_GROUP"],
  ["--file-mode", "MUSEFS_FILE_MODE", "444"],
  ["--dir-mode", "MUSEFS_DIR_MODE", "555"],
  ["--allow-other", "MUSEFS_ALLOW_OTHER", "false"],
  ["--expose-metrics", "MUSEFS_EXPOSE_METRICS", "false"],
  ["--dry-run", null, "false"],
];

const VACUUM: Expected = [["--db", "MUSEFS_DB"], ["--verbose", null]];

/** The help entry of `flag`: its head line and the indented lines under it. */
function entry(help: string, flag: string): string {
  const lines = help.split("\n");
  const start = lines.findIndex((l) => new RegExp(`^  (-\\w, |    )${flag}( |$)`).test(l));
  assert.ok(start >= 0, `${flag} is not listed in:\n${help}`);
  let end = start + 1;
  while (end < lines.length && lines[end].startsWith("          ")) end++;
  return lines.slice(start, end).join("\n");
}

function assertListed(help: string, expected: Expected) {
  for (const [flag, env, def] of expected) {
    const text = entry(help, flag);
    assert.ok(text.includes(env ? `[env: ${env}]` : "[env: none]"), `${flag} env in:\n${text}`);
    if (def !== undefined) {
      assert.ok(text.includes(`[default: ${def}]`), `${flag} default:\n${text}`);
    }
  }
}

Deno.test("--version and -V print `musefs <version from deno.json>`, also after a command", async () => {
  const runs = await musefsAll([
    { args: ["--version"] },
    { args: ["-V"] },
    { args: ["scan", "--version"] },
    { args: ["mount", "-V"] },
  ]);
  for (const r of runs) {
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `musefs ${denoJson.version}\n`);
  }
});

Deno.test("each command's --help lists every flag with its env var and default", async () => {
  const cases: Array<[string, Expected]> = [
    ["scan", SCAN],
    ["revalidate", REVALIDATE],
    ["mount", MOUNT],
    ["vacuum", VACUUM],
  ];
  const runs = await musefsAll(cases.map(([name]) => ({ args: [name, "--help"] })));
  runs.forEach((r, i) => {
    assert.equal(r.code, 0, r.stderr);
    assertListed(r.stdout, cases[i][1]);
    assert.ok(r.stdout.includes("-h, --help") && r.stdout.includes("-V, --version"));
  });
  // Flags of other commands are not offered where they do not apply.
  assert.doesNotMatch(runs[0].stdout, /^ {6}--prune/m);
  assert.doesNotMatch(runs[1].stdout, /^ {6}--force/m);
  assert.match(entry(runs[0].stdout, "--quiet"), /^ {2}-q, --quiet/);
  assert.match(runs[2].stdout, /<MOUNTPOINT>[\s\S]*\[env: MUSEFS_MOUNTPOINT\]/);
});

Deno.test("root --help lists the commands, the global flags and the bare-form mount flags", async () => {
  const [long, short, viaHelp, bare] = await musefsAll([
    { args: ["--help"] },
    { args: ["-h"] },
    { args: ["help"] },
    { args: ["--db", "x.db", "--help"] },
  ]);
  for (const r of [long, short, viaHelp, bare]) {
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, long.stdout);
  }
  for (const command of ["scan", "revalidate", "mount", "vacuum"]) {
    assert.match(long.stdout, new RegExp(`^  ${command} `, "m"));
  }
  assertListed(long.stdout, [...MOUNT, ["--verbose", null]]);
  const scanHelp = await musefs(["help", "scan"]);
  assert.equal(scanHelp.code, 0);
  assertListed(scanHelp.stdout, SCAN);
});

Deno.test("no arguments at all: help on stderr, exit 2", async () => {
  const r = await musefs([]);
  assert.equal(r.code, 2);
  assert.equal(r.stdout, "");
  assert.match(r.stderr, /Usage: musefs/);
});
