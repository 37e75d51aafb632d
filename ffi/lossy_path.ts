// File names that are not valid UTF-8. Deno hands such names to us with each
// invalid byte sequence replaced by U+FFFD (as the original program did, and
// as python-musefs computes its path keys), and cannot open the result. The
// store keeps that lossy form as `backing_path`, so it stays the key those
// tools expect; to open, stat or list such a path, it is mapped back to the
// real bytes here: each component holding U+FFFD is matched against the raw
// entries of its directory (read through libc), and exactly one entry must
// decode to it. Two names that differ only in their invalid bytes cannot be
// told apart this way: they are reported as ambiguous (the walk skips them).
//
// Linux only, and only with --allow-ffi (the shipped permissions include it).
// Loaded lazily: nothing is opened until a lossy path shows up.

import * as fs from "node:fs";

/** The replacement character a lossy decoding puts in place of invalid bytes. */
export const REPLACEMENT = "\uFFFD";

/** Why a lossy path could not be mapped back: missing (ENOENT), ambiguous, or an OS error. */
export class LossyPathError extends Error {
  override readonly name = "LossyPathError";
  constructor(readonly code: string, readonly path: string, message: string) {
    super(message);
  }
}

const symbols = {
  __errno_location: { parameters: [], result: "pointer" },
  opendir: { parameters: ["buffer"], result: "pointer" },
  readdir64: { parameters: ["pointer"], result: "pointer" },
  closedir: { parameters: ["pointer"], result: "i32" },
  open: { parameters: ["buffer", "i32", "u32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
} as const satisfies Deno.ForeignLibraryInterface;

type Lib = Deno.DynamicLibrary<typeof symbols>["symbols"];
let lib: Lib | null = null;
let errnoView: Deno.UnsafePointerView | null = null;

function libc(path: string): Lib {
  if (lib) return lib;
  if (Deno.build.os !== "linux") {
    throw new LossyPathError("ENOENT", path, `cannot open ${path}: not a UTF-8 name`);
  }
  const dl = Deno.dlopen("libc.so.6", symbols);
  lib = dl.symbols;
  errnoView = new Deno.UnsafePointerView(lib.__errno_location()!);
  return lib;
}

const ERRNO_NAMES: Record<number, string> = {
  1: "EPERM",
  2: "ENOENT",
  5: "EIO",
  6: "ENXIO",
  13: "EACCES",
  20: "ENOTDIR",
  21: "EISDIR",
  23: "ENFILE",
  24: "EMFILE",
  36: "ENAMETOOLONG",
  40: "ELOOP",
};

function errnoCode(): string {
  const n = errnoView!.getInt32();
  return ERRNO_NAMES[n] ?? `errno ${n}`;
}

/** Whether `path` may be a lossy decoding (only such paths need mapping back). */
export function maybeLossy(path: string): boolean {
  return path.includes(REPLACEMENT);
}

const decoder = new TextDecoder(); // replaces invalid sequences with U+FFFD, as Deno's listing does
const enc = new TextEncoder();

/** d_type values of `struct dirent64`. */
const DT_DIR = 4;
const DT_REG = 8;
const DT_LNK = 10;
/** Offsets in `struct dirent64` (the same on every 64-bit Linux). */
const D_TYPE_AT = 18;
const D_NAME_AT = 19;

export interface RawEntry {
  /** The name as Deno shows it (lossy). */
  name: string;
  raw: Uint8Array;
  isFile: boolean;
  isDirectory: boolean;
  isSymlink: boolean;
}

function cstr(raw: Uint8Array): Uint8Array<ArrayBuffer> {
  const b = new Uint8Array(raw.length + 1);
  b.set(raw);
  return b;
}

/** The raw entries of the directory at raw path `dir` (without "." and ".."). */
function listRaw(dir: Uint8Array, shown: string): RawEntry[] {
  const c = libc(shown);
  const d = c.opendir(cstr(dir));
  if (d === null) {
    const code = errnoCode();
    throw new LossyPathError(code, shown, `cannot read directory ${shown}: ${code}`);
  }
  const out: RawEntry[] = [];
  try {
    for (;;) {
      const e = c.readdir64(d);
      if (e === null) break;
      const view = new Deno.UnsafePointerView(e);
      const type = view.getUint8(D_TYPE_AT);
      const bytes: number[] = [];
      for (let i = 0; i < 256; i++) {
        const b = view.getUint8(D_NAME_AT + i);
        if (b === 0) break;
        bytes.push(b);
      }
      const raw = Uint8Array.from(bytes);
      const name = decoder.decode(raw);
      if (name === "." || name === "..") continue;
      out.push({
        name,
        raw,
        isFile: type === DT_REG,
        isDirectory: type === DT_DIR,
        isSymlink: type === DT_LNK,
      });
    }
  } finally {
    c.closedir(d);
  }
  return out;
}

function join(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + 1 + b.length);
  out.set(a);
  out[a.length] = 0x2f; // "/"
  out.set(b, a.length + 1);
  return out;
}

/**
 * The real bytes of the absolute path whose lossy decoding is `path`.
 * Throws LossyPathError: ENOENT when nothing matches, EEXIST-like
 * "ambiguous" when two entries of one directory decode to the same name.
 */
export function rawPath(path: string): Uint8Array {
  if (!maybeLossy(path)) return enc.encode(path);
  if (!path.startsWith("/")) {
    throw new LossyPathError("EINVAL", path, `not an absolute path: ${path}`);
  }
  let raw: Uint8Array = new Uint8Array(0);
  for (const part of path.split("/").slice(1)) {
    if (!maybeLossy(part)) {
      raw = join(raw, enc.encode(part));
      continue;
    }
    const shown = decoder.decode(raw) || "/";
    const matches = listRaw(raw.length === 0 ? enc.encode("/") : raw, shown)
      .filter((e) => e.name === part);
    if (matches.length === 0) {
      throw new LossyPathError("ENOENT", path, `cannot open ${path}: no such file or directory`);
    }
    if (matches.length > 1) {
      throw new LossyPathError(
        "ENOTUNIQ",
        path,
        `cannot open ${path}: ${matches.length} names in ${shown} differ only in bytes that ` +
          "are not valid UTF-8 (rename them)",
      );
    }
    raw = join(raw, matches[0].raw);
  }
  return raw;
}

/**
 * Open `path` (possibly lossy) as a node:fs descriptor: the real name is
 * opened through libc, then reopened through /proc/self/fd, since node:fs
 * only accepts descriptors it opened itself.
 */
export function openLossy(path: string, flags: number): number {
  if (!maybeLossy(path) || exists(path)) return fs.openSync(path, flags);
  const c = libc(path);
  const O_CLOEXEC = 0o2000000;
  const fd = c.open(cstr(rawPath(path)), flags | O_CLOEXEC, 0);
  if (fd < 0) {
    const code = errnoCode();
    throw new LossyPathError(code, path, `cannot open ${path}: ${code}`);
  }
  try {
    return fs.openSync(`/proc/self/fd/${fd}`, flags);
  } finally {
    c.close(fd);
  }
}

/** The entries of directory `path` (possibly lossy), names as Deno shows them. */
export function readDirLossy(path: string): RawEntry[] {
  return listRaw(rawPath(path), path);
}

const strict = new TextDecoder("utf-8", { fatal: true });

/** A raw name for messages: valid UTF-8 as text, every other byte (and `\`) as \xNN. */
export function escapeName(raw: Uint8Array): string {
  let out = "";
  for (let i = 0; i < raw.length;) {
    const b = raw[i];
    const n = b < 0x80
      ? 1
      : b >= 0xc2 && b < 0xe0
      ? 2
      : b >= 0xe0 && b < 0xf0
      ? 3
      : b >= 0xf0 && b < 0xf5
      ? 4
      : 0;
    if (n > 0 && i + n <= raw.length) {
      try {
        const text = strict.decode(raw.subarray(i, i + n));
        if (text !== "\\" || n !== 1) {
          out += text;
          i += n;
          continue;
        }
      } catch { /* not a valid sequence: escape its first byte */ }
    }
    out += `\\x${b.toString(16).padStart(2, "0")}`;
    i++;
  }
  return out;
}

/** The names of `dir`'s entries that read as `name`, escaped (empty when unreadable). */
export function escapedTwins(dir: string, name: string): string[] {
  try {
    return readDirLossy(dir).filter((e) => e.name === name).map((e) => escapeName(e.raw)).sort();
  } catch {
    return [];
  }
}

/** Whether `path` exists under its literal (UTF-8) spelling. */
export function exists(path: string): boolean {
  try {
    fs.lstatSync(path);
    return true;
  } catch {
    return false;
  }
}
