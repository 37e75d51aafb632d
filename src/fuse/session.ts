// Mounting and unmounting: mount(2) on a /dev/fuse fd when we may (root or
// CAP_SYS_ADMIN, privileges.ts), libfuse3 + fusermount3 otherwise. Also the
// checks that turn a failed mount into a message naming the cause and the
// fix, and the recovery of a dead mount left by a killed process. The
// connection's read-ahead window is bdi.ts; /etc/fuse.conf is fuse_conf.ts.

import { MusefsError } from "../model/mod.ts";
import { MAX_READ } from "./defaults.ts";
import * as libc from "../../ffi/libc.ts";
import { MUSEFS_FSTYPE } from "../../ffi/mountinfo.ts";
import { libfuseMount, type LibfuseSession, loadLibfuse } from "../../ffi/libfuse.ts";
import { fuseConfAllowsOther } from "./fuse_conf.ts";
import { type ServerLog, silentLog } from "./log.ts";
import { canMountDirectly } from "./privileges.ts";

/** A mount that failed for a reason we can explain; `message` says cause and fix. */
export class MountError extends MusefsError {
  override readonly name = "MountError";
  constructor(message: string, options?: { cause?: unknown }) {
    super("mount", message, undefined, options);
  }
}

export interface MountConfig {
  mountpoint: string;
  /** Let other users see the mount (adds allow_other + default_permissions). */
  allowOther: boolean;
  log?: ServerLog;
  /** Mount through libfuse3/fusermount3 even as root (tests the unprivileged path). */
  forceFusermount?: boolean;
}

export type MountMethod = "mount(2)" | "fusermount3";

const FUSERMOUNT_DIRS = ["/usr/bin", "/bin", "/usr/local/bin"];

/** An absolute path to a fuse helper, or null. */
export function findHelper(name: string): string | null {
  for (const dir of FUSERMOUNT_DIRS) {
    try {
      if (Deno.statSync(`${dir}/${name}`).isFile) return `${dir}/${name}`;
    } catch { /* next */ }
  }
  return null;
}

/** Unmount a mountpoint lazily (MNT_DETACH, or fusermount3 -u -z without privileges). */
function detach(mountpoint: string): void {
  if (canMountDirectly()) {
    libc.umount2(mountpoint, libc.MNT_DETACH);
    return;
  }
  const helper = findHelper("fusermount3") ?? findHelper("fusermount");
  if (!helper) throw new Error("fusermount3 not found");
  const r = new Deno.Command(helper, { args: ["-u", "-z", mountpoint], stderr: "piped" })
    .outputSync();
  if (!r.success) throw new Error(new TextDecoder().decode(r.stderr).trim());
}

/**
 * Before mounting: a dead FUSE mount ("Transport endpoint is not connected")
 * left by a killed process is detached with a warning; a missing or
 * non-directory mountpoint is an error.
 */
export function prepareMountpoint(mountpoint: string, log: ServerLog = silentLog): void {
  let info: Deno.FileInfo;
  try {
    info = Deno.statSync(mountpoint);
  } catch (e) {
    if ((e as { code?: unknown }).code === "ENOTCONN" || e instanceof Deno.errors.NotConnected) {
      log.warn(`${mountpoint}: a dead FUSE mount was left here by a killed process; detaching it`);
      try {
        detach(mountpoint);
      } catch (cause) {
        throw new MountError(
          `${mountpoint} holds a dead FUSE mount (transport endpoint is not connected) that ` +
            `could not be detached; run \`fusermount3 -u -z ${mountpoint}\` (or ` +
            `\`umount -l ${mountpoint}\` as root) and try again`,
          { cause },
        );
      }
      info = Deno.statSync(mountpoint);
    } else if (e instanceof Deno.errors.NotFound) {
      throw new MountError(`mountpoint does not exist (create it first): ${mountpoint}`);
    } else {
      throw new MountError(`cannot use mountpoint ${mountpoint}: ${(e as Error).message}`, {
        cause: e,
      });
    }
  }
  if (!info.isDirectory) throw new MountError(`mountpoint is not a directory: ${mountpoint}`);
}

const DEV_FUSE_HINT = "/dev/fuse is missing: load the fuse kernel module (`modprobe fuse`), " +
  "or in a container pass the device through (e.g. `--device /dev/fuse`)";

/** A live FUSE mount: the device fd we serve, and how to take it down. */
export class FuseMount {
  private unmounted = false;
  private closed = false;

  constructor(
    readonly fd: number,
    readonly mountpoint: string,
    readonly method: MountMethod,
    private readonly libfuse: LibfuseSession | null,
  ) {}

  /**
   * Unmount. A busy mount (open files) is detached lazily when `lazyIfBusy`.
   * Resolves true when the mount is gone or detached. The serving loop then
   * sees ENODEV and ends. Never throws.
   */
  async unmount(lazyIfBusy = true, log: ServerLog = silentLog): Promise<boolean> {
    if (this.unmounted) return true;
    try {
      if (this.method === "mount(2)") {
        try {
          libc.umount2(this.mountpoint, 0);
        } catch (e) {
          if (!(lazyIfBusy && e instanceof libc.ErrnoError && e.errno === libc.E.EBUSY)) throw e;
          log.warn(`${this.mountpoint} is busy; detaching it lazily`);
          libc.umount2(this.mountpoint, libc.MNT_DETACH);
        }
      } else {
        const helper = findHelper("fusermount3") ?? findHelper("fusermount") ?? "fusermount3";
        const run = (args: string[]) =>
          new Deno.Command(helper, { args, stdout: "null", stderr: "piped" }).output();
        let r = await run(["-u", this.mountpoint]);
        if (!r.success && lazyIfBusy) {
          log.warn(`${this.mountpoint} is busy; detaching it lazily`);
          r = await run(["-u", "-z", this.mountpoint]);
        }
        if (!r.success) throw new Error(new TextDecoder().decode(r.stderr).trim());
      }
      this.unmounted = true;
      return true;
    } catch (e) {
      // Already gone (ENOENT/EINVAL: not a mount point any more) counts as done.
      if (e instanceof libc.ErrnoError && (e.errno === libc.E.EINVAL)) {
        this.unmounted = true;
        return true;
      }
      log.error(`could not unmount ${this.mountpoint}: ${(e as Error).message}`);
      return false;
    }
  }

  /** Close the device fd (after the loop ended). Aborts the connection if still mounted. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.libfuse) this.libfuse.destroy();
    else libc.close(this.fd);
  }
}

/** The kernel mount options, shared by both mount paths. */
function kernelOptions(allowOther: boolean): string[] {
  const opts = [`max_read=${MAX_READ}`];
  if (allowOther) opts.push("allow_other", "default_permissions");
  return opts;
}

function mountDirect(cfg: MountConfig): FuseMount {
  let fd: number;
  try {
    fd = libc.open("/dev/fuse", libc.O_RDWR | libc.O_CLOEXEC);
  } catch (e) {
    if (e instanceof libc.ErrnoError && e.errno === libc.E.ENOENT) {
      throw new MountError(DEV_FUSE_HINT, { cause: e });
    }
    throw new MountError(`cannot open /dev/fuse: ${(e as Error).message}`, { cause: e });
  }
  const data = [
    `fd=${fd}`,
    "rootmode=40000",
    `user_id=${libc.getuid()}`,
    `group_id=${libc.getgid()}`,
    ...kernelOptions(cfg.allowOther),
  ].join(",");
  try {
    libc.mount(
      "musefs",
      cfg.mountpoint,
      MUSEFS_FSTYPE,
      libc.MS_NOSUID | libc.MS_NODEV | libc.MS_RDONLY,
      data,
    );
  } catch (e) {
    libc.close(fd);
    throw mountFailure(cfg.mountpoint, e);
  }
  return new FuseMount(fd, cfg.mountpoint, "mount(2)", null);
}

function mountFailure(mountpoint: string, e: unknown): Error {
  if (!(e instanceof libc.ErrnoError)) return e as Error;
  switch (e.errno) {
    case libc.E.ENODEV:
      return new MountError(
        "the kernel has no FUSE support loaded: run `modprobe fuse` (package fuse3)",
        { cause: e },
      );
    case libc.E.ENOTDIR:
      return new MountError(`mountpoint is not a directory: ${mountpoint}`, { cause: e });
    case libc.E.ENOENT:
      return new MountError(`mountpoint does not exist (create it first): ${mountpoint}`, {
        cause: e,
      });
    default:
      return new MountError(`mount ${mountpoint} failed: ${e.message}`, { cause: e });
  }
}

function mountUnprivileged(cfg: MountConfig): FuseMount {
  if (cfg.allowOther && libc.geteuid() !== 0 && !fuseConfAllowsOther()) {
    throw new MountError(
      "--allow-other (also implied by --owner/--group) needs `user_allow_other` on its own " +
        "line in /etc/fuse.conf when mounting as a non-root user; add it (as root) or drop " +
        "the option",
    );
  }
  const helper = findHelper("fusermount3") ?? findHelper("fusermount");
  if (!loadLibfuse()) {
    throw new MountError(
      helper
        ? "libfuse3 is not installed (needed to mount as a non-root user): install the " +
          "libfuse3 package (Debian/Ubuntu: libfuse3-3; Fedora: fuse3-libs), or mount as root"
        : "fuse3 is not installed (needed to mount as a non-root user): install the fuse3 " +
          "package (`apt install fuse3`, `dnf install fuse3`), or mount as root",
    );
  }
  if (!helper) {
    throw new MountError(
      "fusermount3 is not installed: install the fuse3 package (`apt install fuse3`, " +
        "`dnf install fuse3`), or mount as root",
    );
  }
  // libfuse opens /dev/fuse itself first and gives up (without trying
  // fusermount3) when it may not: say so plainly.
  try {
    libc.close(libc.open("/dev/fuse", libc.O_RDWR | libc.O_CLOEXEC));
  } catch (e) {
    if (e instanceof libc.ErrnoError && e.errno === libc.E.ENOENT) {
      throw new MountError(DEV_FUSE_HINT, { cause: e });
    }
    if (e instanceof libc.ErrnoError && (e.errno === libc.E.EACCES || e.errno === libc.E.EPERM)) {
      throw new MountError(
        "/dev/fuse is not accessible to this user; FUSE mounts by non-root users need it " +
          "world read-writable (the usual `crw-rw-rw-`): run `chmod 0666 /dev/fuse` as root, " +
          "or mount as root",
        { cause: e },
      );
    }
  }
  const options = ["ro", "nosuid", "nodev", "fsname=musefs", "subtype=musefs"]
    .concat(kernelOptions(cfg.allowOther)).join(",");
  let session: LibfuseSession | null;
  try {
    session = libfuseMount(cfg.mountpoint, options);
  } catch (e) {
    throw new MountError(
      `${(e as Error).message}. If the message above says "Permission denied" or the ` +
        "mountpoint is refused: on Ubuntu, AppArmor's fusermount3 profile only allows " +
        "mountpoints under $HOME, /mnt, /media, /tmp and /run/user; pick one of those or " +
        "adjust /etc/apparmor.d/fusermount3",
      { cause: e },
    );
  }
  if (!session) throw new MountError("libfuse3 could not be loaded");
  return new FuseMount(session.fd, cfg.mountpoint, "fusermount3", session);
}

/**
 * Mount a musefs FUSE filesystem at `cfg.mountpoint` and return the device
 * fd to serve. The caller must answer INIT on it before anything touches the
 * mountpoint (a stat would hang until then).
 */
export function mountFuse(cfg: MountConfig): FuseMount {
  const log = cfg.log ?? silentLog;
  prepareMountpoint(cfg.mountpoint, log);
  // Absolute and resolved before mounting (resolving afterwards would enter
  // our own filesystem): unmount and mountinfo lookups use this path.
  cfg = { ...cfg, mountpoint: Deno.realPathSync(cfg.mountpoint) };
  if (!cfg.forceFusermount && canMountDirectly()) {
    try {
      return mountDirect(cfg);
    } catch (e) {
      // Root in a user namespace without the capability: fall back to fusermount3.
      const cause = (e as { cause?: unknown }).cause;
      if (!(cause instanceof libc.ErrnoError && cause.errno === libc.E.EPERM)) throw e;
      log.debug("mount(2) refused (EPERM); trying fusermount3");
    }
  }
  return mountUnprivileged(cfg);
}
