// The mount(8) form: `mount -t fuse.musefs STORE MOUNTPOINT -o opts` and an
// /etc/fstab line make fuse3's helper (mount.fuse3) run
//
//   musefs STORE MOUNTPOINT -o opt[=value],opt,…
//
// Each option is a mount flag without its dashes (`template=$artist/$title`,
// `allow_other`, `keep_cache=false`; `_` and `-` are the same). The standard
// mount options that mount(8) and mount.fuse3 add or pass on (rw, dev, suid,
// noatime, nofail, _netdev, …) say nothing about a read-only FUSE view and
// are ignored; anything else unknown is a usage error naming it. A value
// holding a comma is written in double quotes: `fallback="genre=Rock, Pop"`.

import { resolve } from "node:path";
import { UsageError } from "./errors.ts";
import type { Flag } from "./flags.ts";
import { mountSpec } from "./spec.ts";

/** Options that mount(8), mount.fuse3 or fstab pass and that mean nothing to a read-only view. */
const IGNORED = new Set([
  "defaults",
  "ro",
  "rw",
  "dev",
  "nodev",
  "suid",
  "nosuid",
  "exec",
  "noexec",
  "atime",
  "noatime",
  "relatime",
  "norelatime",
  "strictatime",
  "nostrictatime",
  "diratime",
  "nodiratime",
  "lazytime",
  "nolazytime",
  "iversion",
  "noiversion",
  "sync",
  "async",
  "dirsync",
  "auto",
  "noauto",
  "user",
  "nouser",
  "users",
  "_netdev",
  "nofail",
  "silent",
  "loud",
  // FUSE's own: musefs sets these itself (default_permissions with allow_other).
  "default_permissions",
  "fsname",
  "subtype",
  "comment",
]);

/** Options refused with a reason instead of being read as flags. */
const REFUSED: Record<string, string> = {
  db: "the store is the mount source (the first argument)",
  "dry-run": "it mounts nothing; run `musefs mount --dry-run` instead",
};

/** True for the helper's argument shape: bare tokens plus `-o OPTIONS`. */
export function isHelperForm(argv: readonly string[]): boolean {
  return argv.some((t) => t === "-o" || /^-o./.test(t));
}

/** Split an option string at commas outside double quotes; quotes are removed. */
export function splitOptions(text: string): string[] {
  const out: string[] = [];
  let cur = "";
  let quoted = false;
  for (const ch of text) {
    if (ch === '"') quoted = !quoted;
    else if (ch === "," && !quoted) {
      out.push(cur);
      cur = "";
    } else cur += ch;
  }
  if (quoted) throw new UsageError(`unclosed quote in mount options: ${text}`, "mount");
  out.push(cur);
  return out.filter((o) => o !== "");
}

const flagsByName = new Map<string, Flag>(
  Object.values(mountSpec.flags as Record<string, Flag>).map((f) => [f.long, f]),
);

/** One `-o` option as command-line tokens (none when ignored). */
function optionTokens(option: string): string[] {
  const eq = option.indexOf("=");
  const rawName = eq < 0 ? option : option.slice(0, eq);
  const value = eq < 0 ? undefined : option.slice(eq + 1);
  if (IGNORED.has(rawName) || rawName.startsWith("x-")) return [];
  // Bare owner/group are mount(8)'s own options (who may mount); with a value they are ours.
  if ((rawName === "owner" || rawName === "group") && value === undefined) return [];
  const name = rawName.replaceAll("_", "-");
  const refused = REFUSED[name];
  if (refused) {
    throw new UsageError(`mount option '${rawName}' is not accepted: ${refused}`, "mount");
  }
  const flag = flagsByName.get(name);
  if (!flag) {
    throw new UsageError(
      `unknown mount option '${rawName}' (options are the mount flags without dashes, ` +
        "e.g. allow_other,template=$albumartist/$title; see `musefs mount --help`)",
      "mount",
    );
  }
  if (flag.kind === "switch" || flag.kind === "count") {
    if (value !== undefined) {
      throw new UsageError(`mount option '${rawName}' takes no value (got "${value}")`, "mount");
    }
    return [`--${flag.long}`];
  }
  if (value === undefined && !(flag.kind === "value" && flag.optionalValue)) {
    throw new UsageError(`mount option '${rawName}' needs a value: ${rawName}=…`, "mount");
  }
  return [value === undefined ? `--${flag.long}` : `--${flag.long}=${value}`];
}

/**
 * The `musefs mount` arguments for a helper command line `STORE MOUNTPOINT
 * -o OPTIONS` (options may also repeat or come first). Paths are made
 * absolute: the background process runs from `/`.
 */
export function helperMountArgs(argv: readonly string[]): string[] {
  const positionals: string[] = [];
  const flags: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const t = argv[i];
    if (t === "-o" || /^-o./.test(t)) {
      const text = t === "-o" ? argv[++i] : t.slice(2);
      if (text === undefined) throw new UsageError("a value is required for -o", "mount");
      for (const option of splitOptions(text)) flags.push(...optionTokens(option));
    } else if (t === "-v" || t === "--verbose" || /^-v+$/.test(t)) {
      flags.push(t);
    } else if (t.startsWith("-")) {
      throw new UsageError(
        `unexpected argument '${t}' (the mount(8) form takes options as -o name=value)`,
        "mount",
      );
    } else positionals.push(t);
  }
  if (positionals.length !== 2) {
    throw new UsageError(
      `the mount(8) form is \`musefs STORE MOUNTPOINT -o OPTIONS\` (got ${positionals.length} ` +
        "path(s))",
      "mount",
    );
  }
  const [store, mountpoint] = positionals.map((p) => resolve(p));
  return ["--db", store, ...flags, mountpoint];
}
