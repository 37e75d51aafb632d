// `musefs tag`: edit the text tags of the selected tracks in one transaction
// (--set, --add, --rm; keys matched in any case, binary rows never touched),
// and `tag export` / `tag import`, which round-trip exactly: importing an
// unchanged export writes nothing, so no content_version moves.

import { MAX_TAG_KEY_CHARS, MAX_TAG_VALUE_BYTES } from "../format/mod.ts";
import {
  getTrack,
  getTrackByPath,
  groupTags,
  listTextTags,
  setTextTags,
  type Store,
} from "../store/mod.ts";
import type { TagEdit, TagOptions } from "./curate_options.ts";
import { CliError, EXIT_OK } from "./errors.ts";
import type { Io } from "./io.ts";
import { confirmSize, explainBusy, openForCuration, select } from "./select.ts";

type Groups = Map<string, string[]>;

/** The export format's version (docs/cli.md "tag export"). */
export const EXPORT_FORMAT = 1;

interface ExportFile {
  musefs_tags: number;
  store: string;
  tracks: { id: number; backing_path: string; tags: Record<string, string[]> }[];
}

const utf8 = new TextEncoder();

/** A key the store's CHECK would refuse, as a message; null when it is fine. */
export function badKey(key: string): string | null {
  if (key.length === 0) return "a tag key cannot be empty";
  if ([...key].length > MAX_TAG_KEY_CHARS) {
    return `tag key "${key.slice(0, 40)}…" is over ${MAX_TAG_KEY_CHARS} characters`;
  }
  // deno-lint-ignore no-control-regex
  if (/[\x00-\x1f]/.test(key)) return `tag key ${JSON.stringify(key)} contains a control character`;
  return null;
}

function checkValue(key: string, value: string): void {
  if (utf8.encode(value).length > MAX_TAG_VALUE_BYTES) {
    throw new CliError(`the value of ${key} is over the store's ${MAX_TAG_VALUE_BYTES}-byte limit`);
  }
}

/** The existing spelling of `key` among `groups` (keys match in any case), else `key`. */
function spelling(groups: Groups, key: string): string {
  const lower = key.toLowerCase();
  for (const k of groups.keys()) if (k.toLowerCase() === lower) return k;
  return key;
}

function dropVariants(groups: Groups, key: string): void {
  const lower = key.toLowerCase();
  for (const k of [...groups.keys()]) if (k.toLowerCase() === lower) groups.delete(k);
}

/**
 * The tags after `edits`: all --set first (several --set of one key give it
 * several values), then --add, then --rm. Keys keep their stored spelling.
 */
export function applyEdits(current: Groups, edits: readonly TagEdit[]): Groups {
  const out: Groups = new Map([...current].map(([k, v]) => [k, [...v]]));
  const sets = new Map<string, { key: string; values: string[] }>();
  for (const e of edits) {
    if (e.op !== "set") continue;
    const entry = sets.get(e.key.toLowerCase());
    if (entry) entry.values.push(e.value);
    else sets.set(e.key.toLowerCase(), { key: spelling(out, e.key), values: [e.value] });
  }
  for (const { key, values } of sets.values()) {
    // Replace in place when present, so the key keeps its position.
    const rebuilt: Groups = new Map();
    let placed = false;
    for (const [k, v] of out) {
      if (k.toLowerCase() !== key.toLowerCase()) rebuilt.set(k, v);
      else if (!placed) {
        rebuilt.set(key, values);
        placed = true;
      }
    }
    if (!placed) rebuilt.set(key, values);
    out.clear();
    for (const [k, v] of rebuilt) out.set(k, v);
  }
  for (const e of edits) {
    if (e.op !== "add") continue;
    const key = spelling(out, e.key);
    out.set(key, [...(out.get(key) ?? []), e.value]);
  }
  for (const e of edits) {
    if (e.op !== "rm") continue;
    if (e.value === null) {
      dropVariants(out, e.key);
      continue;
    }
    const lower = e.key.toLowerCase();
    for (const [k, v] of [...out]) {
      if (k.toLowerCase() !== lower) continue;
      const kept = v.filter((x) => x !== e.value);
      if (kept.length === 0) out.delete(k);
      else out.set(k, kept);
    }
  }
  return out;
}

/** Lines describing how `before` becomes `after` (empty when equal). */
export function diffLines(before: Groups, after: Groups): string[] {
  const lines: string[] = [];
  const keys = new Set([...before.keys(), ...after.keys()]);
  for (const key of keys) {
    const a = before.get(key);
    const b = after.get(key);
    if (a && b && a.length === b.length && a.every((v, i) => v === b[i])) continue;
    if (a) lines.push(`  - ${key} = ${a.map((v) => JSON.stringify(v)).join(", ")}`);
    if (b) lines.push(`  + ${key} = ${b.map((v) => JSON.stringify(v)).join(", ")}`);
  }
  return lines;
}

function validate(groups: Groups): void {
  for (const [key, values] of groups) {
    const problem = badKey(key);
    if (problem) throw new CliError(`${problem}; the store would refuse it`);
    for (const v of values) checkValue(key, v);
  }
}

/** Write every planned change in one transaction; returns how many tracks changed. */
function writeAll(store: Store, plans: Map<number, Groups>): number {
  try {
    return store.transaction(() => {
      let changed = 0;
      for (const [id, groups] of plans) if (setTextTags(store, id, groups)) changed++;
      return changed;
    });
  } catch (e) {
    throw explainBusy(e, store.path);
  }
}

function report(
  io: Io,
  store: Store,
  plans: Map<number, Groups>,
  dryRun: boolean,
): Map<number, Groups> {
  const changes = new Map<number, Groups>();
  for (const [id, after] of plans) {
    const before = groupTags(listTextTags(store, id));
    const lines = diffLines(before, after);
    if (lines.length === 0) continue;
    changes.set(id, after);
    if (dryRun) {
      io.out(`track ${id} (${getTrack(store, id)!.backingPath})`);
      for (const line of lines) io.out(line);
    }
  }
  return changes;
}

async function edit(options: Extract<TagOptions, { action: "edit" }>, io: Io): Promise<number> {
  for (const e of options.edits) {
    const problem = badKey(e.key);
    if (problem) throw new CliError(`${problem}; the store would refuse it`);
    if (e.value !== null) checkValue(e.key, e.value);
  }
  const sel = await select(options.selection, options.dryRun ? "ro" : "rw");
  try {
    confirmSize(sel.ids.length, options.yes, options.dryRun);
    const plans = new Map<number, Groups>();
    for (const id of sel.ids) {
      plans.set(id, applyEdits(groupTags(listTextTags(sel.store, id)), options.edits));
    }
    const changes = report(io, sel.store, plans, options.dryRun);
    if (options.dryRun) {
      io.out(`dry run: ${changes.size} of ${sel.ids.length} tracks would change; nothing written`);
      return EXIT_OK;
    }
    const changed = writeAll(sel.store, changes);
    io.out(`tagged ${changed} of ${sel.ids.length} tracks`);
  } finally {
    sel.store.close();
  }
  return EXIT_OK;
}

async function exportTags(
  options: Extract<TagOptions, { action: "export" }>,
  io: Io,
): Promise<number> {
  const sel = await select(options.selection, "ro");
  try {
    const file: ExportFile = sel.store.readTransaction(() => ({
      musefs_tags: EXPORT_FORMAT,
      store: Deno.realPathSync(sel.store.path),
      tracks: sel.ids.map((id) => ({
        id,
        backing_path: getTrack(sel.store, id)!.backingPath,
        tags: Object.fromEntries(groupTags(listTextTags(sel.store, id))),
      })),
    }));
    io.out(JSON.stringify(file, null, 2));
  } finally {
    sel.store.close();
  }
  return EXIT_OK;
}

/** Parse and check an export file; every problem is named before anything is written. */
function readExport(path: string): ExportFile {
  let data: unknown;
  try {
    data = JSON.parse(Deno.readTextFileSync(path));
  } catch (e) {
    throw new CliError(`cannot read ${path} as a tag export: ${(e as Error).message}`);
  }
  const f = data as Partial<ExportFile>;
  if (
    typeof f !== "object" || f === null || f.musefs_tags !== EXPORT_FORMAT ||
    !Array.isArray(f.tracks)
  ) {
    throw new CliError(
      `${path} is not a musefs tag export (expected {"musefs_tags": ${EXPORT_FORMAT}, "tracks": […]}` +
        " as `musefs tag export` writes)",
    );
  }
  f.tracks.forEach((t, i) => {
    const where = `${path}: tracks[${i}]`;
    if (typeof t !== "object" || t === null) throw new CliError(`${where} is not an object`);
    if (!Number.isSafeInteger(t.id) && typeof t.backing_path !== "string") {
      throw new CliError(`${where} has neither an id nor a backing_path`);
    }
    if (typeof t.tags !== "object" || t.tags === null || Array.isArray(t.tags)) {
      throw new CliError(`${where}.tags must be an object of key → [values]`);
    }
    for (const [key, values] of Object.entries(t.tags)) {
      if (!Array.isArray(values) || values.some((v) => typeof v !== "string")) {
        throw new CliError(`${where}.tags.${key} must be a list of strings`);
      }
    }
  });
  return f as ExportFile;
}

function importTags(options: Extract<TagOptions, { action: "import" }>, io: Io): number {
  const file = readExport(options.file);
  const db = options.db ?? file.store;
  if (typeof db !== "string" || db === "") {
    throw new CliError(`${options.file} names no store; give --db STORE`);
  }
  const store = openForCuration(db, options.dryRun ? "ro" : "rw");
  try {
    confirmSize(file.tracks.length, options.yes, options.dryRun);
    const plans = new Map<number, Groups>();
    for (const t of file.tracks) {
      const byId = Number.isSafeInteger(t.id) ? getTrack(store, t.id) : null;
      const row = byId && (t.backing_path === undefined || byId.backingPath === t.backing_path)
        ? byId
        : typeof t.backing_path === "string"
        ? getTrackByPath(store, t.backing_path)
        : null;
      if (row === null) {
        throw new CliError(
          `track ${t.id ?? "?"} (${
            t.backing_path ?? "no path"
          }) of ${options.file} is not in ${db}`,
        );
      }
      const groups: Groups = new Map(Object.entries(t.tags));
      validate(groups);
      plans.set(row.id, groups);
    }
    const changes = report(io, store, plans, options.dryRun);
    if (options.dryRun) {
      io.out(`dry run: ${changes.size} of ${plans.size} tracks would change; nothing written`);
      return EXIT_OK;
    }
    const changed = writeAll(store, changes);
    io.out(
      `imported ${options.file}: ${changed} tracks changed, ${plans.size - changed} unchanged`,
    );
  } finally {
    store.close();
  }
  return EXIT_OK;
}

export function runTag(options: TagOptions, io: Io): Promise<number> {
  switch (options.action) {
    case "edit":
      return edit(options, io);
    case "export":
      return exportTags(options, io);
    case "import":
      return Promise.resolve(importTags(options, io));
  }
}
