// The command tables: every flag of every command,
// with its type, default, environment variable and help. Parsing, the
// MUSEFS_* fallback and `--help` are all driven from here.

import {
  type CommandSpec,
  countFlag,
  type FlagTable,
  listFlag,
  optionalFlag,
  switchFlag,
  valueFlag,
} from "./flags.ts";
import {
  isBoolish,
  parseBoolish,
  parseChoice,
  parseFallback,
  parseGroup,
  parseOctalMode,
  parseOwner,
  parseSizeIndex,
  parseStorePath,
  parseTemplateText,
  parseUnsigned,
} from "./values.ts";
import { EXTENSION_STYLES, LIBRARY_DEFAULTS as LIB, SERVE_MODES } from "../core/defaults.ts";
import { SERVE_DEFAULTS as SRV } from "../fuse/defaults.ts";
import {
  CONFIRM_OVER,
  parseCondition,
  parseKeyOptionalValue,
  parseKeyValue,
  parsePictureType,
} from "./curate_values.ts";

/** Cache budgets are kept in bytes by the core and shown in MiB by the flags. */
const MIB = 1024 * 1024;

export const CHECKSUM_TIERS = ["none", "fingerprint", "full"] as const;
export { EXTENSION_STYLES, SERVE_MODES } from "../core/defaults.ts";
export const SHELLS = ["bash", "zsh", "fish"] as const;
/** What completions offer for a boolean value (any boolish value is accepted). */
const BOOL_CHOICES = ["true", "false"] as const;
export const ID3_VERSIONS = ["2.4", "2.3"] as const;

const text = (raw: string) => raw;
const u16 = (raw: string) => parseUnsigned(raw, 16);
const u32 = (raw: string) => parseUnsigned(raw, 32);
const u64 = (raw: string) => parseUnsigned(raw, 64);

/** Flags every command accepts (clap's `global = true`). */
const globalFlags = {
  verbose: countFlag(
    "verbose",
    "More log output: -v info, -vv debug, -vvv trace (default: warnings only). " +
      "MUSEFS_LOG or RUST_LOG, when set, take precedence.",
    { short: "v" },
  ),
} satisfies FlagTable;

const db = (help: string) => valueFlag("db", help, { parse: parseStorePath, valueName: "PATH" });

const jobs = valueFlag(
  "jobs",
  "Probe workers (0 = available parallelism; 1 = sequential).",
  { parse: u64, default: () => 0, valueName: "N" },
);
const followSymlinks = switchFlag(
  "follow-symlinks",
  "Follow symlinks while walking directories (off: they are skipped silently; -v counts them, -vv names each).",
);
const quiet = switchFlag(
  "quiet",
  "Suppress the per-target summary and the progress display (failures still go to stderr).",
  { short: "q" },
);
const checksum = valueFlag(
  "checksum",
  "Which checksums to compute and store: none, fingerprint (cheap, from parsed " +
    "metadata) or full (adds a SHA-256 of the whole file).",
  {
    parse: (raw) => parseChoice(raw, CHECKSUM_TIERS),
    default: () => "fingerprint" as const,
    valueName: "TIER",
    choices: CHECKSUM_TIERS,
  },
);

export const scanSpec = {
  name: "scan",
  summary: "Ingest audio files (FLAC, MP3, M4A, Ogg, WAV) into the store.",
  about: "Additive: files already in the store are skipped unless --force is given.",
  positionals: [{
    name: "TARGETS",
    help: "Files or directories to scan (directories recurse).",
    variadic: true,
    required: true,
  }],
  flags: {
    ...globalFlags,
    db: db("SQLite store to write (created if absent)."),
    revalidate: switchFlag(
      "revalidate",
      "Deprecated: run `musefs revalidate` (without --prune) instead.",
    ),
    force: switchFlag(
      "force",
      "Re-ingest files already in the store, overwriting curated tags and art.",
    ),
    jobs,
    followSymlinks,
    quiet,
    checksum,
    fast: switchFlag(
      "fast",
      "Confirm a moved file by its fingerprint alone, never reading the whole file.",
    ),
    strict: switchFlag("strict", "Retarget a moved file only when full hashes match."),
  },
} satisfies CommandSpec<FlagTable>;

export const revalidateSpec = {
  name: "revalidate",
  summary: "Refresh stored tracks whose files changed, keeping curated tags and art.",
  positionals: [{
    name: "TARGETS",
    help: "Files or directories to revalidate (directories recurse).",
    variadic: true,
    required: true,
  }],
  flags: {
    ...globalFlags,
    db: db("SQLite store to update."),
    prune: switchFlag(
      "prune",
      "Also delete tracks under the targets whose file is gone, then unreferenced art.",
    ),
    jobs,
    followSymlinks,
    quiet,
    checksum,
  },
} satisfies CommandSpec<FlagTable>;

export const mountSpec = {
  name: "mount",
  summary: "Serve a read-only FUSE view of the store.",
  about: "`musefs [OPTIONS] --db PATH MOUNTPOINT` without a command does the same.",
  positionals: [{
    name: "MOUNTPOINT",
    help: "Empty directory to mount at (not needed with --dry-run).",
    env: "MUSEFS_MOUNTPOINT",
  }],
  flags: {
    ...globalFlags,
    db: db("SQLite store to serve (must exist; mount never creates it)."),
    template: valueFlag(
      "template",
      "Path template, e.g. '$albumartist/$album/$title'. Supports ${a|b} fallback " +
        "chains, [...] conditional sections and $!{field} path fields.",
      {
        parse: parseTemplateText,
        default: (): string => LIB.template,
        valueName: "TEMPLATE",
      },
    ),
    defaultFallback: valueFlag(
      "default-fallback",
      "Value substituted for a missing template field.",
      { parse: text, default: (): string => LIB.defaultFallback, valueName: "TEXT" },
    ),
    fallbacks: listFlag(
      "fallback",
      "Per-field fallback FIELD=VALUE overriding --default-fallback for that field. " +
        "Repeatable; the last one for a field wins.",
      { parse: parseFallback, valueName: "FIELD=VALUE" },
    ),
    skipOnMissing: switchFlag(
      "skip-on-missing",
      "Drop tracks whose path misses a top-level template field instead of using the fallback.",
    ),
    mode: valueFlag(
      "mode",
      "How file contents are served: synthesis (fresh metadata in front of the audio) " +
        "or structure-only (the backing files' bytes unchanged).",
      {
        parse: (raw) => parseChoice(raw, SERVE_MODES),
        default: () => LIB.mode,
        valueName: "MODE",
        choices: SERVE_MODES,
      },
    ),
    extensions: valueFlag(
      "extensions",
      "File name extensions: served (.flac .mp3 .m4a/.m4b .opus .ogg .oga .wav by content) " +
        "or original (the stored format name, as the original musefs did).",
      {
        parse: (raw) => parseChoice(raw, EXTENSION_STYLES),
        default: () => LIB.extensions,
        valueName: "STYLE",
        choices: EXTENSION_STYLES,
      },
    ),
    id3Version: valueFlag(
      "id3-version",
      "ID3v2 version of the tags served in MP3 and WAV files: 2.4, or 2.3 for car stereos, " +
        "old players and Windows versions that cannot read 2.4.",
      {
        parse: (raw) => parseChoice(raw, ID3_VERSIONS),
        default: () => LIB.id3Version === 3 ? "2.3" as const : "2.4" as const,
        valueName: "VERSION",
      },
    ),
    pollIntervalMs: valueFlag(
      "poll-interval-ms",
      "Debounce window (ms) for picking up changes other programs make to the store.",
      { parse: u64, default: (): number => LIB.pollIntervalMs, valueName: "MS" },
    ),
    attrTtlMs: valueFlag(
      "attr-ttl-ms",
      "How long (ms) the kernel may cache entries and attributes before asking again.",
      { parse: u64, default: (): number => SRV.attrTtlMs, valueName: "MS" },
    ),
    maxReadaheadKib: valueFlag(
      "max-readahead-kib",
      "Kernel read-ahead window (KiB); clamped to the kernel's maximum.",
      { parse: u32, default: (): number => SRV.maxReadaheadKib, valueName: "KIB" },
    ),
    readAheadBudgetMib: valueFlag(
      "read-ahead-budget-mib",
      "Read-ahead memory (MiB) shared by all open streams; 0 disables read-ahead.",
      { parse: u32, default: (): number => LIB.readAheadBudgetMib, valueName: "MIB" },
    ),
    headerCacheMib: valueFlag(
      "header-cache-mib",
      "Memory (MiB) for synthesized file layouts (generated headers); files opened once give way first.",
      { parse: u32, default: (): number => LIB.headerCacheBytes / MIB, valueName: "MIB" },
    ),
    attrCacheMib: valueFlag(
      "attr-cache-mib",
      "Memory (MiB) for the sizes and mtimes of files already stat'ed, least recently used dropped.",
      { parse: u32, default: (): number => LIB.attrCacheBytes / MIB, valueName: "MIB" },
    ),
    storeCacheMib: valueFlag(
      "store-cache-mib",
      "Memory (MiB) for SQLite's page cache of the store while serving.",
      { parse: u32, default: (): number => LIB.storeCacheBytes / MIB, valueName: "MIB" },
    ),
    sizeIndex: optionalFlag(
      "size-index",
      "File where the sizes of served files are remembered across mounts, so a restarted " +
        "mount answers a scan's stats without synthesizing; off keeps them in memory only.",
      { parse: parseSizeIndex, valueName: "PATH|off", defaultText: "<store>-sizes" },
    ),
    buildAhead: valueFlag(
      "build-ahead",
      "Build the headers of the files a scanner is about to open on a second thread, so a " +
        "media server's first read of every file waits less; the worker starts with the mount and " +
        "stays, about 20 MiB (docs/tuning.md).",
      {
        parse: parseBoolish,
        default: (): boolean => LIB.buildAhead,
        optionalValue: { implicit: true, takesToken: isBoolish },
        valueName: "BOOL",
        choices: BOOL_CHOICES,
      },
    ),
    artCacheMib: valueFlag(
      "art-cache-mib",
      "Memory (MiB) for cover art images, shared by every track that embeds them.",
      { parse: u32, default: (): number => LIB.artCacheBytes / MIB, valueName: "MIB" },
    ),
    readAheadPrefetch: switchFlag(
      "read-ahead-prefetch",
      "Accepted for compatibility with the original musefs; has no effect (a warning says so).",
      { hidden: true },
    ),
    maxBackground: valueFlag(
      "max-background",
      "Most background (read-ahead/async) requests the kernel queues.",
      { parse: u16, default: (): number => SRV.maxBackground, valueName: "N" },
    ),
    workers: valueFlag(
      "workers",
      "Requests served concurrently: reads in flight plus backing-I/O workers " +
        "(0 = 2 × CPUs, at most 32).",
      { parse: u64, default: () => 0, valueName: "N" },
    ),
    keepCache: valueFlag(
      "keep-cache",
      "Keep the kernel page cache across opens; changed files are invalidated on refresh. " +
        "Disable with --keep-cache false.",
      {
        parse: parseBoolish,
        default: (): boolean => LIB.keepCache,
        optionalValue: { implicit: true, takesToken: isBoolish },
        valueName: "BOOL",
        choices: BOOL_CHOICES,
      },
    ),
    caseInsensitive: valueFlag(
      "case-insensitive",
      "Compare file names case-insensitively (case variants merge or are disambiguated).",
      {
        parse: parseBoolish,
        default: () => Deno.build.os === "darwin",
        defaultText: "true on macOS, false elsewhere",
        valueName: "BOOL",
        choices: BOOL_CHOICES,
      },
    ),
    owner: optionalFlag(
      "owner",
      "Owner of every entry: a user name or numeric uid. Implies --allow-other.",
      { parse: parseOwner, valueName: "NAME|UID", defaultText: "the mounting user" },
    ),
    group: optionalFlag(
      "group",
      "Group of every entry: a group name or numeric gid. Implies --allow-other.",
      { parse: parseGroup, valueName: "NAME|GID", defaultText: "the mounting user's group" },
    ),
    fileMode: optionalFlag(
      "file-mode",
      "Permission bits of files, octal. Write bits are shown but writes fail (EROFS).",
      { parse: parseOctalMode, valueName: "OCTAL", defaultText: LIB.fileMode.toString(8) },
    ),
    dirMode: optionalFlag(
      "dir-mode",
      "Permission bits of directories, octal.",
      { parse: parseOctalMode, valueName: "OCTAL", defaultText: LIB.dirMode.toString(8) },
    ),
    allowOther: switchFlag(
      "allow-other",
      "Let other users reach the mount (adds allow_other and default_permissions; " +
        "non-root mounts need user_allow_other in /etc/fuse.conf).",
    ),
    libraryRoots: listFlag(
      "library-root",
      "Serve only backing files under this directory (repeatable). Default: only files every " +
        "user who can write the store could read (docs/trust.md).",
      { parse: text, valueName: "DIR" },
    ),
    exposeMetrics: switchFlag(
      "expose-metrics",
      "Serve live counters in .musefs-metrics/metrics at the mount root.",
    ),
    dryRun: switchFlag(
      "dry-run",
      "Check the configuration, print a sample of the paths the mount would show, and exit.",
      { env: false },
    ),
  },
} satisfies CommandSpec<FlagTable>;

export const vacuumSpec = {
  name: "vacuum",
  summary: "Compact the store file (VACUUM) and truncate its write-ahead log.",
  about: "Run it while nothing uses the store: no mount, no scan.",
  positionals: [],
  flags: {
    ...globalFlags,
    db: db("SQLite store to compact (must exist)."),
  },
} satisfies CommandSpec<FlagTable>;

// ---- curation: show, tag, art, status (docs/cli.md "Curating from the command line") ----

const selectionPositional = {
  name: "TARGETS",
  help: "Served files or directories inside a musefs mount, or backing files or directories " +
    "(these need --db).",
  variadic: true,
} as const;

/** How the curation commands pick tracks; shared by show, tag and art. */
const selectionFlags = {
  db: optionalFlag(
    "db",
    "The store (not needed when every target lies inside a live musefs mount).",
    { parse: text, valueName: "PATH" },
  ),
  track: listFlag("track", "Select a track by id. Repeatable.", {
    parse: (raw) => parseUnsigned(raw, 64),
    valueName: "ID",
  }),
  where: listFlag(
    "where",
    "Select tracks whose tag FIELD equals VALUE (FIELD=VALUE) or contains TEXT " +
      "(FIELD~TEXT, any case); field names match in any case. Repeatable: all must hold.",
    { parse: parseCondition, valueName: "FIELD=VALUE" },
  ),
} satisfies FlagTable;

const yes = switchFlag(
  "yes",
  `Allow an edit of more than ${CONFIRM_OVER} tracks at once.`,
  { env: false },
);
const curateDryRun = switchFlag(
  "dry-run",
  "Print what would change and change nothing.",
  { env: false },
);

export const showSpec = {
  name: "show",
  summary: "Print what the store holds for the selected tracks.",
  about: "Tags (multi-values in order), binary tags and art as size + SHA-256, served paths.",
  positionals: [selectionPositional],
  flags: {
    ...globalFlags,
    ...selectionFlags,
    json: switchFlag("json", "One JSON object per track, one per line (docs/cli.md).", {
      env: false,
    }),
  },
} satisfies CommandSpec<FlagTable>;

export const tagSpec = {
  name: "tag",
  summary: "Edit the text tags of the selected tracks (one transaction).",
  about: "`musefs tag export TARGETS… > tags.json` writes the selected tracks' text tags as " +
    "JSON; `musefs tag import tags.json` makes the store match such a file. Binary tags are " +
    "never touched.",
  positionals: [selectionPositional],
  flags: {
    ...globalFlags,
    ...selectionFlags,
    set: listFlag("set", "Replace every value of KEY with VALUE. Repeatable.", {
      parse: parseKeyValue,
      valueName: "KEY=VALUE",
    }),
    add: listFlag("add", "Add VALUE after the existing values of KEY. Repeatable.", {
      parse: parseKeyValue,
      valueName: "KEY=VALUE",
    }),
    rm: listFlag("rm", "Remove KEY (every value), or only the value VALUE. Repeatable.", {
      parse: parseKeyOptionalValue,
      valueName: "KEY[=VALUE]",
    }),
    dryRun: curateDryRun,
    yes,
  },
} satisfies CommandSpec<FlagTable>;

export const artSpec = {
  name: "art",
  summary: "Set, remove or extract the pictures of the selected tracks.",
  positionals: [selectionPositional],
  flags: {
    ...globalFlags,
    ...selectionFlags,
    set: optionalFlag("set", "Link this image (JPEG, PNG, GIF, WebP or BMP) as --type.", {
      parse: text,
      valueName: "IMAGE",
      env: false,
    }),
    type: optionalFlag(
      "type",
      "Picture type for --set and --rm: front, back, a name from docs/cli.md, or 0–20.",
      {
        parse: parsePictureType,
        defaultText: "front for --set, every type for --rm",
        valueName: "TYPE",
        env: false,
      },
    ),
    description: valueFlag("description", "Description of the picture set with --set.", {
      parse: text,
      default: () => "",
      defaultText: "empty",
      valueName: "TEXT",
      env: false,
    }),
    rm: switchFlag("rm", "Unlink pictures (of --type only, when given).", { env: false }),
    extract: optionalFlag("extract", "Write each picture into DIR (created if missing).", {
      parse: text,
      valueName: "DIR",
      env: false,
    }),
    dryRun: curateDryRun,
    yes,
  },
} satisfies CommandSpec<FlagTable>;

export const statusSpec = {
  name: "status",
  summary: "List the live musefs mounts on this machine.",
  positionals: [],
  flags: {
    ...globalFlags,
    json: switchFlag("json", "One JSON object per mount, one per line.", { env: false }),
  },
} satisfies CommandSpec<FlagTable>;

export type ShowSpec = typeof showSpec;
export type TagSpec = typeof tagSpec;
export type ArtSpec = typeof artSpec;
export type StatusSpec = typeof statusSpec;

export const completionsSpec = {
  name: "completions",
  summary: "Print a shell completion script (bash, zsh or fish) for musefs.",
  about: "Generated from the same tables as --help. Install, e.g.: `musefs completions bash > " +
    "~/.local/share/bash-completion/completions/musefs` (zsh and fish: see docs/cli.md).",
  positionals: [{
    name: "SHELL",
    help: "The shell: bash, zsh or fish.",
    required: true,
    choices: SHELLS,
  }],
  flags: { ...globalFlags },
} satisfies CommandSpec<FlagTable>;

export const manpageSpec = {
  name: "manpage",
  summary: "Print the manual page musefs(1) (roff) on stdout.",
  about: "Generated from the same tables as --help, e.g. " +
    "`musefs manpage > /usr/local/share/man/man1/musefs.1`.",
  positionals: [],
  flags: { ...globalFlags },
} satisfies CommandSpec<FlagTable>;

export type ScanSpec = typeof scanSpec;
export type RevalidateSpec = typeof revalidateSpec;
export type MountSpec = typeof mountSpec;
export type VacuumSpec = typeof vacuumSpec;
export type CompletionsSpec = typeof completionsSpec;
export type ManpageSpec = typeof manpageSpec;

export const COMMANDS = [
  scanSpec,
  revalidateSpec,
  mountSpec,
  vacuumSpec,
  showSpec,
  tagSpec,
  artSpec,
  statusSpec,
  completionsSpec,
  manpageSpec,
] as const;
export type CommandName = (typeof COMMANDS)[number]["name"];

export function commandSpec(name: string): CommandSpec<FlagTable> | undefined {
  return COMMANDS.find((c) => c.name === name);
}
