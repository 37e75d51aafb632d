// The live musefs mounts of this machine, as /proc/self/mountinfo lists them
// (file system type fuse.musefs), and what each says of itself through the
// read-only attributes on its root. Asking a mount is bounded in time: a
// wedged daemon makes that mount "not answering", never a hung command.

import { XATTR } from "../core/mod.ts";
import { getXattrWithin } from "../../ffi/xattr.ts";

/** How long one mount may take to answer an attribute read. */
export const MOUNT_ANSWER_MS = 2000;

/** The fields of the root's `user.musefs.status` attribute (docs/cli.md). */
export interface MountStatus {
  version?: string;
  store?: string;
  mode?: string;
  template?: string;
  mountpoint?: string;
  pid?: number;
  passthrough?: boolean;
  started_at?: number;
  files?: number;
  directories?: number;
}

/** mountinfo escapes space, tab, newline and backslash as \\ooo. */
function unescape(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, o) => String.fromCharCode(parseInt(o, 8)));
}

/** Mount points of every fuse.musefs mount, in mount order. */
export function musefsMountpoints(mountinfo = "/proc/self/mountinfo"): string[] {
  let text: string;
  try {
    text = Deno.readTextFileSync(mountinfo);
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const line of text.split("\n")) {
    const fields = line.split(" ");
    const dash = fields.indexOf("-");
    if (dash < 0 || fields[dash + 1] !== "fuse.musefs") continue;
    out.push(unescape(fields[4]));
  }
  return out;
}

/** The status a mount reports, or null when it does not answer in time (or is not ours). */
export async function mountStatus(mountpoint: string): Promise<MountStatus | null> {
  const raw = await getXattrWithin(mountpoint, XATTR.status, MOUNT_ANSWER_MS);
  if (raw === null) return null;
  try {
    return JSON.parse(raw) as MountStatus;
  } catch {
    return null;
  }
}
