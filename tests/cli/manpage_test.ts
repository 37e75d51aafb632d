// `musefs manpage`: the roff page lists every flag of every command in the
// tables (src/cli/spec.ts) in that command's section, with its environment
// variable; it is plain ASCII and renders without warnings through groff and
// man(1) when they are installed.

import assert from "node:assert/strict";
import { type CommandSpec, envName, type Flag, type FlagTable } from "../../src/cli/flags.ts";
import { manPage, roffText } from "../../src/cli/manpage.ts";
import { VERSION } from "../../src/cli/run.ts";
import { COMMANDS as COMMAND_TABLE } from "../../src/cli/spec.ts";
import { musefs } from "./run_musefs.ts";
import { hasTool as has } from "../fixtures/tools.ts";

const COMMANDS: readonly CommandSpec<FlagTable>[] = COMMAND_TABLE;

/** roff's spelling of a flag: every "-" a minus sign. */
const roffFlag = (flag: string) => flag.replaceAll("-", "\\-");

/** The `.SS "musefs <name>"` section of the page. */
function section(page: string, name: string): string {
  const start = page.indexOf(`.SS "musefs ${name}"\n`);
  assert.ok(start >= 0, `no section for musefs ${name}`);
  const next = page.slice(start + 1).search(/^\.S[SH] /m);
  return next < 0 ? page.slice(start) : page.slice(start, start + 1 + next);
}

Deno.test("the man page documents every flag of every command in its section", () => {
  const page = manPage(VERSION);
  assert.match(page, /^\.TH MUSEFS 1 /);
  assert.ok(COMMANDS.length >= 4);
  for (const spec of COMMANDS) {
    const text = section(page, spec.name);
    for (const flag of Object.values(spec.flags) as Flag[]) {
      if (flag.hidden) continue;
      assert.ok(
        text.includes(`\\fB${roffFlag(`--${flag.long}`)}\\fR`),
        `${spec.name}: --${flag.long}`,
      );
      if (flag.short) assert.ok(text.includes(`\\fB\\-${flag.short}\\fR`), `-${flag.short}`);
      const env = envName(flag);
      if (env) {
        assert.ok(text.includes(`[env: ${env}]`), `${spec.name} --${flag.long}: ${env}`);
        assert.match(page, new RegExp(`^\\.B ${env}$`, "m"), `ENVIRONMENT lacks ${env}`);
      }
    }
    for (const p of spec.positionals) assert.ok(text.includes(`<${p.name}>`), p.name);
  }
});

Deno.test("the man page is ASCII and escapes roff's special characters", () => {
  // deno-lint-ignore no-control-regex
  assert.match(manPage(VERSION), /^[\x00-\x7f]*$/);
  assert.equal(roffText("a\\b × c"), "a\\eb \\[u00D7] c");
  assert.equal(roffText(".not a request\n'nor this"), "\\&.not a request\n\\&'nor this");
});

Deno.test("musefs manpage prints the generated page", async () => {
  const r = await musefs(["manpage"]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, manPage(VERSION));
});

Deno.test({
  name: "the man page renders without warnings (groff, man -l)",
  // groff-base and man-db are optional (not in the CI's apt list): skipped without them.
  ignore: !has("groff") || !has("man"),
  fn: async () => {
    const file = await Deno.makeTempFile({ suffix: ".1" });
    try {
      await Deno.writeTextFile(file, manPage(VERSION));
      const groff = await new Deno.Command("groff", {
        args: ["-man", "-Tutf8", "-ww", "-z", file],
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.equal(groff.code, 0);
      assert.equal(new TextDecoder().decode(groff.stderr), "");
      // Under a UTF-8 locale and under the C locale (an ASCII terminal).
      for (const locale of ["C.UTF-8", "C"]) {
        const ascii = await new Deno.Command("man", {
          args: ["-l", file],
          env: { MANPAGER: "cat", MANWIDTH: "100", LANG: locale, LC_ALL: locale },
          stdout: "null",
          stderr: "piped",
        }).output();
        const warned = new TextDecoder().decode(ascii.stderr);
        assert.equal(ascii.code, 0, warned);
        assert.equal(warned, "", `man -l under ${locale}`);
      }
      const man = await new Deno.Command("man", {
        args: ["-l", file],
        env: { MANPAGER: "cat", MANWIDTH: "100", LANG: "C.UTF-8", LC_ALL: "C.UTF-8" },
        stdout: "piped",
        stderr: "piped",
      }).output();
      const err = new TextDecoder().decode(man.stderr);
      assert.equal(man.code, 0, err);
      assert.equal(err, "");
      // The rendered text, not only the source, shows every long flag.
      // deno-lint-ignore no-control-regex
      const text = new TextDecoder().decode(man.stdout).replace(/.\x08/g, ""); // overstrike
      for (const spec of COMMANDS) {
        for (const flag of Object.values(spec.flags) as Flag[]) {
          if (!flag.hidden) assert.ok(text.includes(`--${flag.long}`), `rendered: --${flag.long}`);
        }
      }
    } finally {
      await Deno.remove(file);
    }
  },
});
