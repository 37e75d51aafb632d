// Who else has a store open. Every SQLite connection to a WAL database holds
// a shared POSIX lock on byte 128 of its -shm file (the "dead man switch")
// for as long as it is open, idle or not — a mount between reads included.
// Asking the kernel whether an exclusive lock there would conflict (F_GETLK,
// which takes no lock) names such a process without disturbing it.

import * as libc from "../../ffi/libc.ts";

/** The -shm byte every open WAL connection holds a shared lock on. */
const SHM_DMS_BYTE = 128;

export interface StoreUser {
  pid: number;
  /** Its command line, shortened (empty when /proc does not say). */
  command: string;
}

function commandOf(pid: number): string {
  try {
    const raw = Deno.readTextFileSync(`/proc/${pid}/cmdline`);
    const text = raw.split("\0").filter((a) => a !== "").join(" ").replace(/\s+/g, " ");
    return text.length > 300 ? `${text.slice(0, 297)}...` : text;
  } catch {
    return "";
  }
}

/**
 * Another process with a connection open on the store at `path`, or null
 * when there is none — or when this cannot be told (no -shm file, no FFI).
 * Call it before this process opens the store: closing the -shm descriptor
 * drops every POSIX lock the process holds on that file, SQLite's included.
 */
export function otherStoreUser(path: string): StoreUser | null {
  let fd: number;
  try {
    fd = libc.open(`${path}-shm`, libc.O_RDONLY | libc.O_CLOEXEC);
  } catch {
    return null; // no -shm: no connection is open (or FFI is unavailable)
  }
  try {
    const pid = libc.lockHolder(fd, libc.F_WRLCK, SHM_DMS_BYTE, 1);
    return pid === null ? null : { pid, command: commandOf(pid) };
  } catch {
    return null;
  } finally {
    libc.close(fd);
  }
}
