// Optional libfuse3, used for one thing only: mounting as a non-root user.
// fuse_session_mount runs the setuid fusermount3 helper, which opens
// /dev/fuse, mounts, and passes the fd back over a unix socket (SCM_RIGHTS);
// fuse_session_fd hands us that fd and we speak the kernel protocol on it
// ourselves. We never run libfuse's request loop, so its per-architecture
// structs (ops table, fuse_file_info, struct stat) never cross the FFI: the
// ops table we pass is empty (op_size 0) and `struct fuse_args` is three
// plain words.
//
// Why not run fusermount3 ourselves: Deno.Command cannot hand a socket to the
// child as an extra fd, and fork/exec through FFI is not safe in a
// multi-threaded runtime. libfuse already does this correctly.

import { cstr } from "./cstr.ts";

const symbols = {
  fuse_session_new: { parameters: ["buffer", "buffer", "usize", "pointer"], result: "pointer" },
  fuse_session_mount: { parameters: ["pointer", "buffer"], result: "i32" },
  fuse_session_fd: { parameters: ["pointer"], result: "i32" },
  fuse_session_unmount: { parameters: ["pointer"], result: "void" },
  fuse_session_destroy: { parameters: ["pointer"], result: "void" },
} as const satisfies Deno.ForeignLibraryInterface;

type Libfuse = Deno.DynamicLibrary<typeof symbols>["symbols"];

/** Library names tried in order (libfuse 3.x keeps soname .3; 3.17+ may ship .4). */
export const LIBFUSE_NAMES = ["libfuse3.so.3", "libfuse3.so.4", "libfuse3.so"] as const;

let loaded: Libfuse | null | undefined;

/** libfuse3, or null when it is not installed. */
export function loadLibfuse(): Libfuse | null {
  if (loaded !== undefined) return loaded;
  loaded = null;
  for (const name of LIBFUSE_NAMES) {
    try {
      loaded = Deno.dlopen(name, symbols).symbols;
      break;
    } catch { /* try the next name */ }
  }
  return loaded;
}

function addressOf(b: Uint8Array<ArrayBuffer>): bigint {
  return BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(b)));
}

/** A mounted libfuse session; we only borrow its fd. */
export class LibfuseSession {
  private closed = false;
  constructor(
    private readonly lib: Libfuse,
    private readonly session: Deno.PointerObject,
    readonly fd: number,
  ) {}

  /**
   * Closes the fd and unmounts (lazily, through `fusermount3 -u -z` when not
   * root). Only call this when nobody reads the fd any more.
   */
  unmountAndDestroy(): void {
    if (this.closed) return;
    this.closed = true;
    this.lib.fuse_session_unmount(this.session);
    this.lib.fuse_session_destroy(this.session);
  }

  /** Frees the session and closes the fd, after the mount is already gone. */
  destroy(): void {
    if (this.closed) return;
    this.closed = true;
    this.lib.fuse_session_destroy(this.session);
  }
}

/**
 * Mounts `mountpoint` through libfuse3 with the given `-o` options string.
 * Returns null when libfuse3 is not installed; throws when the mount fails
 * (libfuse has then printed the reason on stderr).
 */
export function libfuseMount(mountpoint: string, options: string): LibfuseSession | null {
  const lib = loadLibfuse();
  if (!lib) return null;
  // argv = { "musefs", "-o", options, NULL }; the strings must outlive the call.
  const strings = [cstr("musefs"), cstr("-o"), cstr(options)];
  const argv = new BigUint64Array(strings.length + 1);
  strings.forEach((s, i) => argv[i] = addressOf(s));
  // struct fuse_args { int argc; char **argv; int allocated; } (LP64: 24 bytes)
  const args = new Uint8Array(24);
  const view = new DataView(args.buffer);
  view.setInt32(0, strings.length, true);
  view.setBigUint64(8, addressOf(new Uint8Array(argv.buffer)), true);
  view.setInt32(16, 0, true);
  const ops = new Uint8Array(8); // an empty ops table: op_size 0 copies nothing
  const session = lib.fuse_session_new(args, ops, 0n, null);
  // Keep the argv strings reachable until here.
  strings.length = 0;
  if (session === null) throw new Error(`libfuse rejected the mount options: ${options}`);
  if (lib.fuse_session_mount(session, cstr(mountpoint)) !== 0) {
    lib.fuse_session_destroy(session);
    throw new Error(`fusermount3 could not mount ${mountpoint} (see its message above)`);
  }
  return new LibfuseSession(lib, session, lib.fuse_session_fd(session));
}
