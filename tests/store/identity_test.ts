// The semantic identity check: stores differing only in DDL text pass,
// stores missing anything fail with a message naming it.

import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { openStore, StoreError } from "../../src/store/mod.ts";
import { cleanup, freshStore, ourStatements, storeFromStatements, tempDir } from "./helpers.ts";
import { scratchDir } from "../scratch.ts";

function mismatch(path: string): string {
  for (const mode of ["ro", "rw"] as const) {
    try {
      openStore(path, { mode }).close();
    } catch (e) {
      assert.ok(e instanceof StoreError, String(e));
      assert.equal(e.kind, "schema-mismatch", e.message);
      if (mode === "rw") return e.message;
      continue;
    }
    assert.fail(`open ${mode} should have failed`);
  }
  throw new Error("unreachable");
}

/** Build a store from our statements after `edit`, expect the open to fail naming `expected`. */
function assertMismatch(edit: (statements: string[]) => string[], expected: RegExp): void {
  using tmp = scratchDir("musefs-store-test-");
  const dir = tmp.path;
  const path = `${dir}/x.db`;
  storeFromStatements(path, edit(ourStatements()));
  assert.match(mismatch(path), expected);
}

/** Alter a fresh store of ours with raw SQL, expect the open to fail naming `expected`. */
function assertMismatchAfter(sql: string, expected: RegExp): void {
  using fresh = freshStore();
  const { store, path } = fresh;
  store.close();
  const raw = new DatabaseSync(path);
  raw.exec(sql);
  raw.close();
  assert.match(mismatch(path), expected);
}

/** Same statements, other whitespace, quoting and keyword case. */
function reformat(sql: string): string {
  return sql
    .replace(/--[^\n]*\n/g, "\n")
    .replace(/\s+/g, " ")
    .replace(/^CREATE TABLE (\w+) \(/, 'create table "$1"(\n\t')
    .replace(/ REFERENCES (\w+) \((\w+)\)/g, " references [$1]($2)")
    .replace(/^CREATE INDEX (\w+) ON (\w+) \((\w+)\)/, 'CREATE INDEX `$1` ON "$2"("$3")')
    .replace(/^CREATE TRIGGER (\w+) /, 'CREATE   TRIGGER "$1"\n')
    .replace(/, (?=[a-z_]+ (INTEGER|TEXT|BLOB))/g, ",\n    ")
    .replace(/ BEGIN /g, "\nbegin\n  ")
    .replace(/ END;?$/, "\nend");
}

Deno.test("a store whose DDL differs only in whitespace, quoting and case passes", () => {
  using tmp = scratchDir("musefs-store-test-");
  const dir = tmp.path;
  const path = `${dir}/reformatted.db`;
  const statements = ourStatements().map(reformat);
  // Make sure the reformatting really changed the text of every statement.
  const original = ourStatements();
  statements.forEach((s, i) => assert.notEqual(s, original[i]));
  storeFromStatements(path, statements);
  openStore(path, { mode: "ro" }).close();
  openStore(path, { mode: "rw" }).close();
});

Deno.test("a store created by python's sqlite3 from our DDL passes", () => {
  const dir = tempDir();
  try {
    const path = `${dir}/py.db`;
    const script = ourStatements().map((s) => s + ";").join("\n") + "\nPRAGMA user_version = 2;";
    const out = new Deno.Command("/usr/bin/python3", {
      args: [
        "-c",
        "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.executescript(sys.stdin.read()); c.close()",
        path,
      ],
      stdin: "piped",
    }).spawn();
    const w = out.stdin.getWriter();
    w.write(new TextEncoder().encode(script)).then(() => w.close());
    return out.status.then((st) => {
      assert.ok(st.success);
      openStore(path, { mode: "ro" }).close();
    }).finally(() => cleanup(dir));
  } catch (e) {
    cleanup(dir);
    throw e;
  }
});

Deno.test("identity: a missing column is named", () => {
  assertMismatchAfter(
    "ALTER TABLE tracks DROP COLUMN content_hash",
    /table tracks is missing column content_hash/,
  );
});

Deno.test("identity: an unexpected column is named", () => {
  assertMismatchAfter(
    "ALTER TABLE art ADD COLUMN extra TEXT",
    /table art has unexpected column extra/,
  );
});

Deno.test("identity: a missing trigger is named", () => {
  assertMismatchAfter("DROP TRIGGER tags_ai", /trigger tags_ai missing/);
});

Deno.test("identity: a missing index is named", () => {
  assertMismatchAfter("DROP INDEX tracks_fingerprint_idx", /index tracks_fingerprint_idx missing/);
});

Deno.test("identity: a unique fingerprint index is refused", () => {
  assertMismatchAfter(
    "DROP INDEX tracks_fingerprint_idx; CREATE UNIQUE INDEX tracks_fingerprint_idx ON tracks(fingerprint)",
    /index tracks_fingerprint_idx must not be UNIQUE/,
  );
});

Deno.test("identity: a missing table is named", () => {
  assertMismatchAfter("DROP TABLE structural_blocks", /table structural_blocks missing/);
});

Deno.test("identity: a missing CHECK is named", () => {
  assertMismatch(
    (st) => st.map((s) => s.replace(" CHECK (picture_type BETWEEN 0 AND 20)", "")),
    /table track_art is missing CHECK \(picture_type BETWEEN 0 AND 20\)/,
  );
  assertMismatch(
    (st) =>
      st.map((s) =>
        s.replace(
          " CHECK (length(CAST(value AS BLOB)) <= 262144)",
          " CHECK (length(value) <= 262144)",
        )
      ),
    /table tags is missing CHECK \(value at most 262144 bytes\)/,
  );
});

Deno.test("identity: an over-strict CHECK is named", () => {
  assertMismatch(
    (st) => st.map((s) => s.replace("CHECK (length(mime) <= 255)", "CHECK (length(mime) <= 100)")),
    /a valid art row with a 255-character mime is rejected/,
  );
});

Deno.test("identity: a trigger with the wrong timing or event is named", () => {
  assertMismatchAfter(
    `DROP TRIGGER tags_ai;
     CREATE TRIGGER tags_ai BEFORE INSERT ON tags BEGIN
       UPDATE tracks SET content_version = content_version + 1, updated_at = 1 WHERE id = NEW.track_id;
     END;`,
    /trigger tags_ai must be AFTER INSERT ON tags, is BEFORE INSERT/,
  );
  assertMismatchAfter(
    `DROP TRIGGER tags_au;
     CREATE TRIGGER tags_au AFTER UPDATE OF value ON tags BEGIN
       UPDATE tracks SET content_version = content_version + 1, updated_at = 1 WHERE id = NEW.track_id;
     END;`,
    /trigger tags_au must fire on an UPDATE of track_id, key, ordinal, value_blob/,
  );
});

Deno.test("identity: a trigger that does not do its job is named", () => {
  assertMismatchAfter(
    "DROP TRIGGER track_art_ai; CREATE TRIGGER track_art_ai AFTER INSERT ON track_art BEGIN SELECT 1; END;",
    /trigger track_art_ai does not bump content_version on INSERT INTO track_art/,
  );
  assertMismatchAfter(
    `DROP TRIGGER track_changes_prune;
     CREATE TRIGGER track_changes_prune AFTER INSERT ON track_changes BEGIN
       DELETE FROM track_changes WHERE seq <= NEW.seq - 100;
     END;`,
    /trigger track_changes_prune must keep exactly the last 8192 seqs/,
  );
  assertMismatchAfter(
    `DROP TRIGGER tracks_geometry_au;
     CREATE TRIGGER tracks_geometry_au AFTER UPDATE ON tracks
     WHEN NEW.backing_ctime_ns <> OLD.backing_ctime_ns OR NEW.backing_size <> OLD.backing_size
       OR NEW.format <> OLD.format OR NEW.audio_offset <> OLD.audio_offset
       OR NEW.audio_length <> OLD.audio_length OR NEW.backing_mtime_ns <> OLD.backing_mtime_ns
     BEGIN UPDATE tracks SET content_version = content_version + 1 WHERE id = NEW.id; END;`,
    /trigger tracks_geometry_au must not bump content_version on a change of tracks.backing_ctime_ns/,
  );
});

Deno.test("identity: a foreign key without cascade is named", () => {
  assertMismatch(
    (st) =>
      st.map((s) =>
        /^CREATE TABLE "?tags"? /.test(s)
          ? s.replace("REFERENCES tracks (id) ON DELETE CASCADE", "REFERENCES tracks (id)")
          : s
      ),
    /foreign key tags.track_id REFERENCES tracks\(id\) must be ON DELETE CASCADE/,
  );
});

Deno.test("identity: every problem is listed, not just the first", () => {
  assertMismatchAfter(
    "DROP TRIGGER tags_ai; DROP TRIGGER art_ad; DROP INDEX track_art_art_id_idx",
    /(?=.*trigger tags_ai missing)(?=.*trigger art_ad missing)(?=.*index track_art_art_id_idx missing)/,
  );
});

Deno.test("identity: foreign key violations are refused", () => {
  using fresh = freshStore();
  const { store, path } = fresh;
  store.close();
  const raw = new DatabaseSync(path, { enableForeignKeyConstraints: false });
  raw.exec("INSERT INTO tags (track_id, key, value) VALUES (42, 'title', 'orphan')");
  raw.close();
  assert.match(
    mismatch(path),
    /foreign key violations: tags row \d+ references a missing tracks row/,
  );
  // Opt-out for extra connections of a process that already checked.
  openStore(path, { mode: "ro", foreignKeyCheck: false }).close();
});

/**
 * The same contract written another way: every CHECK at table level, the key
 * rules merged into one CHECK, other trigger layout and messages — the kind
 * of difference a store created by another program has.
 */
const OTHER_DIALECT = [
  `CREATE TABLE tracks (id INTEGER PRIMARY KEY, backing_path TEXT NOT NULL UNIQUE,
    format TEXT NOT NULL, audio_offset INTEGER NOT NULL, audio_length INTEGER NOT NULL,
    backing_size INTEGER NOT NULL, backing_mtime_ns INTEGER NOT NULL,
    content_version INTEGER NOT NULL DEFAULT (0), updated_at INTEGER NOT NULL,
    backing_ctime_ns INTEGER NOT NULL DEFAULT 0, fingerprint TEXT, content_hash TEXT,
    CHECK (format = 'flac' OR format = 'mp3' OR format = 'm4a' OR format = 'opus'
           OR format = 'vorbis' OR format = 'oggflac' OR format = 'wav'),
    CHECK (min(audio_offset, audio_length, backing_size, backing_mtime_ns, content_version,
               updated_at, backing_ctime_ns) >= 0),
    CHECK (audio_offset + audio_length <= backing_size),
    CHECK (fingerprint IS NULL OR length(fingerprint) = 64),
    CHECK (content_hash IS NULL OR length(content_hash) = 64))`,
  `CREATE TABLE tags (track_id INTEGER NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,
    ordinal INTEGER NOT NULL DEFAULT 0, value_blob BLOB,
    CONSTRAINT pk PRIMARY KEY (track_id, key, ordinal),
    CONSTRAINT fk FOREIGN KEY (track_id) REFERENCES tracks ON DELETE CASCADE,
    CHECK (ordinal >= 0 AND (value_blob IS NULL OR value = '')),
    CHECK (length(key) >= 1 AND length(key) <= 256
           AND key NOT GLOB '*[' || char(1) || '-' || char(31) || ']*'),
    CHECK (length(CAST(value AS BLOB)) <= 262144),
    CHECK (value_blob IS NULL OR length(value_blob) <= 16711680))`,
  `CREATE TABLE art (id INTEGER PRIMARY KEY, sha256 TEXT NOT NULL, mime TEXT NOT NULL,
    width INTEGER, height INTEGER, byte_len INTEGER NOT NULL, data BLOB NOT NULL,
    UNIQUE (sha256), CHECK (byte_len = length(data) AND byte_len <= 16711680),
    CHECK (length(sha256) = 64 AND length(mime) <= 255),
    CHECK (coalesce(width, 0) >= 0 AND coalesce(height, 0) >= 0))`,
  `CREATE TABLE track_art (track_id INTEGER NOT NULL, art_id INTEGER NOT NULL,
    picture_type INTEGER NOT NULL DEFAULT 3, description TEXT NOT NULL DEFAULT '',
    ordinal INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (track_id, ordinal),
    FOREIGN KEY (track_id) REFERENCES tracks (id) ON DELETE CASCADE,
    FOREIGN KEY (art_id) REFERENCES art (id) ON DELETE RESTRICT,
    CHECK (picture_type >= 0 AND picture_type <= 20 AND ordinal >= 0),
    CHECK (length(description) <= 1024))`,
  `CREATE TABLE structural_blocks (track_id INTEGER NOT NULL REFERENCES tracks ON DELETE CASCADE,
    kind TEXT NOT NULL, ordinal INTEGER NOT NULL DEFAULT 0, body BLOB NOT NULL,
    PRIMARY KEY (track_id, kind, ordinal),
    CHECK (kind = 'STREAMINFO' OR kind = 'SEEKTABLE'), CHECK (ordinal >= 0),
    CHECK (length(body) < 16777216))`,
  `CREATE TABLE track_changes (seq INTEGER PRIMARY KEY AUTOINCREMENT, track_id INTEGER NOT NULL)`,
  `CREATE INDEX tracks_fingerprint_idx ON tracks (fingerprint)`,
  `CREATE INDEX track_art_art_id_idx ON track_art (art_id ASC)`,
  ...["ai:INSERT:NEW", "au:UPDATE:NEW", "ad:DELETE:OLD"].flatMap((spec) => {
    const [suffix, event, row] = spec.split(":");
    return ["tags", "track_art"].map((t) =>
      `CREATE TRIGGER IF NOT EXISTS ${t}_${suffix} AFTER ${event} ON ${t} FOR EACH ROW BEGIN
        UPDATE tracks SET updated_at = strftime('%s', 'now') + 0,
          content_version = content_version + 1 WHERE tracks.id = ${row}.track_id; END`
    ).concat(
      `CREATE TRIGGER tracks_changelog_${suffix} AFTER ${event} ON tracks
        BEGIN INSERT INTO track_changes (track_id) SELECT ${row}.id; END`,
    );
  }),
  `CREATE TRIGGER track_changes_prune AFTER INSERT ON track_changes
    BEGIN DELETE FROM track_changes WHERE seq < NEW.seq - 8191; END`,
  `CREATE TRIGGER art_reject_content_update BEFORE UPDATE OF data, sha256, mime, byte_len, width, height ON art
    BEGIN SELECT CASE WHEN NEW.data IS NOT OLD.data OR NEW.sha256 IS NOT OLD.sha256
      OR NEW.mime IS NOT OLD.mime OR NEW.byte_len IS NOT OLD.byte_len
      OR NEW.width IS NOT OLD.width OR NEW.height IS NOT OLD.height
      THEN RAISE(ABORT, 'art is write-once') END; END`,
  `CREATE TRIGGER art_ad AFTER DELETE ON art BEGIN
    UPDATE tracks SET content_version = content_version + 1, updated_at = strftime('%s', 'now') + 0
    WHERE EXISTS (SELECT 1 FROM track_art WHERE track_art.art_id = OLD.id AND track_art.track_id = tracks.id);
    END`,
  `CREATE TRIGGER tracks_geometry_au AFTER UPDATE ON tracks
    WHEN (NEW.format, NEW.audio_offset, NEW.audio_length, NEW.backing_size, NEW.backing_mtime_ns)
      IS NOT (OLD.format, OLD.audio_offset, OLD.audio_length, OLD.backing_size, OLD.backing_mtime_ns)
    BEGIN UPDATE tracks SET content_version = content_version + 1 WHERE id = NEW.id; END`,
  `CREATE TRIGGER structural_blocks_ai AFTER INSERT ON structural_blocks
    BEGIN UPDATE tracks SET content_version = content_version + 1 WHERE id = NEW.track_id; END`,
  `CREATE TRIGGER structural_blocks_ad AFTER DELETE ON structural_blocks
    BEGIN UPDATE tracks SET content_version = content_version + 1 WHERE id = OLD.track_id; END`,
];

Deno.test("a store of the same shape written in another DDL dialect passes", () => {
  using tmp = scratchDir("musefs-store-test-");
  const dir = tmp.path;
  const path = `${dir}/other.db`;
  storeFromStatements(path, OTHER_DIALECT);
  openStore(path, { mode: "ro" }).close();
  openStore(path, { mode: "rw" }).close();
});

Deno.test("the other dialect minus one rule is still caught", () => {
  using tmp = scratchDir("musefs-store-test-");
  const dir = tmp.path;
  const path = `${dir}/other.db`;
  storeFromStatements(
    path,
    OTHER_DIALECT.map((s) => s.replace("AND ordinal >= 0", "")),
  );
  assert.match(mismatch(path), /table track_art is missing CHECK \(ordinal >= 0\)/);
});
