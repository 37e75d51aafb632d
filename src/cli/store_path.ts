// The `--db` path (and the mountpoint) as the commands receive them: `~`
// expanded, and the store file checked before any SQLite open, so a wrong
// path gets a message naming the problem and the fix instead of SQLite's
// "unable to open database file" or "disk I/O error". One place for every
// command: scan may create the store (its directory must exist); the others
// need an existing store file.

import { dirname, join } from "node:path";
import { CliError, UsageError } from "./errors.ts";
import type { EnvLookup } from "./flags.ts";
import type { Invocation } from "./options.ts";

/**
 * `~` and `~/…` → $HOME and $HOME/…. Shells expand a leading `~` only in
 * words they parse, not in values from environment files (systemd's
 * EnvironmentFile, .env files), so musefs expands it itself. `~user/…` is
 * refused: which home it means is for the shell to say.
 */
export function expandHome(
  path: string,
  what: string,
  env: EnvLookup,
  command?: string,
): string {
  if (!path.startsWith("~")) return path;
  if (path !== "~" && !path.startsWith("~/")) {
    throw new UsageError(
      `${what} ${path}: only "~" and "~/…" are expanded, not "~user"; give the full path`,
      command,
    );
  }
  const home = env("HOME");
  if (home === undefined || home === "") {
    throw new UsageError(
      `${what} ${path}: cannot expand "~" because HOME is not set; give the full path`,
      command,
    );
  }
  return path === "~" ? home : join(home, path.slice(2));
}

function statOrNull(path: string): Deno.FileInfo | null {
  try {
    return Deno.statSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory) return null;
    throw e;
  }
}

/**
 * Check `--db` before opening it. `create`: the store may be missing (scan
 * creates it) but its directory must exist. Otherwise the file must exist.
 * Either way it must not be a directory.
 */
export function checkStorePath(db: string, create: boolean): void {
  const info = statOrNull(db);
  if (info !== null) {
    if (info.isDirectory) {
      throw new CliError(
        `--db ${db} is a directory; give the store file inside it, e.g. --db ${
          join(db, "musefs.db")
        }`,
      );
    }
    return;
  }
  if (!create) {
    throw new CliError(
      `database does not exist: ${db} (create it with \`musefs scan <MUSIC DIR> --db ${db}\`)`,
    );
  }
  const parent = dirname(db);
  const dir = statOrNull(parent);
  if (dir === null) {
    throw new CliError(
      `cannot create the store ${db}: the directory ${parent} does not exist ` +
        `(create it first: mkdir -p ${parent})`,
    );
  }
  if (!dir.isDirectory) {
    throw new CliError(`cannot create the store ${db}: ${parent} is not a directory`);
  }
}

/**
 * Where a command's options keep `--db`: at the top, or (show, tag, art) in
 * the track selection, where it is optional — absent, the store comes from
 * the mount the targets lie in.
 */
function storeHolder(inv: Invocation): { db: string | null } | undefined {
  const o = inv.options as { db?: unknown; selection?: { db?: unknown } };
  const holder = typeof o.db === "string" ? o : o.selection;
  return holder !== undefined && typeof holder.db === "string"
    ? holder as { db: string | null }
    : undefined;
}

/** Expand `~` in the store path and the mountpoint of a validated command line (in place). */
export function expandInvocationPaths(inv: Invocation, env: EnvLookup): void {
  const holder = storeHolder(inv);
  if (holder) holder.db = expandHome(holder.db!, "--db", env, inv.command);
  const o = inv.options;
  if ("mountpoint" in o && o.mountpoint !== null) {
    o.mountpoint = expandHome(o.mountpoint, "MOUNTPOINT", env, inv.command);
  }
}

/** The store checks of a command about to run (see checkStorePath). */
export function checkInvocationStore(inv: Invocation): void {
  const db = storeHolder(inv)?.db;
  if (typeof db === "string") checkStorePath(db, inv.command === "scan");
}
