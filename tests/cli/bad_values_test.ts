// Every typed flag rejects a bad value with a usage error (exit 2) whose
// message names the flag (and the environment variable when the value came
// from there). Unknown flags and flags of other commands are usage errors too.

import assert from "node:assert/strict";
import { musefsAll } from "./run_musefs.ts";

const SCAN = ["scan", "/music", "--db", "x.db"];
const REVALIDATE = ["revalidate", "/music", "--db", "x.db"];
const MOUNT = ["mount", "/mnt", "--db", "x.db"];

// [base command, extra args, flag named in the message, the rejected raw value or null]
const CASES: ReadonlyArray<readonly [string[], string[], string, string | null]> = [
  [SCAN, ["--jobs", "abc"], "--jobs", "abc"],
  [SCAN, ["--jobs", "-1"], "--jobs", "-1"],
  [SCAN, ["--jobs=1.5"], "--jobs", "1.5"],
  [SCAN, ["--jobs", "18446744073709551616"], "--jobs", "18446744073709551616"],
  [SCAN, ["--checksum", "md5"], "--checksum", "md5"],
  [SCAN, ["--checksum", "FULL"], "--checksum", "FULL"],
  [SCAN, ["--force=yes"], "--force", null],
  [REVALIDATE, ["--jobs", "x"], "--jobs", "x"],
  [REVALIDATE, ["--checksum", ""], "--checksum", ""],
  [MOUNT, ["--mode", "fast"], "--mode", "fast"],
  [MOUNT, ["--extensions", "both"], "--extensions", "both"],
  [MOUNT, ["--poll-interval-ms", "1s"], "--poll-interval-ms", "1s"],
  [MOUNT, ["--attr-ttl-ms", "-5"], "--attr-ttl-ms", "-5"],
  [MOUNT, ["--max-readahead-kib", "4294967296"], "--max-readahead-kib", "4294967296"],
  [MOUNT, ["--read-ahead-budget-mib", "big"], "--read-ahead-budget-mib", "big"],
  [MOUNT, ["--max-background", "65536"], "--max-background", "65536"],
  [MOUNT, ["--workers", "two"], "--workers", "two"],
  [MOUNT, ["--keep-cache=maybe"], "--keep-cache", "maybe"],
  [MOUNT, ["--case-insensitive", "perhaps"], "--case-insensitive", "perhaps"],
  [MOUNT, ["--owner", "no-such-user-musefs"], "--owner", "no-such-user-musefs"],
  [MOUNT, ["--group", "no-such-group-musefs"], "--group", "no-such-group-musefs"],
  [MOUNT, ["--file-mode", "888"], "--file-mode", "888"],
  [MOUNT, ["--file-mode", "0o644"], "--file-mode", "0o644"],
  [MOUNT, ["--dir-mode", "17777"], "--dir-mode", "17777"],
  [MOUNT, ["--fallback", "genre"], "--fallback", "genre"],
  [MOUNT, ["--fallback", "=Misc"], "--fallback", "=Misc"],
  [MOUNT, ["--allow-other=yes"], "--allow-other", null],
  [["vacuum"], ["--db"], "--db", null],
];

Deno.test("a bad value for each typed flag: exit 2, message names the flag and the value", async () => {
  const runs = await musefsAll(CASES.map(([base, extra]) => ({ args: [...base, ...extra] })));
  runs.forEach((r, i) => {
    const [base, extra, flag, raw] = CASES[i];
    const what = [...base, ...extra].join(" ");
    assert.equal(r.code, 2, `${what}: ${r.stderr}`);
    assert.equal(r.stdout, "", what);
    const first = r.stderr.split("\n")[0];
    assert.ok(first.startsWith("musefs: "), `${what}: ${first}`);
    assert.ok(first.includes(flag), `${what}: ${first}`);
    if (raw !== null) assert.ok(first.includes(`invalid value "${raw}" for ${flag}`), first);
  });
});

Deno.test("the message for a bad integer reads as documented", async () => {
  const [r] = await musefsAll([{ args: [...SCAN, "--jobs", "abc"] }]);
  assert.equal(
    r.stderr.split("\n")[0],
    'musefs: invalid value "abc" for --jobs: expected a non-negative integer',
  );
  assert.match(r.stderr, /musefs scan --help/);
});

Deno.test("a bad value from the environment names the flag and the variable", async () => {
  const cases: Array<[string[], Record<string, string>, string, string]> = [
    [SCAN, { MUSEFS_JOBS: "lots" }, "--jobs", "MUSEFS_JOBS"],
    [SCAN, { MUSEFS_FORCE: "maybe" }, "--force", "MUSEFS_FORCE"],
    [SCAN, { MUSEFS_QUIET: "2" }, "--quiet", "MUSEFS_QUIET"],
    [MOUNT, { MUSEFS_KEEP_CACHE: "sometimes" }, "--keep-cache", "MUSEFS_KEEP_CACHE"],
    [MOUNT, { MUSEFS_FILE_MODE: "rw-r--r--" }, "--file-mode", "MUSEFS_FILE_MODE"],
    [MOUNT, { MUSEFS_MAX_BACKGROUND: "100000" }, "--max-background", "MUSEFS_MAX_BACKGROUND"],
    [MOUNT, { MUSEFS_ALLOW_OTHER: "yes please" }, "--allow-other", "MUSEFS_ALLOW_OTHER"],
  ];
  const runs = await musefsAll(cases.map(([args, env]) => ({ args, env })));
  runs.forEach((r, i) => {
    const [, env, flag, name] = cases[i];
    assert.equal(r.code, 2, r.stderr);
    assert.equal(
      r.stderr.split("\n")[0].split(":").slice(0, 2).join(":"),
      `musefs: invalid value "${env[name]}" for ${flag} (from ${name})`,
    );
  });
});

Deno.test("unknown flags, flags of other commands and missing arguments are usage errors", async () => {
  const cases: Array<[string[], RegExp]> = [
    [[...SCAN, "--prune"], /unexpected argument '--prune'/],
    [[...REVALIDATE, "--force"], /unexpected argument '--force'/],
    [[...SCAN, "--bogus"], /unexpected argument '--bogus'/],
    [[...SCAN, "-x"], /unexpected argument '-x'/],
    [["vacuum", "--db", "x.db", "extra"], /unexpected argument 'extra'/],
    [["scan", "--db", "x.db"], /missing required argument <TARGETS>/],
    [["revalidate", "/music"], /missing required flag --db/],
    [["mount", "--db", "x.db"], /missing required argument <MOUNTPOINT>/],
    [["--db", "x.db"], /missing required argument <MOUNTPOINT>/],
    [["mount", "/mnt"], /missing required flag --db <PATH> \(or set MUSEFS_DB\)/],
    [[...MOUNT, "--template"], /a value is required for --template/],
    [[...MOUNT, "--case-insensitive"], /a value is required for --case-insensitive/],
    [[...MOUNT, "/second"], /unexpected argument '\/second'/],
    [["help", "frobnicate"], /unknown command 'frobnicate'/],
  ];
  const runs = await musefsAll(cases.map(([args]) => ({ args })));
  runs.forEach((r, i) => {
    assert.equal(r.code, 2, `${cases[i][0].join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, cases[i][1]);
    assert.match(r.stderr, /^musefs: /);
  });
});
