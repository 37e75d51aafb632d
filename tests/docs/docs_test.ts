// Keeps the user documentation honest about the command line and its links:
// - every flag, environment variable and default that `--help` prints is in
//   docs/cli.md (in the row of that flag, in that command's section), and
//   every MUSEFS_* variable is in contrib/systemd/musefs.env.example;
// - every relative link in docs/*.md and README.md points at an existing
//   file (and, into a Markdown file, at an existing heading).
// The examples (templates, SQL) are checked by examples_test.ts.

import assert from "node:assert/strict";
import { dirname, join, normalize, relative } from "node:path";
import { fileExists, headingSlugs, read, ROOT, stripFences } from "./markdown.ts";
import { musefsCommand } from "../cli/run_musefs.ts";

// ---- --help --------------------------------------------------------------

interface HelpOption {
  /** `--db`, `-v, --verbose`, `<MOUNTPOINT>` … as printed. */
  head: string;
  /** The long flag (`--db`) or the positional (`<MOUNTPOINT>`). */
  name: string;
  env: string | null;
  default: string | null;
  required: boolean;
}

interface Help {
  text: string;
  /** Options under a heading naming the mount (root help) or the command's own. */
  options: HelpOption[];
  /** Global options (root help: -v, -h, -V). */
  global: HelpOption[];
}

function helpText(args: string[]): string {
  const [deno, ...argv] = musefsCommand(args);
  const out = new Deno.Command(deno, {
    args: argv,
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).outputSync();
  assert.equal(
    out.code,
    0,
    `musefs ${args.join(" ")} failed: ${new TextDecoder().decode(out.stderr)}`,
  );
  return new TextDecoder().decode(out.stdout);
}

/** Parse clap-style help: an option line, description lines, then `[env: …] [default: …]`. */
export function parseHelp(text: string): Help {
  const help: Help = { text, options: [], global: [] };
  let target = help.options;
  let current: HelpOption | null = null;
  for (const line of text.split("\n")) {
    if (/^\S/.test(line)) {
      target = /^Global options/.test(line) ? help.global : help.options;
      current = null;
      continue;
    }
    const head = /^ {2}((?:-\w, | {4})?--[\w-]+.*|<[A-Z]+>(?:\.\.\.)?)$/.exec(line);
    if (head) {
      const text = head[1].trim();
      const name = /--[\w-]+|<[A-Z]+>/.exec(text)![0];
      current = { head: text, name, env: null, default: null, required: false };
      target.push(current);
      continue;
    }
    const brackets = /^ {10}(\[.*\])\s*$/.exec(line);
    if (current && brackets) {
      for (const m of brackets[1].matchAll(/\[([^\]]+)\]/g)) {
        const [key, ...rest] = m[1].split(": ");
        const value = rest.join(": ");
        if (key === "env") current.env = value === "none" ? null : value;
        else if (key === "default") current.default = value;
        else if (key === "required") current.required = true;
      }
      current = null;
    }
  }
  return help;
}

/** docs/cli.md split into `## ` sections, keyed by heading text. */
function sections(markdown: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let current: string[] = [];
  out.set("", current);
  for (const line of stripFences(markdown).split("\n")) {
    const h = /^## (.*)$/.exec(line);
    if (h) {
      current = [];
      out.set(h[1].trim(), current);
    } else current.push(line);
  }
  return out;
}

/** The table row documenting `option` in `lines`, or undefined. */
function rowFor(lines: string[], option: HelpOption): string | undefined {
  const name = option.name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const pattern = new RegExp("^\\|\\s*`[^`]*" + name + "(?![\\w-])");
  return lines.find((l) => pattern.test(l));
}

/** Every problem of cli.md against one command's help (empty when in sync). */
export function cliDocProblems(
  cliMd: string,
  help: Help,
  section: string,
): string[] {
  const secs = sections(cliMd);
  const own = secs.get(section);
  if (!own) return [`docs/cli.md has no section "## ${section}"`];
  const global = secs.get("Global options") ?? [];
  const problems: string[] = [];
  const check = (option: HelpOption, lines: string[], where: string) => {
    const row = rowFor(lines, option);
    if (!row) {
      problems.push(`${option.head} is not documented in ${where}`);
      return;
    }
    // | flag | env | default | description |
    const [, , env = "", dflt = ""] = row.split(/(?<!\\)\|/).map((c) => c.trim());
    if (option.env && !env.includes(option.env)) {
      problems.push(`the row of ${option.name} in ${where} lacks ${option.env}`);
    }
    const shown = dflt.replaceAll("`", "");
    if (option.required && shown !== "required") {
      problems.push(`the row of ${option.name} in ${where} does not say it is required`);
    } else if (option.default !== null && shown !== option.default) {
      problems.push(
        `the row of ${option.name} in ${where} shows default "${shown}", not "${option.default}"`,
      );
    }
  };
  const isGlobal = (o: HelpOption) => ["--verbose", "--help", "--version"].includes(o.name);
  for (const o of help.options) {
    if (isGlobal(o)) check(o, global, `"## Global options"`);
    else check(o, own, `"## ${section}"`);
  }
  for (const o of help.global) check(o, global, `"## Global options"`);
  for (const env of new Set(help.text.match(/MUSEFS_[A-Z0-9_]+/g) ?? [])) {
    if (!cliMd.includes(env)) problems.push(`${env} is not mentioned in docs/cli.md`);
  }
  return problems;
}

const COMMANDS: [args: string[], section: string][] = [
  [["--help"], "`musefs mount`"],
  [["scan", "--help"], "`musefs scan`"],
  [["revalidate", "--help"], "`musefs revalidate`"],
  [["mount", "--help"], "`musefs mount`"],
  [["vacuum", "--help"], "`musefs vacuum`"],
  [["show", "--help"], "`musefs show`"],
  [["tag", "--help"], "`musefs tag`"],
  [["art", "--help"], "`musefs art`"],
  [["status", "--help"], "`musefs status`"],
  [["completions", "--help"], "`musefs completions`"],
  [["manpage", "--help"], "`musefs manpage`"],
];

const helps = new Map<string, Help>();
function helpOf(args: string[]): Help {
  const key = args.join(" ");
  let h = helps.get(key);
  if (!h) {
    h = parseHelp(helpText(args));
    helps.set(key, h);
  }
  return h;
}

for (const [args, section] of COMMANDS) {
  Deno.test(`docs/cli.md documents every flag of musefs ${args.join(" ")}`, () => {
    const help = helpOf(args);
    assert.ok(help.options.length >= 2, `no options parsed from musefs ${args.join(" ")}`);
    assert.deepEqual(cliDocProblems(read("docs/cli.md"), help, section), []);
  });
}

Deno.test("the help parser finds flags, env vars and defaults", () => {
  const help = helpOf(["mount", "--help"]);
  const poll = help.options.find((o) => o.name === "--poll-interval-ms");
  assert.deepEqual(poll && { env: poll.env, default: poll.default }, {
    env: "MUSEFS_POLL_INTERVAL_MS",
    default: "1000",
  });
  assert.equal(help.options.find((o) => o.name === "--db")?.required, true);
  assert.equal(help.options.find((o) => o.name === "--fallback")?.env, null);
  assert.equal(help.options.find((o) => o.name === "<MOUNTPOINT>")?.env, "MUSEFS_MOUNTPOINT");
});

Deno.test("a flag missing from docs/cli.md is reported", () => {
  const help = helpOf(["mount", "--help"]);
  const cliMd = read("docs/cli.md");
  const without = cliMd.split("\n").filter((l) => !l.startsWith("| `--attr-ttl-ms")).join("\n");
  assert.notEqual(without, cliMd);
  const problems = cliDocProblems(without, help, "`musefs mount`");
  assert.ok(problems.some((p) => p.includes("--attr-ttl-ms")), problems.join("\n"));
  const wrongDefault = cliMd.replace(/(\| `--workers[^\n]*?)`0`/, "$1`4`");
  assert.notEqual(wrongDefault, cliMd);
  assert.ok(
    cliDocProblems(wrongDefault, help, "`musefs mount`").some((p) => p.includes("--workers")),
  );
});

Deno.test("contrib/systemd/musefs.env.example lists every MUSEFS_* variable", () => {
  const example = read("contrib/systemd/musefs.env.example");
  const names = new Set<string>();
  for (const [args] of COMMANDS) {
    for (const n of helpOf(args).text.match(/MUSEFS_[A-Z0-9_]+/g) ?? []) names.add(n);
  }
  assert.ok(names.size >= 30, `only ${names.size} MUSEFS_* names found in --help`);
  const missing = [...names].filter((n) => !new RegExp(`^#?${n}=`, "m").test(example));
  assert.deepEqual(missing, []);
});

// ---- links ---------------------------------------------------------------
function markdownFiles(): string[] {
  const docs = [...Deno.readDirSync(join(ROOT, "docs"))]
    .filter((e) => e.isFile && e.name.endsWith(".md"))
    .map((e) => `docs/${e.name}`)
    .sort();
  return ["README.md", ...docs];
}

/** Broken relative links in `file` (a path relative to the repository root). */
export function brokenLinks(file: string, markdown: string, exists = fileExists): string[] {
  const problems: string[] = [];
  const body = stripFences(markdown).replace(/`[^`\n]*`/g, "");
  for (const m of body.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
    const link = m[1];
    if (/^[a-z][a-z0-9+.-]*:/i.test(link)) continue; // http:, https:, mailto: …
    const [path, anchor] = link.split("#", 2);
    const target = path === "" ? file : normalize(join(dirname(file), path));
    if (target.startsWith("..")) {
      problems.push(`${file}: ${link} leaves the repository`);
      continue;
    }
    if (!exists(target)) {
      problems.push(`${file}: ${link} → ${target} does not exist`);
      continue;
    }
    if (anchor && target.endsWith(".md") && !headingSlugs(read(target)).has(anchor)) {
      problems.push(`${file}: ${link} → no heading #${anchor} in ${target}`);
    }
  }
  return problems;
}
Deno.test("every relative link in README.md and docs/*.md resolves", () => {
  const files = markdownFiles();
  assert.ok(files.length >= 8, `docs pages: ${files.join(", ")}`);
  assert.deepEqual(files.flatMap((f) => brokenLinks(f, read(f))), []);
});

Deno.test("the link checker reports missing files and anchors", () => {
  const md = "[a](cli.md) [b](nope.md) [c](store.md#no-such-heading) [d](https://x.y/z)\n" +
    "```\n[e](inside-a-fence.md)\n```\n";
  assert.deepEqual(brokenLinks("docs/x.md", md), [
    "docs/x.md: nope.md → docs/nope.md does not exist",
    "docs/x.md: store.md#no-such-heading → no heading #no-such-heading in docs/store.md",
  ]);
  assert.ok(headingSlugs("## `musefs scan`\n### Offload the layout to a tag").has("musefs-scan"));
  assert.ok(headingSlugs("### Offload the layout to a tag").has("offload-the-layout-to-a-tag"));
});
// Paths in the link checker are repository-relative; keep ROOT honest.
Deno.test("the repository root is where main.ts lives", () => {
  assert.equal(relative(ROOT, join(ROOT, "main.ts")), "main.ts");
  assert.ok(fileExists("main.ts") && fileExists("docs/cli.md"));
});
