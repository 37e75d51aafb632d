// The examples of the documentation, run for real: the template table of
// docs/templates.md is rendered by the template engine, and the SQL of
// docs/store.md and docs/troubleshooting.md runs (with the sqlite3 shell, as
// a user would) against a store built from real audio by the real probe and
// store layer, and must do what the text says.

import assert from "node:assert/strict";
import { join } from "node:path";
import { buildFieldMap, Template } from "../../src/core/template.ts";
import { pathComponents } from "../../src/core/names.ts";
import { BufferSource } from "../../src/format/source.ts";
import { probePath } from "../../src/format/mod.ts";
import {
  openStore,
  replaceBinaryTags,
  replaceStructuralBlocks,
  replaceTextTags,
  replaceTrackPictures,
  upsertTrack,
} from "../../src/store/mod.ts";
import { coverJpeg, fixture, run, sha256Hex } from "../fixtures/fixtures.ts";
import { codeBlocks, read, stripFences } from "./markdown.ts";
import { scratchDir } from "../scratch.ts";

// ---- template examples ---------------------------------------------------

interface TemplateExample {
  template: string;
  options: string;
  tags: [string, string][];
  /** What the mount shows; null when the track is left out. */
  path: string | null;
}

/** Rows of the `| template | options | tags | path |` table in docs/templates.md. */
function templateExamples(markdown: string): TemplateExample[] {
  const lines = stripFences(markdown).split("\n");
  const start = lines.findIndex((l) =>
    /^\|\s*template\s*\|\s*options\s*\|\s*tags\s*\|\s*path\s*\|/.test(l)
  );
  if (start < 0) return [];
  const out: TemplateExample[] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith("|")) break;
    const cells = line.split(/(?<!\\)\|/).slice(1, -1).map((c) =>
      c.trim().replace(/^`|`$/g, "").replaceAll("\\|", "|")
    );
    const [template, options, tags, path] = cells;
    out.push({
      template,
      options,
      tags: tags.split("; ").map((
        kv,
      ) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]),
      path: path === "(not shown)" ? null : path,
    });
  }
  return out;
}

/** The shell words of an options cell, single quotes removed. */
function shellWords(options: string): string[] {
  return [...options.matchAll(/(?:[^\s']+|'[^']*')+/g)].map((m) => m[0].replaceAll("'", ""));
}

function renderExample(ex: TemplateExample): string | null {
  const words = shellWords(ex.options);
  const fallbacks = new Map<string, string>();
  let defaultFallback: string | undefined;
  let skipOnMissing = false;
  for (let i = 0; i < words.length; i++) {
    if (words[i] === "--skip-on-missing") skipOnMissing = true;
    else if (words[i] === "--default-fallback") defaultFallback = words[++i];
    else if (words[i] === "--fallback") {
      const [field, ...value] = words[++i].split("=");
      fallbacks.set(field, value.join("="));
    } else throw new Error(`unknown option in a templates.md example: ${words[i]}`);
  }
  const t = Template.parse(ex.template, { fallbacks, defaultFallback, skipOnMissing });
  const rows = ex.tags.map(([key, value]) => ({ key, value })).sort((a, b) =>
    a.key < b.key ? -1 : a.key > b.key ? 1 : 0
  );
  const rendered = t.render({
    fields: buildFieldMap(rows),
    format: "flac",
    backingPath: "/m/x.flac",
  });
  return rendered === null ? null : pathComponents(rendered).join("/");
}

Deno.test("the examples of docs/templates.md render as shown", () => {
  const examples = templateExamples(read("docs/templates.md"));
  assert.ok(examples.length >= 10, `only ${examples.length} template examples found`);
  const wrong = examples
    .map((ex) => ({ ...ex, got: renderExample(ex) }))
    .filter((ex) => ex.got !== ex.path)
    .map((ex) => `${ex.template} ${ex.options}: documented ${ex.path}, renders ${ex.got}`);
  assert.deepEqual(wrong, []);
});

// ---- SQL examples --------------------------------------------------------
/**
 * A store with the `flac` fixture as track 1 and `mp3_v23` as track 2, made by
 * the real probe; track 2's date is left out so the "without a date" finder
 * has something to find.
 */
async function fixtureStore(dir: string): Promise<string> {
  const db = join(dir, "lib.db");
  const store = openStore(db, { mode: "rw", create: true });
  try {
    for (const name of ["flac", "mp3_v23"] as const) {
      const f = await fixture(name);
      const bytes = await Deno.readFile(f.path);
      const p = probePath(f.path, new BufferSource(bytes));
      assert.ok(p, `${f.path} was not probed`);
      const st = await Deno.stat(f.path);
      store.transaction(() => {
        const id = upsertTrack(store, {
          backingPath: f.path,
          format: p.format,
          audioOffset: p.audioOffset,
          audioLength: p.audioLength,
          backingSize: bytes.length,
          backingMtimeNs: BigInt(st.mtime!.getTime()) * 1_000_000n,
          backingCtimeNs: BigInt(st.ctime?.getTime() ?? 0) * 1_000_000n,
        });
        replaceTextTags(store, id, p.tags.filter((t) => name === "flac" || t.key !== "date"));
        replaceBinaryTags(store, id, p.binaryTags);
        replaceStructuralBlocks(store, id, p.structural);
        replaceTrackPictures(store, id, p.pictures);
      });
    }
  } finally {
    store.close();
  }
  return db;
}

async function sqlite(db: string, sql: string): Promise<string> {
  const r = await run(["sqlite3", "-bail", db], { stdin: new TextEncoder().encode(sql) });
  assert.equal(r.code, 0, `sqlite3 failed on:\n${sql}\n${r.stderr}`);
  assert.equal(r.stderr.trim(), "", `sqlite3 complained on:\n${sql}\n${r.stderr}`);
  return new TextDecoder().decode(r.stdout);
}

const CONNECT = "PRAGMA busy_timeout = 5000;\nPRAGMA foreign_keys = ON;\n";

Deno.test("the SQL of docs/store.md runs against a real store and does what it says", async () => {
  using tmp = scratchDir("musefs-docs-");
  const dir = tmp.path;
  const db = await fixtureStore(dir);
  const q = (sql: string) => sqlite(db, sql).then((s) => s.trim());
  const version0 = Number(await q("SELECT content_version FROM tracks WHERE id = 1"));
  const changes0 = Number(await q("SELECT max(seq) FROM track_changes"));
  await Deno.writeFile(join(dir, "cover.jpg"), await coverJpeg());

  // What each recipe must leave behind, checked right after its block.
  const checks: [marker: string, check: () => Promise<void>][] = [
    ["SET value = 'Hells Bells (Remastered)'", async () => {
      assert.equal(
        await q("SELECT value FROM tags WHERE track_id = 1 AND key = 'title'"),
        "Hells Bells (Remastered)",
      );
    }],
    ["'Brian Johnson'", async () => {
      assert.equal(
        await q(
          "SELECT group_concat(ordinal || ':' || value, ',') FROM " +
            "(SELECT * FROM tags WHERE track_id = 1 AND key = 'artist' ORDER BY ordinal)",
        ),
        "0:Artist One,1:Zoë Two,2:Brian Johnson",
      );
    }],
    ["'Blues Rock'", async () => {
      assert.equal(
        await q(
          "SELECT group_concat(key || '=' || value, ',') FROM " +
            "(SELECT * FROM tags WHERE track_id = 1 AND lower(key) = 'genre' ORDER BY ordinal)",
        ),
        "genre=Hard Rock,genre=Blues Rock",
      );
    }],
    ["lower(key) = 'comment'", async () => {
      assert.equal(
        await q("SELECT count(*) FROM tags WHERE track_id = 1 AND key = 'comment'"),
        "0",
      );
    }],
    ["readfile(", async () => {
      const sha = await sha256Hex(await coverJpeg());
      assert.equal(
        await q(
          "SELECT a.sha256 || ' ' || ta.picture_type FROM track_art ta " +
            "JOIN art a ON a.id = ta.art_id WHERE ta.track_id = 1",
        ),
        `${sha} 3`,
      );
    }],
    ["DELETE FROM track_art WHERE track_id = 1", async () => {
      assert.equal(await q("SELECT count(*) FROM track_art WHERE track_id = 1"), "0");
      assert.equal(
        await q("SELECT count(*) FROM art WHERE id NOT IN (SELECT art_id FROM track_art)"),
        "0",
      );
    }],
    ["'beets_path'", async () => {
      assert.equal(
        await q("SELECT value FROM tags WHERE track_id = 1 AND key = 'beets_path'"),
        "Rock/AC_DC/1980 - Back in Black/01 Hells Bells",
      );
    }],
  ];

  let ran = 0;
  const outputs: string[] = [];
  for (const block of codeBlocks(read("docs/store.md"))) {
    if (block.lang === "sql") {
      outputs.push(await sqlite(db, CONNECT + block.code));
    } else if (block.lang === "sh" && block.code.includes("readfile(")) {
      // The art recipe is a shell script: run it as written in a directory
      // holding this store as lib.db and a cover.jpg.
      const r = await run(["bash", "-euo", "pipefail", "-c", block.code], { cwd: dir });
      assert.equal(r.code, 0, r.stderr);
    } else continue;
    ran++;
    for (const [marker, check] of checks) if (block.code.includes(marker)) await check();
  }
  assert.ok(ran >= 9, `only ${ran} SQL blocks ran`);
  for (const [marker] of checks) {
    assert.ok(read("docs/store.md").includes(marker), `store.md lost the recipe "${marker}"`);
  }
  // The finder queries found the fixtures.
  const found = outputs.join("\n");
  assert.match(found, /\|flac\|.*flac\.flac/);
  assert.match(found, /mp3_v23\.mp3/); // its date row was left out
  // Triggers bumped the version and logged the changes, as the page says.
  assert.ok(Number(await q("SELECT content_version FROM tracks WHERE id = 1")) > version0);
  assert.ok(Number(await q("SELECT max(seq) FROM track_changes")) > changes0);
});

Deno.test("the SQL of docs/troubleshooting.md runs against a real store", async () => {
  using tmp = scratchDir("musefs-docs-");
  const dir = tmp.path;
  const db = await fixtureStore(dir);
  // An orphan, as written with foreign_keys OFF, which the recipe must remove.
  await sqlite(db, "PRAGMA foreign_keys = OFF;\nDELETE FROM tracks WHERE id = 2;");
  assert.notEqual((await sqlite(db, "SELECT count(*) FROM tags WHERE track_id = 2")).trim(), "0");
  const blocks = codeBlocks(read("docs/troubleshooting.md")).filter((b) => b.lang === "sql");
  assert.ok(blocks.length >= 1);
  for (const b of blocks) await sqlite(db, CONNECT + b.code);
  assert.equal((await sqlite(db, "PRAGMA foreign_key_check")).trim(), "");
  assert.equal((await sqlite(db, "SELECT count(*) FROM tags WHERE track_id = 2")).trim(), "0");
});
