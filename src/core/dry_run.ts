// `mount --dry-run` (F§1): walk the tree depth-first in readdir order
// (bytewise names) and report how many files and directories it holds, with
// the first file paths as a sample. The CLI prints the lines.

import { openLibrary } from "./library.ts";
import type { LibraryOptions } from "./options.ts";
import { ROOT_INODE } from "./inodes.ts";
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
}

/** Walk `tree` depth-first in readdir order, collecting up to `limit` sample paths. */
export function walkTree(tree: VirtualTree, limit = DRY_RUN_SAMPLES): DryRunSummary {
  let files = 0;
  let dirs = 0;
  const samples: string[] = [];
  const visit = (ino: number, prefix: string): void => {
    for (const [name, child] of tree.children(ino) ?? []) {
      const path = prefix === "" ? name : `${prefix}/${name}`;
      if (tree.isDir(child)) {
        dirs++;
        visit(child, path);
      } else {
        files++;
        if (samples.length < limit) samples.push(path);
      }
    }
  };
  visit(ROOT_INODE, "");
  return { files, dirs, samples, more: files - samples.length };
}

/** Open the store, build the tree, walk it, close. */
export function dryRun(
  dbPath: string,
  options: LibraryOptions = {},
  limit = DRY_RUN_SAMPLES,
): DryRunSummary {
  const lib = openLibrary(dbPath, options);
  try {
    return walkTree(lib.tree, limit);
  } finally {
    lib.close();
  }
}

/** The lines `mount --dry-run` prints (F§1). */
export function dryRunLines(s: DryRunSummary): string[] {
  if (s.files === 0) {
    return [
      "dry run: 0 files — the store is empty, or every track was dropped by --skip-on-missing",
    ];
  }
  const lines = [`dry run: ${s.files} files across ${s.dirs} directories. Sample paths:`];
  for (const p of s.samples) lines.push(`  ${p}`);
  if (s.more > 0) lines.push(`  ... and ${s.more} more`);
  return lines;
}
