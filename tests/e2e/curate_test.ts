// `musefs show | tag | art | status` against a real mount of the scanned
// fixtures: selection through the mount's read-only xattrs (no --db), edits
// that the mount follows (mutagen reads the new value, the path moves),
// dry runs that leave the store's bytes alone, an exact export/import round
// trip, content-addressed art, and the error paths that must change nothing.

import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { ensureFixtures } from "../fixtures/fixtures.ts";
import { mutagenTags, sha256Hex } from "../fixtures/tools.ts";
import {
  artRows,
  eventually,
  type Library,
  listFiles,
  musefs,
  noFuse,
  q,
  query,
  scannedLibrary,
  sh,
  textTags,
  tracks,
  withMount,
} from "./helpers.ts";

const POLL = ["--poll-interval-ms", "100", "--attr-ttl-ms", "0"];

/**
 * The store's bytes (database and write-ahead log), hashed: what a dry run
 * must leave as it was. An empty log is the same as none (any reader of a
 * WAL store may create one).
 */
async function storeDigest(db: string): Promise<string> {
  const parts: string[] = [];
  for (const suffix of ["", "-wal"]) {
    const bytes = await Deno.readFile(db + suffix).catch(() => new Uint8Array(0));
    parts.push(bytes.length === 0 ? "empty" : await sha256Hex(bytes));
  }
  return parts.join(",");
}

function versions(db: string): Map<number, number> {
  return new Map(tracks(db).map((t) => [t.id, t.content_version]));
}

async function servedFileOf(mnt: string, lib: Library, backingName: string): Promise<string> {
  for (const rel of await listFiles(mnt)) {
    const f = `${mnt}/${rel}`;
    const r = await sh(`getfattr --only-values -n user.musefs.backing_path ${q(f)}`);
    if (r.stdout === `${lib.lib}/${backingName}`) return f;
  }
  throw new Error(`no served file for ${backingName}`);
}

/** Checks a `show --json` object against the shape docs/cli.md documents. */
function assertShownShape(o: Record<string, unknown>): void {
  assert.deepEqual(Object.keys(o).sort(), [
    "art",
    "backing_path",
    "binary_tags",
    "content_version",
    "format",
    "id",
    "served_paths",
    "tags",
    "updated_at",
  ]);
  assert.ok(Number.isSafeInteger(o.id));
  assert.deepEqual(typeof o.backing_path, "string");
  assert.deepEqual(typeof o.format, "string");
  assert.ok(Array.isArray(o.served_paths) && o.served_paths.every((p) => typeof p === "string"));
  assert.ok(Number.isSafeInteger(o.content_version) && Number.isSafeInteger(o.updated_at));
  for (const values of Object.values(o.tags as Record<string, unknown>)) {
    assert.ok(Array.isArray(values) && values.every((v) => typeof v === "string"));
  }
  for (const b of o.binary_tags as Record<string, unknown>[]) {
    assert.deepEqual(Object.keys(b).sort(), ["key", "ordinal", "sha256", "size"]);
    assert.match(b.sha256 as string, /^[0-9a-f]{64}$/);
  }
  for (const a of o.art as Record<string, unknown>[]) {
    assert.deepEqual(Object.keys(a).sort(), [
      "description",
      "height",
      "mime",
      "ordinal",
      "picture_type",
      "picture_type_name",
      "sha256",
      "size",
      "width",
    ]);
    assert.match(a.sha256 as string, /^[0-9a-f]{64}$/);
  }
}

Deno.test({
  name: "curate: xattrs select through the mount; show, tag, art edits are followed",
  ignore: noFuse,
  sanitizeResources: false,
  async fn() {
    await using lib = await scannedLibrary("musefs-curate-");
    await withMount(lib.db, `${lib.base}/mnt`, POLL, async (m) => {
      const mnt = m.mountpoint;
      const flac = await servedFileOf(mnt, lib, "flac.flac");
      const flacId = tracks(lib.db).find((t) => t.backing_path === `${lib.lib}/flac.flac`)!.id;

      // Read-only xattrs, listed by getfattr -d; setting one is refused.
      const dump = await sh(`getfattr -d ${q(flac)}`);
      assert.match(dump.stdout, new RegExp(`user\\.musefs\\.track_id="${flacId}"`));
      assert.match(dump.stdout, /user\.musefs\.store=".*lib\.db"/);
      assert.match(dump.stdout, /user\.musefs\.backing_path=".*flac\.flac"/);
      const root = await sh(`getfattr -d ${q(mnt)}`);
      assert.match(root.stdout, /user\.musefs\.status=/);
      assert.notEqual((await sh(`setfattr -n user.x -v 1 ${q(flac)}`)).code, 0);

      // show through the mount needs no --db; --json has the documented shape.
      const shown = await musefs(["show", flac, "--json"]);
      assert.deepEqual(shown.code, 0, shown.stderr);
      const obj = JSON.parse(shown.stdout);
      assertShownShape(obj);
      assert.deepEqual(obj.id, flacId);
      assert.deepEqual(obj.served_paths, [flac]);
      const text = await musefs(["show", "--db", lib.db, "--track", String(flacId)]);
      assert.deepEqual(text.code, 0, text.stderr);
      assert.match(text.stdout, /backing path +.*flac\.flac/);

      // A dry run writes nothing: the store's bytes stay as they were.
      const before = await storeDigest(lib.db);
      const dry = await musefs(["tag", flac, "--set", "title=Dry", "--dry-run"]);
      assert.deepEqual(dry.code, 0, dry.stderr);
      assert.match(dry.stdout, /\+ title = "Dry"/);
      assert.deepEqual(await storeDigest(lib.db), before);

      // An edit through the mount path: the served file's tags and name follow.
      const edit = await musefs([
        "tag",
        flac,
        "--set",
        "TITLE=Curated Title",
        "--add",
        "artist=Guest",
      ]);
      assert.deepEqual(edit.code, 0, edit.stderr);
      assert.deepEqual(textTags(lib.db, flacId).get("title"), ["Curated Title"]);
      const moved = `${flac.slice(0, flac.lastIndexOf("/"))}/Curated Title.flac`;
      assert.ok(
        await eventually(
          async () => (await listFiles(mnt)).includes(moved.slice(mnt.length + 1)),
          5000,
        ),
        `the served path did not move to ${moved}`,
      );
      const seen = await mutagenTags(moved);
      assert.deepEqual(seen.normalized.title, "Curated Title");
      assert.deepEqual(seen.normalized.artist.at(-1), "Guest");

      // --rm KEY=VALUE removes one value; keys match in any case.
      const rm = await musefs(["tag", moved, "--rm", "ARTIST=Guest"]);
      assert.deepEqual(rm.code, 0, rm.stderr);
      assert.ok(!(textTags(lib.db, flacId).get("artist") ?? []).includes("Guest"));

      // art --set: content-addressed (one row for many tracks), mime from the bytes.
      const [cover] = (await ensureFixtures()).map((f) => f.path.replace(/[^/]+$/, "cover.jpg"));
      const set = await musefs([
        "art",
        "--db",
        lib.db,
        "--where",
        "album~fixtures",
        "--set",
        cover,
        "--type",
        "back",
        "--yes",
      ]);
      assert.deepEqual(set.code, 0, set.stderr);
      const coverSha = await sha256Hex(await Deno.readFile(cover));
      assert.deepEqual(
        query<{ n: number }>(
          lib.db,
          "SELECT count(*) AS n FROM art WHERE sha256 = ?",
          coverSha,
        )[0].n,
        1,
      );
      assert.ok(
        artRows(lib.db, flacId).some((a) => a.sha256 === coverSha && a.picture_type === 4),
      );
      assert.ok(
        await eventually(async () =>
          (await mutagenTags(moved)).normalized.pictures.some((p) =>
            p.sha256 === coverSha && p.type === 4
          )
        ),
        "mutagen does not see the new back cover",
      );
      // --extract writes the same bytes back out.
      const out = `${lib.base}/extract`;
      const ex = await musefs(["art", moved, "--extract", out]);
      assert.deepEqual(ex.code, 0, ex.stderr);
      const extracted = ex.stdout.trim().split("\n").find((p) => p.includes("-back."))!;
      assert.deepEqual(await sha256Hex(await Deno.readFile(extracted)), coverSha);
      // --rm --type back unlinks only that type.
      const unlink = await musefs(["art", moved, "--rm", "--type", "back"]);
      assert.deepEqual(unlink.code, 0, unlink.stderr);
      assert.ok(!artRows(lib.db, flacId).some((a) => a.picture_type === 4));
      assert.ok(artRows(lib.db, flacId).some((a) => a.picture_type === 3));

      // status lists this mount, read from the mount itself.
      const st = await musefs(["status", "--json"]);
      assert.deepEqual(st.code, 0, st.stderr);
      const mine = st.stdout.trim().split("\n").map((l) => JSON.parse(l)).find((r) =>
        r.mountpoint === mnt
      );
      assert.ok(mine, `status does not list ${mnt}: ${st.stdout}`);
      assert.deepEqual(mine.answering, true);
      assert.deepEqual(mine.store, lib.db);
      assert.deepEqual(mine.mode, "synthesis");
      assert.deepEqual(mine.pid, m.child.pid);
      assert.deepEqual(mine.tracks, tracks(lib.db).length);
    });
  },
});

Deno.test({
  name: "curate: tag export → import round-trips exactly; an edited export applies",
  async fn() {
    await using lib = await scannedLibrary("musefs-curate-");
    const file = `${lib.base}/tags.json`;
    const ex = await musefs(["tag", "export", lib.lib, "--db", lib.db]);
    assert.deepEqual(ex.code, 0, ex.stderr);
    await Deno.writeTextFile(file, ex.stdout);
    const v0 = versions(lib.db);
    const digest = await storeDigest(lib.db);
    const im = await musefs(["tag", "import", file]);
    assert.deepEqual(im.code, 0, im.stderr);
    assert.match(im.stdout, /0 tracks changed/);
    assert.deepEqual(versions(lib.db), v0, "an unchanged import moved content_version");
    assert.deepEqual(await storeDigest(lib.db), digest);

    const data = JSON.parse(ex.stdout);
    data.tracks[0].tags.genre = ["Imported", "Second"];
    await Deno.writeTextFile(file, JSON.stringify(data));
    const dry = await musefs(["tag", "import", file, "--dry-run"]);
    assert.deepEqual(dry.code, 0, dry.stderr);
    assert.deepEqual(await storeDigest(lib.db), digest);
    const apply = await musefs(["tag", "import", file]);
    assert.deepEqual(apply.code, 0, apply.stderr);
    assert.match(apply.stdout, /1 tracks changed/);
    assert.deepEqual(textTags(lib.db, data.tracks[0].id).get("genre"), ["Imported", "Second"]);
    // Re-exporting gives back exactly the imported file's tags.
    const again = JSON.parse((await musefs(["tag", "export", lib.lib, "--db", lib.db])).stdout);
    assert.deepEqual(again.tracks, data.tracks);
  },
});

Deno.test({
  name: "curate: bad input is named and changes nothing",
  async fn() {
    await using lib = await scannedLibrary("musefs-curate-");
    const digest = await storeDigest(lib.db);
    const cases: [string[], RegExp][] = [
      [["show", "--db", lib.db, "--track", "999999"], /unknown track 999999/],
      [["show", "/etc"], /lies inside a live musefs mount; give --db/],
      [["show", "--db", lib.db, "/etc"], /\/etc: not inside a musefs mount, and no track/],
      [["tag", "--db", lib.db, "--track", "1", "--set", "bad\u0001key=x"], /control character/],
      [["tag", "--db", lib.db, "--track", "1", "--set", `${"k".repeat(257)}=x`], /over 256/],
      [["art", "--db", lib.db, "--track", "1", "--set", "/etc/hostname"], /is not an image/],
      [["show"], /nothing selected/],
      [["art", "--db", lib.db, "--track", "1"], /exactly one of --set/],
    ];
    for (const [args, message] of cases) {
      const r = await musefs(args);
      assert.notEqual(r.code, 0, args.join(" "));
      assert.match(r.stderr, message, args.join(" "));
    }
    // An image over the store's limit is refused with the limit named.
    const big = `${lib.base}/big.jpg`;
    const f = await Deno.open(big, { create: true, write: true });
    await f.write(new Uint8Array([0xff, 0xd8, 0xff, 0xe0]));
    await f.truncate(16_711_681);
    f.close();
    const r = await musefs(["art", "--db", lib.db, "--track", "1", "--set", big]);
    assert.deepEqual(r.code, 1);
    assert.match(r.stderr, /over the store's limit of 16711680 bytes/);
    assert.deepEqual(await storeDigest(lib.db), digest);
  },
});

Deno.test({
  name: "curate: a large selection needs --yes; a locked store names its holder",
  async fn() {
    await using lib = await scannedLibrary("musefs-curate-");
    // 1100 extra tracks (rows only) sharing a tag.
    const conn = new DatabaseSync(lib.db);
    conn.exec("BEGIN");
    const ins = conn.prepare(
      `INSERT INTO tracks (backing_path, format, audio_offset, audio_length, backing_size,
         backing_mtime_ns, updated_at) VALUES (?, 'flac', 0, 1, 1, 0, 0)`,
    );
    const tag = conn.prepare(
      "INSERT INTO tags (track_id, key, value) VALUES (?, 'grouping', 'bulk')",
    );
    for (let i = 0; i < 1100; i++) tag.run(ins.run(`/nowhere/${i}.flac`).lastInsertRowid);
    conn.exec("COMMIT");
    conn.close();
    const bulkSet = ["tag", "--db", lib.db, "--where", "grouping=bulk", "--set", "genre=x"];
    const genreX = () =>
      query<{ n: number }>(
        lib.db,
        "SELECT count(*) AS n FROM tags WHERE key='genre' AND value='x'",
      )[0]
        .n;
    const many = await musefs(bulkSet);
    assert.deepEqual(many.code, 1);
    assert.match(many.stderr, /1100 tracks selected; add --yes/);
    assert.equal(genreX(), 0);
    const yes = await musefs([...bulkSet, "--yes"]);
    assert.deepEqual(yes.code, 0, yes.stderr);
    assert.equal(genreX(), 1100);

    // Another writer holds the write lock: wait the busy timeout, then say who.
    const holder = new Deno.Command("/usr/bin/python3", {
      args: [
        "-c",
        `import sqlite3,sys,time
c=sqlite3.connect(sys.argv[1], isolation_level=None); c.execute("BEGIN IMMEDIATE")
print("locked", flush=True); time.sleep(30)`,
        lib.db,
      ],
      stdout: "piped",
      stderr: "null",
    }).spawn();
    const reader = holder.stdout.getReader();
    await reader.read();
    try {
      const locked = await musefs(["tag", "--db", lib.db, "--track", "1", "--set", "genre=y"]);
      assert.deepEqual(locked.code, 1);
      assert.match(
        locked.stderr,
        new RegExp(`locked by another writer.*pid ${holder.pid} \\(python3\\)`),
      );
    } finally {
      holder.kill("SIGKILL");
      await holder.status;
      reader.releaseLock();
      await holder.stdout.cancel();
    }
  },
});
