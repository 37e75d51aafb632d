// The ID3v2.4 writer (F§4 "MP3" synthesis), shared by MP3 and the WAV
// `id3 ` chunk. Generated frames become inline bytes; picture and binary-tag
// payloads stay `art` / `binary-tag` segments streamed from the store.
//
// Output: header v2.4.0, flags 0, no padding, UTF-8 (encoding 3) text,
// synchsafe sizes. Frame order: one group per stored key in DB order, then
// one POPM (if a rating parses), one UFID (first musicbrainz_trackid), the
// binary frames, then one APIC per art row.

import { ByteWriter, encodeLatin1, encodeUtf8 } from "./bytes.ts";
import {
  ID3_MB_TRACKID_KEY,
  ID3_PLAYCOUNT_KEY,
  ID3_RATING_KEY,
  MUSICBRAINZ_UFID_OWNER,
  vocabByKey,
} from "./tagmap.ts";
import { FormatError, type Segment, type SynthInput } from "./types.ts";

/** Largest value a synchsafe 28-bit size can hold. */
export const MAX_SYNCHSAFE = 0x0fff_ffff;

export interface Id3Build {
  /** The tag as segments: inline header/frame bytes interleaved with art and binary-tag payloads. */
  segments: Segment[];
  /** Total tag size in bytes (header included). */
  size: number;
}

const UTF8 = 3;
const PROMOTED = new Set([ID3_RATING_KEY, ID3_PLAYCOUNT_KEY, ID3_MB_TRACKID_KEY]);
const TEXT_FRAME_KEY = /^T[A-Z0-9]{3}$/;
const FRAME_ID = /^[A-Z0-9]{4}$/;

/** Collects inline bytes and external payload segments, tracking the total size. */
class TagBuilder {
  readonly segments: Segment[] = [];
  #w = new ByteWriter(1024);
  size = 0;

  bytes(b: Uint8Array): void {
    this.#w.bytes(b);
    this.size += b.length;
  }
  external(seg: Segment & { length: number }): void {
    this.#flush();
    this.segments.push(seg);
    this.size += seg.length;
  }
  frameHeader(id: string, bodySize: number): void {
    if (bodySize > MAX_SYNCHSAFE) {
      throw new FormatError("too-large", `ID3 frame ${id} of ${bodySize} bytes`);
    }
    this.bytes(encodeLatin1(id));
    this.bytes(synchsafeBytes(bodySize));
    this.bytes(new Uint8Array(2)); // flags 0
  }
  frame(id: string, body: Uint8Array): void {
    this.frameHeader(id, body.length);
    this.bytes(body);
  }
  finish(): Segment[] {
    this.#flush();
    return this.segments;
  }
  #flush(): void {
    if (this.#w.length === 0) return;
    this.segments.push({ kind: "inline", bytes: this.#w.finish() });
    this.#w = new ByteWriter(1024);
  }
}

function synchsafeBytes(n: number): Uint8Array {
  return Uint8Array.of((n >>> 21) & 0x7f, (n >>> 14) & 0x7f, (n >>> 7) & 0x7f, n & 0x7f);
}

function noNul(what: string, s: string): void {
  if (s.includes("\0")) throw new FormatError("invalid-input", `embedded NUL in ${what}`);
}

function textBody(values: string[]): Uint8Array {
  const text = encodeUtf8(values.join("\0"));
  const b = new Uint8Array(1 + text.length);
  b[0] = UTF8;
  b.set(text, 1);
  return b;
}

function txxxBody(description: string, value: string): Uint8Array {
  return new ByteWriter().u8(UTF8).utf8(description).u8(0).utf8(value).finish();
}

function langBody(lang: string, description: string, value: string): Uint8Array {
  return new ByteWriter().u8(UTF8).latin1(lang.padEnd(3, "X")).utf8(description).u8(0).utf8(value)
    .finish();
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

function writeGroup(b: TagBuilder, key: string, values: string[]): void {
  const vocab = vocabByKey(key);
  if (vocab) {
    const m = vocab.id3;
    if (m.kind === "text") return b.frame(m.frame, textBody(values));
    for (const v of values) {
      if (m.kind === "txxx") b.frame("TXXX", txxxBody(m.description, v));
      else b.frame(m.kind === "comm" ? "COMM" : "USLT", langBody("XXX", "", v));
    }
    return;
  }
  if (TEXT_FRAME_KEY.test(key) && key !== "TXXX") return b.frame(key, textBody(values));
  const lang = parseLangKey(key);
  for (const v of values) {
    if (lang) b.frame(lang.id, langBody(lang.lang, lang.desc, v));
    else b.frame("TXXX", txxxBody(key, v));
  }
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
  const w = new ByteWriter().u8(0).u8(Number(rating));
  if (counts.length > 0) {
    const n = BigInt(counts[counts.length - 1]);
    w.u32be(Number(n > 0xffff_ffffn ? 0xffff_ffffn : n));
  }
  b.frame("POPM", w.finish());
}

function writeUfid(b: TagBuilder, groups: Map<string, string[]>): void {
  const id = groups.get(ID3_MB_TRACKID_KEY)?.[0];
  if (id === undefined) return;
  b.frame("UFID", new ByteWriter().latin1(MUSICBRAINZ_UFID_OWNER).u8(0).utf8(id).finish());
}

/** Builds the complete ID3v2.4 tag for a track's rows. */
export function buildId3v2(input: Pick<SynthInput, "tags" | "binaryTags" | "art">): Id3Build {
  const b = new TagBuilder();
  b.bytes(Uint8Array.of(0x49, 0x44, 0x33, 4, 0, 0, 0, 0, 0, 0)); // size patched below
  const groups = groupByKey(input.tags);
  for (const [key, values] of groups) {
    if (!PROMOTED.has(key)) writeGroup(b, key, values);
  }
  writePopm(b, groups);
  writeUfid(b, groups);
  for (const t of input.binaryTags) {
    // Only keys that are valid frame ids can be written back as frames.
    if (!FRAME_ID.test(t.key) || t.length <= 0) continue;
    b.frameHeader(t.key, t.length);
    b.external({ kind: "binary-tag", id: t.id, length: t.length });
  }
  for (const a of input.art) {
    noNul("art mime type", a.mime);
    noNul("art description", a.description);
    if (!Number.isInteger(a.pictureType) || a.pictureType < 0 || a.pictureType > 255) {
      throw new FormatError("invalid-input", `picture type ${a.pictureType}`);
    }
    if (a.byteLen <= 0) continue;
    const prefix = new ByteWriter().u8(UTF8).utf8(a.mime).u8(0).u8(a.pictureType)
      .utf8(a.description).u8(0).finish();
    b.frameHeader("APIC", prefix.length + a.byteLen);
    b.bytes(prefix);
    b.external({ kind: "art", artId: a.artId, length: a.byteLen });
  }
  const bodySize = b.size - 10;
  if (bodySize > MAX_SYNCHSAFE) {
    throw new FormatError("too-large", `ID3 tag of ${bodySize} bytes`);
  }
  const segments = b.finish();
  // The header was copied into the first inline segment; patch its size there.
  const first = segments[0];
  if (first.kind === "inline") first.bytes.set(synchsafeBytes(bodySize), 6);
  return { segments, size: b.size };
}
