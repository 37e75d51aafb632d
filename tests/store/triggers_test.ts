// One test per trigger of the store contract (docs/store.md), on a store created by openStore.

import assert from "node:assert/strict";
import { CHANGELOG_CAP, changelogBounds, type Store } from "../../src/store/mod.ts";
import { addTrack, versionOf, withTrackAndArt } from "./helpers.ts";

/** Reset content_version and updated_at to 0 so a bump and a touch are both visible. */
function reset(store: Store, id: number): void {
  store.db.prepare("UPDATE tracks SET content_version = 0, updated_at = 0 WHERE id = ?").run(id);
}

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/** Assert `action` bumps content_version by exactly one and (when `touch`) stamps updated_at now. */
function assertBump(store: Store, id: number, action: () => void, touch: boolean): void {
  reset(store, id);
  const before = nowSeconds();
  action();
  const after = versionOf(store, id);
  assert.equal(after.cv, 1, "content_version bumped once");
  if (touch) {
    assert.ok(after.at >= before && after.at <= nowSeconds() + 1, `updated_at ${after.at} is now`);
  } else {
    assert.equal(after.at, 0, "updated_at untouched");
  }
}

function exec(store: Store, sql: string, ...params: (string | number)[]): void {
  store.db.prepare(sql).run(...params);
}

const TAG = "INSERT INTO tags (track_id, key, value) VALUES (?, 'title', 'x')";
const LINK = "INSERT INTO track_art (track_id, art_id) VALUES (?, 1)";
const BLOCK =
  "INSERT INTO structural_blocks (track_id, kind, body) VALUES (?, 'STREAMINFO', x'00')";

Deno.test(
  "tags_ai bumps content_version and updated_at",
  withTrackAndArt((s, id) => {
    assertBump(s, id, () => exec(s, TAG, id), true);
  }),
);

Deno.test(
  "tags_au bumps content_version and updated_at",
  withTrackAndArt((s, id) => {
    exec(s, TAG, id);
    assertBump(s, id, () => exec(s, "UPDATE tags SET value = 'y' WHERE track_id = ?", id), true);
  }),
);

Deno.test(
  "tags_ad bumps content_version and updated_at",
  withTrackAndArt((s, id) => {
    exec(s, TAG, id);
    assertBump(s, id, () => exec(s, "DELETE FROM tags WHERE track_id = ?", id), true);
  }),
);

Deno.test(
  "tag triggers bump only the owning track",
  withTrackAndArt((s, id) => {
    const other = addTrack(s, 2);
    reset(s, other);
    exec(s, TAG, id);
    assert.equal(versionOf(s, other).cv, 0);
  }),
);

Deno.test(
  "track_art_ai bumps content_version and updated_at",
  withTrackAndArt((s, id) => {
    assertBump(s, id, () => exec(s, LINK, id), true);
  }),
);

Deno.test(
  "track_art_au bumps content_version and updated_at",
  withTrackAndArt((s, id) => {
    exec(s, LINK, id);
    assertBump(
      s,
      id,
      () => exec(s, "UPDATE track_art SET description = 'd' WHERE track_id = ?", id),
      true,
    );
  }),
);

Deno.test(
  "track_art_ad bumps content_version and updated_at",
  withTrackAndArt((s, id) => {
    exec(s, LINK, id);
    assertBump(s, id, () => exec(s, "DELETE FROM track_art WHERE track_id = ?", id), true);
  }),
);

function changelog(store: Store): { seq: number; track_id: number }[] {
  return store.db.prepare("SELECT seq, track_id FROM track_changes ORDER BY seq").all() as {
    seq: number;
    track_id: number;
  }[];
}

Deno.test(
  "tracks_changelog_ai appends the new track id",
  withTrackAndArt((s) => {
    const before = changelog(s).length;
    const id2 = addTrack(s, 2);
    const rows = changelog(s);
    assert.equal(rows.length, before + 1);
    assert.equal(rows.at(-1)!.track_id, id2);
  }),
);

Deno.test(
  "tracks_changelog_au appends on any update (even ctime only)",
  withTrackAndArt((s, id) => {
    const before = changelog(s).length;
    exec(s, "UPDATE tracks SET backing_ctime_ns = backing_ctime_ns + 1 WHERE id = ?", id);
    const rows = changelog(s);
    assert.equal(rows.length, before + 1);
    assert.equal(rows.at(-1)!.track_id, id);
  }),
);

Deno.test(
  "tracks_changelog_ad appends the deleted track id",
  withTrackAndArt((s, id) => {
    const before = changelog(s).length;
    exec(s, "DELETE FROM tracks WHERE id = ?", id);
    const rows = changelog(s);
    assert.equal(rows.length, before + 1);
    assert.equal(rows.at(-1)!.track_id, id);
  }),
);

Deno.test(
  "tag edits reach the changelog through nested triggers",
  withTrackAndArt((s, id) => {
    const before = changelog(s).length;
    exec(s, TAG, id);
    assert.equal(changelog(s).length, before + 1);
    assert.equal(changelog(s).at(-1)!.track_id, id);
  }),
);

Deno.test(
  `track_changes_prune keeps the last ${CHANGELOG_CAP} contiguous seqs`,
  withTrackAndArt((s, id) => {
    s.transaction(() => {
      const bump = s.db.prepare(
        "UPDATE tracks SET backing_ctime_ns = backing_ctime_ns + 1 WHERE id = ?",
      );
      for (let i = 0; i < CHANGELOG_CAP + 100; i++) bump.run(id);
    });
    const { minSeq, maxSeq } = changelogBounds(s);
    const count =
      (s.db.prepare("SELECT count(*) AS n FROM track_changes").get() as { n: number }).n;
    assert.equal(count, CHANGELOG_CAP);
    assert.equal(Number(maxSeq - minSeq) + 1, CHANGELOG_CAP, "contiguous");
    assert.ok(maxSeq >= BigInt(CHANGELOG_CAP + 100));
  }),
);

Deno.test(
  "art_reject_content_update: art content columns are immutable",
  withTrackAndArt((s) => {
    for (
      const set of [
        "data = x'0203'",
        `sha256 = '${"c".repeat(64)}'`,
        "mime = 'image/jpeg'",
        "byte_len = 3, data = x'010203'",
        "width = 10",
        "height = 10",
      ]
    ) {
      assert.throws(
        () => s.db.exec(`UPDATE art SET ${set} WHERE id = 1`),
        // The exact text of the original's contract: writers match on it.
        /art rows are immutable; insert a new content-addressed row and relink via track_art/,
        set,
      );
    }
    // An update that changes nothing (NULL width/height included) is allowed.
    s.db.exec("UPDATE art SET mime = mime, width = NULL, height = NULL WHERE id = 1");
  }),
);

Deno.test(
  "art_ad bumps every track still referencing the deleted art",
  withTrackAndArt((s, id) => {
    const other = addTrack(s, 2);
    const bystander = addTrack(s, 3);
    exec(s, LINK, id);
    exec(s, LINK, other);
    s.db.exec("PRAGMA foreign_keys = OFF"); // how an external writer can orphan art
    reset(s, id);
    reset(s, other);
    reset(s, bystander);
    s.db.exec("DELETE FROM art WHERE id = 1");
    assert.equal(versionOf(s, id).cv, 1);
    assert.equal(versionOf(s, other).cv, 1);
    assert.ok(versionOf(s, id).at > 0);
    assert.equal(versionOf(s, bystander).cv, 0);
    s.db.exec("PRAGMA foreign_keys = ON");
  }),
);

Deno.test(
  "tracks_geometry_au bumps on format/offset/length/size/mtime",
  withTrackAndArt((s, id) => {
    for (
      const set of [
        "format = 'mp3'",
        "backing_size = backing_size + 1",
        "audio_offset = audio_offset + 1",
        "audio_length = audio_length - 1",
        "backing_mtime_ns = backing_mtime_ns + 1",
      ]
    ) {
      reset(s, id);
      s.db.exec(`UPDATE tracks SET ${set} WHERE id = ${id}`);
      assert.equal(versionOf(s, id).cv, 1, set);
    }
  }),
);

Deno.test(
  "tracks_geometry_au does not bump on ctime/path/checksums/unchanged",
  withTrackAndArt((s, id) => {
    for (
      const set of [
        "backing_ctime_ns = backing_ctime_ns + 1",
        "backing_path = '/elsewhere.flac'",
        `fingerprint = '${"f".repeat(64)}'`,
        `content_hash = '${"c".repeat(64)}'`,
        "updated_at = 7",
        "format = format, backing_size = backing_size",
      ]
    ) {
      reset(s, id);
      s.db.exec(`UPDATE tracks SET ${set} WHERE id = ${id}`);
      assert.equal(versionOf(s, id).cv, 0, set);
    }
  }),
);

Deno.test(
  "structural_blocks_ai bumps content_version (not updated_at)",
  withTrackAndArt((s, id) => {
    assertBump(s, id, () => exec(s, BLOCK, id), false);
  }),
);

Deno.test(
  "structural_blocks_ad bumps content_version (not updated_at)",
  withTrackAndArt((s, id) => {
    exec(s, BLOCK, id);
    assertBump(s, id, () => exec(s, "DELETE FROM structural_blocks WHERE track_id = ?", id), false);
  }),
);
