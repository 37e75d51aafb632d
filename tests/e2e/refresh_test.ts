// End to end: another program edits the store while it is mounted (the
// sqlite3 CLI as the external writer) and the mount follows — new titles and
// paths, deleted tracks gone, and colliding names re-ranked with the right
// bytes under each name even when the kernel had the old bytes cached.

import assert from "node:assert/strict";
import { mutagenTags } from "../fixtures/fixtures.ts";
import {
  eventually,
  expectedFiles,
  listFiles,
  noFuse,
  readOrErrno,
  sanitize,
  scannedLibrary,
  sqlWrite,
  textTags,
  type TrackRow,
  tracks,
  withMount,
} from "./helpers.ts";

const DIR = "Various Ärtists/Älbum of Fixtures";
const TITLE = "Ça va — 東京 ♫";
const TITLE_BYTES = new TextEncoder().encode(TITLE).length;

function defaultStem(db: string) {
  return (t: TrackRow) =>
    ["albumartist", "album", "title"].map((k) =>
      sanitize(textTags(db, t.id).get(k)?.[0] || "Unknown")
    ).join("/");
}

async function statOrErrno(path: string): Promise<Deno.FileInfo | string> {
  try {
    return await Deno.stat(path);
  } catch (e) {
    return (e as { code?: string }).code ?? (e as Error).name;
  }
}

function sameBytes(a: Uint8Array | string, b: Uint8Array): boolean {
  return typeof a !== "string" && a.length === b.length && a.every((v, i) => v === b[i]);
}

Deno.test({
  name: "e2e: SQL edits while mounted: retitle, delete, collision re-rank",
  ignore: noFuse,
  async fn(t) {
    await using lib = await scannedLibrary();
    const mnt = `${lib.base}/mnt`;
    const db = lib.db;
    const rows = tracks(db);
    const ofFormat = (f: string) => rows.filter((r) => r.format === f).map((r) => r.id);
    /** The tree the store describes right now equals the mount's, eventually. */
    const treeFollowsStore = async () => {
      let want: string[] = [];
      const ok = await eventually(async () => {
        want = [...expectedFiles(tracks(db), defaultStem(db)).keys()].sort();
        const got = await listFiles(mnt);
        return got.join("\n") === want.join("\n");
      });
      assert.deepEqual(await listFiles(mnt), want, `tree follows the store (${ok})`);
    };
    await withMount(db, mnt, ["--poll-interval-ms", "100", "--attr-ttl-ms", "0"], async () => {
      await treeFollowsStore();

      await t.step("a retitled track shows its new title under its new path", async () => {
        const [opus] = ofFormat("opus");
        const before = await Deno.readFile(`${mnt}/${DIR}/${TITLE}.opus`); // cache it
        await sqlWrite(
          db,
          `UPDATE tags SET value = 'Retitled' WHERE track_id = ${opus} AND key = 'title';`,
        );
        const moved = `${mnt}/${DIR}/Retitled.opus`;
        assert.ok(
          await eventually(async () => (await readOrErrno(moved)) instanceof Uint8Array),
          "the new name appears",
        );
        assert.equal(await readOrErrno(`${mnt}/${DIR}/${TITLE}.opus`), "ENOENT", "old name gone");
        assert.equal((await mutagenTags(moved)).normalized.title, "Retitled");
        assert.notEqual((await Deno.readFile(moved)).length, 0);
        assert.ok(
          !sameBytes(await Deno.readFile(moved), before),
          "new bytes, not the cached ones",
        );
        await treeFollowsStore();
      });

      await t.step("a deleted track disappears", async () => {
        const [wav] = ofFormat("wav");
        await sqlWrite(db, `DELETE FROM tracks WHERE id = ${wav};`);
        const gone = `${mnt}/${DIR}/${TITLE}.wav`;
        assert.ok(await eventually(async () => (await readOrErrno(gone)) === "ENOENT"));
        await treeFollowsStore();
      });

      await t.step("retitling the lower id of a collision re-ranks the survivor", async () => {
        const [low, high] = ofFormat("flac").sort((a, b) => a - b);
        assert.ok(low < high);
        const bare = `${mnt}/${DIR}/${TITLE}.flac`;
        const second = `${mnt}/${DIR}/${TITLE} (2).flac`;
        const lowBytes = await Deno.readFile(bare); // now in the kernel's page cache
        const highBytes = await Deno.readFile(second);
        assert.ok(!sameBytes(lowBytes, highBytes), "the two tracks serve different bytes");
        await sqlWrite(
          db,
          `UPDATE tags SET value = 'Moved Away' WHERE track_id = ${low} AND key = 'title';`,
        );
        const moved = `${mnt}/${DIR}/Moved Away.flac`;
        assert.ok(await eventually(async () => (await readOrErrno(moved)) instanceof Uint8Array));
        assert.equal(await readOrErrno(second), "ENOENT", "the (2) name is gone");
        const now = await readOrErrno(bare);
        assert.ok(sameBytes(now, highBytes), "the bare name serves the survivor's bytes");
        assert.equal((await Deno.stat(bare)).size, highBytes.length);
        const movedTags = await mutagenTags(moved);
        assert.equal(movedTags.normalized.title, "Moved Away");
        await treeFollowsStore();
      });

      await t.step("deleting the lower id of a collision re-ranks the survivor", async () => {
        const ids = ofFormat("mp3").sort((a, b) => a - b);
        const [low, high] = ids;
        assert.ok(low < high);
        const bare = `${mnt}/${DIR}/${TITLE}.mp3`;
        const second = `${mnt}/${DIR}/${TITLE} (2).mp3`;
        // Every MP3 fixture collides: after the delete, the last suffix is the one to go.
        const last = `${mnt}/${DIR}/${TITLE} (${ids.length}).mp3`;
        const lowBytes = await Deno.readFile(bare);
        const highBytes = await Deno.readFile(second);
        assert.ok(!sameBytes(lowBytes, highBytes));
        await sqlWrite(db, `DELETE FROM tracks WHERE id = ${low};`);
        assert.ok(await eventually(async () => (await readOrErrno(last)) === "ENOENT"));
        const now = await readOrErrno(bare);
        assert.ok(sameBytes(now, highBytes), "the bare name serves the survivor's bytes");
        assert.equal((await Deno.stat(bare)).size, highBytes.length);
        await treeFollowsStore();
      });
    });

    // With a long entry/attr TTL the kernel keeps names, sizes and pages it has
    // seen: only the mount's invalidation notices can make a re-rank visible.
    // The two M4A fixtures synthesize to equal bytes; a comment tells them apart.
    const m4a = rows.filter((r) => r.format === "m4a" && r.backing_path.endsWith(".m4a"));
    const [low, high] = m4a.map((r) => r.id).sort((a, b) => a - b);
    await sqlWrite(
      db,
      `UPDATE tags SET value = 'the other one' WHERE track_id = ${high} AND key = 'comment';`,
    );
    await withMount(
      db,
      mnt,
      ["--poll-interval-ms", "100", "--attr-ttl-ms", "60000"],
      async () => {
        await t.step(
          "a re-rank under a long TTL invalidates cached names and pages",
          async () => {
            const bare = `${mnt}/${DIR}/${TITLE}.m4a`;
            const second = `${mnt}/${DIR}/${TITLE} (2).m4a`;
            const lowBytes = await Deno.readFile(bare);
            const highBytes = await Deno.readFile(second);
            assert.ok(!sameBytes(lowBytes, highBytes));
            await Deno.stat(bare); // attributes cached too
            await sqlWrite(
              db,
              `UPDATE tags SET value = 'Elsewhere' WHERE track_id = ${low} AND key = 'title';`,
            );
            // Nothing here sends the mount a request: names and attributes are cached
            // for 60 s. Only the mount's own poll timer and its invalidation notices
            // can make the change visible.
            assert.ok(
              await eventually(async () => (await statOrErrno(second)) === "ENOENT"),
              "the cached (2) entry was invalidated",
            );
            const survivor = await statOrErrno(bare);
            assert.ok(typeof survivor !== "string", `stat ${bare}: ${survivor}`);
            assert.equal(survivor.size, highBytes.length, "cached attributes invalidated");
            assert.ok(sameBytes(await readOrErrno(bare), highBytes), "cached pages invalidated");
            assert.ok((await listFiles(mnt)).includes(`${DIR}/Elsewhere.m4a`));
            const moved = await readOrErrno(`${mnt}/${DIR}/Elsewhere.m4a`);
            assert.ok(moved instanceof Uint8Array);
            assert.equal(moved.length, lowBytes.length + "Elsewhere".length - TITLE_BYTES);
          },
        );
      },
    );
  },
});
