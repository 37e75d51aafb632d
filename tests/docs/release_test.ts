// Getting the binary: the LICENSE, the release workflow (it builds every
// architecture build.ts supports, on version tags, with SHA-256 sums attached)
// and docs/install.md (names the files the build makes; upgrade and uninstall).

import assert from "node:assert/strict";
import denoJson from "../../deno.json" with { type: "json" };
import { ARCHES, compilePlan } from "../../build.ts";
import { read } from "./markdown.ts";

Deno.test("LICENSE: MIT, musefs contributors", () => {
  const license = read("LICENSE");
  assert.match(license, /^MIT License\n\nCopyright \(c\) 2026 musefs contributors\n/);
  assert.match(license, /THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND/);
});

Deno.test("release workflow: every build.ts target on a version tag, with SHA-256 sums", () => {
  const wf = read(".github/workflows/release.yml");
  assert.match(wf, /^on:\n {2}push:\n {4}tags: \["v\*"\]$/m, "runs on v* tags");
  assert.match(wf, /^permissions:\n {2}contents: write$/m, "may create the release");
  const targets = [...wf.matchAll(/npx deno task build --target (\S+)/g)].map((m) => m[1]);
  assert.deepEqual(targets.sort(), [...ARCHES].sort());
  // The tag must name the version build.ts stamps into the file names.
  assert.match(wf, /test "\$GITHUB_REF_NAME" = "v\$version"/);
  assert.match(wf, /require\("\.\/deno\.json"\)\.version/);
  assert.match(wf, /sha256sum musefs-\* > SHA256SUMS/);
  assert.match(
    wf,
    /gh release create "\$GITHUB_REF_NAME"[^\n]*\n\s+dist\/musefs-\* dist\/SHA256SUMS/,
  );
  // What the workflow smoke-tests and attaches is what build.ts writes.
  for (const step of compilePlan()) {
    assert.match(step.output, /^dist\/musefs-[^/]+$/, step.output);
  }
  assert.ok(wf.includes('./dist/musefs-"$version"-x86_64-linux --version'));
  assert.equal(
    compilePlan(["x86_64"])[0].output,
    `dist/musefs-${denoJson.version}-x86_64-linux`,
  );
});

Deno.test("docs/install.md: release download with checksum, build, upgrade, uninstall", () => {
  const doc = read("docs/install.md");
  for (const arch of ARCHES) assert.ok(doc.includes(`-${arch}-linux`), arch);
  for (
    const heading of ["## From a release", "## From source", "## Upgrade", "## Uninstall"]
  ) assert.ok(doc.includes(`\n${heading}\n`), heading);
  assert.match(doc, /sha256sum --check --ignore-missing SHA256SUMS/);
  assert.match(doc, /npx deno task build\b/);
  assert.match(doc, /DENORT_BIN_X86_64/);
  assert.match(read("README.md"), /\(docs\/install\.md\)/, "the README links to it");
});
