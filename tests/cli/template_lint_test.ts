// --template: an empty or blank template is a usage error; text in another
// tool's syntax ({artist}, %artist%, %aunique{}, $if()) gets a warning naming
// the musefs form, and the mount (here a dry run) goes ahead.

import assert from "node:assert/strict";
import { join } from "node:path";
import { templateWarnings } from "../../src/cli/template_lint.ts";
import { musefs, musefsAll } from "./run_musefs.ts";
import { scratchDir } from "../scratch.ts";

Deno.test("templateWarnings names the musefs form of other tools' syntax", () => {
  const cases: Array<[string, RegExp[]]> = [
    ["{artist}/{album}", [
      /"\{artist\}" is literal text .* write \$artist or \$\{artist\}/,
      /"\{album\}"/,
    ]],
    ["{tracknumber:02} $title", [/write \$\{tracknumber:02\}$/]],
    ["%artist%/%album artist%", [
      /"%artist%" looks like foobar2000\/Picard syntax; musefs writes \$artist$/,
      /musefs writes \$albumartist$/,
    ]],
    ["$album%aunique{albumartist album,year}/$title", [/beets' %aunique\{\}; .* " \(2\)" suffix/]],
    ["%upper{$artist}/$title", [/"%upper\{\$artist\}" looks like a beets template function/]],
    ["$if($albumartist,$albumartist,$artist)", [
      /"\$if\(" looks like a Picard\/foobar2000 function/,
    ]],
  ];
  for (const [template, expected] of cases) {
    const warnings = templateWarnings(template);
    assert.equal(warnings.length, expected.length, `${template}: ${warnings.join("\n")}`);
    warnings.forEach((w, i) => {
      assert.match(w, /^warning: --template: /);
      assert.match(w, expected[i], template);
    });
  }
  // musefs' own syntax, and text that only looks alike, warn about nothing.
  for (
    const template of [
      "$albumartist/${album}/$!{genre|x}/[$disc - ]${tracknumber:02}",
      "100%/50 % off",
      "$[x$]",
    ]
  ) {
    assert.deepEqual(templateWarnings(template), [], template);
  }
});

Deno.test("mount: a blank --template is a usage error; a foreign one warns and still runs", async () => {
  using tmp = scratchDir("musefs-test-");
  const dir = tmp.path;
  const db = join(dir, "lib.db");
  const music = join(dir, "music");
  await Deno.mkdir(music);
  const scan = await musefs(["scan", music, "--db", db, "--quiet"]);
  assert.equal(scan.code, 0, scan.stderr);
  const [empty, blankEnv, foreign] = await musefsAll([
    { args: ["mount", "--dry-run", "--db", db, "--template", ""] },
    { args: ["mount", "--dry-run", "--db", db], env: { MUSEFS_TEMPLATE: " \t " } },
    { args: ["mount", "--dry-run", "--db", db, "--template", "%artist%/{title}"] },
  ]);
  assert.equal(empty.code, 2);
  assert.match(
    empty.stderr,
    /^musefs: invalid value "" for --template: the template is empty or blank; give a path template/,
  );
  assert.equal(blankEnv.code, 2);
  assert.match(
    blankEnv.stderr,
    /for --template \(from MUSEFS_TEMPLATE\): the template is empty or blank/,
  );
  assert.equal(foreign.code, 0, foreign.stderr);
  assert.deepEqual(foreign.stderr.trimEnd().split("\n"), [
    'warning: --template: "%artist%" looks like foobar2000/Picard syntax; musefs writes $artist',
    'warning: --template: "{title}" is literal text in a musefs template; for the field write $title or ${title}',
  ]);
  assert.match(foreign.stdout, /^dry run: 0 files/);
});
