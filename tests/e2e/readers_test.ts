// Every fixture, scanned and served in synthesis mode, is read by three
// independent readers (mutagen, ffprobe, TagLib through kid3-cli) exactly as
// each reads the original, except for the normalizations docs/formats.md
// lists as intended (tests/e2e/normalizations.ts); and it decodes to the same
// PCM. The fixture list drives it, so a new fixture is compared too.

import assert from "node:assert/strict";
import { mutagenTags, pcmMd5 } from "../fixtures/fixtures.ts";
import {
  expectedFiles,
  type Library,
  noFuse,
  sanitize,
  scannedLibrary,
  textTags,
  tracks,
  withMount,
} from "./helpers.ts";
import { NORMALIZATIONS, normalize } from "./normalizations.ts";
import { READERS, readView } from "./readers.ts";
import type { Format } from "../../src/format/types.ts";

const FORMATS_DOC = new URL("../../docs/formats.md", import.meta.url);

/** Run `fn` over `items`, at most `limit` at a time (2 cores shared with other work). */
async function pool<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]);
  };
  await Promise.all(Array.from({ length: limit }, worker));
}

interface Pair {
  name: string;
  format: Format;
  original: string;
  /** Relative to the mountpoint. */
  served: string;
}

/** Each fixture's backing file and the path the default template serves it at. */
function pairs(lib: Library): Pair[] {
  const rows = tracks(lib.db);
  const field = (id: number, k: string) => sanitize(textTags(lib.db, id).get(k)?.[0] || "Unknown");
  const files = expectedFiles(
    rows,
    (t) => ["albumartist", "album", "title"].map((k) => field(t.id, k)).join("/"),
  );
  const out: Pair[] = [];
  for (const [served, id] of files) {
    const row = rows.find((r) => r.id === id)!;
    const f = lib.fixtures.get(row.backing_path)!;
    out.push({ name: f.name, format: row.format as Format, original: row.backing_path, served });
  }
  assert.equal(out.length, lib.fixtures.size, "every fixture is served");
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

/** Values the folding rules may add: a FLAC file's leading ID3 tag, a WAV file's INFO chunk. */
async function foldable(p: Pair): Promise<{ id3: Set<string>; info: Set<string> }> {
  if (p.format !== "flac" && p.format !== "wav") return { id3: new Set(), info: new Set() };
  const m = await mutagenTags(p.original);
  return {
    id3: new Set(Object.values(m.id3 ?? {}).flat()),
    info: new Set(Object.values(m.riff_info ?? {})),
  };
}

Deno.test("docs/formats.md lists every intended normalization", async () => {
  const doc = await Deno.readTextFile(FORMATS_DOC);
  for (const n of NORMALIZATIONS) assert.ok(doc.includes(n.doc), `formats.md lacks "${n.doc}"`);
});

/** Reads every pair with every reader; returns the differences the normalizations do not explain. */
async function unlisted(mnt: string, list: Pair[], id3Version: 3 | 4): Promise<string[]> {
  const problems: string[] = [];
  const folds = new Map<string, { id3: Set<string>; info: Set<string> }>();
  for (const p of list) folds.set(p.name, await foldable(p));
  const jobs = list.flatMap((p) => READERS.map((r) => ({ p, r })));
  await pool(jobs, 4, async ({ p, r }) => {
    const [o, s] = await Promise.all([readView(r, p.original), readView(r, `${mnt}/${p.served}`)]);
    const fold = folds.get(p.name)!;
    const n = normalize(o, s, {
      reader: r,
      format: p.format,
      leadingId3Values: fold.id3,
      riffInfoValues: fold.info,
      id3Version,
    });
    const onlyOriginal = n.original.filter((l) => !n.served.includes(l));
    const onlyServed = n.served.filter((l) => !n.original.includes(l));
    if (onlyOriginal.length + onlyServed.length > 0) {
      problems.push(
        `${p.name} read by ${r}:\n` +
          onlyOriginal.map((l) => `  - original: ${l}`).join("\n") + "\n" +
          onlyServed.map((l) => `  + served:   ${l}`).join("\n"),
      );
    }
  });
  return problems.sort();
}

/** The served files decode to the originals' PCM (ffmpeg); returns the mismatches. */
async function pcmMismatches(mnt: string, list: Pair[]): Promise<string[]> {
  const wrong: string[] = [];
  await pool(list, 4, async (p) => {
    const [a, b] = await Promise.all([pcmMd5(p.original), pcmMd5(`${mnt}/${p.served}`)]);
    if (a !== b) wrong.push(`${p.name}: ${a} != ${b}`);
  });
  return wrong.sort();
}

Deno.test({
  name: "e2e: mutagen, ffprobe and TagLib read every served fixture as the original",
  ignore: noFuse,
  async fn(t) {
    await using lib = await scannedLibrary("musefs-readers-");
    const mnt = `${lib.base}/mnt`;
    const list = pairs(lib);
    await withMount(lib.db, mnt, ["--mode", "synthesis"], async () => {
      await t.step("tags and stream facts agree", async () => {
        const problems = await unlisted(mnt, list, 4);
        assert.deepEqual(problems, [], `unlisted differences:\n${problems.join("\n")}`);
      });
      await t.step("the PCM is identical (ffmpeg)", async () => {
        assert.deepEqual(await pcmMismatches(mnt, list), []);
      });
    });
    const id3 = list.filter((p) => p.format === "mp3" || p.format === "wav");
    assert.ok(id3.length >= 3);
    await withMount(lib.db, mnt, ["--id3-version", "2.3"], async () => {
      await t.step("--id3-version 2.3: MP3 and WAV tags agree", async () => {
        const problems = await unlisted(mnt, id3, 3);
        assert.deepEqual(problems, [], `unlisted differences:\n${problems.join("\n")}`);
        for (const p of id3) {
          const m = await mutagenTags(`${mnt}/${p.served}`);
          assert.equal(m.id3_version, "2.3", p.name);
        }
      });
      await t.step("--id3-version 2.3: the PCM is identical (ffmpeg)", async () => {
        assert.deepEqual(await pcmMismatches(mnt, id3), []);
      });
    });
  },
});
