// The open-time identity check: is this store shaped as schema version 2
// requires? Semantic, never a comparison of DDL text, so a store
// created by the original program, by python-musefs or by us passes whatever
// its whitespace or quoting, and a store missing anything is refused with a
// message naming each problem.
//
// How: the store's own schema (sqlite_master) is replayed into a scratch
// in-memory database. There the shape is read through pragmas (columns,
// keys, indexes, foreign keys), trigger headers are parsed loosely, and CHECK
// constraints and trigger bodies are probed by behaviour inside savepoints
// that are rolled back. The store itself is never written (works read-only).
// Results are memoized per distinct schema text, so only the first open of a
// process pays for the probes. PRAGMA foreign_key_check runs on the store.

import { DatabaseSync } from "node:sqlite";
import { sqliteMessage, StoreError } from "./errors.ts";
import { readUserVersion, SCHEMA_VERSION } from "./schema.ts";
import type { Store } from "./open.ts";
import { REQUIRED_TABLES, REQUIRED_TRIGGERS } from "./contract.ts";
import { probeBehaviour } from "./probes.ts";

interface SchemaObject {
  type: string;
  name: string;
  tbl_name: string;
  sql: string | null;
}

const memo = new Map<string, string[]>();

/** Throw a StoreError naming every way the open store deviates from the contract. */
export function checkIdentity(store: Store, options: { foreignKeyCheck?: boolean } = {}): void {
  const version = readUserVersion(store.db);
  if (version !== SCHEMA_VERSION) {
    throw new StoreError(
      "schema-mismatch",
      `store schema version ${version}, expected ${SCHEMA_VERSION}`,
      store.path,
    );
  }
  const objects = store.db.prepare(
    "SELECT type, name, tbl_name, sql FROM sqlite_master " +
      "WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY rowid",
  ).all() as unknown as SchemaObject[];
  const key = JSON.stringify(objects.map((o) => [o.type, o.name, o.tbl_name, o.sql]));
  let problems = memo.get(key);
  if (!problems) {
    problems = schemaProblems(objects);
    memo.set(key, problems);
  }
  if (problems.length > 0) {
    throw new StoreError(
      "schema-mismatch",
      `store does not match musefs schema version ${SCHEMA_VERSION}: ${problems.join("; ")}`,
      store.path,
    );
  }
  if (options.foreignKeyCheck === false) return;
  const violations = store.db.prepare("PRAGMA foreign_key_check").all() as unknown as {
    table: string;
    rowid: number | null;
    parent: string;
  }[];
  if (violations.length > 0) {
    const first = violations.slice(0, 5).map((v) =>
      `${v.table} row ${v.rowid ?? "?"} references a missing ${v.parent} row`
    );
    const more = violations.length > 5 ? ` (and ${violations.length - 5} more)` : "";
    throw new StoreError(
      "schema-mismatch",
      `store has foreign key violations: ${first.join("; ")}${more}`,
      store.path,
    );
  }
}

/** Every deviation of the given schema objects from the contract (empty when it matches). */
export function schemaProblems(objects: readonly SchemaObject[]): string[] {
  const scratch = new DatabaseSync(":memory:", { enableForeignKeyConstraints: false });
  try {
    const problems = replay(scratch, objects);
    if (problems.length > 0) return problems;
    problems.push(...shapeProblems(scratch));
    problems.push(...triggerHeaderProblems(objects));
    // Behaviour probes only make sense on the right columns; otherwise every
    // probe would fail and bury the real problem.
    if (problems.length === 0) problems.push(...probeBehaviour(scratch));
    return problems;
  } finally {
    scratch.close();
  }
}

function replay(scratch: DatabaseSync, objects: readonly SchemaObject[]): string[] {
  const order = ["table", "index", "view", "trigger"];
  const sorted = [...objects].sort((a, b) => order.indexOf(a.type) - order.indexOf(b.type));
  const problems: string[] = [];
  for (const o of sorted) {
    if (!o.sql) continue; // automatic indexes have no text
    try {
      scratch.exec(o.sql);
    } catch (e) {
      problems.push(`${o.type} ${o.name} cannot be recreated: ${sqliteMessage(e)}`);
    }
  }
  return problems;
}

interface ColumnInfo {
  name: string;
  type: string;
  notnull: number;
  dflt_value: string | null;
  pk: number;
  hidden: number;
}

/** A default value as SQLite reports it, without quotes, parentheses or spaces. */
function normalizeDefault(v: string | null): string | null {
  if (v === null) return null;
  let s = v.trim();
  while (s.startsWith("(") && s.endsWith(")")) s = s.slice(1, -1).trim();
  if (s.length >= 2 && s.startsWith("'") && s.endsWith("'")) s = s.slice(1, -1);
  return s;
}

function shapeProblems(db: DatabaseSync): string[] {
  const problems: string[] = [];
  const tableNames = new Set(
    (db.prepare("SELECT lower(name) AS n FROM sqlite_master WHERE type = 'table'").all() as {
      n: string;
    }[]).map((r) => r.n),
  );
  for (const table of REQUIRED_TABLES) {
    if (!tableNames.has(table.name)) {
      problems.push(`table ${table.name} missing`);
      continue;
    }
    const cols = db.prepare("SELECT * FROM pragma_table_xinfo(?)").all(
      table.name,
    ) as unknown as ColumnInfo[];
    const byName = new Map(cols.map((c) => [c.name.toLowerCase(), c]));
    for (const want of table.columns) {
      const got = byName.get(want.name);
      if (!got) {
        problems.push(`table ${table.name} is missing column ${want.name}`);
        continue;
      }
      const where = `column ${table.name}.${want.name}`;
      if (got.type.toUpperCase() !== want.type) {
        problems.push(`${where} has type ${got.type || "(none)"}, expected ${want.type}`);
      }
      if (want.notNull && got.notnull === 0) problems.push(`${where} must be NOT NULL`);
      if (!want.notNull && got.notnull !== 0 && want.pk === 0) {
        problems.push(`${where} must allow NULL`);
      }
      if (want.default !== undefined && normalizeDefault(got.dflt_value) !== want.default) {
        problems.push(`${where} must default to ${want.default === "" ? "''" : want.default}`);
      }
      if (got.pk !== want.pk) {
        problems.push(
          want.pk === 0
            ? `${where} must not be part of the primary key`
            : `${where} must be primary key column ${want.pk}`,
        );
      }
      if (got.hidden !== 0) problems.push(`${where} must be an ordinary column`);
    }
    for (const c of cols) {
      if (!table.columns.some((w) => w.name === c.name.toLowerCase())) {
        problems.push(`table ${table.name} has unexpected column ${c.name}`);
      }
    }
    const sql =
      (db.prepare("SELECT sql FROM sqlite_master WHERE type = 'table' AND lower(name) = ?")
        .get(table.name) as { sql: string }).sql;
    if (table.autoincrement && !/\bAUTOINCREMENT\b/i.test(sql)) {
      problems.push(`column ${table.name}.${table.columns[0].name} must be AUTOINCREMENT`);
    }
    if (/\)\s*WITHOUT\s+ROWID\s*;?\s*$/i.test(sql)) {
      problems.push(`table ${table.name} must be a rowid table`);
    }
    problems.push(...indexProblems(db, table.name, table.unique, table.indexes));
    problems.push(...foreignKeyProblems(db, table.name, table.foreignKeys));
  }
  return problems;
}

interface IndexListRow {
  name: string;
  unique: number;
  origin: string;
  partial: number;
}

function indexColumns(db: DatabaseSync, index: string): string[] {
  return (db.prepare("SELECT name FROM pragma_index_info(?) ORDER BY seqno").all(index) as {
    name: string | null;
  }[]).map((r) => (r.name ?? "<expr>").toLowerCase());
}

function indexProblems(
  db: DatabaseSync,
  table: string,
  unique: readonly string[][],
  named: readonly { name: string; columns: string[] }[],
): string[] {
  const problems: string[] = [];
  const list = db.prepare("SELECT * FROM pragma_index_list(?)").all(
    table,
  ) as unknown as IndexListRow[];
  for (const cols of unique) {
    const ok = list.some((ix) =>
      ix.unique === 1 && ix.partial === 0 && indexColumns(db, ix.name).join(",") === cols.join(",")
    );
    if (!ok) problems.push(`table ${table} is missing UNIQUE (${cols.join(", ")})`);
  }
  for (const want of named) {
    const got = list.find((ix) => ix.name.toLowerCase() === want.name);
    if (!got) {
      problems.push(`index ${want.name} missing`);
      continue;
    }
    const cols = indexColumns(db, got.name);
    if (cols.join(",") !== want.columns.join(",")) {
      problems.push(
        `index ${want.name} must cover ${table}(${want.columns.join(", ")}), ` +
          `covers (${cols.join(", ")})`,
      );
    }
    if (got.unique !== 0) problems.push(`index ${want.name} must not be UNIQUE`);
    if (got.partial !== 0) problems.push(`index ${want.name} must not be partial`);
  }
  return problems;
}

interface ForeignKeyRow {
  table: string;
  from: string;
  to: string | null;
  on_delete: string;
}

function foreignKeyProblems(
  db: DatabaseSync,
  table: string,
  wanted: readonly { from: string; parent: string; cascade: boolean }[],
): string[] {
  const problems: string[] = [];
  const list = db.prepare("SELECT * FROM pragma_foreign_key_list(?)").all(
    table,
  ) as unknown as ForeignKeyRow[];
  for (const fk of wanted) {
    const got = list.find((r) =>
      r.from.toLowerCase() === fk.from && r.table.toLowerCase() === fk.parent &&
      (r.to === null || r.to.toLowerCase() === "id")
    );
    const what = `${table}.${fk.from} REFERENCES ${fk.parent}(id)`;
    if (!got) {
      problems.push(`foreign key ${what} missing`);
      continue;
    }
    const action = got.on_delete.toUpperCase();
    if (fk.cascade && action !== "CASCADE") {
      problems.push(`foreign key ${what} must be ON DELETE CASCADE (is ${action})`);
    }
    if (!fk.cascade && action !== "NO ACTION" && action !== "RESTRICT") {
      problems.push(`foreign key ${what} must not act on delete (is ${action})`);
    }
  }
  return problems;
}

function unquote(name: string): string {
  const q = name[0];
  if ((q === '"' || q === "`" || q === "[") && name.length >= 2) return name.slice(1, -1);
  return name;
}

/** Drop comments, collapse whitespace: enough to read a trigger's header. */
function normalizeSql(sql: string): string {
  return sql.replace(/--[^\n]*/g, " ").replace(/\/\*[\s\S]*?\*\//g, " ").replace(/\s+/g, " ")
    .trim();
}

const TRIGGER_HEADER = new RegExp(
  String.raw`^CREATE (?:TEMP |TEMPORARY )?TRIGGER (?:IF NOT EXISTS )?` +
    String.raw`(?:"(?:[^"]|"")+"|\x60[^\x60]+\x60|\[[^\]]+\]|[\w$.]+) ?` +
    String.raw`(BEFORE |AFTER |INSTEAD OF )?(INSERT|DELETE|UPDATE)( OF .+?)? ON `,
  "i",
);

function triggerHeaderProblems(objects: readonly SchemaObject[]): string[] {
  const problems: string[] = [];
  const triggers = new Map(
    objects.filter((o) => o.type === "trigger").map((o) => [o.name.toLowerCase(), o]),
  );
  for (const want of REQUIRED_TRIGGERS) {
    const got = triggers.get(want.name);
    if (!got) {
      problems.push(`trigger ${want.name} missing`);
      continue;
    }
    if (got.tbl_name.toLowerCase() !== want.table) {
      problems.push(`trigger ${want.name} must be on table ${want.table}, is on ${got.tbl_name}`);
      continue;
    }
    const m = TRIGGER_HEADER.exec(normalizeSql(got.sql ?? ""));
    if (!m) {
      problems.push(`trigger ${want.name} has an unreadable definition`);
      continue;
    }
    const timing = (m[1] ?? "BEFORE").trim().toUpperCase();
    const event = m[2].toUpperCase();
    if (timing !== want.timing || event !== want.event) {
      problems.push(
        `trigger ${want.name} must be ${want.timing} ${want.event} ON ${want.table}, ` +
          `is ${timing} ${event}`,
      );
    }
    if (m[3]) {
      const listed = new Set(
        m[3].replace(/^ OF /i, "").split(",").map((c) => unquote(c.trim()).toLowerCase()),
      );
      const needed = want.watches ??
        REQUIRED_TABLES.find((t) => t.name === want.table)!.columns.map((c) => c.name);
      const missing = needed.filter((c) => !listed.has(c));
      if (missing.length > 0) {
        problems.push(
          `trigger ${want.name} must fire on an UPDATE of ${missing.join(", ")} ` +
            `(declared UPDATE${m[3]})`,
        );
      }
    }
  }
  return problems;
}
