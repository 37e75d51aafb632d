// lgetxattr(2) / llistxattr(2) for the command line: how `musefs show | tag |
// art | status` learn which track and store a path inside a live mount is.
// Loaded lazily; a missing attribute (or a file system without them) is null.

import { cstr } from "./cstr.ts";

const symbols = {
  __errno_location: { parameters: [], result: "pointer" },
  lgetxattr: { parameters: ["buffer", "buffer", "buffer", "usize"], result: "isize" },
  llistxattr: { parameters: ["buffer", "buffer", "usize"], result: "isize" },
} as const satisfies Deno.ForeignLibraryInterface;

type Lib = Deno.DynamicLibrary<typeof symbols>["symbols"];
let lib: Lib | null = null;

function load(): Lib {
  lib ??= Deno.dlopen("libc.so.6", symbols).symbols;
  return lib;
}

const ERANGE = 34;
const dec = new TextDecoder();

function errno(l: Lib): number {
  return new Deno.UnsafePointerView(l.__errno_location()!).getInt32();
}

/** Call `fill(buf)` with a growing buffer until the value fits; null on any error but ERANGE. */
function sized(l: Lib, fill: (buf: Uint8Array<ArrayBuffer>) => number | bigint): Uint8Array | null {
  let size = 4096;
  for (let attempt = 0; attempt < 8; attempt++) {
    const buf = new Uint8Array(size);
    const n = Number(fill(buf));
    if (n >= 0) return buf.subarray(0, n);
    if (errno(l) !== ERANGE) return null;
    size *= 4;
  }
  return null;
}

/** The value of attribute `name` of `path` (a symlink itself, not its target) as text, or null. */
export function getXattr(path: string, name: string): string | null {
  const l = load();
  const p = cstr(path);
  const n = cstr(name);
  const value = sized(l, (buf) => l.lgetxattr(p, n, buf, BigInt(buf.length)));
  return value === null ? null : dec.decode(value);
}

/** The attribute names of `path`, or [] when it has none or cannot be asked. */
export function listXattrs(path: string): string[] {
  const l = load();
  const p = cstr(path);
  const value = sized(l, (buf) => l.llistxattr(p, buf, BigInt(buf.length)));
  if (value === null) return [];
  return dec.decode(value).split("\0").filter((s) => s !== "");
}

let asyncGet: Deno.DynamicLibrary<typeof asyncSymbols>["symbols"] | null = null;
const asyncSymbols = {
  lgetxattr: {
    parameters: ["buffer", "buffer", "buffer", "usize"],
    result: "isize",
    nonblocking: true,
  },
} as const satisfies Deno.ForeignLibraryInterface;

/**
 * Like getXattr, on a helper thread, giving up after `ms`: for asking a
 * mount whose daemon may be wedged. (A call that never returns leaves its
 * thread blocked; the caller goes on.) Values over 64 KiB read as null.
 */
export async function getXattrWithin(
  path: string,
  name: string,
  ms: number,
): Promise<string | null> {
  asyncGet ??= Deno.dlopen("libc.so.6", asyncSymbols).symbols;
  const buf = new Uint8Array(65536);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), ms);
  });
  try {
    const n = await Promise.race([
      asyncGet.lgetxattr(cstr(path), cstr(name), buf, BigInt(buf.length)),
      timeout,
    ]);
    if (n === null || Number(n) < 0) return null;
    return dec.decode(buf.subarray(0, Number(n)));
  } finally {
    clearTimeout(timer);
  }
}
