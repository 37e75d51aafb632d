// One test per CHECK constraint of the store contract (docs/store.md), on a store created by
// openStore.

import assert from "node:assert/strict";
import type { SQLInputValue } from "node:sqlite";
import { type Store } from "../../src/store/mod.ts";
import { withTrackAndArt } from "./helpers.ts";

function rejects(store: Store, sql: string, ...params: SQLInputValue[]): void {
  assert.throws(() => store.db.prepare(sql).run(...params), /CHECK constraint failed/);
}

function accepts(store: Store, sql: string, ...params: SQLInputValue[]): void {
  store.db.exec("SAVEPOINT t");
  try {
    store.db.prepare(sql).run(...params);
  } finally {
    store.db.exec("ROLLBACK TO t");
    store.db.exec("RELEASE t");
  }
}

const TRACK_SQL =
  `INSERT INTO tracks (backing_path, format, audio_offset, audio_length, backing_size,
     backing_mtime_ns, backing_ctime_ns, content_version, updated_at, fingerprint, content_hash)
   VALUES (:p, :format, :off, :len, :size, :mtime, :ctime, :cv, :at, :fp, :ch)`;

function track(over: Record<string, SQLInputValue>): Record<string, SQLInputValue> {
  return {
    p: "/x/" + Math.random(),
    format: "mp3",
    off: 0,
    len: 0,
    size: 0,
    mtime: 0,
    ctime: 0,
    cv: 0,
    at: 0,
    fp: null,
    ch: null,
    ...over,
  };
}

function trackRejects(store: Store, over: Record<string, SQLInputValue>): void {
  assert.throws(() => store.db.prepare(TRACK_SQL).run(track(over)), /CHECK constraint failed/);
}

Deno.test(
  "tracks: format must be one of the seven formats",
  withTrackAndArt((s) => {
    for (const f of ["flac", "mp3", "m4a", "opus", "vorbis", "oggflac", "wav"]) {
      s.db.prepare(TRACK_SQL).run(track({ format: f }));
    }
    trackRejects(s, { format: "ogg" });
    trackRejects(s, { format: "FLAC" });
  }),
);

Deno.test(
  "tracks: audio_offset >= 0",
  withTrackAndArt((s) => trackRejects(s, { off: -1, size: 5 })),
);
Deno.test(
  "tracks: audio_length >= 0",
  withTrackAndArt((s) => trackRejects(s, { len: -1, size: 5 })),
);
Deno.test(
  "tracks: backing_size >= 0",
  withTrackAndArt((s) => trackRejects(s, { size: -1, off: 0 })),
);
Deno.test("tracks: backing_mtime_ns >= 0", withTrackAndArt((s) => trackRejects(s, { mtime: -1 })));
Deno.test("tracks: backing_ctime_ns >= 0", withTrackAndArt((s) => trackRejects(s, { ctime: -1 })));
Deno.test("tracks: content_version >= 0", withTrackAndArt((s) => trackRejects(s, { cv: -1 })));
Deno.test("tracks: updated_at >= 0", withTrackAndArt((s) => trackRejects(s, { at: -1 })));

Deno.test(
  "tracks: audio_offset + audio_length <= backing_size",
  withTrackAndArt((s) => {
    s.db.prepare(TRACK_SQL).run(track({ off: 4, len: 6, size: 10 }));
    trackRejects(s, { off: 4, len: 7, size: 10 });
  }),
);

Deno.test(
  "tracks: fingerprint and content_hash are NULL or 64 characters",
  withTrackAndArt((s) => {
    s.db.prepare(TRACK_SQL).run(track({ fp: "f".repeat(64), ch: "c".repeat(64) }));
    trackRejects(s, { fp: "f".repeat(63) });
    trackRejects(s, { fp: "f".repeat(65) });
    trackRejects(s, { ch: "" });
    trackRejects(s, { ch: "c".repeat(65) });
  }),
);

Deno.test(
  "tracks: backing_path is unique",
  withTrackAndArt((s) => {
    assert.throws(
      () => s.db.prepare(TRACK_SQL).run(track({ p: "/music/track1.flac" })),
      /UNIQUE constraint failed/,
    );
  }),
);

const TAG_SQL =
  "INSERT INTO tags (track_id, key, value, ordinal, value_blob) VALUES (?, ?, ?, ?, ?)";

Deno.test(
  "tags: ordinal >= 0",
  withTrackAndArt((s, id) => {
    rejects(s, TAG_SQL, id, "k", "v", -1, null);
  }),
);

Deno.test(
  "tags: binary rows need value ''",
  withTrackAndArt((s, id) => {
    accepts(s, TAG_SQL, id, "k", "", 0, new Uint8Array([1]));
    rejects(s, TAG_SQL, id, "k", "x", 0, new Uint8Array([1]));
  }),
);

Deno.test(
  "tags: key length 1..256 characters",
  withTrackAndArt((s, id) => {
    rejects(s, TAG_SQL, id, "", "v", 0, null);
    accepts(s, TAG_SQL, id, "é".repeat(256), "v", 0, null);
    rejects(s, TAG_SQL, id, "k".repeat(257), "v", 0, null);
  }),
);

Deno.test(
  "tags: key without characters 0x01-0x1F",
  withTrackAndArt((s, id) => {
    for (const c of [1, 9, 10, 31]) {
      rejects(s, TAG_SQL, id, `a${String.fromCharCode(c)}b`, "v", 0, null);
    }
    accepts(s, TAG_SQL, id, "a b~\x7f", "v", 0, null);
  }),
);

Deno.test(
  "tags: value at most 262144 bytes (not characters)",
  withTrackAndArt((s, id) => {
    accepts(s, TAG_SQL, id, "k", "x".repeat(262144), 0, null);
    accepts(s, TAG_SQL, id, "k", "é".repeat(131072), 0, null);
    rejects(s, TAG_SQL, id, "k", "x".repeat(262145), 0, null);
    rejects(s, TAG_SQL, id, "k", "é".repeat(131073), 0, null); // 131073 chars, 262146 bytes
  }),
);

Deno.test(
  "tags: value_blob at most 16711680 bytes",
  withTrackAndArt((s, id) => {
    accepts(
      s,
      "INSERT INTO tags (track_id, key, value, value_blob) VALUES (?, 'k', '', zeroblob(16711680))",
      id,
    );
    rejects(
      s,
      "INSERT INTO tags (track_id, key, value, value_blob) VALUES (?, 'k', '', zeroblob(16711681))",
      id,
    );
  }),
);

Deno.test(
  "tags: primary key (track_id, key, ordinal), key compared bytewise",
  withTrackAndArt((s, id) => {
    s.db.prepare(TAG_SQL).run(id, "Title", "a", 0, null);
    s.db.prepare(TAG_SQL).run(id, "title", "b", 0, null);
    assert.throws(
      () => s.db.prepare(TAG_SQL).run(id, "title", "c", 0, null),
      /UNIQUE constraint failed/,
    );
  }),
);

const ART_SQL =
  "INSERT INTO art (sha256, mime, width, height, byte_len, data) VALUES (?, ?, ?, ?, ?, ?)";
const bytes3 = new Uint8Array([1, 2, 3]);

Deno.test(
  "art: byte_len = length(data)",
  withTrackAndArt((s) => {
    rejects(s, ART_SQL, "b".repeat(64), "image/png", null, null, 4, bytes3);
  }),
);

Deno.test(
  "art: sha256 is 64 characters and unique",
  withTrackAndArt((s) => {
    rejects(s, ART_SQL, "b".repeat(63), "image/png", null, null, 3, bytes3);
    assert.throws(
      () => s.db.prepare(ART_SQL).run("a".repeat(64), "image/png", null, null, 3, bytes3),
      /UNIQUE constraint failed/,
    );
  }),
);

Deno.test(
  "art: width and height NULL or >= 0",
  withTrackAndArt((s) => {
    accepts(s, ART_SQL, "b".repeat(64), "image/png", 0, 0, 3, bytes3);
    rejects(s, ART_SQL, "b".repeat(64), "image/png", -1, null, 3, bytes3);
    rejects(s, ART_SQL, "b".repeat(64), "image/png", null, -1, 3, bytes3);
  }),
);

Deno.test(
  "art: mime at most 255 characters",
  withTrackAndArt((s) => {
    accepts(s, ART_SQL, "b".repeat(64), "m".repeat(255), null, null, 3, bytes3);
    rejects(s, ART_SQL, "b".repeat(64), "m".repeat(256), null, null, 3, bytes3);
  }),
);

Deno.test(
  "art: byte_len at most 16711680",
  withTrackAndArt((s) => {
    const sql = "INSERT INTO art (sha256, mime, byte_len, data) VALUES (?, 'x', ?, zeroblob(?))";
    accepts(s, sql, "b".repeat(64), 16711680, 16711680);
    rejects(s, sql, "b".repeat(64), 16711681, 16711681);
  }),
);

const LINK_SQL =
  "INSERT INTO track_art (track_id, art_id, picture_type, description, ordinal) VALUES (?, 1, ?, ?, ?)";

Deno.test(
  "track_art: picture_type 0..20",
  withTrackAndArt((s, id) => {
    accepts(s, LINK_SQL, id, 0, "", 0);
    accepts(s, LINK_SQL, id, 20, "", 0);
    rejects(s, LINK_SQL, id, 21, "", 0);
    rejects(s, LINK_SQL, id, -1, "", 0);
  }),
);

Deno.test(
  "track_art: ordinal >= 0",
  withTrackAndArt((s, id) => {
    rejects(s, LINK_SQL, id, 3, "", -1);
  }),
);

Deno.test(
  "track_art: description at most 1024 characters",
  withTrackAndArt((s, id) => {
    accepts(s, LINK_SQL, id, 3, "d".repeat(1024), 0);
    rejects(s, LINK_SQL, id, 3, "d".repeat(1025), 0);
  }),
);

Deno.test(
  "track_art: defaults picture_type 3, description ''",
  withTrackAndArt((s, id) => {
    s.db.prepare("INSERT INTO track_art (track_id, art_id) VALUES (?, 1)").run(id);
    const r = s.db.prepare("SELECT picture_type, description, ordinal FROM track_art").get();
    assert.deepEqual({ ...r }, { picture_type: 3, description: "", ordinal: 0 });
  }),
);

Deno.test(
  "track_art: art_id must reference art (foreign_keys ON)",
  withTrackAndArt((s, id) => {
    assert.throws(
      () => s.db.prepare(LINK_SQL.replace("?, 1,", "?, 99,")).run(id, 3, "", 0),
      /FOREIGN KEY constraint failed/,
    );
  }),
);

const BLOCK_SQL =
  "INSERT INTO structural_blocks (track_id, kind, ordinal, body) VALUES (?, ?, ?, ?)";

Deno.test(
  "structural_blocks: kind STREAMINFO or SEEKTABLE",
  withTrackAndArt((s, id) => {
    accepts(s, BLOCK_SQL, id, "STREAMINFO", 0, bytes3);
    accepts(s, BLOCK_SQL, id, "SEEKTABLE", 0, bytes3);
    rejects(s, BLOCK_SQL, id, "PADDING", 0, bytes3);
    rejects(s, BLOCK_SQL, id, "streaminfo", 0, bytes3);
  }),
);

Deno.test(
  "structural_blocks: ordinal >= 0",
  withTrackAndArt((s, id) => {
    rejects(s, BLOCK_SQL, id, "STREAMINFO", -1, bytes3);
  }),
);

Deno.test(
  "structural_blocks: body at most 16777215 bytes",
  withTrackAndArt((s, id) => {
    const sql =
      "INSERT INTO structural_blocks (track_id, kind, ordinal, body) VALUES (?, 'SEEKTABLE', 0, zeroblob(?))";
    accepts(s, sql, id, 16777215);
    rejects(s, sql, id, 16777216);
  }),
);

Deno.test(
  "deleting a track cascades to tags, track_art and structural_blocks",
  withTrackAndArt((s, id) => {
    s.db.prepare(TAG_SQL).run(id, "k", "v", 0, null);
    s.db.prepare(LINK_SQL).run(id, 3, "", 0);
    s.db.prepare(BLOCK_SQL).run(id, "STREAMINFO", 0, bytes3);
    s.db.prepare("DELETE FROM tracks WHERE id = ?").run(id);
    for (const t of ["tags", "track_art", "structural_blocks"]) {
      assert.equal((s.db.prepare(`SELECT count(*) AS n FROM ${t}`).get() as { n: number }).n, 0, t);
    }
    // art is not cascaded: it waits for the GC.
    assert.equal((s.db.prepare("SELECT count(*) AS n FROM art").get() as { n: number }).n, 1);
  }),
);
