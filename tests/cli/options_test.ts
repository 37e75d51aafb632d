// End-to-end parsing observed through MUSEFS_PRINT_OPTIONS=1: defaults,
// MUSEFS_* variables, flags overriding them, boolish words, optional and
// repeatable values, the bare mount form and global -v.

import assert from "node:assert/strict";
import { musefs, musefsAll, resolved } from "./run_musefs.ts";

const MOUNT = ["mount", "/mnt/music", "--db", "lib.db"];

function uid(): number {
  return Deno.uid() ?? 0;
}

function gid(): number {
  return Deno.gid() ?? 0;
}

/** The numeric id of `name` in an /etc/passwd-style file, read independently of the CLI. */
function idOf(file: string, name: string): number {
  const line = Deno.readTextFileSync(file).split("\n").find((l) => l.startsWith(`${name}:`));
  assert.ok(line, `${name} in ${file}`);
  return Number(line.split(":")[2]);
}

Deno.test("mount defaults match the original's", async () => {
  const inv = await resolved(MOUNT);
  assert.equal(inv.command, "mount");
  assert.equal(inv.verbose, 0);
  assert.deepEqual(inv.options, {
    mountpoint: "/mnt/music",
    db: "lib.db",
    template: "$albumartist/$album/$title",
    defaultFallback: "Unknown",
    fallbacks: {},
    skipOnMissing: false,
    mode: "synthesis",
    extensions: "served",
    id3Version: 4,
    pollIntervalMs: 1000,
    attrTtlMs: 1000,
    maxReadaheadKib: 512,
    readAheadBudgetMib: 32,
    headerCacheMib: 8,
    attrCacheMib: 8,
    storeCacheMib: 8,
    artCacheMib: 8,
    buildAhead: true,
    readAheadPrefetch: false,
    maxBackground: 64,
    workers: 0,
    keepCache: true,
    caseInsensitive: Deno.build.os === "darwin",
    uid: uid(),
    gid: gid(),
    ownerGiven: false,
    groupGiven: false,
    fileMode: 0o444,
    dirMode: 0o555,
    allowOther: false,
    exposeMetrics: false,
    dryRun: false,
    libraryRoots: [],
  });
});

const MOUNT_ENV: Record<string, string> = {
  MUSEFS_DB: "env.db",
  MUSEFS_MOUNTPOINT: "/mnt/env",
  MUSEFS_TEMPLATE: "$artist/$title",
  MUSEFS_DEFAULT_FALLBACK: "Missing",
  MUSEFS_SKIP_ON_MISSING: "yes",
  MUSEFS_MODE: "structure-only",
  MUSEFS_EXTENSIONS: "original",
  MUSEFS_ID3_VERSION: "2.3",
  MUSEFS_POLL_INTERVAL_MS: "250",
  MUSEFS_ATTR_TTL_MS: "750",
  MUSEFS_MAX_READAHEAD_KIB: "64",
  MUSEFS_READ_AHEAD_BUDGET_MIB: "0",
  MUSEFS_HEADER_CACHE_MIB: "5",
  MUSEFS_ATTR_CACHE_MIB: "6",
  MUSEFS_STORE_CACHE_MIB: "3",
  MUSEFS_ART_CACHE_MIB: "7",
  MUSEFS_SIZE_INDEX: "/tmp/env.sizes",
  MUSEFS_BUILD_AHEAD: "false",
  MUSEFS_READ_AHEAD_PREFETCH: "on",
  MUSEFS_MAX_BACKGROUND: "32",
  MUSEFS_WORKERS: "8",
  MUSEFS_KEEP_CACHE: "off",
  MUSEFS_CASE_INSENSITIVE: "TRUE",
  MUSEFS_FILE_MODE: "0640",
  MUSEFS_DIR_MODE: "750",
  MUSEFS_ALLOW_OTHER: "1",
  MUSEFS_EXPOSE_METRICS: "t",
};

Deno.test("every mount MUSEFS_* variable is honoured", async () => {
  const inv = await resolved(["mount"], MOUNT_ENV);
  assert.deepEqual(inv.options, {
    mountpoint: "/mnt/env",
    db: "env.db",
    template: "$artist/$title",
    defaultFallback: "Missing",
    fallbacks: {},
    skipOnMissing: true,
    mode: "structure-only",
    extensions: "original",
    id3Version: 3,
    pollIntervalMs: 250,
    attrTtlMs: 750,
    maxReadaheadKib: 64,
    readAheadBudgetMib: 0,
    headerCacheMib: 5,
    attrCacheMib: 6,
    storeCacheMib: 3,
    artCacheMib: 7,
    sizeIndex: "/tmp/env.sizes",
    buildAhead: false,
    readAheadPrefetch: true,
    maxBackground: 32,
    workers: 8,
    keepCache: false,
    caseInsensitive: true,
    uid: uid(),
    gid: gid(),
    ownerGiven: false,
    groupGiven: false,
    fileMode: 0o640,
    dirMode: 0o750,
    allowOther: true,
    exposeMetrics: true,
    dryRun: false,
    libraryRoots: [],
  });
});

Deno.test("flags override MUSEFS_* variables", async () => {
  const inv = await resolved([
    "mount",
    "/mnt/flag",
    "--db=flag.db",
    "--template",
    "$album",
    "--default-fallback",
    "X",
    "--mode",
    "synthesis",
    "--extensions",
    "served",
    "--poll-interval-ms",
    "5",
    "--attr-ttl-ms",
    "6",
    "--max-readahead-kib",
    "7",
    "--read-ahead-budget-mib",
    "8",
    "--max-background",
    "9",
    "--workers",
    "10",
    "--keep-cache",
    "--case-insensitive",
    "no",
    "--file-mode",
    "444",
    "--dir-mode",
    "0555",
    "--skip-on-missing",
    "--read-ahead-prefetch",
  ], MOUNT_ENV);
  const o = inv.options;
  assert.equal(o.mountpoint, "/mnt/flag");
  assert.equal(o.db, "flag.db");
  assert.equal(o.template, "$album");
  assert.equal(o.defaultFallback, "X");
  assert.equal(o.mode, "synthesis");
  assert.equal(o.extensions, "served");
  assert.deepEqual(
    [o.pollIntervalMs, o.attrTtlMs, o.maxReadaheadKib, o.readAheadBudgetMib],
    [5, 6, 7, 8],
  );
  assert.deepEqual([o.maxBackground, o.workers], [9, 10]);
  assert.equal(o.keepCache, true);
  assert.equal(o.caseInsensitive, false);
  assert.deepEqual([o.fileMode, o.dirMode], [0o444, 0o555]);
});

Deno.test("boolish words, any case; empty variable counts as unset", async () => {
  const truthy = ["true", "TRUE", "Yes", "on", "1", "t", "Y"];
  const falsy = ["false", "False", "NO", "Off", "0", "f", "n"];
  const words = [...truthy, ...falsy];
  const runs = await musefsAll(
    words.map((w) => ({
      args: [...MOUNT],
      env: { MUSEFS_PRINT_OPTIONS: "1", MUSEFS_EXPOSE_METRICS: w, MUSEFS_KEEP_CACHE: w },
    })),
  );
  runs.forEach((r, i) => {
    assert.equal(r.code, 0, r.stderr);
    const o = JSON.parse(r.stdout).options;
    const expected = i < truthy.length;
    assert.equal(o.exposeMetrics, expected, words[i]);
    assert.equal(o.keepCache, expected, words[i]);
  });
  const flagWords = await musefsAll(
    words.map((w) => ({
      args: [...MOUNT, "--case-insensitive", w, "--keep-cache", w],
      env: { MUSEFS_PRINT_OPTIONS: "1" },
    })),
  );
  flagWords.forEach((r, i) => {
    assert.equal(r.code, 0, r.stderr);
    const o = JSON.parse(r.stdout).options;
    assert.equal(o.caseInsensitive, i < truthy.length, words[i]);
    assert.equal(o.keepCache, i < truthy.length, words[i]);
  });
  const empty = await resolved(MOUNT, { MUSEFS_EXPOSE_METRICS: "", MUSEFS_JOBS: "" });
  assert.equal(empty.options.exposeMetrics, false);
});

Deno.test("--keep-cache takes an optional value and never swallows the mountpoint", async () => {
  const base = ["mount", "--db", "lib.db"];
  const cases: Array<[string[], boolean, string]> = [
    [[...base, "--keep-cache", "/mnt/a"], true, "/mnt/a"],
    [[...base, "--keep-cache", "false", "/mnt/b"], false, "/mnt/b"],
    [[...base, "/mnt/c", "--keep-cache", "no"], false, "/mnt/c"],
    [[...base, "/mnt/d", "--keep-cache=off"], false, "/mnt/d"],
    [[...base, "/mnt/e", "--keep-cache"], true, "/mnt/e"],
  ];
  const runs = await musefsAll(
    cases.map(([args]) => ({
      args,
      env: { MUSEFS_PRINT_OPTIONS: "1", MUSEFS_KEEP_CACHE: "false" },
    })),
  );
  runs.forEach((r, i) => {
    assert.equal(r.code, 0, r.stderr);
    const o = JSON.parse(r.stdout).options;
    assert.equal(o.keepCache, cases[i][1], cases[i][0].join(" "));
    assert.equal(o.mountpoint, cases[i][2]);
  });
});

Deno.test("--fallback: split at the first '=', field lowercased, last duplicate wins", async () => {
  const inv = await resolved([
    ...MOUNT,
    "--fallback",
    "Genre=Misc",
    "--fallback=album=A=B",
    "--fallback",
    "GENRE=Other",
    "--fallback",
    "year=",
  ]);
  assert.deepEqual(inv.options.fallbacks, { genre: "Other", album: "A=B", year: "" });
  // --fallback has no environment variable.
  const env = await resolved(MOUNT, { MUSEFS_FALLBACK: "genre=x" });
  assert.deepEqual(env.options.fallbacks, {});
});

Deno.test("--owner/--group: names from /etc/passwd and /etc/group, digits as ids; force allow_other", async () => {
  const byName = await resolved([...MOUNT, "--owner", "root", "--group", "root"], {
    MUSEFS_ALLOW_OTHER: "false",
  });
  assert.equal(byName.options.uid, idOf("/etc/passwd", "root"));
  assert.equal(byName.options.gid, idOf("/etc/group", "root"));
  assert.equal(byName.options.allowOther, true);
  const byId = await resolved([...MOUNT, "--owner", "1234"], { MUSEFS_GROUP: "4321" });
  assert.deepEqual(
    [byId.options.uid, byId.options.gid, byId.options.ownerGiven, byId.options.groupGiven],
    [1234, 4321, true, true],
  );
  assert.equal(byId.options.allowOther, true);
  const nobody = await resolved([...MOUNT, "--owner", "nobody"]);
  assert.equal(nobody.options.uid, idOf("/etc/passwd", "nobody"));
});

Deno.test("scan: defaults, env, strictness, targets and the deprecated --revalidate", async () => {
  const plain = await resolved(["scan", "/a", "/b", "--db", "lib.db"]);
  assert.deepEqual(plain, {
    command: "scan",
    verbose: 0,
    options: {
      db: "lib.db",
      targets: ["/a", "/b"],
      force: false,
      jobs: 0,
      followSymlinks: false,
      quiet: false,
      checksum: "fingerprint",
      strictness: "auto",
    },
  });
  const env = await resolved(["scan", "/a"], {
    MUSEFS_DB: "env.db",
    MUSEFS_FORCE: "yes",
    MUSEFS_JOBS: "3",
    MUSEFS_FOLLOW_SYMLINKS: "on",
    MUSEFS_QUIET: "1",
    MUSEFS_CHECKSUM: "full",
    MUSEFS_STRICT: "true",
  });
  assert.deepEqual(env.options, {
    db: "env.db",
    targets: ["/a"],
    force: true,
    jobs: 3,
    followSymlinks: true,
    quiet: true,
    checksum: "full",
    strictness: "strict",
  });
  const flags = await resolved(
    ["scan", "-q", "--fast", "--checksum", "none", "--jobs", "1", "--", "--odd-name"],
    { MUSEFS_DB: "env.db", MUSEFS_CHECKSUM: "full", MUSEFS_JOBS: "9" },
  );
  assert.deepEqual(
    [flags.options.quiet, flags.options.strictness, flags.options.checksum, flags.options.jobs],
    [true, "fast", "none", 1],
  );
  assert.deepEqual(flags.options.targets, ["--odd-name"]);
  const alias = await resolved(["scan", "/a", "--db", "x.db", "--revalidate"]);
  assert.equal(alias.command, "revalidate");
  assert.equal(alias.viaScanAlias, true);
  assert.equal(alias.options.prune, false);
});

Deno.test("revalidate and vacuum options", async () => {
  const rv = await resolved(["revalidate", "/a", "--db", "lib.db"], {
    MUSEFS_PRUNE: "y",
    MUSEFS_CHECKSUM: "none",
  });
  assert.deepEqual(rv, {
    command: "revalidate",
    verbose: 0,
    viaScanAlias: false,
    options: {
      db: "lib.db",
      targets: ["/a"],
      prune: true,
      jobs: 0,
      followSymlinks: false,
      quiet: false,
      checksum: "none",
    },
  });
  const vac = await resolved(["vacuum"], { MUSEFS_DB: "env.db" });
  assert.deepEqual(vac, { command: "vacuum", verbose: 0, options: { db: "env.db" } });
});

Deno.test("bare mount form, --dry-run without a mountpoint, and -v anywhere", async () => {
  const bare = await resolved(["-v", "--db", "lib.db", "/mnt/x", "--mode", "structure-only"]);
  assert.equal(bare.command, "mount");
  assert.equal(bare.verbose, 1);
  assert.equal(bare.options.mountpoint, "/mnt/x");
  assert.equal(bare.options.mode, "structure-only");
  const dry = await resolved(["mount", "--db", "lib.db", "--dry-run", "-vv"]);
  assert.equal(dry.options.mountpoint, null);
  assert.equal(dry.options.dryRun, true);
  assert.equal(dry.verbose, 2);
  const counted = await resolved(["-vv", "scan", "/a", "--db", "x", "--verbose", "-qv"]);
  assert.equal(counted.verbose, 4);
  assert.equal(counted.options.quiet, true);
  // --dry-run has no environment variable.
  const r = await musefs(["mount", "--db", "lib.db"], {
    MUSEFS_DRY_RUN: "1",
    MUSEFS_PRINT_OPTIONS: "1",
  });
  assert.equal(r.code, 2);
});
