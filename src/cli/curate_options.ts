// Validated options of the curation commands (show, tag, art, status), built
// from their parsed command lines.

import type { Condition } from "./curate_values.ts";
import { UsageError } from "./errors.ts";
import type { ParsedCommand } from "./flags.ts";
import type { ArtSpec, ShowSpec, StatusSpec, TagSpec } from "./spec.ts";

/** Which tracks a curation command acts on (docs/cli.md "Selecting tracks"). */
export interface SelectionOptions {
  /** --db; null: every target must lie inside a live mount. */
  db: string | null;
  targets: string[];
  trackIds: number[];
  where: Condition[];
}

export interface ShowOptions {
  selection: SelectionOptions;
  json: boolean;
}

export type TagEdit =
  | { op: "set"; key: string; value: string }
  | { op: "add"; key: string; value: string }
  | { op: "rm"; key: string; value: string | null };

export type TagOptions =
  | { action: "edit"; selection: SelectionOptions; edits: TagEdit[]; dryRun: boolean; yes: boolean }
  | { action: "export"; selection: SelectionOptions }
  | { action: "import"; file: string; db: string | null; dryRun: boolean; yes: boolean };

export type ArtAction =
  | { op: "set"; image: string; pictureType: number; description: string }
  | { op: "rm"; pictureType: number | null }
  | { op: "extract"; dir: string };

export interface ArtOptions {
  selection: SelectionOptions;
  action: ArtAction;
  dryRun: boolean;
  yes: boolean;
}

export interface StatusOptions {
  json: boolean;
}

type SelectionFlags = { db: string | undefined; track: number[]; where: Condition[] };

function selection(command: string, f: SelectionFlags, targets: string[]): SelectionOptions {
  if (targets.length === 0 && f.track.length === 0 && f.where.length === 0) {
    throw new UsageError(
      "nothing selected: name served or backing paths, --track ID or --where FIELD=VALUE",
      command,
    );
  }
  return { db: f.db ?? null, targets, trackIds: f.track, where: f.where };
}

export function showOptions(parsed: ParsedCommand<ShowSpec["flags"]>): ShowOptions {
  const f = parsed.flags;
  return { selection: selection("show", f, parsed.positionals.TARGETS), json: f.json };
}

export function tagOptions(parsed: ParsedCommand<TagSpec["flags"]>): TagOptions {
  const f = parsed.flags;
  const [first, ...rest] = parsed.positionals.TARGETS;
  const edits: TagEdit[] = [
    ...f.set.map(([key, value]) => ({ op: "set" as const, key, value })),
    ...f.add.map(([key, value]) => ({ op: "add" as const, key, value })),
    ...f.rm.map(([key, value]) => ({ op: "rm" as const, key, value })),
  ];
  if (first === "export" || first === "import") {
    if (edits.length > 0) {
      throw new UsageError(`\`tag ${first}\` takes no --set/--add/--rm`, "tag");
    }
    if (first === "export") {
      return { action: "export", selection: selection("tag", f, rest) };
    }
    if (rest.length !== 1 || f.track.length > 0 || f.where.length > 0) {
      throw new UsageError("`tag import` takes exactly one FILE (a `tag export` output)", "tag");
    }
    return { action: "import", file: rest[0], db: f.db ?? null, dryRun: f.dryRun, yes: f.yes };
  }
  if (edits.length === 0) {
    throw new UsageError("no edit given: use --set KEY=VALUE, --add KEY=VALUE or --rm KEY", "tag");
  }
  return {
    action: "edit",
    selection: selection("tag", f, parsed.positionals.TARGETS),
    edits,
    dryRun: f.dryRun,
    yes: f.yes,
  };
}

export function artOptions(parsed: ParsedCommand<ArtSpec["flags"]>): ArtOptions {
  const f = parsed.flags;
  const chosen = [f.set !== undefined, f.rm, f.extract !== undefined].filter(Boolean).length;
  if (chosen !== 1) {
    throw new UsageError("choose exactly one of --set IMAGE, --rm or --extract DIR", "art");
  }
  const action: ArtAction = f.set !== undefined
    ? { op: "set", image: f.set, pictureType: f.type ?? 3, description: f.description }
    : f.rm
    ? { op: "rm", pictureType: f.type ?? null }
    : { op: "extract", dir: f.extract! };
  return {
    selection: selection("art", f, parsed.positionals.TARGETS),
    action,
    dryRun: f.dryRun,
    yes: f.yes,
  };
}

export function statusOptions(parsed: ParsedCommand<StatusSpec["flags"]>): StatusOptions {
  return { json: parsed.flags.json };
}
