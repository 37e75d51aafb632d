// Selecting tracks for show, tag and art (docs/cli.md "Selecting tracks"): a
// served path inside a live mount (its attributes name the track and the
// store, so no --db is needed), a backing file or directory (an indexed
// range query on backing_path), --track ID, and --where conditions that all
// must hold. Everything is checked before anything is written.

import { resolve } from "node:path";
import { XATTR } from "../core/mod.ts";
import { getXattr, getXattrWithin } from "../../ffi/xattr.ts";
import {
  getTrack,
  openStore,
  type Store,
  StoreError,
  trackIdsAtOrUnder,
  trackIdsWhere,
} from "../store/mod.ts";
import type { SelectionOptions } from "./curate_options.ts";
import { CONFIRM_OVER } from "./curate_values.ts";
import { CliError } from "./errors.ts";
import { MOUNT_ANSWER_MS } from "./mounts.ts";

export interface Selection {
  store: Store;
  /** Selected track ids, ascending. */
  ids: number[];
  /** Served paths the selection went through, per track. */
  served: Map<number, string[]>;
}

function realOrSelf(path: string): string {
  try {
    return Deno.realPathSync(path);
  } catch {
    return path;
  }
}

function addServed(served: Map<number, string[]>, id: number, path: string): void {
  const list = served.get(id);
  if (list) list.push(path);
  else served.set(id, [path]);
}

/** Track ids of the served files at or under `path` inside a mount (recursive). */
function servedIds(path: string, served: Map<number, string[]>): void {
  const id = getXattr(path, XATTR.trackId);
  if (id !== null) {
    addServed(served, Number(id), path);
    return;
  }
  let info: Deno.FileInfo;
  try {
    info = Deno.lstatSync(path);
  } catch (e) {
    throw new CliError(`cannot read ${path}: ${(e as Error).message}`);
  }
  if (!info.isDirectory) return;
  for (const entry of Deno.readDirSync(path)) {
    if (entry.isDirectory || entry.isFile) servedIds(`${path}/${entry.name}`, served);
  }
}

/** Open the store a selection names; `mode` rw for edits. Throws CliError on any bad target. */
export async function select(
  options: SelectionOptions,
  mode: "ro" | "rw",
): Promise<Selection> {
  const served = new Map<number, string[]>();
  const backingTargets: [given: string, path: string][] = [];
  const stores = new Map<string, string>(); // store → a target that named it
  for (const target of options.targets) {
    const abs = resolve(target);
    const store = await getXattrWithin(abs, XATTR.store, MOUNT_ANSWER_MS);
    if (store === null) {
      backingTargets.push([target, realOrSelf(abs)]);
      continue;
    }
    stores.set(store, target);
    servedIds(abs, served);
  }
  const db = storeOf(options, stores);
  const store = openForCuration(db, mode);
  try {
    const ids = new Set<number>(served.keys());
    for (const [given, path] of backingTargets) {
      const found = trackIdsAtOrUnder(store, path);
      if (found.length === 0) {
        throw new CliError(
          `${given}: not inside a musefs mount, and no track of ${db} has its backing file ` +
            "at or under it",
        );
      }
      for (const id of found) ids.add(id);
    }
    for (const id of options.trackIds) {
      if (getTrack(store, id) === null) throw new CliError(`unknown track ${id} (not in ${db})`);
      ids.add(id);
    }
    let result = [...ids].sort((a, b) => a - b);
    if (options.where.length > 0) {
      const matching = trackIdsWhere(store, options.where);
      if (options.targets.length === 0 && options.trackIds.length === 0) result = matching;
      else {
        const keep = new Set(matching);
        result = result.filter((id) => keep.has(id));
      }
    }
    if (result.length === 0) throw new CliError("no track matches the selection");
    return { store, ids: result, served };
  } catch (e) {
    store.close();
    throw e;
  }
}

function storeOf(options: SelectionOptions, stores: Map<string, string>): string {
  if (stores.size > 1) {
    const [a, b] = [...stores.entries()];
    throw new CliError(
      `the targets belong to different stores: ${a[1]} (${a[0]}) and ${b[1]} (${b[0]}); ` +
        "select from one store at a time",
    );
  }
  const [mounted] = [...stores.entries()];
  if (options.db !== null) {
    if (mounted && realOrSelf(mounted[0]) !== realOrSelf(options.db)) {
      throw new CliError(
        `${mounted[1]} is served from ${mounted[0]}, not from --db ${options.db}`,
      );
    }
    return options.db;
  }
  if (mounted) return mounted[0];
  throw new CliError(
    "which store? none of the targets lies inside a live musefs mount; give --db STORE " +
      "(or set MUSEFS_DB)",
  );
}

/**
 * Open the store for a curation command: it must exist (curation never
 * creates one). A store held by another writer is retried for the busy
 * timeout, then reported with the processes that hold it.
 */
export function openForCuration(db: string, mode: "ro" | "rw"): Store {
  try {
    return openStore(db, { mode });
  } catch (e) {
    throw explainBusy(e, db);
  }
}

/** A busy store's error, naming who holds it; other errors pass through. */
export function explainBusy(e: unknown, db: string): unknown {
  if (!(e instanceof StoreError) || e.kind !== "busy") return e;
  const holders = storeHolders(db);
  const who = holders.length === 0
    ? "another process"
    : holders.map((h) => `pid ${h.pid} (${h.command})`).join(", ");
  return new CliError(
    `the store ${db} is locked by another writer (waited 5 s): held open by ${who}; ` +
      "try again when it has finished",
    { cause: e },
  );
}

/** Processes other than this one with the store (or its WAL) open, from /proc. */
export function storeHolders(db: string): { pid: number; command: string }[] {
  const real = realOrSelf(db);
  const names = new Set([real, `${real}-wal`]);
  const out: { pid: number; command: string }[] = [];
  let procs: Deno.DirEntry[];
  try {
    procs = [...Deno.readDirSync("/proc")];
  } catch {
    return out;
  }
  for (const p of procs) {
    if (!/^\d+$/.test(p.name) || Number(p.name) === Deno.pid) continue;
    try {
      for (const fd of Deno.readDirSync(`/proc/${p.name}/fd`)) {
        if (!names.has(Deno.readLinkSync(`/proc/${p.name}/fd/${fd.name}`))) continue;
        const command = Deno.readTextFileSync(`/proc/${p.name}/comm`).trim();
        out.push({ pid: Number(p.name), command });
        break;
      }
    } catch { /* gone, or not ours to read */ }
  }
  return out;
}

/** Edits of many tracks need --yes (dry runs never do). */
export function confirmSize(count: number, yes: boolean, dryRun: boolean): void {
  if (count > CONFIRM_OVER && !yes && !dryRun) {
    throw new CliError(
      `${count} tracks selected; add --yes to edit more than ${CONFIRM_OVER} tracks at once ` +
        "(or narrow the selection; --dry-run shows what would change)",
    );
  }
}
