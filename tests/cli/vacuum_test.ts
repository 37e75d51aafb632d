// `musefs vacuum` on real stores: space is reclaimed and reported, a compact
// store says so, a missing store and a store locked by another process fail
// with their messages (exit 1).

import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { deleteUnreferencedArt, openStore, upsertArt } from "../../src/store/mod.ts";
import { humanBytes } from "../../src/cli/human.ts";
import { musefs } from "./run_musefs.ts";
import { closing, scratchDir } from "../scratch.ts";

function footprint(path: string): number {
  let total = 0;
  for (const p of [path, `${path}-wal`, `${path}-shm`]) {
    try {
      total += Deno.statSync(p).size;
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  }
  return total;
}

/** A store with ~2 MiB of art written and then deleted: free pages to reclaim. */
function storeWithFreePages(path: string): void {
  using store = openStore(path, { mode: "rw", create: true });
  for (let i = 0; i < 32; i++) {
    upsertArt(store, { mime: "image/png", width: 1, height: 1, data: randomBytes(64 * 1024) });
  }
  store.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  assert.equal(deleteUnreferencedArt(store), 32);
}

/** Free pages, read through a read-write connection: closing it removes the -wal/-shm it made. */
function freelistCount(path: string): number {
  using db = closing(new DatabaseSync(path));
  return Number(
    (db.prepare("PRAGMA freelist_count").get() as { freelist_count: number })
      .freelist_count,
  );
}

Deno.test("vacuum reclaims free pages and reports before → after (reclaimed delta)", async () => {
  using tmp = scratchDir("musefs-test-");
  const dir = tmp.path;
  const db = join(dir, "lib.db");
  storeWithFreePages(db);
  assert.ok(freelistCount(db) > 400, "the deleted art left free pages");
  const before = footprint(db);
  assert.ok(before > 2 * 1024 * 1024);

  const r = await musefs(["vacuum", "--db", db]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, "");
  const after = footprint(db);
  assert.ok(after < before / 4, `after ${after} vs before ${before}`);
  assert.equal(
    r.stdout,
    `vacuumed ${db}: ${humanBytes(before)} → ${humanBytes(after)} ` +
      `(reclaimed ${humanBytes(before - after)})\n`,
  );
  assert.equal(freelistCount(db), 0);
  assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["lib.db"]);
  // The store still opens and checks out (a read-write connection, so closing
  // it removes the -wal/-shm it creates and the next footprint is comparable).
  const store = openStore(db, { mode: "rw" });
  try {
    const check = store.get<{ integrity_check: string }>("PRAGMA integrity_check");
    assert.equal(check!.integrity_check, "ok");
    assert.equal(store.get<{ n: number }>("SELECT count(*) AS n FROM art")!.n, 0);
  } finally {
    store.close();
  }

  // A second run has nothing left to reclaim (the store given through MUSEFS_DB).
  const again = await musefs(["vacuum"], { MUSEFS_DB: db });
  assert.equal(again.code, 0, again.stderr);
  assert.equal(again.stdout, `vacuumed ${db}: ${humanBytes(footprint(db))} (already compact)\n`);
});

Deno.test("vacuum of a missing store: exit 1, nothing created", async () => {
  using tmp = scratchDir("musefs-test-");
  const dir = tmp.path;
  const db = join(dir, "none.db");
  const r = await musefs(["vacuum", "--db", db]);
  assert.equal(r.code, 1);
  assert.equal(
    r.stderr,
    `musefs: database does not exist: ${db} (create it with \`musefs scan <MUSIC DIR> --db ${db}\`)\n`,
  );
  assert.deepEqual([...Deno.readDirSync(dir)], []);
});

/**
 * An independent SQLite client (Python's stdlib) that runs `statements` in
 * one transaction and keeps it open until `release` is called.
 */
async function holdTransaction(db: string, statements: string[]) {
  const holder = new Deno.Command("/usr/bin/python3", {
    args: [
      "-c",
      [
        "import sqlite3, sys",
        "c = sqlite3.connect(sys.argv[1], isolation_level=None)",
        ...statements.map((sql) => `c.execute(${JSON.stringify(sql)}).fetchall()`),
        "print('holding', flush=True)",
        "sys.stdin.read()",
        "if c.in_transaction: c.execute('ROLLBACK')",
      ].join("\n"),
      db,
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = holder.stdout.getReader();
  const { value } = await reader.read();
  reader.releaseLock();
  assert.equal(new TextDecoder().decode(value).trim(), "holding");
  return async () => {
    await holder.stdin.close();
    await holder.stdout.cancel();
    assert.equal((await holder.status).code, 0);
  };
}

const IN_USE =
  "musefs: the store is in use — unmount the filesystem or stop any scan before vacuuming";

// Any other open connection — writing, reading, or idle between reads as a
// mount's is — is found before VACUUM starts, and named.
for (
  const [what, statements] of [
    ["a write transaction", ["BEGIN EXCLUSIVE", "DELETE FROM track_changes"]],
    ["a read snapshot", ["BEGIN", "SELECT count(*) FROM art"]],
    ["an idle connection", ["BEGIN", "SELECT count(*) FROM art", "COMMIT"]],
  ] as const
) {
  Deno.test(`vacuum while another process holds ${what}: the in-use message, exit 1`, async () => {
    using tmp = scratchDir("musefs-test-");
    const dir = tmp.path;
    const db = join(dir, "lib.db");
    storeWithFreePages(db);
    const release = await holdTransaction(db, [...statements]);
    try {
      const r = await musefs(["vacuum", "--db", db]);
      assert.equal(r.code, 1, r.stdout);
      assert.ok(r.stderr.startsWith(IN_USE), r.stderr);
      assert.match(r.stderr, /\(open in process \d+: \/usr\/bin\/python3 -c import sqlite3/);
      assert.equal(r.stdout, "");
    } finally {
      await release();
    }
    // Once released, the same store vacuums fine.
    const ok = await musefs(["vacuum", "--db", db]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /reclaimed/);
    assert.equal(freelistCount(db), 0);
  });
}

Deno.test("vacuum of a file that is not a store: exit 1 naming the file, file untouched", async () => {
  using tmp = scratchDir("musefs-test-");
  const dir = tmp.path;
  const path = join(dir, "notes.db");
  const text = "these are not the pages you are looking for\n".repeat(200);
  await Deno.writeTextFile(path, text);
  const r = await musefs(["vacuum", "--db", path]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, new RegExp(`^musefs: ${path}: .*not a database\\n$`));
  assert.equal(await Deno.readTextFile(path), text);
});
