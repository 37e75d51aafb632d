// End to end: a store with hostile rows, crafted with the sqlite3 CLI, served
// by a real mount. A track id past 2^53 does not stop the mount; a tag over
// the cap written with checks off hides one track while later edits keep
// arriving; changelog seqs past 2^53 do not stall the refresh; a directory
// named .musefs-metrics cannot shadow the metrics directory; and
// `musefs vacuum` refuses the store while the mount serves it.

import assert from "node:assert/strict";
import {
  eventually,
  listFiles,
  musefs,
  noFuse,
  scannedLibrary,
  sqlWrite,
  tracks,
  withMount,
} from "./helpers.ts";

const BIG_ID = "1152921504606846976"; // 2^60
const BIG_SEQ = "4611686018427387904"; // 2^62

Deno.test({
  name: "e2e: hostile rows never take the mount down; vacuum refuses a served store",
  ignore: noFuse,
  async fn() {
    await using lib = await scannedLibrary("musefs-hostile-");
    const mnt = `${lib.base}/mnt`;
    const db = lib.db;
    const ids = tracks(db).map((t) => t.id);
    const [first, second, third] = ids;
    // Every track at artist A<id>/title T<id>; the first under the reserved name.
    await sqlWrite(
      db,
      `DELETE FROM tags WHERE key IN ('artist', 'title');
       INSERT INTO tags (track_id, key, value) SELECT id, 'artist', 'A' || id FROM tracks;
       INSERT INTO tags (track_id, key, value) SELECT id, 'title', 'T' || id FROM tracks;
       UPDATE tags SET value = '.musefs-metrics' WHERE track_id = ${first} AND key = 'artist';
       INSERT INTO tracks (id, backing_path, format, audio_offset, audio_length, backing_size,
                           backing_mtime_ns, backing_ctime_ns, updated_at)
         SELECT ${BIG_ID}, backing_path || '.big', format, audio_offset, audio_length,
                backing_size, backing_mtime_ns, backing_ctime_ns, updated_at
         FROM tracks WHERE id = ${first};`,
    );
    const flags = [
      "--template",
      "$artist/$title",
      "--expose-metrics",
      "--poll-interval-ms",
      "100",
    ];
    await withMount(db, mnt, flags, async (m) => {
      assert.match(m.log(), new RegExp(`track ${BIG_ID} is hidden: its id`));
      const files = await listFiles(mnt);
      assert.equal(files.length, ids.length, files.join("\n"));
      const reserved = files.find((f) => f.startsWith(".musefs-metrics (2)/T"));
      assert.ok(reserved, files.join("\n"));
      assert.ok((await Deno.readFile(`${mnt}/${reserved}`)).length > 0);
      const metrics = await Deno.readTextFile(`${mnt}/.musefs-metrics/metrics`);
      assert.match(metrics, /^musefs_tracks_unavailable 1$/m);

      // vacuum while mounted: refused, naming the mount's process.
      const vac = await musefs(["vacuum", "--db", db]);
      assert.equal(vac.code, 1, vac.stdout);
      assert.match(vac.stderr, /the store is in use — unmount the filesystem/);
      assert.match(vac.stderr, new RegExp(`open in process ${m.child.pid}: .*mount`));

      // A directory may vanish mid-walk while the mount follows an edit: try again then.
      const has = async (prefix: string) =>
        (await listFiles(mnt).catch(() => [] as string[])).some((f) => f.startsWith(prefix));
      // A title over the cap, written with checks off: that track goes, the rest follow edits.
      await sqlWrite(
        db,
        `PRAGMA ignore_check_constraints = ON;
         UPDATE tags SET value = printf('%.300000c', 'x')
           WHERE track_id = ${second} AND key = 'title';
         UPDATE tags SET value = 'T${third}b' WHERE track_id = ${third} AND key = 'title';`,
      );
      assert.ok(await eventually(() => has(`A${third}/T${third}b.`)), "later edit seen");
      assert.equal(await has(`A${second}/`), false, "the unreadable track is hidden");
      // Changelog seqs past 2^53 (AUTOINCREMENT continues from there).
      await sqlWrite(
        db,
        `INSERT INTO track_changes (seq, track_id) VALUES (${BIG_SEQ}, ${third});
         UPDATE tags SET value = 'T${third}c' WHERE track_id = ${third} AND key = 'title';`,
      );
      assert.ok(await eventually(() => has(`A${third}/T${third}c.`)), "edit after a huge seq");
      await sqlWrite(
        db,
        `UPDATE tags SET value = 'T${third}d' WHERE track_id = ${third} AND key = 'title';`,
      );
      assert.ok(await eventually(() => has(`A${third}/T${third}d.`)), "and the one after");
      // Repaired by the writer: the hidden track is back.
      await sqlWrite(
        db,
        `UPDATE tags SET value = 'fixed' WHERE track_id = ${second} AND key = 'title';`,
      );
      assert.ok(await eventually(() => has(`A${second}/fixed.`)), "repaired track back");
      const log = m.log();
      assert.equal(log.split(`track ${second} is hidden`).length - 1, 1, log);
      assert.doesNotMatch(log, /refresh failed/);
    });
    // Unmounted: the same store vacuums.
    const vac = await musefs(["vacuum", "--db", db]);
    assert.equal(vac.code, 0, vac.stderr);
  },
});
