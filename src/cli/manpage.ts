// `musefs manpage`: the manual page musefs(1) in roff (man macros),
// generated from the command tables in spec.ts — the ones that drive
// parsing and --help — so every flag, environment variable and default
// there appears here without a second copy to keep in sync.

import { type CommandSpec, envName, type Flag, type FlagTable } from "./flags.ts";
import { flagNotes, usageLine } from "./help.ts";
import { BUILTIN_FLAGS } from "./completions.ts";
import { COMMANDS as COMMAND_TABLE, mountSpec } from "./spec.ts";

/** The commands, widened so each row reads as a plain CommandSpec. */
const COMMANDS: readonly CommandSpec<FlagTable>[] = COMMAND_TABLE;

/**
 * Text safe for roff: backslashes escaped, non-ASCII characters as \[uXXXX]
 * (the page stays ASCII whatever the input encoding groff assumes), no line
 * read as a request. An ellipsis, which groff cannot render on an ASCII
 * terminal (`man` under the C locale warns), is spelled "...".
 */
export function roffText(text: string): string {
  const escaped = text.replaceAll("\u2026", "...").replaceAll("\\", "\\e").replace(
    /[^ -~\n\t]/gu,
    (c) => `\\[u${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}]`,
  );
  return escaped.split("\n").map((line) => /^[.']/.test(line) ? `\\&${line}` : line).join("\n");
}

/** A flag or command word in roff: hyphens as minus signs (so they copy and search right). */
function roffWord(word: string): string {
  return roffText(word).replaceAll("-", "\\-");
}

function flagTag(flag: Flag): string {
  const names = [];
  if (flag.short) names.push(`\\fB${roffWord(`-${flag.short}`)}\\fR`);
  names.push(`\\fB${roffWord(`--${flag.long}`)}\\fR`);
  let tag = names.join(", ");
  if (flag.kind === "value" || flag.kind === "list") {
    const value = `\\fI${roffText(flag.valueName ?? "VALUE")}\\fR`;
    tag += flag.kind === "value" && flag.optionalValue ? ` [${value}]` : ` ${value}`;
    if (flag.kind === "list") tag += " ...";
  }
  return tag;
}

function flagEntry(flag: Flag): string[] {
  const lines = [".TP", flagTag(flag), roffText(flag.help)];
  const notes = flagNotes(flag);
  if (flag.choices) notes.push(`[values: ${flag.choices.join(", ")}]`);
  lines.push(".br", roffText(notes.join(" ")));
  return lines;
}

function commandSection(spec: CommandSpec<FlagTable>): string[] {
  const lines = [`.SS "musefs ${spec.name}"`, roffText(spec.summary)];
  if (spec.about) lines.push(".PP", roffText(spec.about));
  lines.push(".PP", roffText(usageLine(spec).replace(/^Usage: /, "")));
  for (const p of spec.positionals) {
    const name = `<${p.name}>${p.variadic ? "..." : ""}`;
    lines.push(".TP", `\\fI${roffText(name)}\\fR`, roffText(p.help));
    if (p.env) lines.push(".br", `[env: ${p.env}]`);
  }
  for (const flag of Object.values(spec.flags)) {
    if (!flag.hidden) lines.push(...flagEntry(flag));
  }
  return lines;
}

/** Every MUSEFS_* variable with the flag it sets and the commands that read it. */
function environment(): string[] {
  const byName = new Map<string, { flag: string; commands: string[] }>();
  for (const spec of COMMANDS) {
    const entries: Array<[string | undefined, string]> = [
      ...Object.values(spec.flags).filter((f) => !f.hidden).map((f) =>
        [envName(f), `--${f.long}`] as [string | undefined, string]
      ),
      ...spec.positionals.map((p) => [p.env, `<${p.name}>`] as [string | undefined, string]),
    ];
    for (const [name, flag] of entries) {
      if (name === undefined) continue;
      const entry = byName.get(name) ?? { flag, commands: [] };
      entry.commands.push(spec.name);
      byName.set(name, entry);
    }
  }
  const lines: string[] = [];
  for (const [name, { flag, commands }] of [...byName].sort(([a], [b]) => a < b ? -1 : 1)) {
    lines.push(".TP", `.B ${name}`, `Sets \\fB${roffWord(flag)}\\fR (${commands.join(", ")}).`);
  }
  lines.push(
    ".TP",
    ".B MUSEFS_LOG, RUST_LOG",
    "The log level (error, warn, info, debug, trace); overrides \\fB\\-v\\fR.",
  );
  return lines;
}

/** The whole page. `version` goes in the footer; there is no date, so the output is reproducible. */
export function manPage(version: string): string {
  const lines = [
    `.TH MUSEFS 1 "" "musefs ${roffText(version)}" "User Commands"`,
    ".SH NAME",
    "musefs \\- a read\\-only FUSE view of a music library, re\\-tagged and re\\-organized " +
    "from a SQLite store",
    ".SH SYNOPSIS",
    ".B musefs",
    "[\\fIOPTIONS\\fR] \\fB\\-\\-db\\fR \\fIPATH\\fR \\fIMOUNTPOINT\\fR",
    ".br",
    ".B musefs",
    "\\fICOMMAND\\fR [\\fIARGS\\fR]",
    ".SH DESCRIPTION",
    "musefs serves a music library as a read\\-only FUSE filesystem whose folder layout, tags " +
    "and cover art come from a SQLite store, not from the files.",
    "\\fBmusefs scan\\fR builds the store, \\fBmusefs mount\\fR serves it.",
    "Without a command, musefs mounts (the flags of \\fBmusefs mount\\fR apply).",
    ".PP",
    "Most options can also be set through an environment variable, shown with each option as " +
    "[env: ...] and listed under ENVIRONMENT; a flag on the command line wins over the " +
    "environment, which wins over the default.",
    ".SH COMMANDS",
  ];
  for (const spec of COMMANDS) lines.push(...commandSection(spec));
  lines.push(
    `.SS "musefs help [COMMAND]"`,
    "Print help for a command (the same as \\fBmusefs\\fR \\fICOMMAND\\fR \\fB\\-\\-help\\fR).",
    ".SH GLOBAL OPTIONS",
  );
  lines.push(...flagEntry(mountSpec.flags.verbose));
  for (const flag of BUILTIN_FLAGS) lines.push(".TP", flagTag(flag), roffText(flag.help));
  lines.push(
    ".SH ENVIRONMENT",
    ...environment(),
    ".SH EXIT STATUS",
    ".TP",
    ".B 0",
    "Success.",
    ".TP",
    ".B 1",
    "An error (the message on stderr starts with \\(lqmusefs:\\(rq).",
    ".TP",
    ".B 2",
    "A usage error, or a scan or revalidate in which at least one file failed.",
    ".TP",
    ".B 130",
    "A second stop signal during unmount, or an interrupted scan or revalidate " +
      "(committed work is kept; run it again to continue).",
    ".SH EXAMPLES",
    ".nf",
    "musefs scan /srv/music \\-\\-db ~/music.db",
    "musefs mount ~/Music \\-\\-db ~/music.db \\-\\-template \\(aq$albumartist/$album/$title\\(aq",
    "fusermount3 \\-u ~/Music",
    ".fi",
    ".SH SEE ALSO",
    "\\fBfusermount3\\fR(1), \\fBmount.fuse3\\fR(8), \\fBsqlite3\\fR(1)",
  );
  return lines.join("\n") + "\n";
}
