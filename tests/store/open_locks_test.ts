// Opening a second connection to a store this process already has open must
// not drop the first one's locks. (POSIX locks belong to the process: opening
// and closing the file outside SQLite, to look at its header, releases them
// all, and the next external writer then believes it is the last connection,
// checkpoints and deletes the WAL under us — the mount stops seeing edits.)

import assert from "node:assert/strict";
import { openStore } from "../../src/store/mod.ts";
import { addTrack } from "./helpers.ts";
import { scratchDir } from "../scratch.ts";

async function sqlite3(db: string, sql: string): Promise<void> {
  const out = await new Deno.Command("sqlite3", { args: ["-bail", db, sql] }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
}

Deno.test("a second open keeps the first connection's locks: external writers leave the WAL alone", async () => {
  using tmp = scratchDir("musefs-store-test-");
  const dir = tmp.path;
  const path = `${dir}/lib.db`;
  const rw = openStore(path, { mode: "rw", create: true });
  const id = addTrack(rw, 1);
  rw.close();
  using poll = openStore(path, { mode: "ro" });
  using serve = openStore(path, { mode: "ro", foreignKeyCheck: false });
  const before = poll.dataVersion();
  poll.get("SELECT count(*) FROM tracks"); // a read maps the WAL index
  await sqlite3(path, `UPDATE tracks SET updated_at = 42 WHERE id = ${id}`);
  const exists = (p: string) => {
    try {
      Deno.statSync(p);
      return true;
    } catch {
      return false;
    }
  };
  assert.ok(
    exists(`${path}-wal`),
    "the external writer deleted the WAL under open connections",
  );
  assert.ok(exists(`${path}-shm`));
  assert.notEqual(poll.dataVersion(), before, "the commit is seen");
  const row = serve.get<{ updated_at: number }>(
    "SELECT updated_at FROM tracks WHERE id = ?",
    id,
  );
  assert.equal(row?.updated_at, 42);
});
