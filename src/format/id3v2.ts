// ID3v2 entry point: reading (v2.2–v2.4) and the ID3v2.4 writer shared by
// MP3 and WAV `id3 ` chunks.

export {
  assignOrdinals,
  deunsynchronise,
  type Id3Parsed,
  id3TagSize,
  id3v2TagSize,
  MAX_ID3_FRAMES,
  parseId3v2,
} from "./id3v2_read.ts";
export { buildId3v2, type Id3Build, id3v2Size, MAX_SYNCHSAFE } from "./id3v2_write.ts";
