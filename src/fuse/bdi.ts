// The connection's read-ahead window: the kernel's backing-device setting
// (bdi read_ahead_kb) of our mount, found through /proc/self/mountinfo and
// raised after INIT when we may write it.

import { MUSEFS_FSTYPE, readMounts } from "../../ffi/mountinfo.ts";
import { type ServerLog, silentLog } from "./log.ts";

/**
 * The "major:minor" of the newest fuse.musefs mount at `mountpoint` (an
 * absolute path without symlinks), read from /proc/self/mountinfo: a stat or
 * realpath of the mountpoint could call into our own filesystem and wait for
 * the loop that is making this call.
 */
export function mountDeviceId(mountpoint: string): string | null {
  let mounts;
  try {
    mounts = readMounts();
  } catch {
    return null; // best effort: only the read-ahead tuning needs it
  }
  const found = mounts.filter((m) => m.mountpoint === mountpoint && m.fstype === MUSEFS_FSTYPE);
  return found.length > 0 ? found[found.length - 1].device : null;
}

/**
 * Raise the connection's read-ahead (bdi read_ahead_kb) so sequential reads
 * arrive `kib` at a time; the kernel's default 128 KiB halves throughput.
 * Must run after INIT (which clamps it to max_readahead). Best effort: false
 * when not permitted (non-root) or not found.
 */
export function raiseReadAhead(
  mountpoint: string,
  kib: number,
  log: ServerLog = silentLog,
): boolean {
  const dev = mountDeviceId(mountpoint);
  if (!dev) return false;
  const path = `/sys/class/bdi/${dev}/read_ahead_kb`;
  try {
    Deno.writeTextFileSync(path, `${kib}\n`);
    return true;
  } catch (e) {
    log.debug(`could not raise ${path} to ${kib}: ${(e as Error).message}`);
    return false;
  }
}
