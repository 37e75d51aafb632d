// The shape schema version 2 requires, as data for the identity check:
// what must exist, independent of how the DDL that created it was written.

export interface ColumnContract {
  name: string;
  /** Declared type, upper case. */
  type: "INTEGER" | "TEXT" | "BLOB";
  notNull: boolean;
  /** Normalized default ('' for an empty string); undefined = not checked. */
  default?: string;
  /** 1-based position in the primary key, 0 when not part of it. */
  pk: number;
}

export interface TableContract {
  name: string;
  columns: ColumnContract[];
  /** Column lists that need a UNIQUE index (besides the primary key). */
  unique: string[][];
  /** Named, non-unique indexes on this table. */
  indexes: { name: string; columns: string[] }[];
  foreignKeys: { from: string; parent: string; cascade: boolean }[];
  autoincrement?: boolean;
}

const int = (name: string, notNull: boolean, pk = 0, dflt?: string): ColumnContract => ({
  name,
  type: "INTEGER",
  notNull,
  pk,
  default: dflt,
});
const text = (name: string, notNull: boolean, pk = 0, dflt?: string): ColumnContract => ({
  name,
  type: "TEXT",
  notNull,
  pk,
  default: dflt,
});
const blob = (name: string, notNull: boolean): ColumnContract => ({
  name,
  type: "BLOB",
  notNull,
  pk: 0,
});

export const REQUIRED_TABLES: readonly TableContract[] = [
  {
    name: "tracks",
    columns: [
      int("id", false, 1),
      text("backing_path", true),
      text("format", true),
      int("audio_offset", true),
      int("audio_length", true),
      int("backing_size", true),
      int("backing_mtime_ns", true),
      int("content_version", true, 0, "0"),
      int("updated_at", true),
      int("backing_ctime_ns", true, 0, "0"),
      text("fingerprint", false),
      text("content_hash", false),
    ],
    unique: [["backing_path"]],
    indexes: [{ name: "tracks_fingerprint_idx", columns: ["fingerprint"] }],
    foreignKeys: [],
  },
  {
    name: "tags",
    columns: [
      int("track_id", true, 1),
      text("key", true, 2),
      text("value", true),
      int("ordinal", true, 3, "0"),
      blob("value_blob", false),
    ],
    unique: [],
    indexes: [],
    foreignKeys: [{ from: "track_id", parent: "tracks", cascade: true }],
  },
  {
    name: "art",
    columns: [
      int("id", false, 1),
      text("sha256", true),
      text("mime", true),
      int("width", false),
      int("height", false),
      int("byte_len", true),
      blob("data", true),
    ],
    unique: [["sha256"]],
    indexes: [],
    foreignKeys: [],
  },
  {
    name: "track_art",
    columns: [
      int("track_id", true, 1),
      int("art_id", true),
      int("picture_type", true, 0, "3"),
      text("description", true, 0, ""),
      int("ordinal", true, 2, "0"),
    ],
    unique: [],
    indexes: [{ name: "track_art_art_id_idx", columns: ["art_id"] }],
    foreignKeys: [
      { from: "track_id", parent: "tracks", cascade: true },
      { from: "art_id", parent: "art", cascade: false },
    ],
  },
  {
    name: "structural_blocks",
    columns: [
      int("track_id", true, 1),
      text("kind", true, 2),
      int("ordinal", true, 3, "0"),
      blob("body", true),
    ],
    unique: [],
    indexes: [],
    foreignKeys: [{ from: "track_id", parent: "tracks", cascade: true }],
  },
  {
    name: "track_changes",
    columns: [int("seq", false, 1), int("track_id", true)],
    unique: [],
    indexes: [],
    foreignKeys: [],
    autoincrement: true,
  },
];

export interface TriggerContract {
  name: string;
  table: string;
  timing: "BEFORE" | "AFTER";
  event: "INSERT" | "UPDATE" | "DELETE";
  /**
   * UPDATE triggers: the columns whose change must fire it. A trigger declared
   * `UPDATE OF <columns>` passes only if its list covers these; unset means
   * every column of the table.
   */
  watches?: string[];
}

const trig = (
  name: string,
  table: string,
  timing: TriggerContract["timing"],
  event: TriggerContract["event"],
  watches?: string[],
): TriggerContract => ({ name, table, timing, event, watches });

export const REQUIRED_TRIGGERS: readonly TriggerContract[] = [
  trig("tags_ai", "tags", "AFTER", "INSERT"),
  trig("tags_au", "tags", "AFTER", "UPDATE"),
  trig("tags_ad", "tags", "AFTER", "DELETE"),
  trig("track_art_ai", "track_art", "AFTER", "INSERT"),
  trig("track_art_au", "track_art", "AFTER", "UPDATE"),
  trig("track_art_ad", "track_art", "AFTER", "DELETE"),
  trig("tracks_changelog_ai", "tracks", "AFTER", "INSERT"),
  trig("tracks_changelog_au", "tracks", "AFTER", "UPDATE"),
  trig("tracks_changelog_ad", "tracks", "AFTER", "DELETE"),
  trig("track_changes_prune", "track_changes", "AFTER", "INSERT"),
  trig("art_reject_content_update", "art", "BEFORE", "UPDATE", [
    "data",
    "sha256",
    "mime",
    "byte_len",
    "width",
    "height",
  ]),
  trig("art_ad", "art", "AFTER", "DELETE"),
  trig("tracks_geometry_au", "tracks", "AFTER", "UPDATE", [
    "format",
    "audio_offset",
    "audio_length",
    "backing_size",
    "backing_mtime_ns",
  ]),
  trig("structural_blocks_ai", "structural_blocks", "AFTER", "INSERT"),
  trig("structural_blocks_ad", "structural_blocks", "AFTER", "DELETE"),
];
