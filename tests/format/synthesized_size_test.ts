// synthesizedSize counts what synthesize builds: for every fixture format,
// with the fixture's own rows and with many generated row sets (vocabulary
// and free keys, values in ASCII, Latin-1, CJK, astral and lone-surrogate
// text, several values per key, pictures and binary tags of any length, both
// ID3 versions), the size equals the built layout's size, and where
// synthesis refuses the rows, counting refuses them too. A stat of a file
// sized this way and a read of the built file must agree on every byte.

import assert from "node:assert/strict";
import {
  compareKey,
  FormatError,
  inputFromProbe,
  probePath,
  synthesize,
  synthesizedSize,
} from "../../src/format/mod.ts";
import { utf8Length } from "../../src/format/bytes.ts";
import { BufferSource } from "../../src/format/source.ts";
import type { ArtRef, BinaryTagRef, SynthInput, TagEntry } from "../../src/format/types.ts";
import type { MemoryBlobs } from "../../src/format/mod.ts";
import { fixture, FIXTURE_NAMES } from "../fixtures/fixtures.ts";
import { mulberry32 } from "./mutate.ts";

const KEYS = [
  "title",
  "artist",
  "album",
  "albumartist",
  "tracknumber",
  "discnumber",
  "date",
  "genre",
  "bpm",
  "compilation",
  "comment",
  "lyrics",
  "rating",
  "playcount",
  "musicbrainz_trackid",
  "musicbrainz_albumid",
  "replaygain_track_gain",
  "My Custom Key",
  "KEY=WITH EQUALS",
  "clé",
  "TPE4",
  "id3:COMM:eng:note",
  "id3:USLT:deu:",
  "----:com.apple.iTunes:MOOD",
];

const VALUES = [
  "x",
  "Hello World",
  "3/12",
  "7",
  "128.00",
  "2019-05-04T10:30",
  "1999",
  "Café Noir",
  "東京の夜",
  "emoji 🎵🎶",
  "lone \ud800 surrogate",
  "trailing \udbff",
  "",
  "a".repeat(300),
  "ÿ".repeat(129),
];

const MIMES = ["image/png", "image/jpeg", "IMAGE/PNG", "image/webp", "-->"];
const DESCRIPTIONS = ["", "c", "cover", "Frönt", "表紙", "🎨", "ab"];
const BINARY_KEYS = ["PRIV", "APPLICATION", "CUESHEET", "----:com.apple.iTunes:bin", "GEOB", "x"];

type Outcome = number | "refused";

function outcome(f: () => number): Outcome {
  try {
    return f();
  } catch (e) {
    if (e instanceof FormatError) return "refused";
    throw e;
  }
}

/** Rows a store could hold: random keys and values, pictures and binary tags. */
function generatedRows(
  seed: number,
  base: SynthInput,
  blobs: MemoryBlobs,
): Pick<SynthInput, "tags" | "art" | "binaryTags"> {
  const rand = mulberry32(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)];
  const tags: TagEntry[] = [];
  const ordinals = new Map<string, number>();
  const count = Math.floor(rand() * 14);
  for (let i = 0; i < count; i++) {
    const key = pick(KEYS);
    const ordinal = ordinals.get(key) ?? 0;
    ordinals.set(key, ordinal + 1);
    tags.push({ key, value: pick(VALUES), ordinal });
  }
  tags.sort((a, b) => compareKey(a.key, b.key) || a.ordinal - b.ordinal);
  const art: ArtRef[] = [];
  for (let i = Math.floor(rand() * 3); i > 0; i--) {
    const byteLen = pick([0, 1, 2, 3, 100, 1000, 4097]);
    art.push({
      artId: blobs.addArt(new Uint8Array(byteLen).fill(0x5a)),
      mime: pick(MIMES),
      pictureType: pick([0, 3, 4, 20]),
      description: pick(DESCRIPTIONS),
      width: pick([null, 0, 500]),
      height: pick([null, 500]),
      byteLen,
    });
  }
  const binaryTags: BinaryTagRef[] = [...base.binaryTags];
  for (let i = Math.floor(rand() * 3); i > 0; i--) {
    const length = pick([0, 1, 40, 300]);
    binaryTags.push({
      id: blobs.addBinaryTag(new Uint8Array(length).fill(1)),
      key: pick(BINARY_KEYS),
      ordinal: 10 + i,
      length,
    });
  }
  binaryTags.sort((a, b) => compareKey(a.key, b.key) || a.ordinal - b.ordinal);
  return { tags, art, binaryTags };
}

for (const name of FIXTURE_NAMES) {
  Deno.test(`synthesizedSize: ${name}, its own rows and 60 generated row sets, ID3 v2.3 and v2.4`, async () => {
    const fx = await fixture(name);
    const bytes = await Deno.readFile(fx.path);
    const probed = probePath(fx.path, new BufferSource(bytes));
    assert.ok(probed !== null, `${name} probes`);
    const { input, blobs } = inputFromProbe(probed, bytes.length);
    const backing = new BufferSource(bytes);
    const check = (rows: SynthInput, what: string) => {
      const built = outcome(() => synthesize(rows, backing, blobs).size);
      const counted = outcome(() => synthesizedSize(rows, backing, blobs));
      assert.equal(counted, built, `${name}, ${what}`);
      return built;
    };
    let sized = 0;
    for (const id3Version of [3, 4] as const) {
      if (typeof check({ ...input, id3Version }, `own rows, v2.${id3Version}`) === "number") {
        sized++;
      }
      for (let seed = 1; seed <= 30; seed++) {
        const rows = {
          ...input,
          ...generatedRows(seed * 7919 + id3Version, input, blobs),
          id3Version,
        };
        if (typeof check(rows, `seed ${seed}, v2.${id3Version}`) === "number") sized++;
      }
    }
    // Most row sets are served: the comparison is between two sizes, not two refusals.
    assert.ok(sized >= 40, `${name}: ${sized} of 62 row sets sized`);
    // Refused alike: a NUL in a value (ID3, RIFF INFO), an audio range past the file.
    check({ ...input, tags: [{ key: "title", value: "a\0b", ordinal: 0 }] }, "NUL in a value");
    check({ ...input, audioLength: input.audioLength + bytes.length }, "audio past the file");
    if (input.format === "flac") {
      // A track scanned before structural rows existed: its blocks come from the file.
      check({ ...input, structural: [] }, "no structural rows");
    }
  });
}

Deno.test("utf8Length counts the bytes TextEncoder writes, surrogates and all", () => {
  const encoder = new TextEncoder();
  const units = [0x41, 0x7f, 0x80, 0x7ff, 0x800, 0xfffd, 0xd800, 0xdbff, 0xdc00, 0xdfff, 0xe000];
  const rand = mulberry32(42);
  for (let i = 0; i < 3000; i++) {
    const length = Math.floor(rand() * 8);
    const s = String.fromCharCode(
      ...Array.from({ length }, () => units[Math.floor(rand() * units.length)]),
    );
    assert.equal(utf8Length(s), encoder.encode(s).length, JSON.stringify(s));
  }
  assert.equal(utf8Length("🎵"), 4);
  assert.equal(utf8Length("\ud800"), 3);
});
