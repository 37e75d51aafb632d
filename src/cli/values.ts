// Value parsers for flags and their MUSEFS_* environment variables. Each
// takes the raw text and returns the typed value or throws a ValueError whose
// message completes "invalid value "<raw>" for --flag: …".

import { ValueError } from "./errors.ts";
import { lookupGroupId, lookupUserId } from "./accounts.ts";

const TRUE_WORDS = new Set(["true", "yes", "on", "1", "t", "y"]);
const FALSE_WORDS = new Set(["false", "no", "off", "0", "f", "n"]);

/** True when `raw` is one of the boolish words (any case). */
export function isBoolish(raw: string): boolean {
  const word = raw.toLowerCase();
  return TRUE_WORDS.has(word) || FALSE_WORDS.has(word);
}

/** `true/false, yes/no, on/off, 1/0, t/f, y/n`, case-insensitive (clap's boolish). */
export function parseBoolish(raw: string): boolean {
  const word = raw.toLowerCase();
  if (TRUE_WORDS.has(word)) return true;
  if (FALSE_WORDS.has(word)) return false;
  throw new ValueError("expected a boolean (true/false, yes/no, on/off, 1/0, t/f, y/n)");
}

/** The unsigned integer types of the original's flags, by bit width. */
export type UnsignedBits = 16 | 32 | 64;

/**
 * A decimal unsigned integer that fits `bits`. u64/usize values above 2^53
 * are accepted (they are valid input) and clamped to Number.MAX_SAFE_INTEGER;
 * every consumer clamps far lower anyway (timers, kernel limits).
 */
export function parseUnsigned(raw: string, bits: UnsignedBits): number {
  const digits = raw.startsWith("+") ? raw.slice(1) : raw;
  if (!/^\d+$/.test(digits)) throw new ValueError("expected a non-negative integer");
  const value = BigInt(digits);
  const max = (1n << BigInt(bits)) - 1n;
  if (value > max) throw new ValueError(`expected an integer from 0 to ${max}`);
  return value > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(value);
}

/** A bare octal permission word (`644`, `0755`), at most 7777; not decimal, no `0o`. */
export function parseOctalMode(raw: string): number {
  if (!/^[0-7]+$/.test(raw)) {
    throw new ValueError("expected an octal mode such as 444 or 0755");
  }
  const mode = parseInt(raw, 8);
  if (mode > 0o7777) throw new ValueError("octal mode out of range (max 7777)");
  return mode;
}

/** One of `choices`, exactly as spelled. */
export function parseChoice<T extends string>(raw: string, choices: readonly T[]): T {
  const found = choices.find((c) => c === raw);
  if (found === undefined) throw new ValueError(`expected one of: ${choices.join(", ")}`);
  return found;
}

/**
 * `FIELD=VALUE`, split at the first `=` (the value may contain more); the
 * field must be non-empty and is ASCII-lowercased, as template fields are.
 */
export function parseFallback(raw: string): [field: string, value: string] {
  const eq = raw.indexOf("=");
  if (eq < 0) throw new ValueError("expected FIELD=VALUE");
  if (eq === 0) throw new ValueError("empty field name before '='");
  const field = raw.slice(0, eq).replace(/[A-Z]/g, (c) => c.toLowerCase());
  return [field, raw.slice(eq + 1)];
}

function parseAccount(
  raw: string,
  lookupName: (name: string) => number | undefined,
  noun: string,
): number {
  // All digits is always an id, never a name (as chown does).
  if (/^\d+$/.test(raw)) {
    const id = BigInt(raw);
    if (id <= 0xffff_ffffn) return Number(id);
  }
  const id = raw === "" ? undefined : lookupName(raw);
  if (id === undefined) throw new ValueError(`no such ${noun}`);
  return id;
}

/** `--owner`: a numeric uid, or a user name looked up in /etc/passwd. */
export function parseOwner(raw: string): number {
  return parseAccount(raw, lookupUserId, "user");
}

/** `--group`: a numeric gid, or a group name looked up in /etc/group. */
export function parseGroup(raw: string): number {
  return parseAccount(raw, lookupGroupId, "group");
}

/**
 * `--template`: any text but an empty or blank one (which would put every
 * track at the root under its extension alone). The grammar is checked when
 * the library opens.
 */
export function parseTemplateText(raw: string): string {
  if (raw.trim() === "") {
    throw new ValueError(
      "the template is empty or blank; give a path template, e.g. '$albumartist/$album/$title'",
    );
  }
  return raw;
}

/** `--size-index`: a file path, or `off` (null: sizes kept in memory only). */
export function parseSizeIndex(raw: string): string | null {
  if (raw === "off") return null;
  if (raw === "") throw new ValueError("expected a file path, or off");
  return raw;
}

/** `--db`: a path, never empty (SQLite would open a throwaway temporary database). */
export function parseStorePath(raw: string): string {
  if (raw === "") throw new ValueError("expected the path of the store file, e.g. ~/music.db");
  return raw;
}
