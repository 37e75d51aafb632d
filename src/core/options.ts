// Options of a mounted library, with the defaults of F§1 (`musefs mount`).

import type { Id3Version } from "../format/types.ts";
import type { ServeMode } from "./resolve.ts";
import { DEFAULT_FALLBACK, DEFAULT_TEMPLATE, type ExtensionMode } from "./template.ts";

export interface LibraryOptions {
  /** Path template (default `$albumartist/$album/$title`). */
  template?: string;
  /** Per-field fallbacks (`--fallback FIELD=VALUE`). */
  fallbacks?: ReadonlyMap<string, string>;
  /** For an unresolved top-level field (default "Unknown"). */
  defaultFallback?: string;
  /** Drop tracks with an unresolved top-level field. */
  skipOnMissing?: boolean;
  /** "synthesis" (default) or "structure-only". */
  mode?: ServeMode;
  /** Fold names for comparison (dirs merge, files disambiguate). Default false. */
  caseInsensitive?: boolean;
  /** "served" (default: .ogg, .oga, .m4b …) or "original" (the store's format names). */
  extensions?: ExtensionMode;
  /** Owner of every entry (default: the process uid / gid). */
  uid?: number;
  gid?: number;
  /** Permission bits of files (default 0o444) and directories (default 0o555). */
  fileMode?: number;
  dirMode?: number;
  /** Minimum time between store polls (default 1000 ms; 0 = every call). */
  pollIntervalMs?: number;
  /** Global read-ahead budget in MiB (default 64; 0 disables read-ahead). */
  readAheadBudgetMib?: number;
  /** Let the kernel keep page caches across opens (default true). */
  keepCache?: boolean;
  /** Header cache byte budget (default 64 MiB). */
  headerCacheBytes?: number;
  /** Art image cache byte budget (default 32 MiB). */
  artCacheBytes?: number;
  /** Where refresh failures are reported (default: nowhere). */
  log?: { warn(message: string): void };
  /** ID3v2 version of the tags served for MP3 and WAV (default 4). */
  id3Version?: Id3Version;
}

/** Options with every default filled in. */
export interface ResolvedLibraryOptions {
  template: string;
  fallbacks: ReadonlyMap<string, string>;
  defaultFallback: string;
  skipOnMissing: boolean;
  mode: ServeMode;
  caseInsensitive: boolean;
  extensions: ExtensionMode;
  uid: number;
  gid: number;
  fileMode: number;
  dirMode: number;
  pollIntervalMs: number;
  readAheadBudgetBytes: number;
  keepCache: boolean;
  headerCacheBytes: number;
  artCacheBytes: number;
  log: { warn(message: string): void } | null;
  id3Version: Id3Version;
}

function processId(which: "uid" | "gid"): number {
  try {
    return (which === "uid" ? Deno.uid() : Deno.gid()) ?? 0;
  } catch {
    return 0;
  }
}

export function resolveOptions(o: LibraryOptions): ResolvedLibraryOptions {
  return {
    template: o.template ?? DEFAULT_TEMPLATE,
    fallbacks: o.fallbacks ?? new Map(),
    defaultFallback: o.defaultFallback ?? DEFAULT_FALLBACK,
    skipOnMissing: o.skipOnMissing ?? false,
    mode: o.mode ?? "synthesis",
    caseInsensitive: o.caseInsensitive ?? false,
    extensions: o.extensions ?? "served",
    uid: o.uid ?? processId("uid"),
    gid: o.gid ?? processId("gid"),
    fileMode: (o.fileMode ?? 0o444) & 0o7777,
    dirMode: (o.dirMode ?? 0o555) & 0o7777,
    pollIntervalMs: Math.max(0, o.pollIntervalMs ?? 1000),
    readAheadBudgetBytes: Math.max(0, o.readAheadBudgetMib ?? 64) * 1024 * 1024,
    keepCache: o.keepCache ?? true,
    headerCacheBytes: o.headerCacheBytes ?? 64 * 1024 * 1024,
    artCacheBytes: o.artCacheBytes ?? 32 * 1024 * 1024,
    log: o.log ?? null,
    id3Version: o.id3Version ?? 4,
  };
}
