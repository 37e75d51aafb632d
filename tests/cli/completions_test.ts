// `musefs completions bash|zsh|fish`: every flag of every command in the
// tables (src/cli/spec.ts) is offered, choice flags offer their values, and
// each script is valid for its shell. bash and fish are driven for real
// (bash through its completion function, fish through `complete -C`); zsh
// is syntax-checked and its per-command `_arguments` blocks read as text.

import assert from "node:assert/strict";
import { join } from "node:path";
import { completionScript, valueKind } from "../../src/cli/completions.ts";
import type { CommandSpec, Flag, FlagTable } from "../../src/cli/flags.ts";
import { COMMANDS as COMMAND_TABLE, mountSpec, SHELLS } from "../../src/cli/spec.ts";
import { musefs } from "./run_musefs.ts";
import { hasTool as has } from "../fixtures/tools.ts";
import { scratchDir } from "../scratch.ts";

const COMMANDS: readonly CommandSpec<FlagTable>[] = COMMAND_TABLE;

/** Every flag a command takes, read from the table itself, plus -h/-V that every command takes. */
function expectedFlags(spec: CommandSpec<FlagTable>): string[] {
  const out = ["--help", "-h", "--version", "-V"];
  for (const f of Object.values(spec.flags) as Flag[]) {
    if (f.hidden) continue;
    out.push(`--${f.long}`);
    if (f.short) out.push(`-${f.short}`);
  }
  return out;
}

function choiceFlags(spec: CommandSpec<FlagTable>): Flag[] {
  return (Object.values(spec.flags) as Flag[]).filter((f) => !f.hidden && f.choices);
}

async function shell(
  cmd: string,
  args: string[],
  stdin: string,
): Promise<{ code: number; out: string; err: string }> {
  const p = new Deno.Command(cmd, { args, stdin: "piped", stdout: "piped", stderr: "piped" })
    .spawn();
  const w = p.stdin.getWriter();
  await w.write(new TextEncoder().encode(stdin));
  await w.close();
  const o = await p.output();
  const dec = new TextDecoder();
  return { code: o.code, out: dec.decode(o.stdout), err: dec.decode(o.stderr) };
}

Deno.test("the tables have flags to complete (the tests below iterate them)", () => {
  assert.ok(COMMANDS.length >= 4);
  assert.ok(expectedFlags(mountSpec).length > 20);
  assert.ok(choiceFlags(mountSpec).length >= 3);
});

Deno.test("musefs completions prints each generated script; an unknown shell is a usage error", async () => {
  for (const sh of SHELLS) {
    const r = await musefs(["completions", sh]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, completionScript(sh));
  }
  const bad = await musefs(["completions", "tcsh"]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /unknown shell 'tcsh' \(supported: bash, zsh, fish\)/);
});

// ---- bash ------------------------------------------------------------------

/** COMPREPLY of the generated _musefs for the words typed so far (the last one is completed). */
function bashQueries(queries: string[][]): string {
  const lines = [completionScript("bash"), "set -u"];
  for (const words of queries) {
    const quoted = words.map((w) => `'${w}'`).join(" ");
    lines.push(
      `COMP_WORDS=(${quoted}); COMP_CWORD=${words.length - 1}; COMPREPLY=()`,
      `_musefs; printf '%s\\n' "#" "\${COMPREPLY[@]}"`,
    );
  }
  return lines.join("\n") + "\n";
}

function splitReplies(out: string): string[][] {
  return out.split("#\n").slice(1).map((block) => block.split("\n").filter((l) => l !== ""));
}

Deno.test({
  name: "bash: the script parses and completes every flag and choice of every command",
  ignore: !has("bash"), // bash is part of every supported system; guard anyway
  fn: async () => {
    const script = completionScript("bash");
    const syntax = await shell("bash", ["-n"], script);
    assert.equal(syntax.code, 0, syntax.err);

    const queries: string[][] = [];
    const expected: Array<(reply: string[]) => void> = [];
    for (const spec of COMMANDS) {
      queries.push(["musefs", spec.name, "-"]);
      expected.push((reply) => {
        for (const f of expectedFlags(spec)) {
          assert.ok(reply.includes(f), `bash: musefs ${spec.name} - does not offer ${f}`);
        }
      });
      for (const f of choiceFlags(spec)) {
        for (const form of f.short ? [`--${f.long}`, `-${f.short}`] : [`--${f.long}`]) {
          queries.push(["musefs", spec.name, form, ""]);
          expected.push((reply) =>
            assert.deepEqual(reply.sort(), [...f.choices!].sort(), `bash: ${spec.name} ${form}`)
          );
        }
      }
      const choices = spec.positionals[0]?.choices;
      if (choices) {
        queries.push(["musefs", spec.name, ""]);
        expected.push((reply) => assert.deepEqual(reply.sort(), [...choices].sort()));
      }
    }
    // Account values complete account names (root exists everywhere).
    for (const spec of COMMANDS) {
      for (const f of Object.values(spec.flags) as Flag[]) {
        const kind = valueKind(f);
        if (kind !== "user" && kind !== "group") continue;
        queries.push(["musefs", spec.name, `--${f.long}`, "roo"]);
        expected.push((reply) => assert.ok(reply.includes("root"), `${spec.name} --${f.long}`));
      }
    }
    // No command: the bare mount form's flags, and the command names first.
    queries.push(["musefs", "--db", "x.db", "-"]);
    expected.push((reply) => {
      for (const f of expectedFlags(mountSpec)) assert.ok(reply.includes(f), `bare: ${f}`);
    });
    queries.push(["musefs", "zzz-no-such"]);
    expected.push((reply) => assert.deepEqual(reply, []));
    queries.push(["musefs", ""]);
    expected.push((reply) => {
      for (const c of COMMANDS) assert.ok(reply.includes(c.name), `bash: command ${c.name}`);
    });

    const r = await shell("bash", [], bashQueries(queries));
    assert.equal(r.code, 0, r.err);
    const replies = splitReplies(r.out);
    assert.equal(replies.length, queries.length);
    replies.forEach((reply, i) => expected[i](reply));
  },
});

// ---- fish ------------------------------------------------------------------

Deno.test({
  name: "fish: the script parses and completes every flag and choice of every command",
  // fish is optional (not in the CI's apt list): without it this test is skipped.
  ignore: !has("fish"),
  fn: async () => {
    const script = completionScript("fish");
    const file = await Deno.makeTempFile({ suffix: ".fish" });
    try {
      await Deno.writeTextFile(file, script);
      const syntax = await shell("fish", ["--no-execute", file], "");
      assert.equal(syntax.code, 0, syntax.err);
      const queries: string[] = [];
      const expected: Array<(reply: string[]) => void> = [];
      for (const spec of COMMANDS) {
        queries.push(`musefs ${spec.name} -`);
        expected.push((reply) => {
          for (const f of expectedFlags(spec)) {
            assert.ok(reply.includes(f), `fish: musefs ${spec.name} - does not offer ${f}`);
          }
        });
        for (const f of choiceFlags(spec)) {
          queries.push(`musefs ${spec.name} --${f.long} `);
          expected.push((reply) => assert.deepEqual(reply.sort(), [...f.choices!].sort()));
        }
      }
      queries.push("musefs --db x.db -");
      expected.push((reply) => {
        for (const f of expectedFlags(mountSpec)) assert.ok(reply.includes(f), `bare: ${f}`);
      });
      const body = [`source ${file}`];
      for (const q of queries) body.push(`echo '#'`, `complete -C'${q}'`);
      const r = await shell("fish", ["--no-config"], body.join("\n") + "\n");
      assert.equal(r.code, 0, r.err);
      // fish lists short flags as "-v" and long ones as "--verbose"; drop descriptions.
      const replies = splitReplies(r.out).map((b) => b.map((l) => l.split("\t")[0]));
      assert.equal(replies.length, queries.length);
      replies.forEach((reply, i) => expected[i](reply));
    } finally {
      await Deno.remove(file);
    }
  },
});

// ---- zsh -------------------------------------------------------------------

/** The `(name)` arm of the generated case statement. */
function zshArm(script: string, name: string): string {
  const start = script.indexOf(`    (${name})\n`);
  assert.ok(start >= 0, `zsh: no arm for ${name}`);
  const end = script.indexOf("\n      ;;", start);
  return script.slice(start, end);
}

Deno.test("zsh: each command's _arguments lists every flag, with choices", async () => {
  const script = completionScript("zsh");
  assert.match(script, /^#compdef musefs\n/);
  for (const spec of COMMANDS) {
    const arm = zshArm(script, spec.name);
    for (const f of expectedFlags(spec)) {
      const long = f.startsWith("--");
      const pattern = long ? new RegExp(`(['{,*])${f}[=\\[',}]`) : new RegExp(`\\{${f},`);
      assert.match(arm, pattern, `zsh: ${spec.name} lacks ${f}`);
    }
    for (const f of choiceFlags(spec)) {
      assert.ok(arm.includes(`(${f.choices!.join(" ")})`), `zsh: ${spec.name} --${f.long}`);
    }
  }
  const bare = zshArm(script, "*");
  for (const f of expectedFlags(mountSpec)) {
    if (f.startsWith("--")) assert.ok(bare.includes(f), `zsh bare form lacks ${f}`);
  }
  if (has("zsh")) {
    const syntax = await shell("zsh", ["-n"], script);
    assert.equal(syntax.code, 0, syntax.err);
  }
});

/**
 * Types each query after "musefs " into an interactive zsh (a zpty), presses
 * Tab twice and prints "#<query>" followed by what zsh listed.
 */
const ZSH_DRIVER = String.raw`
zmodload zsh/zpty
dir=$1; shift
zpty -b z zsh -f -i
zpty -w z "PS1='> '; fpath=($dir \$fpath); autoload -U compinit; compinit -u -D; LISTMAX=10000; setopt nobeep; stty cols 400 rows 200"
zpty -w z 'musefs() { : }'
zpty -w z 'print READY'
out=""; for i in {1..100}; do zpty -r -t z chunk 2>/dev/null && out+=$chunk; [[ $out == *$'\nREADY'* ]] && break; sleep 0.1; done
for q in "$@"; do
  zpty -n -w z $'musefs '"$q"$'\t\t'
  out=""; idle=0
  while (( idle < 8 )); do
    if zpty -r -t z chunk 2>/dev/null; then out+=$chunk; idle=0; else sleep 0.1; (( idle++ )); fi
  done
  print -r -- "#$q"
  print -r -- "$out"
  zpty -n -w z $'\x15'
  sleep 0.2; zpty -r -t z chunk 2>/dev/null
done
zpty -d z
`;

Deno.test({
  name: "zsh: an interactive zsh completes every long flag and choice of every command",
  // zsh is optional (not in the CI's apt list): without it this test is skipped.
  ignore: !has("zsh"),
  fn: async () => {
    using tmp = scratchDir("musefs-test-");
    const dir = tmp.path;
    await Deno.writeTextFile(join(dir, "_musefs"), completionScript("zsh"));
    await Deno.writeTextFile(join(dir, "driver.zsh"), ZSH_DRIVER);
    const queries = [...COMMANDS.map((c) => `${c.name} --`), "--db x.db --", "mount --mode "];
    const out = await new Deno.Command("zsh", {
      args: [join(dir, "driver.zsh"), dir, ...queries],
      stdout: "piped",
      stderr: "piped",
    }).output();
    // deno-lint-ignore no-control-regex
    const text = new TextDecoder().decode(out.stdout).replace(/\x1b\[[0-9;?]*[a-zA-Z]/g, "");
    const blocks = new Map<string, string>();
    queries.forEach((q, i) => {
      const start = text.indexOf(`#${q}\n`);
      assert.ok(start >= 0, `no output for ${q}:\n${text}`);
      // (zsh marks a partial line with "#" for root: only the next query ends a block.)
      const end = i + 1 < queries.length ? text.indexOf(`\n#${queries[i + 1]}\n`, start) : -1;
      blocks.set(q, text.slice(start, end < 0 ? undefined : end));
    });
    const longFlags = (spec: CommandSpec<FlagTable>) =>
      expectedFlags(spec).filter((f) => f.startsWith("--"));
    for (const spec of COMMANDS) {
      const listed = blocks.get(`${spec.name} --`)!;
      for (const f of longFlags(spec)) {
        assert.match(listed, new RegExp(`(^|\\s)${f}(\\s|$)`, "m"), `zsh: ${spec.name} ${f}`);
      }
    }
    for (const f of longFlags(mountSpec)) {
      assert.match(blocks.get("--db x.db --")!, new RegExp(`(^|\\s)${f}(\\s|$)`, "m"), f);
    }
    for (const choice of mountSpec.flags.mode.choices!) {
      assert.ok(blocks.get("mount --mode ")!.includes(choice), choice);
    }
  },
});
