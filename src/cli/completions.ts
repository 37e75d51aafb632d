// `musefs completions bash|zsh|fish`: shell completion scripts generated
// from the command tables in spec.ts (the ones that drive parsing and
// --help), so a flag added there is completed without touching this file.
//
// Every script knows the commands, each command's flags (long and short),
// the fixed values of choice flags (--checksum, --mode, …), and completes
// file names for paths. Without a command the bare mount form applies: the
// mount flags and, as first word, the command names.

import type { CommandSpec, Flag, FlagTable, Positional } from "./flags.ts";
import { COMMANDS as COMMAND_TABLE, mountSpec, SHELLS } from "./spec.ts";

/** The commands, widened so each row reads as a plain CommandSpec. */
const COMMANDS: readonly CommandSpec<FlagTable>[] = COMMAND_TABLE;

export type Shell = (typeof SHELLS)[number];

/** Flags every command accepts that are not in the tables (route() handles them). */
export const BUILTIN_FLAGS: readonly Flag[] = [
  { kind: "switch", long: "help", short: "h", help: "Print help." },
  { kind: "switch", long: "version", short: "V", help: "Print the version." },
];

/** The flags a command's completion offers: its table's visible rows, then help and version. */
export function completedFlags(spec: CommandSpec<FlagTable>): Flag[] {
  return [...Object.values(spec.flags).filter((f) => !f.hidden), ...BUILTIN_FLAGS];
}

const takesValue = (f: Flag) => f.kind === "value" || f.kind === "list";
/** What a free value is, read off its placeholder: files, directories, users, groups, or other. */
type ValueKind = "file" | "dir" | "user" | "group" | "other";
export function valueKind(f: Flag): ValueKind {
  switch (f.valueName) {
    case "PATH":
    case "FILE":
    case "IMAGE":
      return "file";
    case "DIR":
      return "dir";
    case "NAME|UID":
      return "user";
    case "NAME|GID":
      return "group";
    default:
      return "other";
  }
}

const BASH_COMPGEN: Record<ValueKind, string | null> = {
  file: "-f",
  dir: "-d",
  user: "-u",
  group: "-g",
  other: null,
};
const ZSH_ACTION: Record<ValueKind, string> = {
  file: "_files",
  dir: "_files -/",
  user: "_users",
  group: "_groups",
  other: " ",
};
const FISH_ARGS: Record<ValueKind, string> = {
  file: "-r -F",
  dir: "-x -a '(__fish_complete_directories)'",
  user: "-x -a '(__fish_complete_users)'",
  group: "-x -a '(__fish_complete_groups)'",
  other: "-x",
};

/** The first sentence of a help text, for the one-line descriptions zsh and fish show. */
export function firstSentence(help: string): string {
  // A period ends it only before a space or the end, and not in "e.g." / "i.e.".
  const m = /^(.*?)(?<!\be\.g|\bi\.e)\.(?:\s|$)/.exec(help);
  return m ? m[1] : help;
}

const COMMAND_NAMES = [...COMMANDS.map((c) => c.name), "help"];

export function completionScript(shell: Shell): string {
  switch (shell) {
    case "bash":
      return bashScript();
    case "zsh":
      return zshScript();
    case "fish":
      return fishScript();
  }
}

// ---- bash ------------------------------------------------------------------

function bashWords(words: readonly string[]): string {
  return words.join(" ");
}

function bashFlagWords(spec: CommandSpec<FlagTable>): string {
  const words: string[] = [];
  for (const f of completedFlags(spec)) {
    words.push(`--${f.long}`);
    if (f.short) words.push(`-${f.short}`);
  }
  return bashWords(words);
}

/** `case` arms completing the value after a flag that takes one. */
function bashValueArms(spec: CommandSpec<FlagTable>, key: string): string[] {
  const arms: string[] = [];
  for (const f of completedFlags(spec)) {
    if (!takesValue(f)) continue;
    const pattern = f.short ? `${key}:--${f.long}|${key}:-${f.short}` : `${key}:--${f.long}`;
    if (f.choices) {
      arms.push(
        `    ${pattern}) COMPREPLY=($(compgen -W "${bashWords(f.choices)}" -- "$cur")); return ;;`,
      );
    } else if (BASH_COMPGEN[valueKind(f)] !== null) {
      const option = BASH_COMPGEN[valueKind(f)];
      arms.push(`    ${pattern}) COMPREPLY=($(compgen ${option} -- "$cur")); return ;;`);
    } else {
      arms.push(`    ${pattern}) return ;;`); // a free value: nothing sensible to offer
    }
  }
  return arms;
}

function bashPositional(p: Positional | undefined): string {
  if (p?.choices) return `COMPREPLY=($(compgen -W "${bashWords(p.choices)}" -- "$cur"))`;
  if (p === undefined) return "COMPREPLY=()";
  return `COMPREPLY=($(compgen -f -- "$cur"))`;
}

function bashScript(): string {
  const valueArms: string[] = [];
  const flagArms: string[] = [];
  const positionalArms: string[] = [];
  for (const spec of COMMANDS) {
    valueArms.push(...bashValueArms(spec, spec.name));
    flagArms.push(`    ${spec.name}) flags="${bashFlagWords(spec)}" ;;`);
    positionalArms.push(`    ${spec.name}) ${bashPositional(spec.positionals[0])} ;;`);
  }
  valueArms.push(...bashValueArms(mountSpec, "")); // the bare mount form
  return `# bash completion for musefs (generated by \`musefs completions bash\`).
# Install: musefs completions bash > ~/.local/share/bash-completion/completions/musefs

_musefs() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="" cmd="" flags i
  if [ "$COMP_CWORD" -gt 0 ]; then prev="\${COMP_WORDS[COMP_CWORD-1]}"; fi
  for ((i = 1; i < COMP_CWORD; i++)); do
    case "\${COMP_WORDS[i]}" in
      ${COMMAND_NAMES.join("|")}) cmd="\${COMP_WORDS[i]}"; break ;;
    esac
  done
  case "$cmd:$prev" in
${valueArms.join("\n")}
  esac
  case "$cmd" in
${flagArms.join("\n")}
    help) COMPREPLY=($(compgen -W "${bashWords(COMMANDS.map((c) => c.name))}" -- "$cur")); return ;;
    *) flags="${bashFlagWords(mountSpec)}" ;;
  esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "$flags" -- "$cur"))
    return
  fi
  case "$cmd" in
${positionalArms.join("\n")}
    *) COMPREPLY=($(compgen -W "${bashWords(COMMAND_NAMES)}" -- "$cur") $(compgen -d -- "$cur")) ;;
  esac
}
complete -o filenames -o bashdefault -F _musefs musefs
`;
}

// ---- zsh -------------------------------------------------------------------

/** Text inside a zsh single-quoted word. */
function zshQuote(s: string): string {
  return s.replaceAll("'", `'\\''`);
}

/** A description inside _arguments' [...] (brackets, colons and backslashes escaped). */
function zshDescription(help: string): string {
  return zshQuote(firstSentence(help).replace(/([\\[\]:])/g, "\\$1"));
}

function zshAction(f: Flag): string {
  const name = (f.valueName ?? "VALUE").replace(/:/g, "\\:");
  if (f.choices) return `${name}:(${f.choices.join(" ")})`;
  return `${name}:${ZSH_ACTION[valueKind(f)]}`;
}

function zshFlagSpecs(spec: CommandSpec<FlagTable>): string[] {
  const out: string[] = [];
  for (const f of completedFlags(spec)) {
    const desc = `[${zshDescription(f.help)}]`;
    const repeat = f.kind === "count" || f.kind === "list" ? "*" : "";
    let value = "";
    if (f.kind === "value" && f.optionalValue) value = `=-${desc}::${zshAction(f)}`;
    else if (takesValue(f)) value = `=${desc}:${zshAction(f)}`;
    else value = desc;
    const body = zshQuote(value);
    if (f.short) {
      const exclusive = repeat === "" ? `'(-${f.short} --${f.long})'` : "";
      out.push(`${exclusive}${repeat && `'${repeat}'`}{-${f.short},--${f.long}}'${body}'`);
    } else {
      out.push(`'${repeat}--${f.long}${body}'`);
    }
  }
  for (const p of spec.positionals) {
    const action = p.choices ? `(${p.choices.join(" ")})` : "_files";
    const lead = p.variadic ? "*" : p.required ? "" : ":";
    out.push(`'${lead}:${p.name}:${action}'`);
  }
  return out;
}

function zshArguments(spec: CommandSpec<FlagTable>, indent: string): string {
  return `${indent}_arguments -s -S \\\n` +
    zshFlagSpecs(spec).map((s) => `${indent}  ${s}`).join(" \\\n");
}

function zshScript(): string {
  const described = COMMANDS.map((c) => `    '${c.name}:${zshDescription(c.summary)}'`);
  described.push(`    'help:Print help for a command'`);
  const arms = COMMANDS.map((spec) =>
    `    (${spec.name})\n${zshArguments(spec, "      ")}\n      ;;`
  );
  return `#compdef musefs
# zsh completion for musefs (generated by \`musefs completions zsh\`).
# Install: musefs completions zsh > "\${fpath[1]}/_musefs" (any directory in $fpath), then compinit.

_musefs() {
  local -a commands
  commands=(
${described.join("\n")}
  )
  local cmd="" i
  for (( i = 2; i < CURRENT; i++ )); do
    case "$words[i]" in
      (${COMMAND_NAMES.join("|")}) cmd="$words[i]"; break ;;
    esac
  done
  if [[ -n "$cmd" ]]; then
    # Complete the command's arguments as if it were the program.
    words=("musefs" "\${(@)words[i+1,-1]}")
    (( CURRENT -= i - 1 ))
  elif (( CURRENT == 2 )) && [[ "$words[CURRENT]" != -* ]]; then
    _describe -t commands 'musefs command' commands
    _files -/
    return
  fi
  case "$cmd" in
${arms.join("\n")}
    (help)
      _describe -t commands 'musefs command' commands
      ;;
    (*)
${zshArguments(mountSpec, "      ")}
      ;;
  esac
}

if [ "$funcstack[1]" = "_musefs" ]; then
  _musefs "$@"
else
  compdef _musefs musefs
fi
`;
}

// ---- fish ------------------------------------------------------------------

/** A fish single-quoted word. */
function fishQuote(s: string): string {
  return `'${s.replaceAll("\\", "\\\\").replaceAll("'", "\\'")}'`;
}

function fishFlagLines(spec: CommandSpec<FlagTable>, condition: string): string[] {
  const lines: string[] = [];
  for (const f of completedFlags(spec)) {
    const parts = ["complete -c musefs", `-n ${fishQuote(condition)}`];
    if (f.short) parts.push(`-s ${f.short}`);
    parts.push(`-l ${f.long}`);
    if (takesValue(f)) {
      if (f.choices) parts.push(`-x -a ${fishQuote(f.choices.join(" "))}`);
      else parts.push(FISH_ARGS[valueKind(f)]);
    }
    parts.push(`-d ${fishQuote(firstSentence(f.help))}`);
    lines.push(parts.join(" "));
  }
  return lines;
}

function fishScript(): string {
  const names = COMMANDS.map((c) => c.name);
  const noCommand = `not __fish_seen_subcommand_from ${COMMAND_NAMES.join(" ")}`;
  const lines = [
    "# fish completion for musefs (generated by `musefs completions fish`).",
    "# Install: musefs completions fish > ~/.config/fish/completions/musefs.fish",
    "",
    "complete -c musefs -f",
  ];
  for (const c of COMMANDS) {
    lines.push(
      `complete -c musefs -n ${fishQuote(noCommand)} -a ${c.name} ` +
        `-d ${fishQuote(firstSentence(c.summary))}`,
    );
  }
  lines.push(
    `complete -c musefs -n ${fishQuote(noCommand)} -a help -d 'Print help for a command'`,
    `complete -c musefs -n ${fishQuote("__fish_seen_subcommand_from help")} ` +
      `-a ${fishQuote(names.join(" "))}`,
    "",
    "# No command: the bare mount form.",
    ...fishFlagLines(mountSpec, noCommand),
    `complete -c musefs -n ${fishQuote(noCommand)} -a '(__fish_complete_directories)'`,
  );
  for (const spec of COMMANDS) {
    const seen = `__fish_seen_subcommand_from ${spec.name}`;
    lines.push("", `# musefs ${spec.name}`, ...fishFlagLines(spec, seen));
    const p = spec.positionals[0];
    if (p?.choices) {
      lines.push(`complete -c musefs -n ${fishQuote(seen)} -a ${fishQuote(p.choices.join(" "))}`);
    } else if (p) {
      lines.push(`complete -c musefs -n ${fishQuote(seen)} -F`);
    }
  }
  return lines.join("\n") + "\n";
}
