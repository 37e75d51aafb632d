// End to end: scan the fixtures, mount with the real CLI, then check what a
// user's tools see — the tree the template promises, audio that decodes to
// the backing file's PCM, tags and art as stored (read by mutagen), sane
// ls/find/stat/du, and correct bytes under concurrent readers.

import assert from "node:assert/strict";
import { mutagenTags, pcmMd5 } from "../fixtures/fixtures.ts";
import {
  artRows,
  expectedFiles,
  type Library,
  listFiles,
  noFuse,
  q,
  sanitize,
  scannedLibrary,
  servedExt,
  shOk,
  textTags,
  type TrackRow,
  tracks,
  withMount,
} from "./helpers.ts";

/** First text value of `key`, or the default fallback. */
function field(db: string, id: number, key: string): string {
  return sanitize(textTags(db, id).get(key)?.[0] || "Unknown");
}

function defaultStem(db: string) {
  return (t: TrackRow) =>
    ["albumartist", "album", "title"].map((k) => field(db, t.id, k)).join("/");
}

/** Run `fn` over `items`, at most `limit` at a time (2 cores shared with other work). */
async function pool<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]);
  };
  await Promise.all(Array.from({ length: limit }, worker));
}

function sameArray(a: readonly string[], b: readonly string[], what: string) {
  assert.deepEqual([...a], [...b], what);
}

async function checkTagsAndArt(lib: Library, path: string, row: TrackRow): Promise<void> {
  const m = await mutagenTags(path);
  const tags = textTags(lib.db, row.id);
  const one = (k: string) => tags.get(k)?.[0] ?? null;
  const where = `${path} (track ${row.id}, ${row.format})`;
  assert.equal(m.normalized.title, one("title"), `title of ${where}`);
  assert.equal(m.normalized.album, one("album"), `album of ${where}`);
  assert.equal(m.normalized.genre, one("genre"), `genre of ${where}`);
  if (row.format !== "wav") {
    // WAV: mutagen reads the id3 chunk (all values); elsewhere the same.
    assert.equal(m.normalized.albumartist, one("albumartist"), `albumartist of ${where}`);
  }
  sameArray(m.normalized.artist, tags.get("artist") ?? [], `artists of ${where}`);
  const stored = artRows(lib.db, row.id);
  assert.equal(m.normalized.pictures.length, stored.length, `picture count of ${where}`);
  stored.forEach((a, i) => {
    const p = m.normalized.pictures[i];
    assert.equal(p.sha256, a.sha256, `picture ${i} bytes of ${where}`);
    assert.equal(p.mime, a.mime, `picture ${i} mime of ${where}`);
    if (row.format === "m4a") return; // MP4 covr carries no type or description
    assert.equal(p.type, a.picture_type, `picture ${i} type of ${where}`);
    // Ogg pads the description with up to two spaces (base64 alignment).
    const desc = row.format === "opus" || row.format === "vorbis"
      ? p.description.replace(/ {0,2}$/, "")
      : p.description;
    assert.equal(desc, a.description, `picture ${i} description of ${where}`);
  });
}

Deno.test({
  name: "e2e: scan + mount: tree, PCM, tags, art, tools, concurrency",
  ignore: noFuse,
  async fn(t) {
    await using lib = await scannedLibrary();
    const rows = tracks(lib.db);
    assert.equal(rows.length, lib.fixtures.size, "every fixture scanned");
    const mnt = `${lib.base}/mnt`;
    const byId = new Map(rows.map((r) => [r.id, r]));
    const expected = expectedFiles(rows, defaultStem(lib.db));
    await withMount(lib.db, mnt, [], async () => {
      await t.step("the tree matches the default template", async () => {
        assert.deepEqual(await listFiles(mnt), [...expected.keys()].sort());
        // The fixtures collide pairwise (two flac, two m4a, two mp3): ranked by id.
        assert.ok([...expected.keys()].some((p) => p.endsWith(" (2).flac")));
      });

      await t.step("every file decodes to the PCM of its backing file", async () => {
        await pool([...expected], 2, async ([rel, id]) => {
          const backing = byId.get(id)!.backing_path;
          assert.equal(await pcmMd5(`${mnt}/${rel}`), await pcmMd5(backing), rel);
        });
      });

      await t.step("mutagen reads the tags and art of the store", async () => {
        await pool(
          [...expected],
          2,
          (e) => checkTagsAndArt(lib, `${mnt}/${e[0]}`, byId.get(e[1])!),
        );
      });

      // The bytes each file serves, read once, sequentially: the reference below.
      const bytes = new Map<string, Uint8Array>();
      for (const rel of expected.keys()) bytes.set(rel, await Deno.readFile(`${mnt}/${rel}`));

      await t.step("ls -lR, find, stat and du agree with the bytes read", async () => {
        const lsOut = await shOk(`ls -lR ${q(mnt)}`);
        for (const [rel, b] of bytes) {
          const name = rel.split("/").pop()!;
          const line = lsOut.split("\n").find((l) => l.endsWith(` ${name}`));
          assert.ok(line, `ls -lR lists ${name}`);
          assert.match(line!, /^-r--r--r-- /, `mode of ${name}`);
          assert.equal(line!.trim().split(/\s+/)[4], String(b.length), `ls size of ${name}`);
        }
        const found = (await shOk(`cd ${q(mnt)} && find . -type f ! -path './.musefs-metrics/*'`))
          .trim().split("\n").map((l) => l.slice(2)).sort();
        assert.deepEqual(found, [...expected.keys()].sort());
        const dirs = (await shOk(`cd ${q(mnt)} && find . -mindepth 1 -type d`)).trim().split(
          "\n",
        );
        assert.deepEqual(dirs.sort(), [
          "./Various Ärtists",
          "./Various Ärtists/Älbum of Fixtures",
        ]);
        let apparent = 0;
        for (const [rel, b] of bytes) {
          const p = `${mnt}/${rel}`;
          const [size, blocks, unit] = (await shOk(`stat -c '%s %b %B' ${q(p)}`)).trim().split(
            " ",
          )
            .map(Number);
          assert.equal(size, b.length, `stat size of ${rel}`);
          assert.equal(unit, 512, `block unit of ${rel}`);
          assert.equal(blocks, Math.ceil(b.length / 512), `st_blocks of ${rel}`);
          const du = Number((await shOk(`du -B1 ${q(p)}`)).split("\t")[0]);
          assert.equal(du, Math.ceil(b.length / 512) * 512, `du of ${rel}`);
          const info = await Deno.stat(p);
          assert.equal(info.size, b.length);
          apparent += b.length;
        }
        const total = Number((await shOk(`du -sb ${q(mnt)}`)).split("\t")[0]);
        assert.equal(total, apparent, "du --apparent-size of the whole mount");
      });

      await t.step("8 concurrent readers and a tree walker all get correct bytes", async () => {
        // A mount where nothing is cached by the kernel: every read and stat reaches it.
        const mnt3 = `${lib.base}/mnt3`;
        await Deno.mkdir(mnt3);
        const flags = ["--keep-cache", "false", "--attr-ttl-ms", "0", "--expose-metrics"];
        await withMount(lib.db, mnt3, flags, async () => {
          const names = [...bytes.keys()];
          let seed = 12345;
          const rand = (n: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
          const readers = Array.from({ length: 8 }, async (_, r) => {
            for (let round = 0; round < 3; round++) {
              for (let i = 0; i < names.length; i++) {
                const rel = names[(i + r) % names.length];
                const want = bytes.get(rel)!;
                using f = await Deno.open(`${mnt3}/${rel}`);
                // Whole file, then a few ranges at random offsets.
                const whole = new Uint8Array(want.length + 1);
                let n = 0;
                for (let k; (k = await f.read(whole.subarray(n))) !== null;) n += k;
                assert.equal(n, want.length, `reader ${r}: size of ${rel}`);
                assert.ok(whole.subarray(0, n).every((v, k) => v === want[k]), `${rel} differs`);
                for (let j = 0; j < 4; j++) {
                  const at = rand(want.length), len = 1 + rand(8192);
                  await f.seek(at, Deno.SeekMode.Start);
                  const part = new Uint8Array(len);
                  const got = (await f.read(part)) ?? 0;
                  const expect = want.subarray(at, at + len);
                  assert.ok(got > 0 && got <= expect.length, `read at ${at} of ${rel}`);
                  assert.ok(
                    part.subarray(0, got).every((v, k) => v === expect[k]),
                    `${rel}@${at}`,
                  );
                }
              }
            }
          });
          const walker = shOk(
            `for i in 1 2 3 4 5; do find ${q(mnt3)} -exec stat -c '%s %n' {} + >/dev/null; done`,
          );
          // Also readers in other processes.
          const subprocessReaders = shOk(
            `cd ${q(mnt3)} && for i in 1 2; do find . -type f ! -path './.musefs-metrics/*' ` +
              `-exec sha256sum {} + & done; wait`,
          );
          await Promise.all([...readers, walker]);
          const sums = (await subprocessReaders).trim().split("\n");
          assert.equal(sums.length, 2 * bytes.size);
          for (const line of sums) {
            const [hash, path] = [line.slice(0, 64), line.slice(68)];
            const digest = new Uint8Array(
              await crypto.subtle.digest("SHA-256", bytes.get(path)! as Uint8Array<ArrayBuffer>),
            );
            assert.equal(
              hash,
              Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join(""),
            );
          }
          // The reads reached the mount (nothing answered from the kernel's cache alone).
          // Without --keep-cache the kernel drops a file's pages when it is opened, so
          // each of one reader's opens (one after another) is followed, before its
          // read returns, by at least one READ that reached the mount: its own, or
          // that of an overlapping open of the same file whose pages it then found.
          // So one reader alone accounts for 3 × files READs; the count across all
          // readers can be lower than one per open, as overlapping opens share pages.
          // A kernel keeping its cache would have sent about one per file.
          const metrics = await Deno.readTextFile(`${mnt3}/.musefs-metrics/metrics`);
          const count = (name: string) =>
            Number(new RegExp(`^${name} (\\d+)$`, "m").exec(metrics)?.[1] ?? 0);
          const served = count("musefs_reads_inline_total") +
            count("musefs_reads_offloaded_total");
          assert.ok(served >= 3 * names.length, `only ${served} reads reached the mount`);
          assert.equal(count("musefs_read_errors_total"), 0);
        });
      });

      await t.step("a custom template with ${tracknumber:02} and $ext", async () => {
        const mnt2 = `${lib.base}/mnt2`;
        await Deno.mkdir(mnt2);
        const template = "$ext/${tracknumber:02} $title";
        const want = expectedFiles(rows, (r) => {
          const n = (textTags(lib.db, r.id).get("tracknumber")?.[0] ?? "").split("/")[0];
          return `${servedExt(r.format, r.backing_path)}/${n.padStart(2, "0")} ` +
            field(lib.db, r.id, "title");
        });
        await withMount(lib.db, mnt2, ["--template", template], async () => {
          const files = await listFiles(mnt2);
          assert.deepEqual(files, [...want.keys()].sort());
          assert.ok(files.includes("flac/03 Ça va — 東京 ♫.flac"), files.join("\n"));
          // Same tags, same bytes: each track serves what the default mount serves.
          const relById = new Map([...expected].map(([rel, id]) => [id, rel]));
          for (const [rel, id] of want) {
            const got = await Deno.readFile(`${mnt2}/${rel}`);
            assert.deepEqual(got, bytes.get(relById.get(id)!), rel);
          }
        });
      });
    });
  },
});
