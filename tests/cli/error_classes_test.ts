// Errors are told apart by class (instanceof) or by MusefsError's kind,
// never by matching a class name as a string: a renamed or subclassed error
// would silently fall through such a match.

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const BY_NAME = /constructor\.name|\.name\s*[!=]==?\s*["'`]\w*(Error|Aborted)["'`]/;

Deno.test("no module matches an error by its class name", () => {
  const offenders: string[] = [];
  let files = 0;
  const walk = (dir: string) => {
    for (const e of Deno.readDirSync(ROOT + dir)) {
      const rel = `${dir}/${e.name}`;
      if (e.isDirectory) walk(rel);
      else if (e.name.endsWith(".ts")) {
        files++;
        const lines = Deno.readTextFileSync(ROOT + rel).split("\n");
        lines.forEach((l, i) => {
          if (BY_NAME.test(l)) offenders.push(`${rel}:${i + 1}: ${l.trim()}`);
        });
      }
    }
  };
  walk("src");
  walk("ffi");
  assert.ok(files > 100, `only ${files} files read`);
  assert.deepEqual(offenders, []);
  // The pattern does catch what it is for.
  assert.ok(BY_NAME.test(`if (e.name === "StoreError") return 2;`));
  assert.ok(BY_NAME.test(`e.constructor.name`));
});
