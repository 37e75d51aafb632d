// `--help` text, rendered from the same tables the parser uses.

import { type CommandSpec, envName, type Flag, type FlagTable } from "./flags.ts";
import { COMMANDS, mountSpec } from "./spec.ts";

const WIDTH = 100;
const INDENT = "          ";

function wrap(text: string, indent: string): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/).filter((w) => w !== "")) {
    if (line !== "" && indent.length + line.length + 1 + word.length > WIDTH) {
      lines.push(indent + line);
      line = word;
    } else {
      line = line === "" ? word : `${line} ${word}`;
    }
  }
  if (line !== "") lines.push(indent + line);
  return lines;
}

/** `-q, --quiet`, `    --db <PATH>`: a flag's first help line (also the man page's tag). */
export function flagHead(flag: Flag): string {
  const short = flag.short ? `-${flag.short}, ` : "    ";
  let head = `  ${short}--${flag.long}`;
  if (flag.kind === "value" || flag.kind === "list") {
    const name = flag.valueName ?? "VALUE";
    head += flag.kind === "value" && flag.optionalValue ? ` [<${name}>]` : ` <${name}>`;
  }
  if (flag.kind === "list") head += "...";
  return head;
}

/** The default as `--help` shows it; undefined when there is none to show. */
export function defaultText(flag: Flag): string | undefined {
  if (flag.defaultText !== undefined) return flag.defaultText;
  switch (flag.kind) {
    case "switch":
      return "false";
    case "count":
    case "list":
      return undefined;
    case "value": {
      const value = flag.default?.();
      return value === undefined ? undefined : String(value);
    }
  }
}

/** `[env: …] [default: …] [required]`: the notes under a flag's help. */
export function flagNotes(flag: Flag): string[] {
  const notes: string[] = [];
  const env = envName(flag);
  notes.push(env ? `[env: ${env}]` : "[env: none]");
  const def = defaultText(flag);
  if (def !== undefined) notes.push(`[default: ${def}]`);
  if (flag.kind === "value" && !flag.default) notes.push("[required]");
  if (flag.kind === "list") notes.push("[repeatable]");
  return notes;
}

function flagLines(flag: Flag): string[] {
  return [flagHead(flag), ...wrap(flag.help, INDENT), INDENT + flagNotes(flag).join(" ")];
}

function flagSection(title: string, flags: FlagTable, skip: Set<string> = new Set()): string[] {
  const lines = [`${title}:`];
  for (const flag of Object.values(flags)) {
    if (flag.hidden || skip.has(flag.long)) continue;
    lines.push(...flagLines(flag));
  }
  return lines;
}

const HELP_VERSION = [
  "  -h, --help",
  `${INDENT}Print help (this text).`,
  "  -V, --version",
  `${INDENT}Print the version.`,
];

export function usageLine(spec: CommandSpec<FlagTable>): string {
  const parts = [`musefs ${spec.name} [OPTIONS]`];
  const db = (spec.flags as FlagTable).db;
  if (db) parts.push(db.kind === "value" && db.default ? "[--db <PATH>]" : "--db <PATH>");
  for (const p of spec.positionals) {
    const name = `<${p.name}>${p.variadic ? "..." : ""}`;
    parts.push(p.required ? name : `[${name}]`);
  }
  return `Usage: ${parts.join(" ")}`;
}

/** `musefs <command> --help`. */
export function commandHelp(spec: CommandSpec<FlagTable>): string {
  const lines = [spec.summary];
  if (spec.about) lines.push("", ...wrap(spec.about, ""));
  lines.push("", usageLine(spec));
  if (spec.positionals.length > 0) {
    lines.push("", "Arguments:");
    for (const p of spec.positionals) {
      lines.push(`  <${p.name}>${p.variadic ? "..." : ""}`, ...wrap(p.help, INDENT));
      lines.push(INDENT + (p.env ? `[env: ${p.env}]` : "[env: none]"));
    }
  }
  lines.push("", ...flagSection("Options", spec.flags), ...HELP_VERSION);
  return lines.join("\n") + "\n";
}

/** `musefs --help`: the commands, then the mount flags the bare form takes. */
export function rootHelp(version: string): string {
  const lines = [
    `musefs ${version} — a read-only FUSE view of a music library, re-tagged and`,
    "re-organized from a SQLite store.",
    "",
    "Usage: musefs [OPTIONS] --db <PATH> <MOUNTPOINT>   (mount; same as `musefs mount`)",
    "       musefs <COMMAND> [ARGS]",
    "",
    "Commands:",
  ];
  const width = Math.max(...COMMANDS.map((c) => c.name.length)) + 2;
  for (const c of COMMANDS) lines.push(`  ${c.name.padEnd(width)}${c.summary}`);
  lines.push(`  ${"help".padEnd(width)}Print help for a command.`);
  lines.push(
    "",
    "Run `musefs <COMMAND> --help` for a command's flags.",
    "",
    ...flagSection("Global options", { verbose: mountSpec.flags.verbose }),
    ...HELP_VERSION,
    "",
    "Mount arguments (no command):",
    "  <MOUNTPOINT>",
    ...wrap(mountSpec.positionals[0].help, INDENT),
    `${INDENT}[env: MUSEFS_MOUNTPOINT]`,
    "",
    ...flagSection("Mount options (no command)", mountSpec.flags, new Set(["verbose"])),
    "",
    "Exit status: 0 success; 1 error; 2 usage error, or a scan/revalidate in which",
    "at least one file failed.",
  );
  return lines.join("\n") + "\n";
}
