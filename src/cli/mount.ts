// `musefs mount` (and the bare `musefs … MOUNTPOINT` form): the pre-mount
// checks of F§1. The mount itself is not wired in yet.

import { CliError } from "./errors.ts";
import type { Io } from "./io.ts";
import type { MountOptions } from "./options.ts";

function statOrNull(path: string): Deno.FileInfo | null {
  try {
    return Deno.statSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
}

/** True when `dir` has at least one entry; unreadable counts as empty (advisory only). */
function isNonEmptyDir(dir: string): boolean {
  try {
    for (const _ of Deno.readDirSync(dir)) return true;
  } catch { /* the mount reports real access errors itself */ }
  return false;
}

/** The warning for a mode with write bits, or null. */
export function writeBitWarning(flag: string, mode: number): string | null {
  if ((mode & 0o222) === 0) return null;
  return `warning: --${flag} ${mode.toString(8)} sets write bits, but the mount is read-only; ` +
    "writes will fail with EROFS";
}

/**
 * Checks before any FUSE work (exit 1 on failure): the store must exist
 * (mount never creates one); the mountpoint must be an existing directory
 * (not needed for --dry-run); a non-empty mountpoint and modes with write
 * bits only warn.
 */
export function preMountChecks(options: MountOptions, io: Io): void {
  if (statOrNull(options.db) === null) {
    throw new CliError(`database does not exist: ${options.db}`);
  }
  if (!options.dryRun && options.mountpoint !== null) {
    const mp = options.mountpoint;
    const info = statOrNull(mp);
    if (info === null) throw new CliError(`mountpoint does not exist (create it first): ${mp}`);
    if (!info.isDirectory) throw new CliError(`mountpoint is not a directory: ${mp}`);
    if (isNonEmptyDir(mp)) {
      io.err(
        `warning: mountpoint ${mp} is not empty; its existing contents will be hidden ` +
          "behind the virtual tree until you unmount",
      );
    }
  }
  for (
    const [flag, mode] of [["file-mode", options.fileMode], ["dir-mode", options.dirMode]] as const
  ) {
    const warning = writeBitWarning(flag, mode);
    if (warning) io.err(warning);
  }
}

export function runMount(options: MountOptions, io: Io): Promise<number> {
  preMountChecks(options, io);
  throw new CliError("mount is not implemented yet");
}
