// The shared tag vocabulary: canonical lowercase keys and their names
// in ID3v2, MP4 and Vorbis comments. Every lookup is case-insensitive.

/** How a canonical key is written in MP4 ilst. */
export type Mp4Mapping =
  | { kind: "text"; atom: string } // e.g. ©nam (the © is byte 0xA9)
  | { kind: "trkn" } // 8-byte body
  | { kind: "disk" } // 6-byte body
  | { kind: "int"; atom: string; width: 1 | 2 } // tmpo (2), cpil/pgap (1)
  | { kind: "freeform"; name: string }; // ----:com.apple.iTunes:<name>

/** How a canonical key is written in ID3v2. */
export type Id3Mapping =
  | { kind: "text"; frame: string } // T??? text frame
  | { kind: "txxx"; description: string }
  | { kind: "comm" }
  | { kind: "uslt" };

export interface VocabEntry {
  key: string;
  id3: Id3Mapping;
  mp4: Mp4Mapping;
  vorbis: string;
}

export const ITUNES_MEAN = "com.apple.iTunes";

const e = (key: string, id3: Id3Mapping, mp4: Mp4Mapping, vorbis: string): VocabEntry => ({
  key,
  id3,
  mp4,
  vorbis,
});
const t = (frame: string): Id3Mapping => ({ kind: "text", frame });
const x = (description: string): Id3Mapping => ({ kind: "txxx", description });
const mt = (atom: string): Mp4Mapping => ({ kind: "text", atom: "\u00a9" + atom });
const ff = (name: string): Mp4Mapping => ({ kind: "freeform", name });

export const VOCABULARY: readonly VocabEntry[] = [
  e("title", t("TIT2"), mt("nam"), "TITLE"),
  e("artist", t("TPE1"), mt("ART"), "ARTIST"),
  e("album", t("TALB"), mt("alb"), "ALBUM"),
  e("albumartist", t("TPE2"), { kind: "text", atom: "aART" }, "ALBUMARTIST"),
  e("genre", t("TCON"), mt("gen"), "GENRE"),
  e("date", t("TDRC"), mt("day"), "DATE"),
  e("composer", t("TCOM"), mt("wrt"), "COMPOSER"),
  e("grouping", t("TIT1"), mt("grp"), "GROUPING"),
  e("tracknumber", t("TRCK"), { kind: "trkn" }, "TRACKNUMBER"),
  e("discnumber", t("TPOS"), { kind: "disk" }, "DISCNUMBER"),
  e("comment", { kind: "comm" }, mt("cmt"), "COMMENT"),
  e("lyrics", { kind: "uslt" }, mt("lyr"), "LYRICS"),
  e("copyright", t("TCOP"), ff("COPYRIGHT"), "COPYRIGHT"),
  e("isrc", t("TSRC"), ff("ISRC"), "ISRC"),
  e("lyricist", t("TEXT"), ff("LYRICIST"), "LYRICIST"),
  e("conductor", t("TPE3"), ff("CONDUCTOR"), "CONDUCTOR"),
  e(
    "replaygain_track_gain",
    x("REPLAYGAIN_TRACK_GAIN"),
    ff("replaygain_track_gain"),
    "REPLAYGAIN_TRACK_GAIN",
  ),
  e(
    "replaygain_album_gain",
    x("REPLAYGAIN_ALBUM_GAIN"),
    ff("replaygain_album_gain"),
    "REPLAYGAIN_ALBUM_GAIN",
  ),
  e(
    "replaygain_track_peak",
    x("REPLAYGAIN_TRACK_PEAK"),
    ff("replaygain_track_peak"),
    "REPLAYGAIN_TRACK_PEAK",
  ),
  e(
    "replaygain_album_peak",
    x("REPLAYGAIN_ALBUM_PEAK"),
    ff("replaygain_album_peak"),
    "REPLAYGAIN_ALBUM_PEAK",
  ),
  e(
    "musicbrainz_albumid",
    x("MusicBrainz Album Id"),
    ff("MusicBrainz Album Id"),
    "MUSICBRAINZ_ALBUMID",
  ),
  e(
    "musicbrainz_artistid",
    x("MusicBrainz Artist Id"),
    ff("MusicBrainz Artist Id"),
    "MUSICBRAINZ_ARTISTID",
  ),
  e("bpm", t("TBPM"), { kind: "int", atom: "tmpo", width: 2 }, "BPM"),
  e("compilation", t("TCMP"), { kind: "int", atom: "cpil", width: 1 }, "COMPILATION"),
  e("gapless", x("GAPLESS"), { kind: "int", atom: "pgap", width: 1 }, "GAPLESS"),
];

/** ID3-only keys promoted from POPM / UFID frames. */
export const ID3_RATING_KEY = "rating";
export const ID3_PLAYCOUNT_KEY = "playcount";
export const ID3_MB_TRACKID_KEY = "musicbrainz_trackid";
export const MUSICBRAINZ_UFID_OWNER = "http://musicbrainz.org";

/** RIFF LIST/INFO ids for WAV (exact lowercase key match). */
export const RIFF_INFO: ReadonlyMap<string, string> = new Map([
  ["title", "INAM"],
  ["artist", "IART"],
  ["album", "IPRD"],
  ["date", "ICRD"],
  ["genre", "IGNR"],
  ["comment", "ICMT"],
  ["tracknumber", "ITRK"],
]);

const byKey = new Map<string, VocabEntry>();
const byId3Frame = new Map<string, VocabEntry>();
const byTxxx = new Map<string, VocabEntry>();
const byMp4Atom = new Map<string, VocabEntry>();
const byFreeform = new Map<string, VocabEntry>();
const byVorbis = new Map<string, VocabEntry>();
for (const v of VOCABULARY) {
  byKey.set(v.key, v);
  if (v.id3.kind === "text") byId3Frame.set(v.id3.frame, v);
  if (v.id3.kind === "txxx") byTxxx.set(v.id3.description.toLowerCase(), v);
  if (v.mp4.kind === "text" || v.mp4.kind === "int") byMp4Atom.set(v.mp4.atom, v);
  if (v.mp4.kind === "freeform") byFreeform.set(v.mp4.name.toLowerCase(), v);
  byVorbis.set(v.vorbis.toLowerCase(), v);
}

/** The vocabulary entry for a stored key (case-insensitive), if it is canonical. */
export function vocabByKey(key: string): VocabEntry | undefined {
  return byKey.get(key.toLowerCase());
}

/** The entry for an ID3 text frame id (exact, frame ids are uppercase). */
export function vocabById3Frame(frame: string): VocabEntry | undefined {
  return byId3Frame.get(frame);
}

/** The entry for a TXXX description (case-insensitive). */
export function vocabByTxxx(description: string): VocabEntry | undefined {
  return byTxxx.get(description.toLowerCase());
}

/** The entry for an MP4 text or integer atom (exact four-char code, © as U+00A9). */
export function vocabByMp4Atom(atom: string): VocabEntry | undefined {
  return byMp4Atom.get(atom);
}

/** The entry for an iTunes freeform (mean, name), both case-insensitive. */
export function vocabByFreeform(mean: string, name: string): VocabEntry | undefined {
  if (mean.toLowerCase() !== ITUNES_MEAN.toLowerCase()) return undefined;
  return byFreeform.get(name.toLowerCase());
}

/** The entry for a Vorbis comment field name (case-insensitive). */
export function vocabByVorbis(field: string): VocabEntry | undefined {
  return byVorbis.get(field.toLowerCase());
}

/**
 * The scan-time floor for tag keys: empty keys and keys with a byte
 * below 0x20 are dropped silently.
 */
export function keyPassesFloor(key: string): boolean {
  if (key.length === 0) return false;
  for (let i = 0; i < key.length; i++) if (key.charCodeAt(i) < 0x20) return false;
  return true;
}
