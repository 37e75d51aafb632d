// `mount --dry-run`: walk the tree depth-first in readdir order
// (bytewise names) and report how many files and directories it holds, with
// the first file paths as a sample; then, per template field, how many tracks
// lack it and what they got instead, and how many names collided and got a
// ` (k)` suffix. The CLI prints the lines.

import { openStore } from "../store/mod.ts";
import { visitAllFields } from "./catalog.ts";
import { openLibrary } from "./library.ts";
import { type LibraryOptions, resolveOptions } from "./options.ts";
import { ROOT_INODE } from "./inodes.ts";
import { Template } from "./template.ts";
import { type FieldStat, fieldStatLines, TemplateStats } from "./template_stats.ts";
import type { VirtualTree } from "./tree.ts";

export const DRY_RUN_SAMPLES = 30;

export interface DryRunSummary {
  files: number;
  /** Directories, the root not counted. */
  dirs: number;
  /** The first file paths in walk order (relative, "/"-separated). */
  samples: string[];
  /** Files beyond the sample. */
  more: number;
  /** Names that collided with a sibling and got a ` (k)` suffix. */
  suffixed?: { files: number; dirs: number };
  /** Per template field: tracks lacking it and what they got instead. */
  fields?: FieldStat[];
}

/** Walk `tree` depth-first in readdir order, collecting up to `limit` sample paths. */
export function walkTree(tree: VirtualTree, limit = DRY_RUN_SAMPLES): DryRunSummary {
  let files = 0;
  let dirs = 0;
  const suffixed = { files: 0, dirs: 0 };
  const samples: string[] = [];
  const visit = (ino: number, prefix: string): void => {
    for (const [name, child] of tree.children(ino) ?? []) {
      const path = prefix === "" ? name : `${prefix}/${name}`;
      // The name differs from what the template rendered only when disambiguated.
      const renamed = tree.node(child)!.renderedName !== name;
      if (tree.isDir(child)) {
        dirs++;
        if (renamed) suffixed.dirs++;
        visit(child, path);
      } else {
        files++;
        if (renamed) suffixed.files++;
        if (samples.length < limit) samples.push(path);
      }
    }
  };
  visit(ROOT_INODE, "");
  return { files, dirs, samples, more: files - samples.length, suffixed };
}

/** Open the store, build the tree, walk it, close. */
export function dryRun(
  dbPath: string,
  options: LibraryOptions = {},
  limit = DRY_RUN_SAMPLES,
): DryRunSummary {
  const lib = openLibrary(dbPath, options);
  let summary: DryRunSummary;
  try {
    summary = walkTree(lib.tree, limit);
  } finally {
    lib.close();
  }
  return { ...summary, fields: fieldStats(dbPath, options) };
}

/** Per template field, over every track in the store (a pass of its own: the build does not pay). */
export function fieldStats(dbPath: string, options: LibraryOptions = {}): FieldStat[] {
  const o = resolveOptions(options);
  const template = Template.parse(o.template, {
    fallbacks: o.fallbacks,
    defaultFallback: o.defaultFallback,
    skipOnMissing: o.skipOnMissing,
    extensions: o.extensions,
  });
  const stats = new TemplateStats(template, o);
  const store = openStore(dbPath, { mode: "ro" });
  try {
    store.readTransaction(() => visitAllFields(store, template, (t) => stats.observe(t)));
  } finally {
    store.close();
  }
  return stats.result();
}

/** The lines `mount --dry-run` prints. */
export function dryRunLines(s: DryRunSummary): string[] {
  const fields = s.fields !== undefined && s.fields.some((f) => f.tracks > 0)
    ? [
      "Template fields (tracks without a value, and what they got instead):",
      ...fieldStatLines(s.fields),
    ]
    : [];
  if (s.files === 0) {
    // With --skip-on-missing, the field lines say which field dropped the tracks.
    return [
      "dry run: 0 files — the store is empty, or every track was dropped by --skip-on-missing",
      ...fields,
    ];
  }
  const lines = [`dry run: ${s.files} files across ${s.dirs} directories. Sample paths:`];
  for (const p of s.samples) lines.push(`  ${p}`);
  if (s.more > 0) lines.push(`  ... and ${s.more} more`);
  lines.push(...fields);
  if (s.suffixed !== undefined) {
    const { files, dirs } = s.suffixed;
    lines.push(
      files + dirs === 0
        ? "Name collisions: none"
        : `Name collisions: ${files} file(s) and ${dirs} directory(ies) got a " (k)" suffix ` +
          "because a sibling already had the name",
    );
  }
  return lines;
}
