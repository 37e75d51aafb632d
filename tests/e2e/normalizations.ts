// The intended differences between an original file and the file a mount
// serves for it, as independent readers see them. Each one is listed in
// docs/formats.md ("What other programs see") under its `doc` phrase; the
// reader comparison test applies them to both views and fails on anything
// else, and fails when a phrase is missing from the docs.

import type { Format } from "../../src/format/types.ts";
import type { ReaderName, View } from "./readers.ts";

export interface Context {
  reader: ReaderName;
  format: Format;
  /** The original's view (already normalized), for rules that allow served-only lines. */
  original: View;
  /** Values of a FLAC file's leading ID3 tag (what folding may add). */
  leadingId3Values: ReadonlySet<string>;
  /** Values of a WAV file's LIST/INFO chunk (what merging may add). */
  riffInfoValues: ReadonlySet<string>;
  /** The mount's `--id3-version` (minor version). */
  id3Version: 3 | 4;
}

export interface Normalization {
  /** The phrase docs/formats.md lists this under. */
  doc: string;
  /** Rewrites the original's view into what the served file is meant to show. */
  original?(v: View, c: Context): View;
  /** Rewrites the served view (for rules about what synthesis adds). */
  served?(v: View, c: Context): View;
}

const ID3_FORMATS: ReadonlySet<Format> = new Set(["mp3", "wav"]);
const OGG_COMMENT: ReadonlySet<Format> = new Set(["opus", "vorbis"]);

const map = (v: View, f: (line: string) => string | null): View =>
  v.map(f).filter((l): l is string => l !== null).sort();

const valueOf = (line: string) => line.slice(line.indexOf("=") + 1);

export const NORMALIZATIONS: readonly Normalization[] = [
  {
    doc: "ID3v1 and other trailers are dropped",
    original: (v, c) =>
      c.format === "mp3" && c.reader === "taglib"
        ? map(v, (l) => l.startsWith("tag1:") ? null : l)
        : v,
  },
  {
    doc: "ID3v2.2 and ID3v2.3 tags are served as ID3v2.4",
    original: (v, c) =>
      ID3_FORMATS.has(c.format) && c.reader === "taglib"
        ? map(
          v,
          (l) => l.replace(/^tag2:format=ID3v2\.[234]\.0$/, `tag2:format=ID3v2.${c.id3Version}.0`),
        )
        : v,
  },
  {
    doc: "with `--id3-version 2.3`, the values of one frame are joined with `/`",
    original: (v, c) => {
      if (!ID3_FORMATS.has(c.format) || c.id3Version !== 3) return v;
      if (c.reader === "taglib") {
        return map(v, (l) => l.startsWith("tag2:") ? l.replaceAll("|", "/") : l);
      }
      if (c.reader !== "mutagen") return v;
      // mutagen lists each value of a text frame as its own line: join them per frame.
      const joined = new Map<string, string[]>();
      const rest: string[] = [];
      for (const l of v) {
        const m = /^(tag:T[A-Z0-9]{3})=(.*)$/s.exec(l);
        if (m === null) rest.push(l);
        else joined.set(m[1], [...(joined.get(m[1]) ?? []), m[2]]);
      }
      return [...rest, ...[...joined].map(([k, vals]) => `${k}=${vals.join("/")}`)].sort();
    },
    // ffprobe shows only the first value of a multi-valued ID3v2.4 frame, so
    // the original shows a prefix of the joined value.
    served: (v, c) => {
      if (!ID3_FORMATS.has(c.format) || c.id3Version !== 3 || c.reader !== "ffprobe") return v;
      return map(v, (l) => c.original.find((o) => l.startsWith(`${o}/`)) ?? l);
    },
  },
  {
    doc: "a TXXX frame described `comment` becomes the comment (COMM)",
    original: (v, c) => {
      if (!ID3_FORMATS.has(c.format)) return v;
      if (c.reader === "mutagen") {
        return map(v, (l) => l.replace(/^tag:TXXX:comment=/, "tag:COMM::XXX="));
      }
      if (c.reader === "taglib") return map(v, (l) => l.replace(/^tag2:comment=/, "tag2:Comment="));
      return v;
    },
  },
  {
    doc: "picture colour depth is written as 0",
    original: (v, c) =>
      c.reader === "mutagen" ? map(v, (l) => l.replace(/ depth=\d+ /, " depth=0 ")) : v,
  },
  {
    doc: "an Ogg picture description may gain up to two trailing spaces",
    served: (v, c) => {
      if (!OGG_COMMENT.has(c.format)) return v;
      return map(v, (l) => {
        if (c.reader === "mutagen") return l.replace(/ desc='(.*?) {1,2}' /, " desc='$1' ");
        if (c.reader === "ffprobe") return /^stream\d+:tag:title=/.test(l) ? l.trimEnd() : l;
        return l.startsWith("tag2:Picture") ? l.trimEnd() : l;
      });
    },
  },
  {
    doc: "a leading ID3 tag on FLAC is folded into the Vorbis comment",
    served: (v, c) =>
      c.format === "flac"
        ? map(v, (l) => !c.original.includes(l) && c.leadingId3Values.has(valueOf(l)) ? null : l)
        : v,
  },
  {
    doc: "WAV LIST/INFO values fill the ID3 tag",
    served: (v, c) =>
      c.format === "wav"
        ? map(v, (l) => !c.original.includes(l) && c.riffInfoValues.has(valueOf(l)) ? null : l)
        : v,
  },
  {
    doc: "a bitrate estimated from the file size",
    original: (v, c) => c.reader === "taglib" ? map(v, (l) => l.replace(/\d+ kbps/, "N kbps")) : v,
    served: (v, c) => c.reader === "taglib" ? map(v, (l) => l.replace(/\d+ kbps/, "N kbps")) : v,
  },
];

/** Both views with every normalization applied: equal when only intended differences remain. */
export function normalize(
  original: View,
  served: View,
  c: Omit<Context, "original">,
): { original: View; served: View } {
  let o = original;
  for (const n of NORMALIZATIONS) if (n.original) o = n.original(o, { ...c, original: o });
  let s = served;
  for (const n of NORMALIZATIONS) if (n.served) s = n.served(s, { ...c, original: o });
  return { original: o, served: s };
}
