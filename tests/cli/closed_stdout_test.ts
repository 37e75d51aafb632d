// `musefs mount --dry-run | head -1`: a reader that goes away ends the output
// quietly — exit 0, no "Broken pipe" message.

import assert from "node:assert/strict";
import { copyFixtures, musefs, spawnMusefs } from "../scan/helpers.ts";
import { scratchDir } from "../scratch.ts";

const dec = new TextDecoder();

Deno.test("a closed stdout ends the output quietly (dry run, help)", async () => {
  using tmp = scratchDir("musefs-scan-test-");
  const dir = tmp.path;
  await copyFixtures(`${dir}/lib`);
  const db = `${dir}/lib.db`;
  const scan = await musefs(["scan", `${dir}/lib`, "--db", db, "--quiet"]);
  assert.equal(scan.code, 0, scan.stderr);
  for (const args of [["mount", "--dry-run", "--db", db], ["mount", "--help"]]) {
    const child = spawnMusefs(args);
    // Close the read end before the program writes anything: every write meets EPIPE.
    await child.stdout.cancel();
    let stderr = "";
    for await (const chunk of child.stderr) stderr += dec.decode(chunk, { stream: true });
    const status = await child.status;
    assert.equal(status.code, 0, `${args.join(" ")}: ${stderr}`);
    assert.doesNotMatch(stderr, /Broken pipe|os error 32/);
    assert.equal(stderr, "");
  }
});
