// Which scanned files lie under a directory, answered from the unique index
// on tracks.backing_path by range probes: the paths under `dir` are exactly
// those in [dir + "/", dir + "0") ("0" is the byte after "/"), because
// SQLite compares TEXT bytewise (BINARY collation, UTF-8). Each probe is one
// index seek, so the mount's guards cost microseconds at 200k tracks where a
// LIKE or substr() filter would read the whole table.

import type { Store } from "./open.ts";

/** The half-open range of backing paths strictly under `dir` (absolute, no trailing slash). */
function rangeUnder(dir: string): [string, string] {
  const base = dir === "/" ? "" : dir;
  return [`${base}/`, `${base}0`];
}

/** The smallest backing path in [lo, hi), or null. */
function firstIn(store: Store, lo: string, hi: string): string | null {
  const row = store.get<{ p: string }>(
    "SELECT backing_path AS p FROM tracks WHERE backing_path >= ? AND backing_path < ? " +
      "ORDER BY backing_path LIMIT 1",
    lo,
    hi,
  );
  return row?.p ?? null;
}

/** One scanned file under `dir` (the first by path), or null when none is. */
export function firstTrackUnder(store: Store, dir: string): string | null {
  const [lo, hi] = rangeUnder(dir);
  return firstIn(store, lo, hi);
}

/** What a directory holds of the library. */
export interface DirectoryTracks {
  /** A scanned file directly in the directory (the search stops at the first), or null. */
  directFile: string | null;
  /**
   * Names of the directory's subdirectories that hold scanned files, in path
   * order, up to the first direct file and at most `limit`.
   */
  subdirs: string[];
}

/**
 * Whether `dir` directly holds a scanned file, and which subdirectories hold
 * some, found by hopping from one entry's range to the next: at most
 * `limit` + 1 probes.
 */
export function tracksInDirectory(store: Store, dir: string, limit: number): DirectoryTracks {
  const [lo, hi] = rangeUnder(dir);
  const out: DirectoryTracks = { directFile: null, subdirs: [] };
  let from = lo;
  while (out.subdirs.length < limit) {
    const path = firstIn(store, from, hi);
    if (path === null) break;
    const rest = path.slice(lo.length);
    const slash = rest.indexOf("/");
    if (slash < 0) {
      out.directFile = path;
      break;
    }
    out.subdirs.push(rest.slice(0, slash));
    from = `${lo}${rest.slice(0, slash)}0`;
  }
  return out;
}

/**
 * The tracks whose backing file is `path` or, unless `exact`, lies under the
 * directory `path`, ascending id: an equality and one range probe.
 */
export function tracksAtOrUnder(
  store: Store,
  path: string,
  exact = false,
): { id: number; backingPath: string }[] {
  const at = path.length > 1 && path.endsWith("/") ? path.slice(0, -1) : path;
  const rows = exact
    ? store.all<{ id: number; p: string }>(
      "SELECT id, backing_path AS p FROM tracks WHERE backing_path = ?",
      at,
    )
    : store.all<{ id: number; p: string }>(
      `SELECT id, backing_path AS p FROM tracks WHERE backing_path = ?
        UNION SELECT id, backing_path AS p FROM tracks
          WHERE backing_path >= ? AND backing_path < ?
        ORDER BY id`,
      at,
      ...rangeUnder(at),
    );
  return rows.map((r) => ({ id: r.id, backingPath: r.p }));
}
