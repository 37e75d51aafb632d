// docs/design.md names the files that hold each concern; a file moved or
// renamed without the page following fails here.

import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

Deno.test("docs/design.md: every source file it names exists", () => {
  const text = Deno.readTextFileSync(`${ROOT}docs/design.md`);
  const named = [...text.matchAll(/`((?:[\w-]+\/)+[\w-]+\.ts)`/g)].map((m) => m[1]);
  assert.ok(named.length > 15, `only ${named.length} paths found`);
  // `core/api.ts` and the like are src/ paths written short.
  const missing = named.filter((p) => !existsSync(ROOT + p) && !existsSync(`${ROOT}src/${p}`));
  assert.deepEqual(missing, []);
});
