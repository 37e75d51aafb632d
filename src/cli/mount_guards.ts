// Deployment guards of `musefs mount`, checked before anything is mounted
// (each refusal is exit 1 with the conflict named):
//
// - the mountpoint is already a musefs mount (a second mount would silently
//   stack on the first);
// - the mountpoint holds scanned files below it, i.e. it is a library
//   directory or an ancestor of one: the mount would cover the files it
//   serves, and every read would wait on the mount itself — a hang that even
//   SIGTERM cannot end;
// - the mountpoint lies inside the library: a directory above it directly
//   holds scanned files, or the nearest directory above it with scanned files
//   below it holds them in two or more subdirectories (a library root such
//   as /srv/music with one directory per artist).
//
// Mounting over the library is always refused: serving files the mount
// itself covers would need every backing file opened through directory fds
// taken before the mount (as bindfs does), which musefs does not do.
//
// The library checks are range probes on the backing_path index
// (src/store/paths.ts): a few dozen index seeks at any library size.

import { basename, dirname, resolve } from "node:path";
import { MUSEFS_FSTYPE, musefsMountpoints } from "../../ffi/mountinfo.ts";
import { firstTrackUnder, type Store, tracksInDirectory } from "../store/mod.ts";
import { CliError } from "./errors.ts";

/** How long a musefs mount found at the mountpoint gets to answer a stat. */
const LIVENESS_TIMEOUT_MS = 2000;

/**
 * The absolute path of `mountpoint` with its parent's symlinks resolved,
 * found without a stat of the mountpoint itself (that would enter whatever
 * is mounted there); null when the parent does not exist.
 */
function mountpointPath(mountpoint: string): string | null {
  const abs = resolve(mountpoint);
  if (abs === "/") return abs;
  try {
    const parent = Deno.realPathSync(dirname(abs));
    return parent === "/" ? `/${basename(abs)}` : `${parent}/${basename(abs)}`;
  } catch {
    return null;
  }
}

/** "dead" when the mount's process is gone (ENOTCONN); "alive" when it answers or hangs. */
async function probeMount(path: string): Promise<"dead" | "alive"> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<"alive">((r) =>
    timer = setTimeout(() => r("alive"), LIVENESS_TIMEOUT_MS)
  );
  const stat = Deno.stat(path).then(
    () => "alive" as const,
    (e) =>
      e instanceof Deno.errors.NotConnected || (e as { code?: string }).code === "ENOTCONN"
        ? "dead" as const
        : "alive" as const,
  );
  try {
    return await Promise.race([stat, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Refuse a mountpoint that already carries a live musefs mount (found in
 * /proc/self/mountinfo, type fuse.musefs). A dead one, left by a killed
 * process, is left to the mount's own recovery, which detaches it.
 */
export async function refuseStackedMount(mountpoint: string): Promise<void> {
  const path = mountpointPath(mountpoint);
  if (path === null || !musefsMountpoints().has(path)) return;
  if (await probeMount(path) === "dead") return;
  throw stacked(mountpoint);
}

/**
 * The same for the mountpoint's real path, once it is known to answer (a
 * symlink to a mounted directory names the same mount).
 */
export function refuseStackedRealPath(mountpoint: string, realPath: string): void {
  if (musefsMountpoints().has(realPath)) throw stacked(mountpoint);
}

function stacked(mountpoint: string): CliError {
  return new CliError(
    `${mountpoint} is already a musefs mount (${MUSEFS_FSTYPE}); unmount it first ` +
      `(\`umount ${mountpoint}\`, or \`fusermount3 -u ${mountpoint}\` as a user) or choose ` +
      "another mountpoint",
  );
}

/** Subdirectories examined per directory above the mountpoint. */
const SUBDIR_PROBES = 64;

/** Every directory above `path` (absolute), nearest first, without "/". */
function ancestors(path: string): string[] {
  const out: string[] = [];
  for (let p = dirname(path); p !== "/"; p = dirname(p)) out.push(p);
  return out;
}

/**
 * Refuse a mountpoint (absolute, symlinks resolved) that covers scanned
 * files or lies inside the library (the rules at the top of this file).
 */
export function refuseLibraryOverlap(store: Store, mountpoint: string): void {
  const covered = firstTrackUnder(store, mountpoint);
  if (covered !== null) {
    throw new CliError(
      `refusing to mount over the music library: ${mountpoint} holds scanned files ` +
        `(e.g. ${covered}), and serving them from under the mount would hang every access. ` +
        "Mount at an empty directory outside the library, e.g. /mnt/music",
    );
  }
  let nearest = true;
  for (const dir of ancestors(mountpoint)) {
    const held = tracksInDirectory(store, dir, SUBDIR_PROBES);
    const branching = nearest && held.subdirs.length >= 2;
    if (held.directFile !== null || branching) {
      const example = held.directFile ??
        `${dir}/${held.subdirs[0]}/…, ${dir}/${held.subdirs[1]}/…`;
      throw new CliError(
        `refusing to mount inside the music library: ${mountpoint} lies in ${dir}, which ` +
          `holds scanned files (${example}); a scan of ${dir} would meet the view of ` +
          "itself. Mount at an empty directory outside the library, e.g. /mnt/music",
      );
    }
    if (held.subdirs.length > 0) nearest = false;
  }
}
