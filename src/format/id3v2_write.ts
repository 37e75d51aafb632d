// The ID3v2 writer, shared by MP3 and the WAV `id3 `
// chunk. Generated frames become inline bytes; picture and binary-tag
// payloads stay `art` / `binary-tag` segments streamed from the store.
//
// Output (default, v2.4): header v2.4.0, flags 0, no padding, UTF-8
// (encoding 3) text, synchsafe frame sizes. Frame order: one group per stored
// key in DB order, then one POPM (if a rating parses), one UFID (first
// musicbrainz_trackid), the binary frames, then one APIC per art row.
//
// v2.3 (`--id3-version 2.3`, for players that cannot read v2.4): header
// v2.3.0, plain 32-bit frame sizes, text in ISO-8859-1 when it is ASCII and
// UTF-16 with BOM otherwise (v2.3 has no UTF-8), several values of one text
// frame joined with "/" (v2.3 has no value separator; what mutagen and
// TagLib write), `date` split into TYER/TDAT/TIME, and CHAP/CTOC frames
// (stored from v2.4 tags, whose sub-frame sizes are synchsafe) left out.

import { ByteCounter, type ByteSink, ByteWriter, encodeLatin1 } from "./bytes.ts";
import {
  ID3_MB_TRACKID_KEY,
  ID3_PLAYCOUNT_KEY,
  ID3_RATING_KEY,
  MUSICBRAINZ_UFID_OWNER,
  vocabByKey,
} from "./tagmap.ts";
import { splitDate } from "./id3v2_dates.ts";
import { SegmentList } from "./segments.ts";
import { FormatError, type Id3Version, type Segment, type SynthInput } from "./types.ts";

/** Largest value a synchsafe 28-bit size can hold. */
export const MAX_SYNCHSAFE = 0x0fff_ffff;

export interface Id3Build {
  /** The tag as segments: inline header/frame bytes interleaved with art and binary-tag payloads. */
  segments: Segment[];
  /** Total tag size in bytes (header included). */
  size: number;
}

const LATIN1 = 0;
const UTF16 = 1;
const UTF8 = 3;
const PROMOTED = new Set([ID3_RATING_KEY, ID3_PLAYCOUNT_KEY, ID3_MB_TRACKID_KEY]);
const TEXT_FRAME_KEY = /^T[A-Z0-9]{3}$/;
const FRAME_ID = /^[A-Z0-9]{4}$/;

/**
 * Collects inline bytes and external payload segments, tracking the total
 * size; or, `counting`, only the size (the frames are measured, never
 * written: what a stat needs).
 */
class TagBuilder {
  readonly #out = new SegmentList();
  #counted = 0;

  constructor(readonly version: Id3Version, readonly counting: boolean) {}

  get size(): number {
    return this.counting ? this.#counted : this.#out.size;
  }
  bytes(b: Uint8Array): void {
    if (this.counting) this.#counted += b.length;
    else this.#out.inline(b);
  }
  #frameHeader(id: string, bodySize: number): void {
    if (bodySize > MAX_SYNCHSAFE) {
      throw new FormatError("too-large", `ID3 frame ${id} of ${bodySize} bytes`);
    }
    if (this.counting) {
      this.#counted += 10;
      return;
    }
    this.bytes(encodeLatin1(id));
    this.bytes(this.version === 3 ? u32beBytes(bodySize) : synchsafeBytes(bodySize));
    this.bytes(new Uint8Array(2)); // flags 0
  }
  /**
   * One frame: the body `write` produces, then `payload` (picture or binary
   * tag bytes streamed from the store) when given.
   */
  frame(
    id: string,
    write: (w: ByteSink) => ByteSink,
    payload?: Segment & { length: number },
  ): void {
    const extra = payload?.length ?? 0;
    if (this.counting) {
      const n = write(new ByteCounter()).length;
      this.#frameHeader(id, n + extra);
      this.#counted += n + extra;
      return;
    }
    const w = new ByteWriter();
    write(w);
    const body = w.finish();
    this.#frameHeader(id, body.length + extra);
    this.bytes(body);
    if (payload) this.#out.segment(payload);
  }
  finish(): Segment[] {
    return this.#out.finish();
  }
}

function synchsafeBytes(n: number): Uint8Array {
  return Uint8Array.of((n >>> 21) & 0x7f, (n >>> 14) & 0x7f, (n >>> 7) & 0x7f, n & 0x7f);
}

function u32beBytes(n: number): Uint8Array {
  return Uint8Array.of(n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
}

function noNul(what: string, s: string): void {
  if (s.includes("\0")) throw new FormatError("invalid-input", `embedded NUL in ${what}`);
}

function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false;
  return true;
}

/**
 * How strings are encoded in one tag: v2.4 always UTF-8; v2.3 per frame,
 * ISO-8859-1 when every string of the frame is ASCII, else UTF-16 with BOM.
 */
class TextCoder {
  constructor(readonly version: Id3Version) {}

  /** The encoding byte for a frame holding `strings`. */
  encodingFor(...strings: string[]): number {
    if (this.version === 4) return UTF8;
    return strings.every(isAscii) ? LATIN1 : UTF16;
  }

  /** Appends `s` in `enc` (a UTF-16 string carries its BOM), without terminator. */
  put(w: ByteSink, enc: number, s: string): ByteSink {
    if (enc === UTF8) return w.utf8(s);
    if (enc === LATIN1) return w.latin1(s);
    w.u8(0xff).u8(0xfe);
    for (let i = 0; i < s.length; i++) w.u16le(s.charCodeAt(i));
    return w;
  }

  /** Appends the string terminator of `enc`. */
  end(w: ByteSink, enc: number): ByteSink {
    return enc === UTF16 ? w.u8(0).u8(0) : w.u8(0);
  }
}

function textBody(c: TextCoder, values: string[]): (w: ByteSink) => ByteSink {
  // v2.3 has no separator for several values: readers split on "/" by convention.
  const text = c.version === 3 ? values.join("/") : values.join("\0");
  const enc = c.encodingFor(text);
  return (w) => c.put(w.u8(enc), enc, text);
}

function txxxBody(c: TextCoder, description: string, value: string): (w: ByteSink) => ByteSink {
  const enc = c.encodingFor(description, value);
  return (w) => c.put(c.end(c.put(w.u8(enc), enc, description), enc), enc, value);
}

function langBody(
  c: TextCoder,
  lang: string,
  description: string,
  value: string,
): (w: ByteSink) => ByteSink {
  const enc = c.encodingFor(description, value);
  return (w) =>
    c.put(c.end(c.put(w.u8(enc).latin1(lang.padEnd(3, "X")), enc, description), enc), enc, value);
}

/** `id3:COMM:<lang>:<desc>` / `id3:USLT:<lang>:<desc>` → its parts, when writable. */
function parseLangKey(key: string): { id: string; lang: string; desc: string } | null {
  const m = /^id3:(COMM|USLT):([^:]*):(.*)$/s.exec(key);
  if (m === null || m[2].length > 3 || !/^[\x20-\x7e]*$/.test(m[2])) return null;
  return { id: m[1], lang: m[2], desc: m[3] };
}

function groupByKey(tags: SynthInput["tags"]): Map<string, string[]> {
  const groups = new Map<string, string[]>();
  for (const t of tags) {
    noNul("tag key", t.key);
    noNul(`tag value of ${t.key}`, t.value);
    const g = groups.get(t.key);
    if (g) g.push(t.value);
    else groups.set(t.key, [t.value]);
  }
  return groups;
}

function writeGroup(b: TagBuilder, c: TextCoder, key: string, values: string[]): void {
  const vocab = vocabByKey(key);
  if (vocab) {
    const m = vocab.id3;
    if (m.kind === "text") {
      if (m.frame === "TDRC" && c.version === 3) return writeV23Date(b, c, values);
      return b.frame(m.frame, textBody(c, values));
    }
    for (const v of values) {
      if (m.kind === "txxx") b.frame("TXXX", txxxBody(c, m.description, v));
      else b.frame(m.kind === "comm" ? "COMM" : "USLT", langBody(c, "XXX", "", v));
    }
    return;
  }
  if (TEXT_FRAME_KEY.test(key) && key !== "TXXX") return b.frame(key, textBody(c, values));
  const lang = parseLangKey(key);
  for (const v of values) {
    if (lang) b.frame(lang.id, langBody(c, lang.lang, lang.desc, v));
    else b.frame("TXXX", txxxBody(c, key, v));
  }
}

/**
 * `date` in a v2.3 tag: TYER, TDAT and TIME from the first value (v2.3 has
 * one date per tag); a value that is not a timestamp goes to TYER as it is.
 */
function writeV23Date(b: TagBuilder, c: TextCoder, values: string[]): void {
  const parts = splitDate(values[0]) ?? { TYER: values[0] };
  for (const [id, v] of Object.entries(parts)) b.frame(id, textBody(c, [v]));
}

const DIGITS = /^\d+$/;

function writePopm(b: TagBuilder, groups: Map<string, string[]>): void {
  const rating = groups.get(ID3_RATING_KEY)?.map((v) => v.trim()).find((v) =>
    DIGITS.test(v) && Number(v) <= 255
  );
  if (rating === undefined) return;
  const counts = (groups.get(ID3_PLAYCOUNT_KEY) ?? []).map((v) => v.trim()).filter((v) =>
    DIGITS.test(v)
  );
  const count = counts.length > 0 ? BigInt(counts[counts.length - 1]) : null;
  b.frame("POPM", (w) => {
    w.u8(0).u8(Number(rating));
    return count === null ? w : w.u32be(Number(count > 0xffff_ffffn ? 0xffff_ffffn : count));
  });
}

function writeUfid(b: TagBuilder, groups: Map<string, string[]>): void {
  const id = groups.get(ID3_MB_TRACKID_KEY)?.[0];
  if (id === undefined) return;
  // The identifier is ASCII (a MusicBrainz id), so UTF-8 is right in both versions.
  b.frame("UFID", (w) => w.latin1(MUSICBRAINZ_UFID_OWNER).u8(0).utf8(id));
}

/** v2.4-only frames a v2.3 tag must not carry (their layout differs in v2.3). */
const V24_ONLY_BINARY = new Set(["CHAP", "CTOC"]);

type Id3Input = Pick<SynthInput, "tags" | "binaryTags" | "art" | "id3Version">;

/** Builds the complete ID3v2 tag (v2.4 unless `input.id3Version` is 3) for a track's rows. */
export function buildId3v2(input: Id3Input): Id3Build {
  const b = new TagBuilder(input.id3Version ?? 4, false);
  writeTag(b, input);
  const bodySize = b.size - 10;
  const segments = b.finish();
  // The header was copied into the first inline segment; patch its size there.
  const first = segments[0];
  if (first.kind === "inline") first.bytes.set(synchsafeBytes(bodySize), 6);
  return { segments, size: b.size };
}

/** The size of the tag `buildId3v2` makes for the same rows, counted without building it. */
export function id3v2Size(input: Id3Input): number {
  const b = new TagBuilder(input.id3Version ?? 4, true);
  writeTag(b, input);
  return b.size;
}

function writeTag(b: TagBuilder, input: Id3Input): void {
  const version = b.version;
  const c = new TextCoder(version);
  b.bytes(Uint8Array.of(0x49, 0x44, 0x33, version, 0, 0, 0, 0, 0, 0)); // size patched below
  const groups = groupByKey(input.tags);
  for (const [key, values] of groups) {
    if (PROMOTED.has(key)) continue;
    // A date written as TYER/TDAT/TIME wins over stored frames of those ids.
    if (version === 3 && groups.has("date") && /^(TYER|TDAT|TIME)$/.test(key)) continue;
    writeGroup(b, c, key, values);
  }
  writePopm(b, groups);
  writeUfid(b, groups);
  for (const t of input.binaryTags) {
    // Only keys that are valid frame ids can be written back as frames.
    if (!FRAME_ID.test(t.key) || t.length <= 0) continue;
    if (version === 3 && V24_ONLY_BINARY.has(t.key)) continue;
    b.frame(t.key, (w) => w, { kind: "binary-tag", id: t.id, length: t.length });
  }
  for (const a of input.art) {
    noNul("art mime type", a.mime);
    noNul("art description", a.description);
    if (!Number.isInteger(a.pictureType) || a.pictureType < 0 || a.pictureType > 255) {
      throw new FormatError("invalid-input", `picture type ${a.pictureType}`);
    }
    if (a.byteLen <= 0) continue;
    const enc = c.encodingFor(a.description);
    b.frame("APIC", (w) => {
      w.u8(enc);
      // The MIME type is ASCII in practice; v2.4 tags always carried it as UTF-8 bytes.
      (version === 4 ? w.utf8(a.mime) : w.latin1(a.mime)).u8(0).u8(a.pictureType);
      return c.end(c.put(w, enc, a.description), enc);
    }, { kind: "art", artId: a.artId, length: a.byteLen });
  }
  const bodySize = b.size - 10;
  if (bodySize > MAX_SYNCHSAFE) {
    throw new FormatError("too-large", `ID3 tag of ${bodySize} bytes`);
  }
}
