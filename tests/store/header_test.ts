// The SQLite header reader against files SQLite itself wrote: user_version,
// WAL mode and the table list agree with what SQLite reports, a schema too
// big for page 1 answers null (the caller asks SQLite), anything else is not
// a database.

import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { readSqliteHeader } from "../../src/store/header.ts";

import { closing, scratchDir } from "../scratch.ts";

function tablesOf(path: string): string[] {
  using db = closing(new DatabaseSync(path, { readOnly: true }));
  return (db.prepare(
    "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite%' ORDER BY name",
  ).all() as { name: string }[]).map((r) => r.name);
}

Deno.test("the header reader agrees with SQLite on small and large schemas", () => {
  using tmp = scratchDir("musefs-store-test-");
  const dir = tmp.path;
  for (
    const [n, journal, version] of [[0, "delete", 0], [3, "wal", 7], [400, "wal", 2]] as const
  ) {
    const path = `${dir}/db-${n}.db`;
    const db = new DatabaseSync(path);
    db.exec(`PRAGMA journal_mode = ${journal}; PRAGMA user_version = ${version};`);
    db.exec("CREATE TABLE t (a INTEGER PRIMARY KEY AUTOINCREMENT, b)"); // + sqlite_sequence
    for (let i = 0; i < n; i++) {
      db.exec(`CREATE TABLE "x ${i}" (c TEXT, d BLOB); CREATE INDEX "i${i}" ON "x ${i}" (c)`);
    }
    db.close();
    const h = readSqliteHeader(path);
    assert.ok(h);
    assert.equal(h.userVersion, version);
    assert.equal(h.wal, journal === "wal");
    if (n < 100) assert.deepEqual(h.tables, tablesOf(path).sort());
    else assert.equal(h.tables, null, "sqlite_schema spans more than page 1");
  }
  Deno.writeTextFileSync(`${dir}/text.db`, "SQLite format 2\0".padEnd(200, "x"));
  assert.equal(readSqliteHeader(`${dir}/text.db`), null);
  Deno.writeTextFileSync(`${dir}/short.db`, "SQLite format 3\0");
  assert.equal(readSqliteHeader(`${dir}/short.db`), null);
});
