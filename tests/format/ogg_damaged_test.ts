// Ogg files whose audio region is not a clean run of complete pages, as
// real files come: a cut-off final page, junk between pages, a partial page
// between pages — for Opus, Vorbis and FLAC in Ogg made by the encoders.
// They are ingested, and the served file (as is, and with a 200 KB cover that
// renumbers every audio page) decodes in ffmpeg to the same PCM as the
// original, reads the same in mutagen, and serves every byte range.

import assert from "node:assert/strict";
import { probeOgg } from "../../src/format/ogg/mod.ts";
import { BufferSource } from "../../src/format/source.ts";
import { coverJpeg, mutagenTags, pcmMd5, run, tempDir } from "../fixtures/fixtures.ts";
import { addArt, assertRandomRanges, type RoundTrip, roundTrip, setTag } from "./harness.ts";
import { mulberry32 } from "./mutate.ts";
import { bigJpeg, canonicalPages, naiveRepatch, walkPages } from "./ogg_util.ts";

type Codec = "opus" | "vorbis" | "oggflac";

/** A 4 s tone-and-noise source: long enough for dozens of audio pages. */
async function sourceWav(dir: string): Promise<string> {
  const path = `${dir}/source.wav`;
  await run([
    "ffmpeg",
    "-v",
    "error",
    "-y",
    "-f",
    "lavfi",
    "-i",
    "sine=frequency=330:duration=4,aformat=channel_layouts=stereo",
    "-f",
    "lavfi",
    "-i",
    "anoisesrc=d=4:a=0.05:seed=7",
    "-filter_complex",
    "amix=inputs=2",
    "-ar",
    "44100",
    "-c:a",
    "pcm_s16le",
    "-bitexact",
    path,
  ], { check: true });
  return path;
}

async function encode(codec: Codec, wav: string, dir: string): Promise<string> {
  const tags = ["TITLE=Damaged", "ARTIST=Encoder", "ALBUM=Odd Pages", "TRACKNUMBER=4"];
  switch (codec) {
    case "opus": {
      const out = `${dir}/clean.opus`;
      const args = tags.flatMap((t) => ["--comment", t]);
      await run(
        ["opusenc", "--quiet", "--max-delay", "20", "--serial", "4242", ...args, wav, out],
        { check: true },
      );
      return out;
    }
    case "vorbis": {
      const out = `${dir}/clean.ogg`;
      const args = tags.flatMap((t) => ["-c", t]);
      await run(["oggenc", "-Q", "--serial", "4343", "-q", "2", ...args, "-o", out, wav], {
        check: true,
      });
      return out;
    }
    case "oggflac": {
      const out = `${dir}/clean.oga`;
      const args = tags.flatMap((t) => ["-T", t]);
      await run(["flac", "-s", "--ogg", "--serial-number=4444", ...args, "-o", out, wav], {
        check: true,
      });
      return out;
    }
  }
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

type Damage = "cut-off final page" | "junk between pages" | "partial page between pages";
const DAMAGES: Damage[] = [
  "cut-off final page",
  "junk between pages",
  "partial page between pages",
];

/** `clean` with its audio region damaged. */
function damage(clean: Uint8Array, kind: Damage): Uint8Array {
  const audioOffset = probeOgg(new BufferSource(clean)).audioOffset;
  const pages = walkPages(clean, audioOffset);
  assert(pages.length >= 8, `${pages.length} audio pages`);
  const mid = pages[Math.floor(pages.length / 2)];
  const rand = mulberry32(99);
  switch (kind) {
    case "cut-off final page": {
      const last = pages[pages.length - 1];
      return clean.slice(0, last.offset + Math.floor(last.size / 2));
    }
    case "junk between pages": {
      const junk = new Uint8Array(333).map(() => (rand() * 256) | 0);
      return concat([clean.subarray(0, mid.offset), junk, clean.subarray(mid.offset)]);
    }
    case "partial page between pages": {
      // The first 40% of a later page, as a broken concatenation leaves it.
      const donor = pages[pages.length - 3];
      const part = clean.subarray(donor.offset, donor.offset + Math.floor(donor.size * 0.4));
      return concat([clean.subarray(0, mid.offset), part, clean.subarray(mid.offset)]);
    }
  }
}

/** mutagen's core view, or the error text when mutagen cannot read the file. */
async function mutagenCore(path: string): Promise<unknown> {
  try {
    const v = await mutagenTags(path);
    return { title: v.normalized.title, artist: v.normalized.artist, album: v.normalized.album };
  } catch (e) {
    return `unreadable: ${String(e).split("\n").at(-2)}`;
  }
}

async function checkServed(rt: RoundTrip, title: string): Promise<void> {
  // Every range served, and the served audio is the reference re-patch of the original's.
  assertRandomRanges(rt, 150, 11);
  const audio = rt.layout.segments.at(-1)!;
  assert(audio.kind === "ogg-audio");
  const original = rt.originalBytes.subarray(audio.offset, audio.offset + audio.length);
  const served = rt.bytes.subarray(rt.bytes.length - audio.length);
  assert.deepEqual(served, naiveRepatch(original, audio.seqDelta), "served audio region");
  assert.equal(
    await pcmMd5(rt.outPath),
    await pcmMd5(rt.path),
    "ffmpeg decodes the served file as it decodes the original",
  );
  const m = await mutagenTags(rt.outPath);
  assert.equal(m.normalized.title, title, "mutagen reads the served tags");
}

for (const codec of ["opus", "vorbis", "oggflac"] as Codec[]) {
  Deno.test(`ogg damaged ${codec}: cut-off, junk and partial pages serve and decode`, async () => {
    const dir = await tempDir("musefs-ogg-damaged-");
    try {
      const clean = await Deno.readFile(await encode(codec, await sourceWav(dir), dir));
      const cover = bigJpeg(await coverJpeg(), 200 * 1024, mulberry32(5));
      for (const kind of DAMAGES) {
        const bytes = damage(clean, kind);
        const ext = codec === "opus" ? "opus" : codec === "vorbis" ? "ogg" : "oga";
        const path = `${dir}/${kind.replaceAll(" ", "_")}.${ext}`;
        await Deno.writeFile(path, bytes);
        const probe = probeOgg(new BufferSource(bytes));
        assert.equal(probe.format, codec);
        assert.equal(probe.audioOffset + probe.audioLength, bytes.length, "the audio runs to EOF");
        // Every real page is a page; the damage is not.
        const cleanPages = walkPages(clean, probe.audioOffset).length;
        assert.equal(
          canonicalPages(bytes.subarray(probe.audioOffset)).length,
          kind === "cut-off final page" ? cleanPages - 1 : cleanPages,
        );
        const asIs = await roundTrip(path, { dir: `${dir}` });
        try {
          await checkServed(asIs, "Damaged");
          assert.deepEqual(await mutagenCore(asIs.outPath), await mutagenCore(path), kind);
        } catch (e) {
          throw new Error(`${kind}, served as is: ${e}`);
        }
        // A 200 KB cover adds header pages: every audio page is renumbered.
        const edited = await roundTrip(path, {
          dir: `${dir}`,
          edit(input, blobs) {
            setTag(input, "title", ["With cover"]);
            addArt(input, blobs, cover, { mime: "image/jpeg", pictureType: 3 });
          },
        });
        try {
          const seg = edited.layout.segments.at(-1)!;
          assert(seg.kind === "ogg-audio" && seg.seqDelta !== 0, "audio pages renumbered");
          await checkServed(edited, "With cover");
        } catch (e) {
          throw new Error(`${kind}, with a 200 KB cover: ${e}`);
        }
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}
