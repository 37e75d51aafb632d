// `--db` pointing at something that is not a musefs store: another program's
// database, a 0-byte file, a store of a newer schema. Every command refuses
// with a message naming what it found, and the file is left byte-identical
// (no WAL switch, no musefs tables added) — `mount --dry-run` included. Only
// `scan` may initialise a 0-byte file, which is a new empty store.

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { DatabaseSync } from "node:sqlite";
import { ensureFixtures } from "../fixtures/fixtures.ts";
import { musefs } from "./run_musefs.ts";
import { scratchDir } from "../scratch.ts";

function sha256(path: string): string {
  return createHash("sha256").update(Deno.readFileSync(path)).digest("hex");
}

/** Files in `dir`, sorted (to see that no -wal/-shm/-journal was left behind). */
function entries(dir: string): string[] {
  return [...Deno.readDirSync(dir)].map((e) => e.name).sort();
}

/** A database shaped like beets' library.db (user_version 0), in the given journal mode. */
function beetsLike(path: string, journal: "delete" | "wal"): void {
  const db = new DatabaseSync(path);
  db.exec(`PRAGMA journal_mode = ${journal};`);
  db.exec(`
    CREATE TABLE items (id INTEGER PRIMARY KEY, path BLOB, title TEXT, artist TEXT);
    CREATE TABLE albums (id INTEGER PRIMARY KEY, album TEXT, albumartist TEXT);
    CREATE TABLE item_attributes (id INTEGER PRIMARY KEY, entity_id INTEGER, key TEXT, value TEXT);
    INSERT INTO items (path, title, artist) VALUES (X'2F6D75736963', 'Song', 'Artist');`);
  db.close();
}

async function withDir(fn: (dir: string, music: string) => Promise<void>): Promise<void> {
  using tmp = scratchDir("musefs-foreign-");
  const dir = tmp.path;
  const music = `${dir}/music`;
  await Deno.mkdir(music);
  const [flac] = await ensureFixtures();
  await Deno.copyFile(flac.path, `${music}/a${flac.ext}`);
  await fn(dir, music);
}

/** Every command on `db`, each refused (exit 1) with `message`, the file untouched. */
async function allRefuse(dir: string, music: string, db: string, message: RegExp, scan = true) {
  const before = sha256(db);
  const listing = entries(dir);
  const runs = [
    ["mount", "--dry-run", "--db", db],
    ["mount", `${dir}/mnt`, "--db", db],
    ["revalidate", music, "--db", db],
    ["revalidate", music, "--db", db, "--prune"],
    ["vacuum", "--db", db],
    ...(scan ? [["scan", music, "--db", db]] : []),
  ];
  for (const args of runs) {
    const r = await musefs(args);
    assert.equal(r.code, 1, `${args.join(" ")}: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, message, args.join(" "));
    assert.equal(sha256(db), before, `${args.join(" ")} modified ${db}`);
    assert.deepEqual(entries(dir), listing, `${args.join(" ")} left files behind`);
  }
}

for (const journal of ["delete", "wal"] as const) {
  Deno.test(`another program's database (${journal} journal) is refused by every command and left byte-identical`, async () => {
    await withDir(async (dir, music) => {
      const db = `${dir}/library.db`;
      beetsLike(db, journal);
      await Deno.mkdir(`${dir}/mnt`);
      await allRefuse(
        dir,
        music,
        db,
        /library\.db is not a musefs store: it looks like a beets library \(tables: albums, item_attributes, items\)/,
      );
    });
  });
}

Deno.test("a 0-byte file: mount, revalidate and vacuum refuse it; scan makes it a store", async () => {
  await withDir(async (dir, music) => {
    const db = `${dir}/empty.db`;
    Deno.writeFileSync(db, new Uint8Array());
    await Deno.mkdir(`${dir}/mnt`);
    await allRefuse(
      dir,
      music,
      db,
      /empty\.db is empty, not a musefs store; run `musefs scan/,
      false,
    );
    const r = await musefs(["scan", music, "--db", db, "--quiet"]);
    assert.equal(r.code, 0, r.stderr);
    const dry = await musefs(["mount", "--dry-run", "--db", db]);
    assert.equal(dry.code, 0, dry.stderr);
  });
});

Deno.test("a store of a newer schema version is refused without being modified", async () => {
  await withDir(async (dir, music) => {
    const db = `${dir}/lib.db`;
    const r = await musefs(["scan", music, "--db", db, "--quiet"]);
    assert.equal(r.code, 0, r.stderr);
    // Still in WAL mode: looking at it must not leave -wal/-shm files behind either.
    const conn = new DatabaseSync(db);
    conn.exec("PRAGMA user_version = 3;");
    conn.close();
    await Deno.mkdir(`${dir}/mnt`);
    await allRefuse(dir, music, db, /store schema version 3 is newer than this musefs build/);
  });
});
