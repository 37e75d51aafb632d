// Behaviour probes for the identity check: CHECK constraints and trigger
// bodies, tested by what they do on a scratch copy of the store's schema
// (see identity.ts). Each probe runs inside a savepoint that is rolled back.

import type { DatabaseSync, SQLInputValue } from "node:sqlite";
import { CHANGELOG_CAP } from "./schema.ts";
import { sqliteMessage } from "./errors.ts";

const HEX_A = "a".repeat(64);
const HEX_B = "b".repeat(64);

const TRACK_DEFAULTS: Record<string, SQLInputValue> = {
  id: 2,
  backing_path: "/probe/b",
  format: "mp3",
  audio_offset: 0,
  audio_length: 0,
  backing_size: 0,
  backing_mtime_ns: 0,
  content_version: 0,
  updated_at: 0,
  backing_ctime_ns: 0,
  fingerprint: null,
  content_hash: null,
};

/** An INSERT of a second track, with some columns overridden. */
function track(overrides: Record<string, SQLInputValue>): [string, SQLInputValue[]] {
  const row = { ...TRACK_DEFAULTS, ...overrides };
  const cols = Object.keys(row);
  return [
    `INSERT INTO tracks (${cols.join(", ")}) VALUES (${cols.map(() => "?").join(", ")})`,
    Object.values(row),
  ];
}

function tag(key: string, valueSql: string, blobSql: string, params: SQLInputValue[] = []) {
  return [
    `INSERT INTO tags (track_id, key, value, ordinal, value_blob) VALUES (1, ${key}, ${valueSql}, 0, ${blobSql})`,
    params,
  ] as [string, SQLInputValue[]];
}

function art(overrides: Record<string, string>): [string, SQLInputValue[]] {
  const row: Record<string, string> = {
    id: "2",
    sha256: `'${HEX_B}'`,
    mime: "'image/png'",
    width: "NULL",
    height: "NULL",
    byte_len: "3",
    data: "x'010203'",
    ...overrides,
  };
  return [
    `INSERT INTO art (${Object.keys(row).join(", ")}) VALUES (${Object.values(row).join(", ")})`,
    [],
  ];
}

function trackArt(
  pictureType: string,
  description: string,
  ordinal: string,
): [string, SQLInputValue[]] {
  return [
    `INSERT INTO track_art (track_id, art_id, picture_type, description, ordinal) VALUES (1, 1, ${pictureType}, ${description}, ${ordinal})`,
    [],
  ];
}

function structural(kind: string, ordinal: string, body: string): [string, SQLInputValue[]] {
  return [
    `INSERT INTO structural_blocks (track_id, kind, ordinal, body) VALUES (1, ${kind}, ${ordinal}, ${body})`,
    [],
  ];
}

interface CheckProbe {
  table: string;
  /** What the CHECK enforces, as named in the error. */
  rule: string;
  /** Statements that must fail with a constraint error. */
  reject: [string, SQLInputValue[]];
}

const CHECKS: CheckProbe[] = [
  {
    table: "tracks",
    rule: "format IN (flac, mp3, m4a, opus, vorbis, oggflac, wav)",
    reject: track({ format: "ogg" }),
  },
  {
    table: "tracks",
    rule: "audio_offset >= 0",
    reject: track({ audio_offset: -1, backing_size: 5 }),
  },
  {
    table: "tracks",
    rule: "audio_length >= 0",
    reject: track({ audio_length: -1, backing_size: 5 }),
  },
  { table: "tracks", rule: "backing_mtime_ns >= 0", reject: track({ backing_mtime_ns: -1 }) },
  { table: "tracks", rule: "backing_ctime_ns >= 0", reject: track({ backing_ctime_ns: -1 }) },
  { table: "tracks", rule: "content_version >= 0", reject: track({ content_version: -1 }) },
  { table: "tracks", rule: "updated_at >= 0", reject: track({ updated_at: -1 }) },
  {
    table: "tracks",
    rule: "audio_offset + audio_length <= backing_size",
    reject: track({ audio_offset: 5, audio_length: 6, backing_size: 10 }),
  },
  {
    table: "tracks",
    rule: "fingerprint IS NULL OR length(fingerprint) = 64",
    reject: track({ fingerprint: "a".repeat(63) }),
  },
  {
    table: "tracks",
    rule: "content_hash IS NULL OR length(content_hash) = 64",
    reject: track({ content_hash: "a".repeat(65) }),
  },
  {
    table: "tags",
    rule: "ordinal >= 0",
    reject: ["INSERT INTO tags (track_id, key, value, ordinal) VALUES (1, 'k', 'v', -1)", []],
  },
  { table: "tags", rule: "value = '' on binary rows", reject: tag("'k'", "'x'", "x'00'") },
  { table: "tags", rule: "length(key) >= 1", reject: tag("''", "'v'", "NULL") },
  { table: "tags", rule: "length(key) <= 256", reject: tag("?", "'v'", "NULL", ["k".repeat(257)]) },
  {
    table: "tags",
    rule: "key without characters 0x01-0x1F",
    reject: tag("'a' || char(1)", "'v'", "NULL"),
  },
  {
    table: "tags",
    rule: "key without characters 0x01-0x1F",
    reject: tag("'a' || char(31) || 'b'", "'v'", "NULL"),
  },
  // 131073 two-byte characters: within a character cap, over the byte cap.
  {
    table: "tags",
    rule: "value at most 262144 bytes",
    reject: tag("'k'", "?", "NULL", ["é".repeat(131073)]),
  },
  {
    table: "tags",
    rule: "value_blob at most 16711680 bytes",
    reject: tag("'k'", "''", "zeroblob(16711681)"),
  },
  { table: "art", rule: "byte_len = length(data)", reject: art({ byte_len: "4" }) },
  { table: "art", rule: "length(sha256) = 64", reject: art({ sha256: `'${"b".repeat(63)}'` }) },
  { table: "art", rule: "width IS NULL OR width >= 0", reject: art({ width: "-1" }) },
  { table: "art", rule: "height IS NULL OR height >= 0", reject: art({ height: "-1" }) },
  { table: "art", rule: "length(mime) <= 255", reject: art({ mime: "'" + "m".repeat(256) + "'" }) },
  {
    table: "art",
    rule: "byte_len <= 16711680",
    reject: art({ byte_len: "16711681", data: "zeroblob(16711681)" }),
  },
  { table: "track_art", rule: "picture_type BETWEEN 0 AND 20", reject: trackArt("21", "''", "0") },
  { table: "track_art", rule: "picture_type BETWEEN 0 AND 20", reject: trackArt("-1", "''", "0") },
  { table: "track_art", rule: "ordinal >= 0", reject: trackArt("3", "''", "-1") },
  {
    table: "track_art",
    rule: "length(description) <= 1024",
    reject: trackArt("3", "'" + "d".repeat(1025) + "'", "0"),
  },
  {
    table: "structural_blocks",
    rule: "kind IN (STREAMINFO, SEEKTABLE)",
    reject: structural("'PADDING'", "0", "x'00'"),
  },
  {
    table: "structural_blocks",
    rule: "ordinal >= 0",
    reject: structural("'STREAMINFO'", "-1", "x'00'"),
  },
  {
    table: "structural_blocks",
    rule: "length(body) <= 16777215",
    reject: structural("'STREAMINFO'", "0", "zeroblob(16777216)"),
  },
];

/** Valid edge rows that must be accepted (a CHECK stricter than the contract breaks writers). */
const ACCEPTS: { what: string; stmt: [string, SQLInputValue[]] }[] = [
  {
    what: "tracks row with 64-character checksums",
    stmt: track({
      fingerprint: HEX_A,
      content_hash: HEX_B,
      audio_offset: 4,
      audio_length: 6,
      backing_size: 10,
    }),
  },
  { what: "tags row with a 256-character key", stmt: tag("?", "'v'", "NULL", ["k".repeat(256)]) },
  {
    what: "tags row with a 262144-byte value",
    stmt: tag("'k'", "?", "NULL", ["é".repeat(131072)]),
  },
  { what: "tags row with a 16711680-byte blob", stmt: tag("'k'", "''", "zeroblob(16711680)") },
  {
    what: "art row of 16711680 bytes",
    stmt: art({ byte_len: "16711680", data: "zeroblob(16711680)", width: "0", height: "0" }),
  },
  { what: "art row with a 255-character mime", stmt: art({ mime: "'" + "m".repeat(255) + "'" }) },
  {
    what: "track_art row with picture_type 20",
    stmt: trackArt("20", "'" + "d".repeat(1024) + "'", "0"),
  },
  { what: "track_art row with picture_type 0", stmt: trackArt("0", "''", "1") },
  {
    what: "structural_blocks SEEKTABLE row",
    stmt: structural("'SEEKTABLE'", "3", "zeroblob(16777215)"),
  },
  {
    what: "art update that changes nothing",
    stmt: ["UPDATE art SET mime = mime, width = width, height = height WHERE id = 1", []],
  },
];

type Effect = "bump" | "bump+touch" | "no-bump";

interface EffectProbe {
  trigger: string;
  what: string;
  setup?: string;
  action: string;
  effect: Effect;
}

const TAG_ROW = "INSERT INTO tags (track_id, key, value) VALUES (1, 'probe', 'v')";
const LINK_ROW = "INSERT INTO track_art (track_id, art_id) VALUES (1, 1)";
const BLOCK_ROW =
  "INSERT INTO structural_blocks (track_id, kind, body) VALUES (1, 'SEEKTABLE', x'00')";

const EFFECTS: EffectProbe[] = [
  { trigger: "tags_ai", what: "INSERT INTO tags", action: TAG_ROW, effect: "bump+touch" },
  {
    trigger: "tags_au",
    what: "UPDATE of tags",
    setup: TAG_ROW,
    action: "UPDATE tags SET value = 'w'",
    effect: "bump+touch",
  },
  {
    trigger: "tags_ad",
    what: "DELETE FROM tags",
    setup: TAG_ROW,
    action: "DELETE FROM tags",
    effect: "bump+touch",
  },
  {
    trigger: "track_art_ai",
    what: "INSERT INTO track_art",
    action: LINK_ROW,
    effect: "bump+touch",
  },
  {
    trigger: "track_art_au",
    what: "UPDATE of track_art",
    setup: LINK_ROW,
    action: "UPDATE track_art SET picture_type = 4",
    effect: "bump+touch",
  },
  {
    trigger: "track_art_ad",
    what: "DELETE FROM track_art",
    setup: LINK_ROW,
    action: "DELETE FROM track_art",
    effect: "bump+touch",
  },
  {
    trigger: "art_ad",
    what: "DELETE of referenced art",
    setup: LINK_ROW,
    action: "DELETE FROM art WHERE id = 1",
    effect: "bump+touch",
  },
  {
    trigger: "structural_blocks_ai",
    what: "INSERT INTO structural_blocks",
    action: BLOCK_ROW,
    effect: "bump",
  },
  {
    trigger: "structural_blocks_ad",
    what: "DELETE FROM structural_blocks",
    setup: BLOCK_ROW,
    action: "DELETE FROM structural_blocks",
    effect: "bump",
  },
  ...[
    ["format", "'mp3'"],
    ["audio_offset", "11"],
    ["audio_length", "21"],
    ["backing_size", "101"],
    ["backing_mtime_ns", "6"],
  ].map(([col, v]): EffectProbe => ({
    trigger: "tracks_geometry_au",
    what: `a change of tracks.${col}`,
    action: `UPDATE tracks SET ${col} = ${v} WHERE id = 1`,
    effect: "bump",
  })),
  ...[
    ["backing_ctime_ns", "7"],
    ["backing_path", "'/probe/moved'"],
    ["fingerprint", `'${HEX_A}'`],
    ["content_hash", `'${HEX_B}'`],
  ].map(([col, v]): EffectProbe => ({
    trigger: "tracks_geometry_au",
    what: `a change of tracks.${col}`,
    action: `UPDATE tracks SET ${col} = ${v} WHERE id = 1`,
    effect: "no-bump",
  })),
];

const ART_COLUMNS_UPDATES: [string, string][] = [
  ["data", "x'040506'"],
  ["sha256", `'${HEX_B}'`],
  ["mime", "'image/jpeg'"],
  ["width", "5"],
  ["height", "5"],
];

/** Run `fn` in a savepoint that is always rolled back. */
function inSavepoint<T>(db: DatabaseSync, fn: () => T): T {
  db.exec("SAVEPOINT probe");
  try {
    return fn();
  } finally {
    db.exec("ROLLBACK TO probe");
    db.exec("RELEASE probe");
  }
}

/** null when the statement succeeded, else the error message. */
function attempt(db: DatabaseSync, [sql, params]: [string, SQLInputValue[]]): string | null {
  return inSavepoint(db, () => {
    try {
      db.prepare(sql).run(...params);
      return null;
    } catch (e) {
      return sqliteMessage(e);
    }
  });
}

function trackState(db: DatabaseSync): { cv: number; at: number } {
  return db.prepare("SELECT content_version AS cv, updated_at AS at FROM tracks WHERE id = 1")
    .get() as { cv: number; at: number };
}

function changelogCount(db: DatabaseSync, id: number): number {
  return (db.prepare("SELECT count(*) AS n FROM track_changes WHERE track_id = ?").get(id) as {
    n: number;
  }).n;
}

/** Problems found by probing the scratch database (which has the store's schema, no rows). */
export function probeBehaviour(db: DatabaseSync): string[] {
  const problems: string[] = [];
  try {
    db.exec(`
      INSERT INTO tracks (id, backing_path, format, audio_offset, audio_length, backing_size,
                          backing_mtime_ns, updated_at)
        VALUES (1, '/probe/a', 'flac', 10, 20, 100, 5, 0);
      INSERT INTO art (id, sha256, mime, byte_len, data)
        VALUES (1, '${HEX_A}', 'image/png', 3, x'010203');`);
  } catch (e) {
    return [`a valid tracks or art row is rejected: ${sqliteMessage(e)}`];
  }

  for (const probe of CHECKS) {
    const err = attempt(db, probe.reject);
    if (err === null) problems.push(`table ${probe.table} is missing CHECK (${probe.rule})`);
    else if (!/constraint failed/i.test(err)) {
      problems.push(`table ${probe.table}: probing CHECK (${probe.rule}) failed: ${err}`);
    }
  }
  for (const probe of ACCEPTS) {
    const err = attempt(db, probe.stmt);
    if (err !== null) problems.push(`a valid ${probe.what} is rejected: ${err}`);
  }
  for (const [col, v] of ART_COLUMNS_UPDATES) {
    if (attempt(db, [`UPDATE art SET ${col} = ${v} WHERE id = 1`, []]) === null) {
      problems.push(`trigger art_reject_content_update does not reject an UPDATE of art.${col}`);
    }
  }
  for (const probe of EFFECTS) {
    const err = inSavepoint(db, () => {
      try {
        if (probe.setup) db.exec(probe.setup);
        db.exec("UPDATE tracks SET content_version = 0, updated_at = 0 WHERE id = 1");
        db.exec(probe.action);
      } catch (e) {
        return `probing ${probe.trigger} on ${probe.what} failed: ${sqliteMessage(e)}`;
      }
      const after = trackState(db);
      if (probe.effect === "no-bump") {
        return after.cv === 0
          ? null
          : `trigger ${probe.trigger} must not bump content_version on ${probe.what}`;
      }
      if (after.cv === 0) {
        return `trigger ${probe.trigger} does not bump content_version on ${probe.what}`;
      }
      if (probe.effect === "bump+touch" && after.at === 0) {
        return `trigger ${probe.trigger} does not set updated_at on ${probe.what}`;
      }
      return null;
    });
    if (err) problems.push(err);
  }
  problems.push(...changelogProblems(db));
  return problems;
}

function changelogProblems(db: DatabaseSync): string[] {
  const problems: string[] = [];
  const grows = (trigger: string, id: number, action: string) => {
    const err = inSavepoint(db, () => {
      const before = changelogCount(db, id);
      try {
        db.exec(action);
      } catch (e) {
        return `probing ${trigger} failed: ${sqliteMessage(e)}`;
      }
      return changelogCount(db, id) > before
        ? null
        : `trigger ${trigger} does not append to track_changes`;
    });
    if (err) problems.push(err);
  };
  grows(
    "tracks_changelog_ai",
    3,
    `INSERT INTO tracks (id, backing_path, format, audio_offset, audio_length, backing_size,
                         backing_mtime_ns, updated_at) VALUES (3, '/probe/c', 'wav', 0, 0, 0, 0, 0)`,
  );
  grows("tracks_changelog_au", 1, "UPDATE tracks SET backing_ctime_ns = 9 WHERE id = 1");
  grows("tracks_changelog_ad", 1, "DELETE FROM tracks WHERE id = 1");

  const err = inSavepoint(db, () => {
    try {
      db.exec(`DELETE FROM track_changes;
        INSERT INTO track_changes (seq, track_id) VALUES (10, 1);
        INSERT INTO track_changes (seq, track_id) VALUES (11, 1);
        INSERT INTO track_changes (seq, track_id) VALUES (${10 + CHANGELOG_CAP}, 1);`);
    } catch (e) {
      return `probing track_changes_prune failed: ${sqliteMessage(e)}`;
    }
    const seqs =
      (db.prepare("SELECT seq FROM track_changes ORDER BY seq").all() as { seq: number }[])
        .map((r) => r.seq);
    return seqs.join(",") === `11,${10 + CHANGELOG_CAP}`
      ? null
      : `trigger track_changes_prune must keep exactly the last ${CHANGELOG_CAP} seqs`;
  });
  if (err) problems.push(err);
  return problems;
}
