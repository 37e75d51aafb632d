// Name rules of the virtual tree: which
// components of a rendered path materialize, NAME_MAX truncation on a UTF-8
// boundary, the ` (k)` disambiguation suffix, case folding and the bytewise
// order directory listings use. Pure string functions, shared by the tree and
// its incremental apply so both reason over exactly the same keys.

/** Linux NAME_MAX: one path component may be at most this many UTF-8 bytes. */
export const NAME_MAX = 255;

/** UTF-8 byte length of `s` without encoding it (a lone surrogate counts as U+FFFD, 3 bytes). */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && isLowSurrogate(s.charCodeAt(i + 1))) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

function isLowSurrogate(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff;
}

/** The longest prefix of `s` (never splitting a character) that is at most `max` UTF-8 bytes. */
export function truncateUtf8(s: string, max: number): string {
  if (s.length <= max / 3 || utf8Length(s) <= max) return s;
  let bytes = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let width: number;
    let units = 1;
    if (c < 0x80) width = 1;
    else if (c < 0x800) width = 2;
    else if (c >= 0xd800 && c <= 0xdbff && isLowSurrogate(s.charCodeAt(i + 1))) {
      width = 4;
      units = 2;
    } else width = 3;
    if (bytes + width > max) return s.slice(0, i);
    bytes += width;
    i += units - 1;
  }
  return s;
}

/**
 * The components of a rendered path that the tree materializes: non-empty and
 * never `.`/`..`. A plain field whose value is exactly `.` survives
 * sanitization as a literal component, so the build and every incremental gate
 * must reason over this same sequence.
 */
export function pathComponents(path: string): string[] {
  return path.split("/").filter(isMaterialized);
}

/** True if a component of a rendered path materializes (see pathComponents). */
export function isMaterialized(component: string): boolean {
  return component !== "" && component !== "." && component !== "..";
}

/**
 * Split a name where disambiguation inserts its suffix: before the last `.`,
 * unless that dot leads the name (a dotfile has no extension).
 */
export function splitSuffixParts(name: string): [stem: string, ext: string | null] {
  const i = name.lastIndexOf(".");
  return i > 0 ? [name.slice(0, i), name.slice(i + 1)] : [name, null];
}

/**
 * Truncate one rendered component to NAME_MAX bytes. A leaf (`preserveExt`)
 * trims its stem so `.ext` survives; when the extension alone leaves no room
 * for a stem, the whole name is truncated. Directories truncate plainly.
 */
export function truncateComponent(name: string, preserveExt: boolean): string {
  if (name.length <= NAME_MAX / 3 || utf8Length(name) <= NAME_MAX) return name;
  if (preserveExt) {
    const [stem, ext] = splitSuffixParts(name);
    if (ext !== null) {
      const budget = NAME_MAX - (utf8Length(ext) + 1);
      if (budget > 0) return `${truncateUtf8(stem, budget)}.${ext}`;
    }
  }
  return truncateUtf8(name, NAME_MAX);
}

/**
 * The rank-`k` (k ≥ 2) disambiguated form of `name`: ` (k)` before any
 * extension, the stem trimmed so the whole stays within NAME_MAX bytes.
 */
export function suffixCandidate(name: string, k: number): string {
  const [stem, ext] = splitSuffixParts(name);
  const suffix = ` (${k})`;
  const extPart = ext === null ? "" : `.${ext}`;
  const budget = Math.max(0, NAME_MAX - (suffix.length + utf8Length(extPart)));
  return `${truncateUtf8(stem, budget)}${suffix}${extPart}`;
}

// `\+?`: the original parses the digits as a u32, which accepts a leading plus.
const SUFFIX_SHAPE = / \(\+?([0-9]+)\)$/;

/**
 * True if `name` could be a `suffixCandidate` output (stem ends in ` (k)`,
 * k ≥ 2). Such a literal name may be the key a pushed collision-group member
 * reclaims, so perturbing it is always rename-relevant.
 */
export function isSuffixShaped(name: string): boolean {
  const [stem] = splitSuffixParts(name);
  const m = SUFFIX_SHAPE.exec(stem);
  if (m === null) return false;
  // The original parses the digits as u32: values beyond that range are not suffixes.
  const k = Number(m[1]);
  return k >= 2 && k <= 0xffff_ffff;
}

/** Case fold for case-insensitive mounts (Unicode lowercase), applied to every comparison alike. */
export function fold(name: string): string {
  return name.toLowerCase();
}

/**
 * Compare two names in UTF-8 byte order (= code point order). JavaScript's
 * `<` compares UTF-16 code units, which puts U+E000–U+FFFF after astral
 * characters; shift the code units so surrogates sort above the rest of the BMP.
 */
export function compareBytewise(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800 && y >= 0xd800) {
      x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
      y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
    }
    return x - y;
  }
  return a.length - b.length;
}

/**
 * The name of the metrics directory (`--expose-metrics`) at the mount root.
 * It is reserved whether or not metrics are on, so a path never depends on
 * that flag.
 */
export const RESERVED_ROOT_NAME = ".musefs-metrics";

/**
 * `path` with a top-level directory named RESERVED_ROOT_NAME renamed to its
 * ` (2)` form, so a tag value cannot shadow the metrics directory. Applied to
 * rendered paths before the tree sees them (build and refresh alike).
 */
export function reserveRootName(path: string): string {
  if (!path.includes(RESERVED_ROOT_NAME)) return path;
  const parts = path.split("/");
  const materialized = (c: string) => c !== "" && c !== "." && c !== "..";
  const first = parts.findIndex(materialized);
  if (first < 0 || parts[first] !== RESERVED_ROOT_NAME) return path;
  // Only a directory can collide: a file always carries an extension.
  if (!parts.slice(first + 1).some(materialized)) return path;
  parts[first] = suffixCandidate(RESERVED_ROOT_NAME, 2);
  return parts.join("/");
}
