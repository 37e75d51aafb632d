// The entry point of the command line: route argv to a command, parse and
// validate its flags, run it, and map every failure to a message and an exit
// code (here and nowhere else).
//
// Debugging aid: with MUSEFS_PRINT_OPTIONS set to a true boolish value, the
// fully resolved options are printed as one JSON object on stdout and the
// program exits 0 without running the command (used by the CLI tests).

import denoJson from "../../deno.json" with { type: "json" };
import { MusefsError } from "../model/mod.ts";
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, UnknownFlagError, UsageError } from "./errors.ts";
import { type EnvLookup, type Flag, parseCommand } from "./flags.ts";
import { commandHelp, rootHelp } from "./help.ts";
import { type Io, stdio } from "./io.ts";
import { configureLogging, log } from "./log.ts";
import {
  completionsInvocation,
  type Invocation,
  invocationToJson,
  manpageInvocation,
  mountInvocation,
  revalidateInvocation,
  scanInvocation,
  vacuumInvocation,
} from "./options.ts";
import {
  artSpec,
  COMMANDS,
  commandSpec,
  completionsSpec,
  manpageSpec,
  mountSpec,
  revalidateSpec,
  scanSpec,
  SHELLS,
  showSpec,
  statusSpec,
  tagSpec,
  vacuumSpec,
} from "./spec.ts";
import { artOptions, showOptions, statusOptions, tagOptions } from "./curate_options.ts";
import { editDistance } from "./suggest.ts";
import { checkInvocationStore, expandInvocationPaths } from "./store_path.ts";
import { isBoolish, parseBoolish } from "./values.ts";

export const VERSION: string = denoJson.version;

type Route =
  | { kind: "help"; text: string; toStderr?: boolean; exit: number }
  | { kind: "version" }
  | {
    kind: "command";
    name: string;
    argv: string[];
    /** The bare mount form; `first` is the token that was not a command name. */
    bare: boolean;
    first?: string;
  };

const isGlobalToken = (t: string) => t === "--verbose" || /^-v+$/.test(t);

/** Commands people try for unmounting; musefs has none (the kernel's tools do it). */
const UNMOUNT_WORDS = new Set(["umount", "unmount", "unmnt"]);

export function unmountHint(word: string): string {
  return `there is no '${word}' command; to unmount, run \`fusermount3 -u MOUNTPOINT\` ` +
    "(as root, `umount MOUNTPOINT` works too), or stop the musefs process with Ctrl-C or " +
    "SIGTERM: it unmounts cleanly";
}

/** Which command the tokens name; help and version short-circuit. */
export function route(args: readonly string[]): Route {
  let i = 0;
  while (i < args.length && isGlobalToken(args[i])) i++;
  const first = args[i];
  if (first !== undefined && UNMOUNT_WORDS.has(first) && !pathExists(first)) {
    throw new UsageError(unmountHint(first));
  }
  if (first === "help") {
    const spec = args[i + 1] === undefined ? undefined : commandSpec(args[i + 1]);
    if (args[i + 1] !== undefined && UNMOUNT_WORDS.has(args[i + 1])) {
      throw new UsageError(unmountHint(args[i + 1]));
    }
    if (args[i + 1] !== undefined && !spec) {
      throw new UsageError(`unknown command '${args[i + 1]}'`);
    }
    return { kind: "help", text: spec ? commandHelp(spec) : rootHelp(VERSION), exit: EXIT_OK };
  }
  const named = first === undefined ? undefined : commandSpec(first);
  const argv = named ? [...args.slice(0, i), ...args.slice(i + 1)] : [...args];
  const end = argv.indexOf("--");
  const options = end < 0 ? argv : argv.slice(0, end);
  if (options.some((t) => t === "--help" || t === "-h")) {
    return { kind: "help", text: named ? commandHelp(named) : rootHelp(VERSION), exit: EXIT_OK };
  }
  if (options.some((t) => t === "--version" || t === "-V")) return { kind: "version" };
  if (!named && args.every(isGlobalToken)) {
    // Nothing to do: show what there is to do, as a usage error.
    return { kind: "help", text: rootHelp(VERSION), toStderr: true, exit: EXIT_USAGE };
  }
  return { kind: "command", name: named?.name ?? "mount", argv, bare: !named, first };
}

function pathExists(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * The bare mount form takes any unknown word as the mountpoint, so a typo of
 * a command shows up as a mount usage error; name the likely command.
 */
export function commandSuggestion(
  word: string | undefined,
  maxEdits = 2,
): string | undefined {
  if (word === undefined || word.startsWith("-") || word.includes("/") || word.length < 3) {
    return undefined;
  }
  return COMMANDS.map((c) => c.name).find((name) => editDistance(word, name) <= maxEdits);
}

/**
 * `scan --prune`: a flag the command does not take but another does. Say
 * which command takes it (exact names only; near misses are handled by the
 * parser's own suggestion).
 */
export function flagOfAnotherCommand(e: UnknownFlagError): UsageError | undefined {
  if (!e.flag.startsWith("--")) return undefined;
  const long = e.flag.slice(2);
  const owners = COMMANDS.filter((c) =>
    c.name !== e.command && Object.values(c.flags).some((f: Flag) => f.long === long)
  ).map((c) => c.name);
  if (owners.length === 0) return undefined;
  const named = owners.map((n) => `\`musefs ${n}\``).join(" and ");
  return new UsageError(
    `unexpected argument '${e.flag}': it is a flag of ${named}, not of \`musefs ${e.command}\` ` +
      `(run \`musefs ${owners[0]} ${e.flag} …\`)`,
    e.command,
  );
}

/** Parse and validate one command's tokens into an Invocation. */
export function invocationFor(name: string, argv: string[], env: EnvLookup): Invocation {
  switch (name) {
    case "scan":
      return scanInvocation(parseCommand(scanSpec, argv, env));
    case "revalidate":
      return revalidateInvocation(parseCommand(revalidateSpec, argv, env));
    case "mount":
      return mountInvocation(parseCommand(mountSpec, argv, env));
    case "vacuum":
      return vacuumInvocation(parseCommand(vacuumSpec, argv, env));
    case "show": {
      const parsed = parseCommand(showSpec, argv, env);
      return { command: "show", verbose: parsed.flags.verbose, options: showOptions(parsed) };
    }
    case "tag": {
      const parsed = parseCommand(tagSpec, argv, env);
      return { command: "tag", verbose: parsed.flags.verbose, options: tagOptions(parsed) };
    }
    case "art": {
      const parsed = parseCommand(artSpec, argv, env);
      return { command: "art", verbose: parsed.flags.verbose, options: artOptions(parsed) };
    }
    case "status": {
      const parsed = parseCommand(statusSpec, argv, env);
      return { command: "status", verbose: parsed.flags.verbose, options: statusOptions(parsed) };
    }
    case "completions":
      return completionsInvocation(parseCommand(completionsSpec, argv, env), SHELLS);
    case "manpage":
      return manpageInvocation(parseCommand(manpageSpec, argv, env));
    default:
      throw new UsageError(`unknown command '${name}'`);
  }
}

// Command implementations are imported on demand: help and usage errors stay
// fast, and a command's heavy dependencies (FFI, the store) load only for it.
async function dispatch(inv: Invocation, io: Io, env: EnvLookup): Promise<number> {
  switch (inv.command) {
    case "scan": {
      const { runScan } = await import("./scan.ts");
      return await runScan(inv.options, io);
    }
    case "revalidate": {
      const { runRevalidate } = await import("./revalidate.ts");
      return await runRevalidate(inv.options, io);
    }
    case "mount": {
      const { runMount } = await import("./mount.ts");
      const daemon = await import("./daemon.ts");
      // The background copy started by the mount(8) form reports readiness to its starter.
      const hooks = env(daemon.DAEMON_ENV) === "1" ? { onReady: daemon.reportReadyAndDetach } : {};
      return await runMount(inv.options, io, hooks);
    }
    case "vacuum": {
      const { runVacuum } = await import("./vacuum.ts");
      return await runVacuum(inv.options, io);
    }
    case "show": {
      const { runShow } = await import("./show.ts");
      return runShow(inv.options, io);
    }
    case "tag": {
      const { runTag } = await import("./tag.ts");
      return await runTag(inv.options, io);
    }
    case "art": {
      const { runArt } = await import("./art.ts");
      return runArt(inv.options, io);
    }
    case "status": {
      const { runStatus } = await import("./status.ts");
      return runStatus(inv.options, io);
    }
    case "completions": {
      const { completionScript } = await import("./completions.ts");
      io.out(completionScript(inv.options.shell).replace(/\n$/, ""));
      return EXIT_OK;
    }
    case "manpage": {
      const { manPage } = await import("./manpage.ts");
      io.out(manPage(VERSION).replace(/\n$/, ""));
      return EXIT_OK;
    }
  }
}

/** The message of an error and of its causes, joined by ": " (as the original's anyhow chain). */
export function errorChain(e: unknown): string {
  const parts: string[] = [];
  let cur: unknown = e;
  while (cur !== undefined && parts.length < 8) {
    const message = cur instanceof Error ? cur.message : String(cur);
    // A wrapper that already quotes its cause adds nothing by repeating it.
    if (!parts.some((p) => p.includes(message))) parts.push(message);
    cur = cur instanceof Error ? cur.cause : undefined;
  }
  return parts.join(": ");
}

/** Map a failure to its message and exit code: 2 for usage errors, 1 for everything else. */
export function reportError(e: unknown, io: Io): number {
  if (e instanceof UsageError) {
    io.err(`musefs: ${e.message}`);
    const help = e.command ? `musefs ${e.command} --help` : "musefs --help";
    io.err(`Run '${help}' for usage.`);
    return EXIT_USAGE;
  }
  // Typed errors carry a complete message; an unexpected error gets its chain.
  const typed = e instanceof MusefsError;
  let message = typed ? (e as Error).message : errorChain(e);
  // An error about a file names it; say which when the text does not.
  const subject = e instanceof MusefsError ? e.subject : undefined;
  if (typeof subject === "string" && subject.includes("/") && !message.includes(subject)) {
    message = `${subject}: ${message}`;
  }
  io.err(`musefs: ${message}`);
  return EXIT_FAILURE;
}

/**
 * `musefs STORE MOUNTPOINT -o OPTIONS`, as fuse3's mount helper runs it for
 * mount(8) and fstab: mount in a background copy of this program, return
 * once it serves (src/cli/mount_helper.ts, src/cli/daemon.ts).
 */
async function runHelperForm(argv: string[], io: Io, env: EnvLookup): Promise<number> {
  const { helperMountArgs } = await import("./mount_helper.ts");
  const args = helperMountArgs(argv);
  const inv = invocationFor("mount", args, env);
  configureLogging(inv.verbose, env);
  const print = env("MUSEFS_PRINT_OPTIONS");
  if (print !== undefined && isBoolish(print) && parseBoolish(print)) {
    io.out(invocationToJson(inv));
    return EXIT_OK;
  }
  if (inv.command !== "mount") throw new UsageError("not a mount", "mount");
  // The copy runs `musefs mount …` with DAEMON_ENV set (see dispatch).
  const { runInBackground } = await import("./daemon.ts");
  return await runInBackground(["mount", ...args], io);
}

/** Run the command line `args` (without the program name); resolves to the exit code. */
export async function runCli(
  args: readonly string[],
  io: Io = stdio,
  env: EnvLookup = (name) => Deno.env.get(name),
): Promise<number> {
  try {
    const r = route(args);
    if (r.kind === "help") {
      const text = r.text.replace(/\n$/, "");
      if (r.toStderr) io.err(text);
      else io.out(text);
      return r.exit;
    }
    if (r.kind === "version") {
      io.out(`musefs ${VERSION}`);
      return EXIT_OK;
    }
    if (r.bare && (await import("./mount_helper.ts")).isHelperForm(r.argv)) {
      return await runHelperForm(r.argv, io, env);
    }
    let inv: Invocation;
    try {
      inv = invocationFor(r.name, r.argv, env);
    } catch (e) {
      // A mistyped command explains the rest (`musefs sacn --jobs 2`): name it first.
      const suggestion = r.bare ? commandSuggestion(r.first) : undefined;
      if (e instanceof UsageError && suggestion) {
        throw new UsageError(`${e.message} (did you mean \`musefs ${suggestion}\`?)`, e.command);
      }
      if (e instanceof UnknownFlagError) throw flagOfAnotherCommand(e) ?? e;
      throw e;
    }
    if (r.bare && inv.command === "mount" && inv.options.mountpoint === r.first) {
      // `musefs vacum --db x`: a mistyped command, not a mountpoint. One edit
      // only, so a real relative mountpoint such as `mnt` is left alone.
      const suggestion = commandSuggestion(r.first, 1);
      if (suggestion && !pathExists(r.first!)) {
        throw new UsageError(
          `unknown command '${r.first}' (did you mean \`musefs ${suggestion}\`?)`,
        );
      }
    }
    expandInvocationPaths(inv, env);
    configureLogging(inv.verbose, env);
    const print = env("MUSEFS_PRINT_OPTIONS");
    if (print !== undefined && isBoolish(print) && parseBoolish(print)) {
      io.out(invocationToJson(inv));
      return EXIT_OK;
    }
    if (inv.command === "revalidate" && inv.viaScanAlias) {
      log.warn("`scan --revalidate` is deprecated; use `musefs revalidate` (add --prune to prune)");
    }
    checkInvocationStore(inv);
    return await dispatch(inv, io, env);
  } catch (e) {
    return reportError(e, io);
  }
}
