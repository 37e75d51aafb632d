// End to end: odd-but-readable files through the real CLI and a real mount —
// damaged Ogg audio regions (cut-off final page, junk, a partial page; one of
// them with a 200 KB cover linked by an external writer, which renumbers its
// audio pages), FLAC in Ogg with SEEKTABLE/CUESHEET/APPLICATION blocks, WAV
// with streaming sizes and a damaged trailer, and a file whose name is not
// valid UTF-8. The scan exits 0; every served file reads to the end (no EIO)
// and ffmpeg decodes it to the same PCM as the original; mutagen reads its tags.

import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { createHash } from "node:crypto";
import { coverJpeg, fixture, mutagenTags, pcmMd5 } from "../fixtures/fixtures.ts";
import {
  damageOgg,
  encodeOgg,
  longSourceWav,
  OGG_EXT,
  type OggCodec,
  type OggDamage,
  oggFlacWithBlocks,
  streamingWav,
  wavVariants,
} from "../fixtures/odd.ts";
import { mulberry32 } from "../format/mutate.ts";
import { bigJpeg } from "../format/ogg_util.ts";
import {
  musefs,
  noFuse,
  readOrErrno,
  servedExt,
  sqlWrite,
  type TrackRow,
  tracks,
  withMount,
} from "./helpers.ts";
import { closing, scratchDir } from "../scratch.ts";

/** Builds the library; returns backing path → a path with the same bytes ffmpeg can open. */
async function buildLibrary(work: string, lib: string): Promise<Map<string, string>> {
  const originals = new Map<string, string>();
  const add = async (name: string, bytes: Uint8Array) => {
    const path = `${lib}/${name}`;
    await Deno.writeFile(path, bytes);
    originals.set(path, path);
  };
  const wav = await longSourceWav(work);
  const damaged: [OggCodec, OggDamage][] = [
    ["opus", "cut-off final page"],
    ["vorbis", "junk between pages"],
    ["oggflac", "partial page between pages"],
  ];
  for (const [codec, kind] of damaged) {
    const clean = await Deno.readFile(await encodeOgg(codec, wav, work));
    await add(`${codec}-${kind.replaceAll(" ", "-")}.${OGG_EXT[codec]}`, damageOgg(clean, kind));
  }
  await add("blocks.oga", await Deno.readFile(await oggFlacWithBlocks(work)));
  const variants = wavVariants(await streamingWav(work, wav));
  let i = 0;
  for (
    const name of [
      "riff and data sizes guessed past the end (0x7FFFF024/0x7FFFF000)",
      "data size past the end of a cut file",
      "a damaged chunk after the data",
    ]
  ) {
    await add(`streamed-${i++}.wav`, variants[name]);
  }
  // A name that is not UTF-8 (Deno cannot create it; python can).
  const flac = (await fixture("flac")).path;
  const py = await new Deno.Command("/usr/bin/python3", {
    args: [
      "-c",
      "import sys,shutil; shutil.copy(sys.argv[1], sys.argv[2].encode() + b'/caf\\xe9.flac')",
      flac,
      lib,
    ],
  }).output();
  assert.equal(py.code, 0, new TextDecoder().decode(py.stderr));
  originals.set(`${lib}/caf\uFFFD.flac`, flac);
  return originals;
}

/** Links `image` as the front cover of `trackId`, as an external writer would. */
function linkCover(db: string, trackId: number, image: Uint8Array): void {
  using conn = closing(new DatabaseSync(db));
  conn.exec("PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON");
  const sha = createHash("sha256").update(image).digest("hex");
  conn.prepare(
    "INSERT INTO art (sha256, mime, byte_len, data) VALUES (?, 'image/jpeg', ?, ?) " +
      "ON CONFLICT(sha256) DO NOTHING",
  ).run(sha, image.length, image);
  const { id } = conn.prepare("SELECT id FROM art WHERE sha256 = ?").get(sha) as { id: number };
  conn.prepare("DELETE FROM track_art WHERE track_id = ?").run(trackId);
  conn.prepare(
    "INSERT INTO track_art (track_id, art_id, picture_type, ordinal) VALUES (?, ?, 3, 0)",
  ).run(trackId, id);
}

Deno.test({
  name: "e2e: odd files scan with exit 0 and serve to the end, decoding to the original PCM",
  ignore: noFuse,
  async fn() {
    using tmp = scratchDir("musefs-e2e-odd-");
    const base = tmp.path;
    const lib = `${base}/lib`;
    const mnt = `${base}/mnt`;
    const work = `${base}/work`;
    await Promise.all([Deno.mkdir(lib), Deno.mkdir(mnt), Deno.mkdir(work)]);
    const originals = await buildLibrary(work, lib);
    const db = `${base}/lib.db`;
    const scan = await musefs(["scan", lib, "--db", db]);
    assert.equal(scan.code, 0, scan.stderr);
    assert.match(scan.stdout, new RegExp(`: ${originals.size} file\\(s\\).*failed 0`));
    const rows = tracks(db);
    assert.deepEqual(rows.map((r) => r.backing_path).sort(), [...originals.keys()].sort());
    // One title per track (the template renders it), and a 200 KB cover on the cut-off Opus.
    await sqlWrite(
      db,
      "DELETE FROM tags WHERE key = 'title'; " +
        "INSERT INTO tags (track_id, key, value) SELECT id, 'title', 'track-' || id FROM tracks;",
    );
    const opus = rows.find((r) => r.format === "opus")!;
    linkCover(db, opus.id, bigJpeg(await coverJpeg(), 200 * 1024, mulberry32(2)));

    await withMount(db, mnt, ["--template", "$title"], async () => {
      const served = (r: TrackRow) => `${mnt}/track-${r.id}.${servedExt(r.format, r.backing_path)}`;
      const names = [];
      for await (const e of Deno.readDir(mnt)) names.push(e.name);
      assert.deepEqual(names.sort(), rows.map((r) => served(r).slice(mnt.length + 1)).sort());
      for (const r of rows) {
        const what = `${r.backing_path} (served as ${served(r)})`;
        const bytes = await readOrErrno(served(r));
        assert(bytes instanceof Uint8Array, `${what}: read failed with ${bytes}`);
        assert.equal(bytes.length, (await Deno.stat(served(r))).size, `${what}: size`);
        assert.equal(
          await pcmMd5(served(r)),
          await pcmMd5(originals.get(r.backing_path)!),
          `${what}: ffmpeg decodes it as it decodes the original`,
        );
        const m = await mutagenTags(served(r));
        assert.equal(m.normalized.title, `track-${r.id}`, `${what}: mutagen reads the tags`);
        if (r.id === opus.id) assert.equal(m.normalized.pictures.length, 1, "the cover");
      }
    });
  },
});
