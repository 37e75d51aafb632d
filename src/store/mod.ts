// Public API of the store layer: open a store, then read and write it
// through the typed functions below. Knows nothing of formats beyond the
// plain row shapes of src/format/types.ts.
export { StoreError, type StoreErrorKind, toStoreError } from "./errors.ts";
export {
  CHANGELOG_CAP,
  migrate,
  MIGRATE_V1_TO_V2,
  readUserVersion,
  SCHEMA_V1,
  SCHEMA_VERSION,
} from "./schema.ts";
export { checkIdentity, schemaProblems } from "./identity.ts";
export { BUSY_TIMEOUT_MS, type OpenOptions, openStore, Store, type StoreMode } from "./open.ts";
export {
  contentVersion,
  deleteTrack,
  getTrack,
  getTrackByPath,
  getTracks,
  hasTrackAt,
  listBackingPaths,
  listRenderKeys,
  listTrackIds,
  listTracks,
  type RetargetInput,
  retargetTrack,
  setTrackChecksums,
  type TrackInput,
  type TrackRow,
  tracksByFingerprint,
  upsertTrack,
} from "./tracks.ts";
export {
  listBinaryTagRefs,
  listTextTags,
  MAX_ROWS_PER_TRACK,
  readBinaryTag,
  replaceBinaryTags,
  replaceTextTags,
  tagsForTracks,
} from "./tags.ts";
export {
  artDigest,
  type ArtInput,
  type ArtLink,
  type ArtMeta,
  deleteUnreferencedArt,
  getArtMeta,
  listTrackArt,
  readArt,
  replaceTrackArt,
  replaceTrackPictures,
  sha256Hex,
  upsertArt,
} from "./art.ts";
export {
  hasStructuralBlocks,
  listStructuralBlocks,
  replaceStructuralBlocks,
} from "./structural.ts";
export { BATCH_ROWS_PER_TRACK, readSynthRows, type SynthRows } from "./synth_rows.ts";
export { changelogBounds, changelogHasGap, type ChangelogRead, changelogSince } from "./changes.ts";
export { storeFilesBytes, vacuumStore } from "./maintenance.ts";
export {
  artBytes,
  type BinaryTagInfo,
  binaryTagInfo,
  groupTags,
  setTextTags,
  setTrackArt,
  type TagCondition,
  type TrackArtInfo,
  trackArtInfo,
  trackArtLinks,
  trackIdsAtOrUnder,
  trackIdsWhere,
} from "./curate.ts";
export {
  type CatalogTagRow,
  catalogTagsBetween,
  catalogTagsOf,
  type CatalogTrackRow,
  catalogTracksOf,
  catalogTracksPage,
  catalogUnsafeIds,
} from "./catalog.ts";
export {
  type DirectoryTracks,
  firstTrackUnder,
  tracksAtOrUnder,
  tracksInDirectory,
} from "./paths.ts";
