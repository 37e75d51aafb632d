// A small declarative flag parser. One table per command describes every
// flag (name, value type, default, environment variable, help) and drives
// parsing, the MUSEFS_* fallback, validation and `--help`, so the help text
// cannot drift from what the parser does.
//
// Precedence: flag on the command line > MUSEFS_* environment variable >
// default. An environment variable set to the empty string counts as unset.

import { UnknownFlagError, UsageError, ValueError } from "./errors.ts";
import { nearest } from "./suggest.ts";
import { parseBoolish } from "./values.ts";

interface FlagBase {
  /** Long name without the dashes: "jobs" → `--jobs`. */
  long: string;
  /** One-letter short name without the dash: "q" → `-q`. */
  short?: string;
  help: string;
  /** false: no environment variable. Otherwise MUSEFS_<LONG> (see envName). */
  env?: false;
  /** Placeholder shown in help, e.g. "PATH". */
  valueName?: string;
  /** The default as shown in help, when it differs from what `default` returns. */
  defaultText?: string;
  /** Parsed but not listed in `--help`. */
  hidden?: boolean;
  /** The accepted values, when a fixed list (offered by the shell completions). */
  choices?: readonly string[];
}

/** A bool switch: present → true. Its environment variable takes a boolish value. */
export interface SwitchFlag extends FlagBase {
  kind: "switch";
}

/** A counted switch (`-vvv`). Never from the environment. */
export interface CountFlag extends FlagBase {
  kind: "count";
}

/** A flag with one value. */
export interface ValueFlag<T> extends FlagBase {
  kind: "value";
  parse: (raw: string) => T;
  /**
   * "optional": the value may be omitted (`--keep-cache`, `--keep-cache false`,
   * `--keep-cache=no`); a following token is taken as the value only when
   * `takesToken` accepts it, so `--keep-cache /mnt` leaves the path alone.
   */
  optionalValue?: { implicit: T; takesToken: (raw: string) => boolean };
  /** The value when neither flag nor environment gives one; absent = required. */
  default?: () => T;
}

/** A repeatable flag collecting every occurrence in order. */
export interface ListFlag<T> extends FlagBase {
  kind: "list";
  parse: (raw: string) => T;
}

export type Flag = SwitchFlag | CountFlag | ValueFlag<unknown> | ListFlag<unknown>;

export type FlagValue<F> = F extends SwitchFlag ? boolean
  : F extends CountFlag ? number
  : F extends ValueFlag<infer T> ? T
  : F extends ListFlag<infer T> ? T[]
  : never;

export type FlagTable = Record<string, Flag>;
export type FlagValues<F extends FlagTable> = { [K in keyof F]: FlagValue<F[K]> };

export interface Positional {
  /** Shown as <NAME> in help; also the key in ParsedCommand.positionals. */
  name: string;
  help: string;
  /** Takes every remaining positional (at least one when required). */
  variadic?: boolean;
  required?: boolean;
  /** An environment variable that supplies this positional when absent. */
  env?: string;
  /** The accepted values, when a fixed list (offered by the shell completions). */
  choices?: readonly string[];
}

export interface CommandSpec<F extends FlagTable> {
  name: string;
  summary: string;
  /** Extra paragraphs shown after the summary in `--help`. */
  about?: string;
  positionals: readonly Positional[];
  flags: F;
}

/** Where a value came from; "default" also covers an absent optional flag. */
export type ValueSource = "flag" | "env" | "default";

export interface ParsedCommand<F extends FlagTable> {
  flags: FlagValues<F>;
  sources: { [K in keyof F]: ValueSource };
  positionals: Record<string, string[]>;
}

export type EnvLookup = (name: string) => string | undefined;

/** MUSEFS_<LONG>, dashes → underscores; undefined when the flag has none. */
export function envName(flag: Flag): string | undefined {
  if (flag.env === false || flag.kind === "count" || flag.kind === "list") return undefined;
  return `MUSEFS_${flag.long.toUpperCase().replaceAll("-", "_")}`;
}

// ---- builders: they fix the value type so FlagValues infers it ----

type Common = Omit<FlagBase, "long" | "help">;

export function switchFlag(long: string, help: string, extra: Common = {}): SwitchFlag {
  return { kind: "switch", long, help, ...extra };
}

export function countFlag(long: string, help: string, extra: Common = {}): CountFlag {
  return { kind: "count", long, help, ...extra };
}

export function valueFlag<T>(
  long: string,
  help: string,
  spec: Common & Pick<ValueFlag<T>, "parse" | "default" | "optionalValue">,
): ValueFlag<T> {
  return { kind: "value", long, help, ...spec };
}

/** A value flag with no default: absent → undefined. */
export function optionalFlag<T>(
  long: string,
  help: string,
  spec: Common & Pick<ValueFlag<T>, "parse">,
): ValueFlag<T | undefined> {
  return { kind: "value", long, help, default: () => undefined, ...spec };
}

export function listFlag<T>(
  long: string,
  help: string,
  spec: Common & Pick<ListFlag<T>, "parse">,
): ListFlag<T> {
  return { kind: "list", long, help, ...spec };
}

// ---- parsing ----

function invalid(raw: string, flag: string, env: string | undefined, e: unknown): never {
  if (!(e instanceof ValueError)) throw e;
  const from = env ? ` (from ${env})` : "";
  throw new UsageError(`invalid value "${raw}" for ${flag}${from}: ${e.message}`);
}

function parseValue<T>(parse: (raw: string) => T, raw: string, flag: string, env?: string): T {
  try {
    return parse(raw);
  } catch (e) {
    invalid(raw, flag, env, e);
  }
}

/**
 * Parse `argv` (the tokens after the subcommand) against `spec`.
 * Throws UsageError for anything wrong with the command line.
 */
export function parseCommand<F extends FlagTable>(
  spec: CommandSpec<F>,
  argv: readonly string[],
  env: EnvLookup,
): ParsedCommand<F> {
  try {
    return parseTokens(spec, argv, env);
  } catch (e) {
    // Value parsers do not know the command; name it for the help hint.
    if (e instanceof UsageError && e.command === undefined) {
      throw new UsageError(e.message, spec.name);
    }
    throw e;
  }
}

function parseTokens<F extends FlagTable>(
  spec: CommandSpec<F>,
  argv: readonly string[],
  env: EnvLookup,
): ParsedCommand<F> {
  const byLong = new Map<string, [string, Flag]>();
  const byShort = new Map<string, [string, Flag]>();
  for (const [key, flag] of Object.entries(spec.flags)) {
    byLong.set(flag.long, [key, flag]);
    if (flag.short) byShort.set(flag.short, [key, flag]);
  }
  const given = new Map<string, unknown>();
  const rest: string[] = [];
  const fail = (message: string): never => {
    throw new UsageError(message, spec.name);
  };

  const record = (key: string, flag: Flag, value: unknown) => {
    if (flag.kind === "list") {
      const list = (given.get(key) as unknown[] | undefined) ?? [];
      list.push(value);
      given.set(key, list);
    } else if (flag.kind === "count") {
      given.set(key, ((given.get(key) as number | undefined) ?? 0) + 1);
    } else {
      // A repeated single-value flag: the last one wins (clap's overrides_with_self).
      given.set(key, value);
    }
  };

  let i = 0;
  const takeNext = (label: string): string => {
    if (i + 1 >= argv.length) fail(`a value is required for ${label}`);
    return argv[++i];
  };

  for (; i < argv.length; i++) {
    const token = argv[i];
    if (token === "--") {
      rest.push(...argv.slice(i + 1));
      break;
    }
    if (token.startsWith("--")) {
      const eq = token.indexOf("=");
      const name = eq < 0 ? token.slice(2) : token.slice(2, eq);
      const inline = eq < 0 ? undefined : token.slice(eq + 1);
      const entry = byLong.get(name);
      if (!entry) {
        const near = nearest(name, byLong.keys());
        throw new UnknownFlagError(`--${name}`, spec.name, near && `--${near}`);
      }
      const [key, flag] = entry!;
      const label = `--${flag.long}`;
      switch (flag.kind) {
        case "switch":
        case "count":
          if (inline !== undefined) fail(`${label} takes no value (got "${inline}")`);
          record(key, flag, true);
          break;
        case "value": {
          if (inline !== undefined) {
            record(key, flag, parseValue(flag.parse, inline, label));
          } else if (flag.optionalValue) {
            const next = argv[i + 1];
            if (next !== undefined && flag.optionalValue.takesToken(next)) {
              i++;
              record(key, flag, parseValue(flag.parse, next, label));
            } else {
              record(key, flag, flag.optionalValue.implicit);
            }
          } else {
            record(key, flag, parseValue(flag.parse, takeNext(label), label));
          }
          break;
        }
        case "list":
          record(key, flag, parseValue(flag.parse, inline ?? takeNext(label), label));
          break;
      }
      continue;
    }
    if (token.startsWith("-") && token.length > 1) {
      // A cluster of short flags: `-vvq`, or `-j4` style value at the end.
      for (let c = 1; c < token.length; c++) {
        const letter = token[c];
        const entry = byShort.get(letter);
        if (!entry) throw new UnknownFlagError(`-${letter}`, spec.name);
        const [key, flag] = entry!;
        const label = `-${letter}`;
        if (flag.kind === "switch" || flag.kind === "count") {
          record(key, flag, true);
          continue;
        }
        const attached = token.slice(c + 1).replace(/^=/, "");
        const raw = attached !== "" ? attached : takeNext(label);
        record(key, flag, parseValue(flag.parse, raw, `--${flag.long}`));
        break;
      }
      continue;
    }
    rest.push(token);
  }

  const flags: Record<string, unknown> = {};
  const sources: Record<string, ValueSource> = {};
  for (const [key, flag] of Object.entries(spec.flags)) {
    if (given.has(key)) {
      flags[key] = given.get(key);
      sources[key] = "flag";
      continue;
    }
    const name = envName(flag);
    const raw = name ? env(name) : undefined;
    if (raw !== undefined && raw !== "") {
      const label = `--${flag.long}`;
      flags[key] = flag.kind === "switch"
        ? parseValue(parseBoolish, raw, label, name)
        : parseValue((flag as ValueFlag<unknown>).parse, raw, label, name);
      sources[key] = "env";
      continue;
    }
    sources[key] = "default";
    switch (flag.kind) {
      case "switch":
        flags[key] = false;
        break;
      case "count":
        flags[key] = 0;
        break;
      case "list":
        flags[key] = [];
        break;
      case "value":
        if (!flag.default) {
          const envHint = name ? ` (or set ${name})` : "";
          fail(`missing required flag --${flag.long} <${flag.valueName ?? "VALUE"}>${envHint}`);
        }
        flags[key] = flag.default!();
        break;
    }
  }

  const positionals: Record<string, string[]> = {};
  let next = 0;
  for (const pos of spec.positionals) {
    let values: string[];
    if (pos.variadic) {
      values = rest.slice(next);
      next = rest.length;
    } else {
      values = next < rest.length ? [rest[next++]] : [];
    }
    if (values.length === 0 && pos.env) {
      const raw = env(pos.env);
      if (raw !== undefined && raw !== "") values = [raw];
    }
    if (values.length === 0 && pos.required) {
      fail(`missing required argument <${pos.name}>${pos.variadic ? "..." : ""}`);
    }
    positionals[pos.name] = values;
  }
  if (next < rest.length) fail(`unexpected argument '${rest[next]}'`);

  return {
    flags: flags as FlagValues<F>,
    sources: sources as { [K in keyof F]: ValueSource },
    positionals,
  };
}
