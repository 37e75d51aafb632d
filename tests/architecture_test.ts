// The layering of docs/design.md, enforced: every import of every module
// under src/ and ffi/ (and main.ts) is read, and an edge the graph does not
// allow fails the test, as does an import that reaches past another layer's
// mod.ts. Native code (Deno.dlopen) lives only in ffi/, and SQL and
// transaction verbs only in src/store. Change the graph here and in
// docs/design.md together, with the reason.

import assert from "node:assert/strict";
import { dirname, join, normalize, relative } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../", import.meta.url));

/** The layers, and which layers each may import (itself always). */
export const ALLOWED: Record<string, readonly string[]> = {
  model: [],
  ffi: [],
  store: ["model"],
  format: ["model"],
  core: ["model", "store", "format", "ffi"],
  scan: ["model", "store", "format", "ffi"],
  fuse: ["model", "core", "format", "ffi"],
  cli: ["model", "store", "format", "core", "scan", "fuse", "ffi", "config"],
  main: ["cli"],
};

/** Edges allowed from one file only (docs/design.md says why). */
export const ONLY_FROM: Record<string, string> = {
  "fuse→format": "src/fuse/io_worker.ts",
};

/** The layer of a repository path, or null for files outside the layered code. */
export function layerOf(path: string): string | null {
  if (path === "main.ts") return "main";
  if (path === "deno.json") return "config";
  if (path.startsWith("ffi/")) return "ffi";
  const m = /^src\/([^/]+)\//.exec(path);
  return m ? m[1] : null;
}

export interface Edge {
  from: string;
  to: string;
}

const IMPORT =
  /(?:^|\n)\s*(?:import|export)\b[^'"]*?\bfrom\s*["']([^"']+)["']|(?:^|\n)\s*import\s*["']([^"']+)["']|\bimport\(\s*["']([^"']+)["']\s*\)/g;

/** Relative imports of one module's source, resolved to repository paths. */
export function importsOf(path: string, source: string): Edge[] {
  const out: Edge[] = [];
  for (const m of source.matchAll(IMPORT)) {
    const spec = m[1] ?? m[2] ?? m[3];
    if (!spec.startsWith(".")) continue; // node:, npm: and the like
    out.push({ from: path, to: normalize(join(dirname(path), spec)) });
  }
  return out;
}

/** Every way `edges` break the layering (empty when they keep it). */
export function violations(edges: readonly Edge[]): string[] {
  const problems: string[] = [];
  for (const { from, to } of edges) {
    const a = layerOf(from);
    const b = layerOf(to);
    if (a === null || b === null || a === b) continue;
    const only = ONLY_FROM[`${a}→${b}`];
    if (!(ALLOWED[a] ?? []).includes(b) || (only !== undefined && from !== only)) {
      problems.push(`${from} imports ${to}: ${a} may not depend on ${b}`);
      continue;
    }
    // Another layer is entered through its front door (ffi has one file per binding);
    // its defaults.ts (constants, no imports) may be read without loading the layer.
    const door = to === `src/${b}/mod.ts` || to === `src/${b}/defaults.ts`;
    if (b !== "ffi" && b !== "config" && !door) {
      problems.push(`${from} imports ${to}: go through src/${b}/mod.ts`);
    }
  }
  return problems;
}

function modules(): { path: string; source: string }[] {
  const out: { path: string; source: string }[] = [];
  const walk = (dir: string) => {
    for (const e of Deno.readDirSync(join(ROOT, dir))) {
      const rel = `${dir}/${e.name}`;
      if (e.isDirectory) walk(rel);
      else if (e.name.endsWith(".ts")) {
        out.push({ path: rel, source: Deno.readTextFileSync(join(ROOT, rel)) });
      }
    }
  };
  walk("src");
  walk("ffi");
  out.push({ path: "main.ts", source: Deno.readTextFileSync(join(ROOT, "main.ts")) });
  return out;
}

/** Source text without comments, so a comment that mentions SQL or dlopen does not count. */
function code(source: string): string {
  return source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:"'`])\/\/.*$/gm, "$1");
}

const SQL =
  /["'`]\s*(SELECT\s|INSERT\s|UPDATE\s+\w+\s+SET|DELETE\s+FROM|BEGIN\b|COMMIT\b|ROLLBACK\b|SAVEPOINT\b|RELEASE\s|VACUUM\b|PRAGMA\s)/;

Deno.test("architecture: every import follows the layer graph and enters through mod.ts", () => {
  const all = modules();
  assert.ok(all.length > 50, "found too few modules to check");
  const edges = all.flatMap((m) => importsOf(m.path, code(m.source)));
  assert.ok(edges.some((e) => layerOf(e.to) === "store"), "found no import of the store");
  assert.deepEqual(violations(edges), []);
});

Deno.test("architecture: a layer's defaults.ts holds constants only (it imports nothing)", () => {
  const defaults = modules().filter((m) => m.path.endsWith("/defaults.ts"));
  assert.ok(defaults.length >= 2, "no defaults.ts found");
  for (const m of defaults) assert.deepEqual(importsOf(m.path, code(m.source)), [], m.path);
});

Deno.test("architecture: only ffi/ loads native code", () => {
  const offenders = modules()
    .filter((m) => !m.path.startsWith("ffi/") && /Deno\.dlopen\s*\(/.test(code(m.source)))
    .map((m) => m.path);
  assert.deepEqual(offenders, []);
});

Deno.test("architecture: SQL and transaction verbs live only in src/store", () => {
  const offenders = modules()
    .filter((m) => !m.path.startsWith("src/store/"))
    .flatMap((m) =>
      code(m.source).split("\n").filter((l) => SQL.test(l)).map((l) => `${m.path}: ${l.trim()}`)
    );
  assert.deepEqual(offenders, []);
});

Deno.test("architecture: the checker catches a forbidden edge and a back-door import", () => {
  const bad = importsOf(
    "src/store/tracks.ts",
    'import { probe } from "../format/mod.ts";\nimport type { X } from "../model/mod.ts";',
  );
  assert.deepEqual(violations(bad), [
    "src/store/tracks.ts imports src/format/mod.ts: store may not depend on format",
  ]);
  const backDoor = importsOf("src/fuse/dispatch.ts", 'import { Library } from "../core/api.ts";');
  assert.deepEqual(violations(backDoor), [
    "src/fuse/dispatch.ts imports src/core/api.ts: go through src/core/mod.ts",
  ]);
  // fuse may use format from its I/O worker only.
  const worker = importsOf("src/fuse/io_worker.ts", 'import { x } from "../format/mod.ts";');
  assert.deepEqual(violations(worker), []);
  const dispatch = importsOf("src/fuse/dispatch.ts", 'import { x } from "../format/mod.ts";');
  assert.deepEqual(violations(dispatch), [
    "src/fuse/dispatch.ts imports src/format/mod.ts: fuse may not depend on format",
  ]);
  const dynamic = importsOf("src/format/flac.ts", 'const m = await import("../store/mod.ts");');
  assert.equal(violations(dynamic).length, 1);
  assert.equal(relative(ROOT, join(ROOT, "src/x.ts")), "src/x.ts");
});
