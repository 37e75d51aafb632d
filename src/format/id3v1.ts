// ID3v1 trailers (the last 128 bytes of an MP3: "TAG", title, artist, album,
// year, comment, genre; ID3v1.1 puts a track number in the comment's last two
// bytes) and the genre list they index, which MP4 `gnre` atoms use too.

import { latin1 } from "./bytes.ts";
import type { TagEntry } from "./types.ts";

/** The ID3v1 genre names (0–79 of the standard, 80–191 of the Winamp extensions). */
// deno-fmt-ignore
export const ID3V1_GENRES: readonly string[] = [
  "Blues", "Classic Rock", "Country", "Dance", "Disco", "Funk", "Grunge", "Hip-Hop", "Jazz",
  "Metal", "New Age", "Oldies", "Other", "Pop", "R&B", "Rap", "Reggae", "Rock", "Techno",
  "Industrial", "Alternative", "Ska", "Death Metal", "Pranks", "Soundtrack", "Euro-Techno",
  "Ambient", "Trip-Hop", "Vocal", "Jazz+Funk", "Fusion", "Trance", "Classical", "Instrumental",
  "Acid", "House", "Game", "Sound Clip", "Gospel", "Noise", "Alt. Rock", "Bass", "Soul", "Punk",
  "Space", "Meditative", "Instrumental Pop", "Instrumental Rock", "Ethnic", "Gothic", "Darkwave",
  "Techno-Industrial", "Electronic", "Pop-Folk", "Eurodance", "Dream", "Southern Rock", "Comedy",
  "Cult", "Gangsta Rap", "Top 40", "Christian Rap", "Pop/Funk", "Jungle", "Native American",
  "Cabaret", "New Wave", "Psychedelic", "Rave", "Showtunes", "Trailer", "Lo-Fi", "Tribal",
  "Acid Punk", "Acid Jazz", "Polka", "Retro", "Musical", "Rock & Roll", "Hard Rock", "Folk",
  "Folk-Rock", "National Folk", "Swing", "Fast-Fusion", "Bebop", "Latin", "Revival", "Celtic",
  "Bluegrass", "Avantgarde", "Gothic Rock", "Progressive Rock", "Psychedelic Rock",
  "Symphonic Rock", "Slow Rock", "Big Band", "Chorus", "Easy Listening", "Acoustic", "Humour",
  "Speech", "Chanson", "Opera", "Chamber Music", "Sonata", "Symphony", "Booty Bass", "Primus",
  "Porn Groove", "Satire", "Slow Jam", "Club", "Tango", "Samba", "Folklore", "Ballad",
  "Power Ballad", "Rhythmic Soul", "Freestyle", "Duet", "Punk Rock", "Drum Solo", "A Cappella",
  "Euro-House", "Dance Hall", "Goa", "Drum & Bass", "Club-House", "Hardcore", "Terror", "Indie",
  "BritPop", "Afro-Punk", "Polsk Punk", "Beat", "Christian Gangsta Rap", "Heavy Metal",
  "Black Metal", "Crossover", "Contemporary Christian", "Christian Rock", "Merengue", "Salsa",
  "Thrash Metal", "Anime", "JPop", "Synthpop", "Abstract", "Art Rock", "Baroque", "Bhangra",
  "Big Beat", "Breakbeat", "Chillout", "Downtempo", "Dub", "EBM", "Eclectic", "Electro",
  "Electroclash", "Emo", "Experimental", "Garage", "Global", "IDM", "Illbient", "Industro-Goth",
  "Jam Band", "Krautrock", "Leftfield", "Lounge", "Math Rock", "New Romantic", "Nu-Breakz",
  "Post-Punk", "Post-Rock", "Psytrance", "Shoegaze", "Space Rock", "Trop Rock", "World Music",
  "Neoclassical", "Audiobook", "Audio Theatre", "Neue Deutsche Welle", "Podcast", "Indie Rock",
  "G-Funk", "Dubstep", "Garage Rock", "Psybient",
];

/** A trailer's text field: Latin-1 up to the first NUL, trimmed. */
function field(b: Uint8Array, from: number, length: number): string {
  const raw = b.subarray(from, from + length);
  const nul = raw.indexOf(0);
  return latin1(nul < 0 ? raw : raw.subarray(0, nul)).trim();
}

/**
 * The rows of a 128-byte ID3v1 trailer (null when it does not start with
 * "TAG"): title, artist, album, date (the year), comment, tracknumber
 * (ID3v1.1) and genre (by index; 255 and unknown indexes mean none).
 */
export function parseId3v1(b: Uint8Array): TagEntry[] | null {
  if (b.length !== 128 || latin1(b.subarray(0, 3)) !== "TAG") return null;
  const out: TagEntry[] = [];
  const push = (key: string, value: string) => {
    if (value !== "") out.push({ key, value, ordinal: 0 });
  };
  push("title", field(b, 3, 30));
  push("artist", field(b, 33, 30));
  push("album", field(b, 63, 30));
  push("date", field(b, 93, 4));
  const v11 = b[125] === 0 && b[126] !== 0;
  push("comment", field(b, 97, v11 ? 28 : 30));
  if (v11) push("tracknumber", String(b[126]));
  push("genre", ID3V1_GENRES[b[127]] ?? "");
  return out;
}
