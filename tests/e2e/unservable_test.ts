// End to end: served files whose backing files went missing or changed behind
// the store's back. Each failure is answered with its errno (ENOENT, EIO) and
// warned about with the backing path and the reason, but a walk over many
// such files logs a bounded number of lines: each path once, at most ten
// paths per minute, then one line counting the rest (at the latest when the
// mount stops).

import assert from "node:assert/strict";
import { ensureFixtures } from "../fixtures/fixtures.ts";
import { listFiles, musefs, noFuse, owned, q, sh, withMount } from "./helpers.ts";

const CAP = 10;

/** Three copies of the fixtures (`a/`, `b/`, `c/`), scanned into one store. */
async function threeCopies() {
  const base = await Deno.realPath(await Deno.makeTempDir({ prefix: "musefs-unservable-" }));
  const lib = `${base}/lib`;
  const copies: Record<string, string[]> = { a: [], b: [], c: [] };
  for (const f of await ensureFixtures()) {
    for (const copy of Object.keys(copies)) {
      await Deno.mkdir(`${lib}/${copy}`, { recursive: true });
      const path = `${lib}/${copy}/${f.name}${f.ext}`;
      await Deno.copyFile(f.path, path);
      copies[copy].push(path);
    }
  }
  await Deno.mkdir(`${base}/mnt`);
  const db = `${base}/lib.db`;
  const r = await musefs(["scan", lib, "--db", db, "--quiet"]);
  assert.equal(r.code, 0, r.stderr);
  return owned({ base, lib, db, fixtures: new Map(), copies });
}

/** Read every served file once (errors ignored); the names that failed. */
async function walk(mnt: string): Promise<string[]> {
  const failed: string[] = [];
  for (const rel of await listFiles(mnt)) {
    const r = await sh(`cat ${q(`${mnt}/${rel}`)} > /dev/null`);
    if (r.code !== 0) failed.push(rel);
  }
  return failed;
}

Deno.test({
  name: "e2e: files that cannot be served are warned about by path, rate-limited",
  ignore: noFuse,
  async fn() {
    await using lib = await threeCopies();
    const mnt = `${lib.base}/mnt`;
    const missing = new Set(lib.copies.a);
    const changed = new Set(lib.copies.b);
    const broken = missing.size + changed.size;
    assert.ok(broken > 2 * CAP, `enough broken files to pass the cap (${broken})`);
    let stderr = "";
    await withMount(lib.db, mnt, [], async (m) => {
      for (const p of missing) await Deno.remove(p);
      for (const p of changed) {
        const f = await Deno.open(p, { append: true });
        await f.write(new Uint8Array([0]));
        f.close();
      }
      // Two full walks: every broken file fails each time, the healthy ones read.
      for (let round = 0; round < 2; round++) {
        assert.equal((await walk(mnt)).length, broken);
      }
      const during = m.log().split("\n").filter((l) => / WARN /.test(l));
      assert.equal(during.length, CAP, during.join("\n"));
      stderr = (await m.stop()).stderr;
    });

    const warns = stderr.split("\n").filter((l) => / WARN /.test(l));
    const named = warns.filter((l) => l.includes("cannot serve "));
    assert.equal(named.length, CAP, warns.join("\n"));
    const paths = new Set<string>();
    for (const line of named) {
      const path = /cannot serve (\S+) \(/.exec(line)![1];
      paths.add(path);
      if (missing.has(path)) assert.match(line, /\([A-Z]+ → ENOENT\): cannot open /, line);
      else if (changed.has(path)) {
        assert.match(line, /\([A-Z]+ → EIO\): backing file changed since it was scanned/, line);
      } else assert.fail(`a healthy file was named: ${line}`);
    }
    assert.equal(paths.size, CAP, "each path named once");
    // The rest, counted in one line at stop: at least what the cap held back
    // on the first walk plus the unnamed files again on the second.
    const rest = warns.filter((l) => !l.includes("cannot serve "));
    assert.equal(rest.length, 1, warns.join("\n"));
    const n = Number(/ (\d+) more file\(s\) that cannot be served/.exec(rest[0])?.[1]);
    assert.ok(n >= 2 * (broken - CAP), rest[0]);
  },
});
