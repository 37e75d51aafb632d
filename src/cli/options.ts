// The fully validated, typed options each command function receives, and
// their construction from a parsed command line (defaults resolved, mutual
// exclusions checked). The command implementations never see raw flags.

import type { ArtOptions, ShowOptions, StatusOptions, TagOptions } from "./curate_options.ts";
import { LIBRARY_DEFAULTS } from "../core/defaults.ts";
import { CliError, UsageError } from "./errors.ts";
import type { ParsedCommand } from "./flags.ts";
import type {
  CHECKSUM_TIERS,
  CompletionsSpec,
  EXTENSION_STYLES,
  ManpageSpec,
  MountSpec,
  RevalidateSpec,
  ScanSpec,
  SERVE_MODES,
  SHELLS,
  VacuumSpec,
} from "./spec.ts";

/** `--checksum`: which content checksums scan/revalidate compute and store. */
export type ChecksumTier = (typeof CHECKSUM_TIERS)[number];
/** `--mode`: synthesize fresh metadata, or serve the backing bytes unchanged. */
export type ServeMode = (typeof SERVE_MODES)[number];
/** `--extensions`: served extension per content, or the original's format names. */
export type ExtensionStyle = (typeof EXTENSION_STYLES)[number];
/** How a moved file is confirmed: auto (default), `--fast`, or `--strict`. */
export type MatchStrictness = "auto" | "fast" | "strict";

export interface ScanOptions {
  db: string;
  /** As given on the command line (the summary line prints them as given). */
  targets: string[];
  force: boolean;
  /** 0 = available parallelism (fallback 1). */
  jobs: number;
  followSymlinks: boolean;
  quiet: boolean;
  checksum: ChecksumTier;
  strictness: MatchStrictness;
}

export interface RevalidateOptions {
  db: string;
  targets: string[];
  prune: boolean;
  /** 0 = available parallelism (fallback 1). */
  jobs: number;
  followSymlinks: boolean;
  quiet: boolean;
  checksum: ChecksumTier;
}

export interface MountOptions {
  /** Null only with dryRun (the mountpoint is not needed then). */
  mountpoint: string | null;
  db: string;
  template: string;
  defaultFallback: string;
  /** Per-field fallbacks, field names ASCII-lowercased, last duplicate won. */
  fallbacks: Map<string, string>;
  skipOnMissing: boolean;
  mode: ServeMode;
  extensions: ExtensionStyle;
  /** `--id3-version`: the ID3v2 minor version served for MP3 and WAV (3 or 4). */
  id3Version: 3 | 4;
  pollIntervalMs: number;
  /** Entry and attribute TTL. */
  attrTtlMs: number;
  /** The value in KiB as given; multiply by 1024 (saturating at u32) when used. */
  maxReadaheadKib: number;
  /** 0 disables read-ahead. */
  readAheadBudgetMib: number;
  /** Cache budgets (MiB): layouts, sizes/mtimes, art images. */
  headerCacheMib: number;
  attrCacheMib: number;
  storeCacheMib: number;
  artCacheMib: number;
  /** `--build-ahead`: build layouts on a worker ahead of a walker's opens. */
  buildAhead: boolean;
  /** `--size-index`: undefined = beside the store, null = off. */
  sizeIndex: string | null | undefined;
  readAheadPrefetch: boolean;
  maxBackground: number;
  /** 0 = 2 × available parallelism. */
  workers: number;
  keepCache: boolean;
  caseInsensitive: boolean;
  /** Owner of every entry: --owner, else the process uid. */
  uid: number;
  /** Group of every entry: --group, else the process gid. */
  gid: number;
  /** Explicit --owner/--group given (they force allowOther). */
  ownerGiven: boolean;
  groupGiven: boolean;
  /** Permission bits (≤ 0o7777); 0o444 unless given. */
  fileMode: number;
  /** Permission bits (≤ 0o7777); 0o555 unless given. */
  dirMode: number;
  /** Effective: --allow-other, or implied by --owner/--group (even over MUSEFS_ALLOW_OTHER=false). */
  allowOther: boolean;
  exposeMetrics: boolean;
  dryRun: boolean;
  /** --library-root, in order given (empty: the store-writers policy). */
  libraryRoots: string[];
}

export interface VacuumOptions {
  db: string;
}

/** One validated command line: which command, with its options. */
export type Invocation =
  | { command: "scan"; options: ScanOptions; verbose: number }
  | {
    command: "revalidate";
    options: RevalidateOptions;
    verbose: number;
    /** Reached through the deprecated `scan --revalidate`. */
    viaScanAlias: boolean;
  }
  | { command: "mount"; options: MountOptions; verbose: number }
  | { command: "vacuum"; options: VacuumOptions; verbose: number }
  | { command: "show"; options: ShowOptions; verbose: number }
  | { command: "tag"; options: TagOptions; verbose: number }
  | { command: "art"; options: ArtOptions; verbose: number }
  | { command: "status"; options: StatusOptions; verbose: number }
  | { command: "completions"; options: { shell: (typeof SHELLS)[number] }; verbose: number }
  | { command: "manpage"; options: Record<never, never>; verbose: number };

/**
 * `scan`. `--revalidate` turns it into a non-pruning revalidate. Mutual
 * exclusions are runtime errors (exit 1), as in the original.
 */
export function scanInvocation(parsed: ParsedCommand<ScanSpec["flags"]>): Invocation {
  const f = parsed.flags;
  const targets = parsed.positionals.TARGETS;
  if (f.fast && f.strict) throw new CliError("--fast and --strict are mutually exclusive");
  if (f.revalidate) {
    if (f.force) throw new CliError("--force and --revalidate are mutually exclusive");
    if (f.fast || f.strict) {
      const which = f.fast ? "--fast" : "--strict";
      throw new CliError(`${which} and --revalidate are mutually exclusive`);
    }
    return {
      command: "revalidate",
      verbose: f.verbose,
      viaScanAlias: true,
      options: {
        db: f.db,
        targets,
        prune: false,
        jobs: f.jobs,
        followSymlinks: f.followSymlinks,
        quiet: f.quiet,
        checksum: f.checksum,
      },
    };
  }
  return {
    command: "scan",
    verbose: f.verbose,
    options: {
      db: f.db,
      targets,
      force: f.force,
      jobs: f.jobs,
      followSymlinks: f.followSymlinks,
      quiet: f.quiet,
      checksum: f.checksum,
      strictness: f.fast ? "fast" : f.strict ? "strict" : "auto",
    },
  };
}

export function revalidateInvocation(
  parsed: ParsedCommand<RevalidateSpec["flags"]>,
): Invocation {
  const f = parsed.flags;
  return {
    command: "revalidate",
    verbose: f.verbose,
    viaScanAlias: false,
    options: {
      db: f.db,
      targets: parsed.positionals.TARGETS,
      prune: f.prune,
      jobs: f.jobs,
      followSymlinks: f.followSymlinks,
      quiet: f.quiet,
      checksum: f.checksum,
    },
  };
}

export function mountInvocation(parsed: ParsedCommand<MountSpec["flags"]>): Invocation {
  const f = parsed.flags;
  const mountpoint = parsed.positionals.MOUNTPOINT[0] ?? null;
  if (mountpoint === null && !f.dryRun) {
    throw new UsageError(
      "missing required argument <MOUNTPOINT> (or set MUSEFS_MOUNTPOINT)",
      "mount",
    );
  }
  const fallbacks = new Map<string, string>();
  for (const [field, value] of f.fallbacks) fallbacks.set(field, value);
  return {
    command: "mount",
    verbose: f.verbose,
    options: {
      mountpoint,
      db: f.db,
      template: f.template,
      defaultFallback: f.defaultFallback,
      fallbacks,
      skipOnMissing: f.skipOnMissing,
      mode: f.mode,
      extensions: f.extensions,
      id3Version: f.id3Version === "2.3" ? 3 : 4,
      pollIntervalMs: f.pollIntervalMs,
      attrTtlMs: f.attrTtlMs,
      maxReadaheadKib: f.maxReadaheadKib,
      readAheadBudgetMib: f.readAheadBudgetMib,
      headerCacheMib: f.headerCacheMib,
      attrCacheMib: f.attrCacheMib,
      storeCacheMib: f.storeCacheMib,
      artCacheMib: f.artCacheMib,
      sizeIndex: f.sizeIndex,
      buildAhead: f.buildAhead,
      readAheadPrefetch: f.readAheadPrefetch,
      maxBackground: f.maxBackground,
      workers: f.workers,
      keepCache: f.keepCache,
      caseInsensitive: f.caseInsensitive,
      uid: f.owner ?? processUid(),
      gid: f.group ?? processGid(),
      ownerGiven: f.owner !== undefined,
      groupGiven: f.group !== undefined,
      fileMode: f.fileMode ?? LIBRARY_DEFAULTS.fileMode,
      dirMode: f.dirMode ?? LIBRARY_DEFAULTS.dirMode,
      allowOther: f.allowOther || f.owner !== undefined || f.group !== undefined,
      exposeMetrics: f.exposeMetrics,
      dryRun: f.dryRun,
      libraryRoots: f.libraryRoots,
    },
  };
}

export function vacuumInvocation(parsed: ParsedCommand<VacuumSpec["flags"]>): Invocation {
  return { command: "vacuum", verbose: parsed.flags.verbose, options: { db: parsed.flags.db } };
}

export function completionsInvocation(
  parsed: ParsedCommand<CompletionsSpec["flags"]>,
  shells: readonly string[],
): Invocation {
  const shell = parsed.positionals.SHELL[0];
  if (!shells.includes(shell)) {
    throw new UsageError(
      `unknown shell '${shell}' (supported: ${shells.join(", ")})`,
      "completions",
    );
  }
  return {
    command: "completions",
    verbose: parsed.flags.verbose,
    options: { shell: shell as (typeof SHELLS)[number] },
  };
}

export function manpageInvocation(parsed: ParsedCommand<ManpageSpec["flags"]>): Invocation {
  return { command: "manpage", verbose: parsed.flags.verbose, options: {} };
}

function processUid(): number {
  return Deno.uid() ?? 0;
}

function processGid(): number {
  return Deno.gid() ?? 0;
}

/** The options as JSON (Map → object), for MUSEFS_PRINT_OPTIONS. */
export function invocationToJson(inv: Invocation): string {
  return JSON.stringify(inv, (_key, value) => {
    if (value instanceof Map) return Object.fromEntries(value);
    return value;
  });
}
