// Which backing files a mount may serve. The daemon often runs as root while
// the store is writable by ordinary users (a beets or Picard user, by
// design), so a row's backing_path must not be a way to read files those
// users could not read themselves (/etc/shadow through an --allow-other
// mount). See docs/trust.md.
//
// Two policies:
// - library roots (`--library-root`, given by whoever starts the mount): a
//   backing file is served only when its real path lies under one of them;
// - otherwise (the default) the store's writers: a backing file is served
//   only when every principal that can write the store could read it too —
//   the owner of the store file, its -wal/-shm files and its directory, plus
//   their group when group-writable, plus everyone when world-writable. A
//   store only root can write allows everything root can read.
// Both look at the file actually opened (its real path through
// /proc/self/fd, its mode through fstat), so `..`, symlinks and races
// between check and open cannot change the answer. A refusal is a
// BackingIoError (EACCES) whose message says why; the FUSE layer logs it
// with the path, rate-limited.

import * as fs from "node:fs";
import * as path from "node:path";
import * as libc from "../../ffi/libc.ts";
import { maybeLossy, openLossy } from "../../ffi/lossy_path.ts";
import { BackingIoError } from "./stamp.ts";

export interface BackingAccess {
  /** Throw BackingIoError("EACCES") unless the opened `fd` (of `path`) may be served. */
  check(fd: number, path: string): void;
  /** One line for the mount log: what is allowed. */
  readonly description: string;
  /** Backing files refused so far. */
  readonly refusals: number;
}

/** A user who can write the store: a uid with its groups, a bare group, or anyone. */
interface Principal {
  uid: number | null;
  gids: ReadonlySet<number>;
  label: string;
}

interface Perm {
  mode: number;
  uid: number;
  gid: number;
}

/** How long directory permissions and the store's writers are reused before re-reading. */
const RECHECK_MS = 2000;

const lossy = new TextDecoder(); // invalid bytes → U+FFFD, as Deno's own listings do

/**
 * The real path of an open fd (a name that is not valid UTF-8 in its lossy
 * form, as the store keeps it), or of `fallback` when /proc is unavailable.
 */
function openedPath(fd: number, fallback: string): string {
  const link = `/proc/self/fd/${fd}`;
  try {
    return Deno.readLinkSync(link);
  } catch {
    try {
      return lossy.decode(libc.readlinkBytes(link));
    } catch {
      return Deno.realPathSync(fallback);
    }
  }
}

/**
 * stat a directory on the real path of an open file. A name that is not
 * valid UTF-8 comes back from readlink with U+FFFD in it and is opened
 * through its raw bytes (ffi/lossy_path.ts).
 */
function statDir(dir: string): fs.Stats {
  try {
    return fs.statSync(dir);
  } catch (e) {
    if (!maybeLossy(dir)) throw e;
    const fd = openLossy(dir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
    try {
      return fs.fstatSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  }
}

function under(file: string, root: string): boolean {
  return root === "/" || file === root || file.startsWith(root + "/");
}

function canRead(p: Principal, perm: Perm, bit: 4 | 1): boolean {
  if (p.uid === 0) return true;
  if (p.uid !== null && p.uid === perm.uid) return ((perm.mode >> 6) & bit) !== 0;
  if (p.gids.has(perm.gid)) return ((perm.mode >> 3) & bit) !== 0;
  return (perm.mode & bit) !== 0;
}

abstract class Policy implements BackingAccess {
  refusals = 0;
  abstract readonly description: string;

  /** Why `real` (the opened file, `fd`) may not be served, or null when it may. */
  protected abstract refusal(fd: number, real: string): string | null;

  /** True when every file the process can open may be served (skips the per-open work). */
  protected allowsAll(): boolean {
    return false;
  }

  check(fd: number, file: string): void {
    if (this.allowsAll()) return;
    let real: string;
    try {
      real = openedPath(fd, file);
    } catch (e) {
      throw new BackingIoError("EACCES", file, `cannot resolve ${file}: ${(e as Error).message}`);
    }
    const why = this.refusal(fd, real);
    if (why === null) return;
    this.refusals++;
    const message = `refusing to serve ${file}` + (real !== file ? ` (${real})` : "") +
      `: ${why} (docs/trust.md)`;
    throw new BackingIoError("EACCES", file, message);
  }
}

class RootsPolicy extends Policy {
  readonly description: string;
  constructor(readonly roots: readonly string[]) {
    super();
    this.description = `backing files under ${roots.join(", ")}`;
  }

  protected refusal(_fd: number, real: string): string | null {
    return this.roots.some((r) => under(real, r))
      ? null
      : `outside the library roots (${this.roots.join(", ")})`;
  }
}

class WritersPolicy extends Policy {
  #writers: Principal[] = [];
  #dirs = new Map<string, Perm | null>();
  #readAt = -Infinity;

  constructor(readonly storePath: string) {
    super();
    this.#refresh();
  }

  get description(): string {
    const labels = this.#writers.map((p) => p.label).join(", ");
    return `backing files readable by every writer of the store (${labels})`;
  }

  #refresh(): void {
    const now = performance.now();
    if (now - this.#readAt < RECHECK_MS) return;
    this.#readAt = now;
    this.#dirs = new Map();
    this.#writers = storeWriters(this.storePath);
  }

  #dirPerm(dir: string): Perm | null {
    let perm = this.#dirs.get(dir);
    if (perm === undefined) {
      try {
        const s = statDir(dir);
        perm = { mode: s.mode, uid: s.uid, gid: s.gid };
      } catch {
        perm = null;
      }
      this.#dirs.set(dir, perm);
    }
    return perm;
  }

  protected override allowsAll(): boolean {
    this.#refresh();
    return this.#writers.every((p) => p.uid === 0);
  }

  protected refusal(fd: number, real: string): string | null {
    // Through /proc: the fd may be a raw one that node:fs does not know.
    const s = fs.statSync(`/proc/self/fd/${fd}`);
    const file: Perm = { mode: s.mode, uid: s.uid, gid: s.gid };
    for (const p of this.#writers) {
      if (p.uid === 0) continue;
      if (!canRead(p, file, 4)) return `${p.label}, who can write the store, could not read it`;
      for (let dir = path.dirname(real);; dir = path.dirname(dir)) {
        const perm = this.#dirPerm(dir);
        if (perm === null || !canRead(p, perm, 1)) {
          return `${p.label}, who can write the store, could not reach it (${dir})`;
        }
        if (dir === "/") break;
      }
    }
    return null;
  }
}

function accountFile(file: string): string[][] {
  try {
    return Deno.readTextFileSync(file).split("\n").filter((l) => l !== "" && !l.startsWith("#"))
      .map((l) => l.split(":"));
  } catch {
    return [];
  }
}

/** A uid with its primary and supplementary groups, from /etc/passwd and /etc/group. */
function userPrincipal(uid: number): Principal {
  const user = accountFile("/etc/passwd").find((f) => f.length >= 4 && Number(f[2]) === uid);
  const gids = new Set<number>();
  if (user !== undefined) {
    gids.add(Number(user[3]));
    for (const g of accountFile("/etc/group")) {
      if (g.length >= 4 && g[3].split(",").includes(user[0])) gids.add(Number(g[2]));
    }
  }
  return { uid, gids, label: user ? `user ${user[0]}` : `uid ${uid}` };
}

function groupLabel(gid: number): string {
  const group = accountFile("/etc/group").find((f) => f.length >= 3 && Number(f[2]) === gid);
  return group ? `group ${group[0]}` : `gid ${gid}`;
}

/**
 * Everyone who can change what the store says: the owners of the store file,
 * its -wal and -shm files and its directory, their groups when
 * group-writable, anyone when world-writable (a sticky directory's write bits
 * excepted: they let nobody replace another user's files).
 */
export function storeWriters(storePath: string): Principal[] {
  let real: string;
  try {
    real = Deno.realPathSync(storePath);
  } catch {
    real = path.resolve(storePath);
  }
  const found = new Map<string, Principal>();
  for (const p of [real, `${real}-wal`, `${real}-shm`, path.dirname(real)]) {
    let s: fs.Stats;
    try {
      s = fs.statSync(p);
    } catch {
      continue;
    }
    if (!found.has(`u${s.uid}`)) found.set(`u${s.uid}`, userPrincipal(s.uid));
    // In a sticky directory (/tmp) others cannot replace the store or its
    // companions; whoever owns one of those files is counted above.
    if (s.isDirectory() && s.mode & 0o1000) continue;
    if (s.mode & 0o020 && !found.has(`g${s.gid}`)) {
      found.set(`g${s.gid}`, { uid: null, gids: new Set([s.gid]), label: groupLabel(s.gid) });
    }
    if (s.mode & 0o002) found.set("o", { uid: null, gids: new Set(), label: "every user" });
  }
  return [...found.values()];
}

/**
 * The policy of a mount: under `roots` when any are given (each must exist;
 * they are compared by real path), else readable by every writer of the
 * store at `storePath`. Throws Error naming a root that does not exist.
 */
export function backingAccess(storePath: string, roots: readonly string[]): BackingAccess {
  if (roots.length === 0) return new WritersPolicy(storePath);
  const real = roots.map((r) => {
    try {
      return Deno.realPathSync(r);
    } catch (e) {
      throw new Error(`library root ${r} cannot be used: ${(e as Error).message}`);
    }
  });
  return new RootsPolicy(real);
}
