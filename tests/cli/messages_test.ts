// Messages that name the problem and the fix: a `--db` that is a directory,
// whose directory is missing, or that starts with `~`; a flag of another
// command; a mistyped flag; `musefs umount`.

import assert from "node:assert/strict";
import { join } from "node:path";
import { expandHome } from "../../src/cli/store_path.ts";
import { nearest } from "../../src/cli/suggest.ts";
import { musefs, musefsAll, resolved } from "./run_musefs.ts";
import { scratchDir } from "../scratch.ts";

const env = (vars: Record<string, string>) => (name: string) => vars[name];

Deno.test("--db naming a directory: every command says so and suggests a file inside it", async () => {
  using tmp = scratchDir("musefs-test-");
  const dir = tmp.path;
  const music = join(dir, "music");
  await Deno.mkdir(music);
  const runs = await musefsAll([
    { args: ["scan", music, "--db", dir] },
    { args: ["revalidate", music, "--db", dir] },
    { args: ["mount", "--dry-run", "--db", dir] },
    { args: ["vacuum", "--db", dir] },
  ]);
  for (const r of runs) {
    assert.equal(r.code, 1, r.stderr);
    assert.equal(
      r.stderr,
      `musefs: --db ${dir} is a directory; give the store file inside it, e.g. --db ${
        join(dir, "musefs.db")
      }\n`,
    );
  }
  assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["music"]);
});

Deno.test("--db in a missing directory: scan says to create the directory; others say to scan", async () => {
  using tmp = scratchDir("musefs-test-");
  const dir = tmp.path;
  const parent = join(dir, "no", "such");
  const db = join(parent, "lib.db");
  const [scan, mount] = await musefsAll([
    { args: ["scan", dir, "--db", db] },
    { args: ["mount", "--dry-run", "--db", db] },
  ]);
  assert.equal(scan.code, 1);
  assert.equal(
    scan.stderr,
    `musefs: cannot create the store ${db}: the directory ${parent} does not exist ` +
      `(create it first: mkdir -p ${parent})\n`,
  );
  assert.equal(mount.code, 1);
  assert.match(mount.stderr, /database does not exist: .* \(create it with `musefs scan /);
  assert.deepEqual([...Deno.readDirSync(dir)], []);
  // An empty path would make SQLite open a throwaway temporary database.
  const empty = await musefs(["scan", dir, "--db", ""]);
  assert.equal(empty.code, 2);
  assert.match(
    empty.stderr,
    /^musefs: invalid value "" for --db: expected the path of the store file/,
  );
});

Deno.test("a leading ~ in --db and the mountpoint is expanded from HOME (env files do not)", async () => {
  using homeTmp = scratchDir("musefs-test-");
  const home = homeTmp.path;
  const music = join(home, "music");
  await Deno.mkdir(music);
  const inv = await resolved(["mount", "~/mnt"], { HOME: home, MUSEFS_DB: "~/lib.db" });
  assert.equal(inv.options.db, join(home, "lib.db"));
  assert.equal(inv.options.mountpoint, join(home, "mnt"));
  // For real: scan creates the store under HOME, not in a directory named "~".
  const r = await musefs(["scan", music, "--quiet"], { HOME: home, MUSEFS_DB: "~/lib.db" });
  assert.equal(r.code, 0, r.stderr);
  assert.ok(Deno.statSync(join(home, "lib.db")).isFile);
  const user = await musefs(["scan", music, "--db", "~nobody/lib.db"], { HOME: home });
  assert.equal(user.code, 2);
  assert.match(user.stderr, /only "~" and "~\/…" are expanded, not "~user"; give the full path/);
});

Deno.test("expandHome: ~, ~/x, other paths, and no HOME", () => {
  assert.equal(expandHome("~", "--db", env({ HOME: "/h" })), "/h");
  assert.equal(expandHome("~/a/b.db", "--db", env({ HOME: "/h/" })), "/h/a/b.db");
  assert.equal(expandHome("/x/~/y", "--db", env({ HOME: "/h" })), "/x/~/y");
  assert.equal(expandHome("rel.db", "--db", env({})), "rel.db");
  assert.throws(() => expandHome("~/a", "--db", env({})), /HOME is not set/);
});

Deno.test("a flag of another command names that command; a near miss names the flag", async () => {
  const cases: Array<[string[], RegExp]> = [
    [
      ["scan", "/m", "--db", "x.db", "--prune"],
      /unexpected argument '--prune': it is a flag of `musefs revalidate`, not of `musefs scan` \(run `musefs revalidate --prune …`\)/,
    ],
    [
      ["mount", "--db", "x.db", "--jobs", "2"],
      /it is a flag of `musefs scan` and `musefs revalidate`/,
    ],
    [
      ["mount", "--db", "x.db", "--tempalte", "x"],
      /unexpected argument '--tempalte' \(did you mean --template\?\)/,
    ],
    [["--db", "x.db", "--dry"], /\(did you mean --dry-run\?\)/],
    [["scan", "/m", "--db", "x.db", "--quite"], /\(did you mean --quiet\?\)/],
    [["scan", "/m", "--db", "x.db", "--zzzzzz"], /^musefs: unexpected argument '--zzzzzz'\n/],
    // A mistyped command is the real mistake: it is named rather than the flag's owner.
    [["sacn", "/m", "--db", "x.db", "--jobs", "2"], /'--jobs' \(did you mean `musefs scan`\?\)\n/],
  ];
  const runs = await musefsAll(cases.map(([args]) => ({ args })));
  runs.forEach((r, i) => {
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, cases[i][1]);
  });
});

Deno.test("nearest: edit distance scaled to the word, prefixes, nothing when far", () => {
  const flags = ["template", "default-fallback", "dry-run", "db", "jobs"];
  assert.equal(nearest("tempalte", flags), "template");
  assert.equal(nearest("dry", flags), "dry-run");
  assert.equal(nearest("bd", flags), "db"); // a transposition is one edit
  assert.equal(nearest("xy", flags), undefined); // short words get one edit only
  assert.equal(nearest("dv", flags), "db");
  assert.equal(nearest("defualt-fallback", flags), "default-fallback");
  assert.equal(nearest("frobnicate", flags), undefined);
});

Deno.test("musefs umount points at fusermount3 -u and umount", async () => {
  const runs = await musefsAll([
    { args: ["umount", "/mnt/music"] },
    { args: ["unmount"] },
    { args: ["help", "umount"] },
  ]);
  for (const r of runs) {
    assert.equal(r.code, 2, r.stderr);
    assert.match(
      r.stderr,
      /^musefs: there is no '(umount|unmount)' command; to unmount, run `fusermount3 -u MOUNTPOINT` \(as root, `umount MOUNTPOINT` works too\)/,
    );
  }
});
