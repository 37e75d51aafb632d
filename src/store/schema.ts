// The store's DDL (schema version 2) and the migrations that reach it.
//
// Names of tables, columns, indexes and triggers are part of the external
// contract (python plugins and user SQL rely on them); the text is our own.
// The open-time identity check (identity.ts) is semantic, so stores created
// by the original program or by python-musefs pass as well as ours.
//
// The trigger bodies use strftime('%s','now') rather than unixepoch() so the
// store stays writable by older SQLite builds (python's sqlite3 links the
// system library; unixepoch() needs 3.38).

import { DatabaseSync } from "node:sqlite";
import { StoreError, toStoreError } from "./errors.ts";

/** The schema version this build creates and serves. */
export const SCHEMA_VERSION = 2;

/** Capacity of the track_changes ring. */
export const CHANGELOG_CAP = 8192;

/** Unix seconds, as the triggers stamp `updated_at`. */
const NOW = "CAST(strftime('%s', 'now') AS INTEGER)";

/** Bump a track's content_version and updated_at (tags/track_art/art triggers). */
function bumpTouch(idExpr: string): string {
  return `UPDATE tracks
    SET content_version = content_version + 1, updated_at = ${NOW}
    WHERE id = ${idExpr};`;
}

/** The tags triggers; created by V1 and again after the V2 rebuild of `tags`. */
const TAGS_TRIGGERS = `
CREATE TRIGGER tags_ai AFTER INSERT ON tags
BEGIN
  ${bumpTouch("NEW.track_id")}
END;
CREATE TRIGGER tags_au AFTER UPDATE ON tags
BEGIN
  ${bumpTouch("NEW.track_id")}
END;
CREATE TRIGGER tags_ad AFTER DELETE ON tags
BEGIN
  ${bumpTouch("OLD.track_id")}
END;
`;

/** The `tags` table; V1 capped `value` in characters, V2 in bytes. */
function tagsTable(name: string, valueCap: string): string {
  return `
CREATE TABLE ${name} (
  track_id INTEGER NOT NULL REFERENCES tracks (id) ON DELETE CASCADE,
  key TEXT NOT NULL
    CHECK (length(key) BETWEEN 1 AND 256)
    CHECK (key NOT GLOB ('*[' || char(1) || '-' || char(31) || ']*')),
  value TEXT NOT NULL CHECK (${valueCap} <= 262144),
  ordinal INTEGER NOT NULL DEFAULT 0 CHECK (ordinal >= 0),
  value_blob BLOB CHECK (value_blob IS NULL OR length(value_blob) <= 16711680),
  CHECK (value_blob IS NULL OR value = ''),
  PRIMARY KEY (track_id, key, ordinal)
);
`;
}

/** Version 1: everything but the content identities and the byte-accurate tag value cap. */
export const SCHEMA_V1 = `
CREATE TABLE tracks (
  id INTEGER PRIMARY KEY,
  backing_path TEXT NOT NULL UNIQUE,
  format TEXT NOT NULL
    CHECK (format IN ('flac', 'mp3', 'm4a', 'opus', 'vorbis', 'oggflac', 'wav')),
  audio_offset INTEGER NOT NULL CHECK (audio_offset >= 0),
  audio_length INTEGER NOT NULL CHECK (audio_length >= 0),
  backing_size INTEGER NOT NULL CHECK (backing_size >= 0),
  backing_mtime_ns INTEGER NOT NULL CHECK (backing_mtime_ns >= 0),
  content_version INTEGER NOT NULL DEFAULT 0 CHECK (content_version >= 0),
  updated_at INTEGER NOT NULL CHECK (updated_at >= 0),
  backing_ctime_ns INTEGER NOT NULL DEFAULT 0 CHECK (backing_ctime_ns >= 0),
  CHECK (audio_offset + audio_length <= backing_size)
);
${tagsTable("tags", "length(value)")}
CREATE TABLE art (
  id INTEGER PRIMARY KEY,
  sha256 TEXT NOT NULL UNIQUE CHECK (length(sha256) = 64),
  mime TEXT NOT NULL CHECK (length(mime) <= 255),
  width INTEGER CHECK (width IS NULL OR width >= 0),
  height INTEGER CHECK (height IS NULL OR height >= 0),
  byte_len INTEGER NOT NULL CHECK (byte_len <= 16711680),
  data BLOB NOT NULL,
  CHECK (byte_len = length(data))
);

CREATE TABLE track_art (
  track_id INTEGER NOT NULL REFERENCES tracks (id) ON DELETE CASCADE,
  art_id INTEGER NOT NULL REFERENCES art (id),
  picture_type INTEGER NOT NULL DEFAULT 3 CHECK (picture_type BETWEEN 0 AND 20),
  description TEXT NOT NULL DEFAULT '' CHECK (length(description) <= 1024),
  ordinal INTEGER NOT NULL DEFAULT 0 CHECK (ordinal >= 0),
  PRIMARY KEY (track_id, ordinal)
);

-- FLAC STREAMINFO/SEEKTABLE as scanned; owned by the scanner alone.
CREATE TABLE structural_blocks (
  track_id INTEGER NOT NULL REFERENCES tracks (id) ON DELETE CASCADE,
  kind TEXT NOT NULL CHECK (kind IN ('STREAMINFO', 'SEEKTABLE')),
  ordinal INTEGER NOT NULL DEFAULT 0 CHECK (ordinal >= 0),
  body BLOB NOT NULL CHECK (length(body) <= 16777215),
  PRIMARY KEY (track_id, kind, ordinal)
);

-- Changelog ring read by mounts for O(changed) refresh. Every edit of a
-- track's served inputs ends in an UPDATE of its tracks row (nested
-- triggers), so the tracks triggers alone feed it.
CREATE TABLE track_changes (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  track_id INTEGER NOT NULL
);

-- Reverse edge art -> track_art for orphan GC and the art_ad trigger.
CREATE INDEX track_art_art_id_idx ON track_art (art_id);
${TAGS_TRIGGERS}
CREATE TRIGGER track_art_ai AFTER INSERT ON track_art
BEGIN
  ${bumpTouch("NEW.track_id")}
END;
CREATE TRIGGER track_art_au AFTER UPDATE ON track_art
BEGIN
  ${bumpTouch("NEW.track_id")}
END;
CREATE TRIGGER track_art_ad AFTER DELETE ON track_art
BEGIN
  ${bumpTouch("OLD.track_id")}
END;

CREATE TRIGGER tracks_changelog_ai AFTER INSERT ON tracks
BEGIN
  INSERT INTO track_changes (track_id) VALUES (NEW.id);
END;
CREATE TRIGGER tracks_changelog_au AFTER UPDATE ON tracks
BEGIN
  INSERT INTO track_changes (track_id) VALUES (NEW.id);
END;
CREATE TRIGGER tracks_changelog_ad AFTER DELETE ON tracks
BEGIN
  INSERT INTO track_changes (track_id) VALUES (OLD.id);
END;

-- Trim from the old end only, so the retained seqs stay contiguous.
CREATE TRIGGER track_changes_prune AFTER INSERT ON track_changes
BEGIN
  DELETE FROM track_changes WHERE seq <= NEW.seq - ${CHANGELOG_CAP};
END;

-- Art is content-addressed: new bytes or metadata mean a new row + relink.
CREATE TRIGGER art_reject_content_update BEFORE UPDATE ON art
WHEN NEW.data <> OLD.data OR NEW.sha256 <> OLD.sha256 OR NEW.mime <> OLD.mime
  OR NEW.byte_len <> OLD.byte_len
  OR NEW.width IS NOT OLD.width OR NEW.height IS NOT OLD.height
BEGIN
  SELECT RAISE(ABORT, 'art rows are immutable; insert a new content-addressed row and relink via track_art');
END;

-- Deleting art still referenced (possible with foreign_keys OFF) must make
-- mounts re-resolve those tracks instead of serving cached bytes.
CREATE TRIGGER art_ad AFTER DELETE ON art
BEGIN
  UPDATE tracks
    SET content_version = content_version + 1, updated_at = ${NOW}
    WHERE id IN (SELECT track_id FROM track_art WHERE art_id = OLD.id);
END;

-- Geometry feeds the served bytes; path, ctime and checksums do not. The
-- nested UPDATE changes only content_version, so the WHEN stops recursion.
CREATE TRIGGER tracks_geometry_au AFTER UPDATE ON tracks
WHEN NEW.format <> OLD.format OR NEW.audio_offset <> OLD.audio_offset
  OR NEW.audio_length <> OLD.audio_length OR NEW.backing_size <> OLD.backing_size
  OR NEW.backing_mtime_ns <> OLD.backing_mtime_ns
BEGIN
  UPDATE tracks SET content_version = content_version + 1 WHERE id = NEW.id;
END;

-- Replacing structural blocks is delete + insert, so every rewrite bumps.
CREATE TRIGGER structural_blocks_ai AFTER INSERT ON structural_blocks
BEGIN
  UPDATE tracks SET content_version = content_version + 1 WHERE id = NEW.track_id;
END;
CREATE TRIGGER structural_blocks_ad AFTER DELETE ON structural_blocks
BEGIN
  UPDATE tracks SET content_version = content_version + 1 WHERE id = OLD.track_id;
END;
`;

/**
 * Step 1 → 2: scanner-owned content identities (non-unique by design:
 * duplicate files share them) and a byte-accurate cap on tag values, which
 * needs a rebuild of `tags` (SQLite cannot alter a CHECK). Rows over the new
 * cap were unreadable anyway (the read guard counts bytes) and are dropped.
 */
export const MIGRATE_V1_TO_V2 = `
ALTER TABLE tracks ADD COLUMN fingerprint TEXT
  CHECK (fingerprint IS NULL OR length(fingerprint) = 64);
ALTER TABLE tracks ADD COLUMN content_hash TEXT
  CHECK (content_hash IS NULL OR length(content_hash) = 64);
CREATE INDEX tracks_fingerprint_idx ON tracks (fingerprint);
${tagsTable("tags_v2", "length(CAST(value AS BLOB))")}
INSERT INTO tags_v2 (track_id, key, value, ordinal, value_blob)
  SELECT track_id, key, value, ordinal, value_blob FROM tags
  WHERE length(CAST(value AS BLOB)) <= 262144;
DROP TABLE tags;
ALTER TABLE tags_v2 RENAME TO tags;
${TAGS_TRIGGERS}
`;

/** Migration steps: `STEPS[n]` takes a store from version n to n + 1. */
const STEPS: readonly string[] = [SCHEMA_V1, MIGRATE_V1_TO_V2];

export function readUserVersion(db: DatabaseSync): number {
  const row = db.prepare("PRAGMA user_version").get() as { user_version: number };
  return row.user_version;
}

export function newerVersionError(version: number, path: string): StoreError {
  return new StoreError(
    "newer-version",
    `store schema version ${version} is newer than this musefs build supports (max ${SCHEMA_VERSION})`,
    path,
  );
}

/**
 * Bring the store to SCHEMA_VERSION (a fresh store goes 0 → 1 → 2) in one
 * IMMEDIATE transaction, stamping user_version after each step. Returns the
 * version found before migrating. `upTo` exists for tests that need an old store.
 */
export function migrate(db: DatabaseSync, path: string, upTo = SCHEMA_VERSION): number {
  const found = readUserVersion(db);
  if (found > SCHEMA_VERSION) throw newerVersionError(found, path);
  if (found >= upTo) return found;
  try {
    db.exec("BEGIN IMMEDIATE");
  } catch (e) {
    throw toStoreError(e, path, "cannot start the schema migration");
  }
  try {
    // Re-read under the write lock: another process may have migrated meanwhile.
    const current = readUserVersion(db);
    if (current > SCHEMA_VERSION) throw newerVersionError(current, path);
    for (let v = current; v < upTo; v++) {
      db.exec(STEPS[v]);
      db.exec(`PRAGMA user_version = ${v + 1}`);
    }
    db.exec("COMMIT");
  } catch (e) {
    try {
      db.exec("ROLLBACK");
    } catch { /* the failed step may already have ended the transaction */ }
    if (e instanceof StoreError) throw e;
    const err = toStoreError(e, path, `schema migration from version ${found} failed`);
    // A failing CREATE (object already exists, …) means a store we cannot shape.
    if (err.kind === "io") {
      throw new StoreError("schema-mismatch", err.message, path, { cause: e });
    }
    throw err;
  }
  return found;
}
