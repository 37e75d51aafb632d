// Mutual exclusions (exit 1), the checks mount makes before any FUSE work,
// the deprecation warning of `scan --revalidate` through the logger, and
// how errors are reported.

import assert from "node:assert/strict";
import { join } from "node:path";
import { musefs, musefsAll } from "./run_musefs.ts";
import { preMountChecks, writeBitWarning } from "../../src/cli/mount.ts";
import { mountInvocation } from "../../src/cli/options.ts";
import { parseCommand } from "../../src/cli/flags.ts";
import { mountSpec } from "../../src/cli/spec.ts";
import type { Io } from "../../src/cli/io.ts";
import type { MountOptions } from "../../src/cli/options.ts";
import { CliError } from "../../src/cli/errors.ts";
import { scratchDir } from "../scratch.ts";

Deno.test("mutually exclusive scan flags exit 1 with a message saying so", async () => {
  const base = ["scan", "/music", "--db", "x.db"];
  const cases: Array<{ args: string[]; env?: Record<string, string> }> = [
    { args: [...base, "--fast", "--strict"] },
    { args: [...base, "--force", "--revalidate"] },
    { args: [...base, "--fast", "--revalidate"] },
    { args: [...base, "--strict", "--revalidate"] },
    { args: [...base, "--strict"], env: { MUSEFS_FAST: "1" } },
    { args: [...base, "--force"], env: { MUSEFS_REVALIDATE: "yes" } },
  ];
  // Exclusions are checked before anything runs, so MUSEFS_PRINT_OPTIONS cannot hide them.
  const runs = await musefsAll(
    cases.map((c) => ({ args: c.args, env: { ...c.env, MUSEFS_PRINT_OPTIONS: "1" } })),
  );
  runs.forEach((r, i) => {
    assert.equal(r.code, 1, `${cases[i].args.join(" ")}: ${r.stderr}`);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, /^musefs: .*mutually exclusive\n$/);
  });
  assert.equal(runs[0].stderr, "musefs: --fast and --strict are mutually exclusive\n");
});

Deno.test("scan --revalidate logs a deprecation warning; MUSEFS_LOG=error silences it", async () => {
  const args = [
    "scan",
    "/nonexistent-musefs-target",
    "--db",
    "/nonexistent-musefs.db",
    "--revalidate",
  ];
  const [loud, quiet, rust] = await musefsAll([
    { args },
    { args, env: { MUSEFS_LOG: "error" } },
    { args, env: { RUST_LOG: "off" } },
  ]);
  assert.match(loud.stderr, /^\[\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ WARN {2}musefs\] .*deprecated/m);
  assert.doesNotMatch(quiet.stderr, /deprecated/);
  assert.doesNotMatch(rust.stderr, /deprecated/);
});

Deno.test("mount refuses a missing store before anything else (exit 1)", async () => {
  using tmp = scratchDir("musefs-test-");
  const dir = tmp.path;
  const db = join(dir, "missing.db");
  const [r, dry] = await musefsAll([
    { args: ["mount", dir, "--db", db] },
    { args: ["--db", db, "--dry-run"] },
  ]);
  for (const x of [r, dry]) {
    assert.equal(x.code, 1, x.stderr);
    assert.equal(
      x.stderr,
      `musefs: database does not exist: ${db} (create it with \`musefs scan <MUSIC DIR> --db ${db}\`)\n`,
    );
  }
});

function captureIo(): Io & { errs: string[] } {
  const errs: string[] = [];
  return { errs, out: () => {}, err: (l) => errs.push(l) };
}

function mountOptions(args: string[]): MountOptions {
  const inv = mountInvocation(parseCommand(mountSpec, args, () => undefined));
  assert.equal(inv.command, "mount");
  return inv.options as MountOptions;
}

Deno.test("pre-mount checks: mountpoint missing / not a directory / not empty; write bits", async () => {
  using tmp = scratchDir("musefs-test-");
  const dir = tmp.path;
  const db = join(dir, "lib.db");
  await Deno.writeTextFile(db, "");
  const mp = join(dir, "mnt");
  const io = captureIo();
  assert.throws(
    () => preMountChecks(mountOptions([mp, "--db", db]), io),
    (e) =>
      e instanceof CliError && e.message === `mountpoint does not exist (create it first): ${mp}`,
  );
  await Deno.writeTextFile(mp, "a file");
  assert.throws(
    () => preMountChecks(mountOptions([mp, "--db", db]), io),
    (e) => e instanceof CliError && e.message === `mountpoint is not a directory: ${mp}`,
  );
  await Deno.remove(mp);
  await Deno.mkdir(mp);
  preMountChecks(mountOptions([mp, "--db", db]), io);
  assert.deepEqual(io.errs, [], "an empty directory raises no warning");
  await Deno.writeTextFile(join(mp, "stray.mp3"), "x");
  preMountChecks(mountOptions([mp, "--db", db, "--file-mode", "0664", "--dir-mode", "755"]), io);
  assert.deepEqual(io.errs, [
    `warning: mountpoint ${mp} is not empty; its existing contents will be hidden behind the ` +
    "virtual tree until you unmount",
    "warning: --file-mode 664 sets write bits, but the mount is read-only; writes will fail with EROFS",
    "warning: --dir-mode 755 sets write bits, but the mount is read-only; writes will fail with EROFS",
  ]);
  // --dry-run needs no mountpoint at all.
  const dry = captureIo();
  preMountChecks(mountOptions(["--db", db, "--dry-run"]), dry);
  assert.deepEqual(dry.errs, []);
});

Deno.test("write-bit warning only for modes with a write bit", () => {
  assert.equal(writeBitWarning("file-mode", 0o444), null);
  assert.equal(writeBitWarning("dir-mode", 0o7555), null);
  for (const mode of [0o200, 0o020, 0o002, 0o7777]) {
    assert.match(writeBitWarning("file-mode", mode)!, /^warning: --file-mode \d+ sets write bits/);
  }
});

Deno.test("a hard error prints `musefs: <message>` on stderr and exits 1", async () => {
  const r = await musefs(["vacuum", "--db", "/nonexistent-dir-musefs/lib.db"]);
  assert.equal(r.code, 1);
  assert.equal(r.stdout, "");
  assert.equal(
    r.stderr,
    "musefs: database does not exist: /nonexistent-dir-musefs/lib.db " +
      "(create it with `musefs scan <MUSIC DIR> --db /nonexistent-dir-musefs/lib.db`)\n",
  );
});

Deno.test("a mistyped command is named as such instead of being taken as a mountpoint", async () => {
  const cases: Array<[string[], number, RegExp]> = [
    [
      ["vacum", "--db", "x.db"],
      2,
      /^musefs: unknown command 'vacum' \(did you mean `musefs vacuum`\?\)/,
    ],
    [
      ["sacn", "--db", "x.db"],
      2,
      /^musefs: unknown command 'sacn' \(did you mean `musefs scan`\?\)/,
    ],
    [["scna", "/music", "--db", "x.db"], 2, /did you mean `musefs scan`/],
    // Two edits from "mount" is a plausible mountpoint: the mount's own checks apply.
    [["mnt", "--db", "/nonexistent-musefs.db"], 1, /^musefs: database does not exist/],
  ];
  const runs = await musefsAll(cases.map(([args]) => ({ args })));
  runs.forEach((r, i) => {
    assert.equal(r.code, cases[i][1], `${cases[i][0].join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, cases[i][2]);
  });
});
