// What this process may do itself: mount(2) needs root or CAP_SYS_ADMIN, and
// so does kernel passthrough; without them the mount goes through
// fusermount3 (session.ts) and reads through the daemon.

import * as libc from "../../ffi/libc.ts";

/** True when this process may call mount(2) (root or CAP_SYS_ADMIN). */
export function canMountDirectly(): boolean {
  return libc.geteuid() === 0 || hasCapSysAdmin();
}

/** CAP_SYS_ADMIN in the effective set (bit 21 of CapEff in /proc/self/status). */
export function hasCapSysAdmin(): boolean {
  try {
    const status = Deno.readTextFileSync("/proc/self/status");
    const m = /^CapEff:\s*([0-9a-f]+)/m.exec(status);
    return m !== null && ((BigInt("0x" + m[1]) >> 21n) & 1n) === 1n;
  } catch {
    return false;
  }
}
