// What a SQLite file says about itself, read from its first page without
// SQLite: opening even read-only creates -wal/-shm files next to a WAL-mode
// database that has none, and a file that is not ours must be left exactly as
// it was. The file format is documented and stable: a 100-byte header, then
// page 1 holding the root of sqlite_schema.

const MAGIC = "SQLite format 3\0";
const dec = new TextDecoder();

export interface SqliteHeader {
  /** Journal mode WAL (file format version bytes 18/19 = 2). */
  wal: boolean;
  /** PRAGMA user_version (header offset 60). */
  userVersion: number;
  /**
   * Table names from sqlite_schema (internal sqlite_* tables left out), or
   * null when page 1 is not a single leaf (a large schema): ask SQLite then.
   */
  tables: string[] | null;
}

/** A varint at `at`: [value, next offset]. Values past 2^53 lose precision (never needed here). */
function varint(b: Uint8Array, at: number): [number, number] {
  let v = 0;
  for (let i = 0; i < 8; i++) {
    const byte = b[at + i];
    v = v * 128 + (byte & 0x7f);
    if ((byte & 0x80) === 0) return [v, at + i + 1];
  }
  return [v * 256 + b[at + 8], at + 9];
}

/** Bytes a record column of serial type `t` occupies. */
function serialSize(t: number): number {
  if (t >= 12) return Math.floor((t - 12) / 2);
  return [0, 1, 2, 3, 4, 6, 8, 8, 0, 0, 0, 0][t];
}

/** [type, name] of each sqlite_schema row on a leaf page 1, or null when it is not a leaf. */
function schemaRows(page: Uint8Array): [string, string][] | null {
  const at = 100; // page 1's b-tree header follows the file header
  if (page[at] !== 0x0d) return null;
  const cells = (page[at + 3] << 8) | page[at + 4];
  const rows: [string, string][] = [];
  for (let c = 0; c < cells; c++) {
    const ptr = (page[at + 8 + 2 * c] << 8) | page[at + 9 + 2 * c];
    let p = varint(page, ptr)[1]; // payload size
    p = varint(page, p)[1]; // rowid
    const [headerSize, afterSize] = varint(page, p);
    const types: number[] = [];
    for (let h = afterSize; h < p + headerSize && types.length < 2;) {
      const [t, next] = varint(page, h);
      types.push(t);
      h = next;
    }
    if (types.length < 2 || types.some((t) => t < 13 || t % 2 === 0)) return null;
    const body = p + headerSize;
    const typeText = dec.decode(page.subarray(body, body + serialSize(types[0])));
    const nameAt = body + serialSize(types[0]);
    if (nameAt + serialSize(types[1]) > page.length) return null;
    rows.push([typeText, dec.decode(page.subarray(nameAt, nameAt + serialSize(types[1])))]);
  }
  return rows;
}

/**
 * The header of the SQLite file at `path`, or null when it is not one (no
 * magic string, or shorter than a header). Throws what reading throws.
 */
export function readSqliteHeader(path: string): SqliteHeader | null {
  const file = Deno.openSync(path, { read: true });
  try {
    const head = new Uint8Array(100);
    if (file.readSync(head) !== 100 || dec.decode(head.subarray(0, 16)) !== MAGIC) return null;
    const view = new DataView(head.buffer);
    const raw = view.getUint16(16);
    const pageSize = raw === 1 ? 65536 : raw;
    const page = new Uint8Array(pageSize);
    page.set(head);
    let got = 100;
    while (got < pageSize) {
      const n = file.readSync(page.subarray(got));
      if (n === null || n === 0) break;
      got += n;
    }
    let tables: string[] | null = null;
    if (got === pageSize) {
      const rows = schemaRows(page);
      tables = rows === null
        ? null
        : rows.filter(([type, name]) => type === "table" && !name.startsWith("sqlite_"))
          .map(([, name]) => name).sort();
    }
    return { wal: head[18] === 2 || head[19] === 2, userVersion: view.getInt32(60), tables };
  } finally {
    file.close();
  }
}
