// /etc/fuse.conf, read for the one setting that decides whether a non-root
// user may mount with allow_other.

/** `user_allow_other` on an uncommented line of /etc/fuse.conf. */
export function fuseConfAllowsOther(path = "/etc/fuse.conf"): boolean {
  try {
    return Deno.readTextFileSync(path).split("\n").some((l) => l.trim() === "user_allow_other");
  } catch {
    return false;
  }
}
