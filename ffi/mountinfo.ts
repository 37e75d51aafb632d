// The kernel's table of mounts as this process sees it (/proc/self/mountinfo):
// where musefs mounts are, without touching them. A stat or realpath of a
// mountpoint calls into the filesystem mounted there, and a musefs mount
// that cannot answer (its process stopped, or waiting on itself) would hang
// the caller; reading this table never does.

/** The filesystem type every musefs mount shows (mount(2) type, or libfuse's `subtype=musefs`). */
export const MUSEFS_FSTYPE = "fuse.musefs";

export interface MountEntry {
  /** "major:minor" of the mounted filesystem. */
  device: string;
  /** Absolute path of the mountpoint (octal escapes undone). */
  mountpoint: string;
  /** e.g. "ext4", "fuse.musefs". */
  fstype: string;
  source: string;
}

/** Undo mountinfo's octal escapes (space is `\040`, backslash `\134`, …). */
function unescape(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o) => String.fromCharCode(parseInt(o, 8)));
}

/** Parse mountinfo text (see proc(5)): fields before the " - " separator, then type and source. */
export function parseMountinfo(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split("\n")) {
    const fields = line.split(" ");
    const dash = fields.indexOf("-", 6);
    if (dash < 0 || fields.length < dash + 3) continue;
    out.push({
      device: fields[2],
      mountpoint: unescape(fields[4]),
      fstype: fields[dash + 1],
      source: unescape(fields[dash + 2]),
    });
  }
  return out;
}

/**
 * The mounts of this process, in mount order; empty without /proc. Any
 * other failure (Deno grants /proc only under --allow-all) throws: the
 * guards built on this must not pass silently.
 */
export function readMounts(): MountEntry[] {
  try {
    return parseMountinfo(Deno.readTextFileSync("/proc/self/mountinfo"));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    throw e;
  }
}

/** The mountpoints of every musefs mount this process can see. */
export function musefsMountpoints(mounts: readonly MountEntry[] = readMounts()): Set<string> {
  return new Set(mounts.filter((m) => m.fstype === MUSEFS_FSTYPE).map((m) => m.mountpoint));
}

/**
 * The musefs mountpoint that `path` (absolute, without symlinks) is, or lies
 * under; null when none.
 */
export function musefsMountAt(path: string, mountpoints: ReadonlySet<string>): string | null {
  for (let p = path;;) {
    if (mountpoints.has(p)) return p;
    if (p === "/") return null;
    const slash = p.lastIndexOf("/");
    p = slash <= 0 ? "/" : p.slice(0, slash);
  }
}
