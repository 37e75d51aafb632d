// The format layer's BlobSource backed by a store connection: at serve time
// the bytes of art and binary tags stream from the store's rows.
//
// SQLite hands a function like substr() the whole value of a column, so a
// slice of an image read from the store costs the whole image. Synthesis
// reads images in slices (an Ogg file's header pages each carry a slice of
// its cover, and their checksums need the bytes at each slice's ends), so a
// read-only connection given an image cache reads each image once and slices
// it in memory.

import { ArtCrcTable, type ArtText, type BlobSource } from "../format/mod.ts";
import { readArt, readBinaryTag, type Store, StoreError } from "../store/mod.ts";
import type { ArtCache } from "./reader.ts";

/** Prefix-CRC tables of images kept per connection, at most this many. */
const CRC_TABLES = 64;

/**
 * A read-only connection's tables, by image and text form. With an image
 * cache, a table holds while the store's SHA-256 of its image is the one it
 * was built from (the cache checks it once per data_version), so commits
 * that leave the image alone keep it; without one, while the connection's
 * data_version stays (another connection's commit may have replaced an
 * image under its id). A connection that writes gets none: its own commits
 * do not move its data_version.
 */
const crcTables = new WeakMap<Store, Map<string, { table: ArtCrcTable; by: string | number }>>();

/**
 * The blobs of `store`. `images`: the cache whole images are read through
 * (read-only connections only; a writing connection reads slices from the
 * store, since its own commits do not move the data_version the cache checks).
 */
export function storeBlobSource(store: Store, images: ArtCache | null = null): BlobSource {
  const cache = store.mode === "ro" ? images : null;
  // One synthesis runs on one snapshot's rows: the data_version is read once.
  let version = -1;
  const dataVersion = () => version >= 0 ? version : (version = store.dataVersion());
  // The last image, for the rest of this synthesis: one larger than the
  // cache's budget is then read once per file, not once per slice.
  let lastId = -1;
  let last: { sha: string; bytes: Uint8Array } | null = null;
  const imageOf = (cache: ArtCache, artId: number) => {
    if (last === null || lastId !== artId) {
      last = cache.entry(artId, dataVersion());
      lastId = artId;
    }
    return last;
  };
  /** Bytes [offset, offset + length) of `bytes` (art `artId`'s image or text); else the store's short read. */
  const sliceOf = (
    bytes: Uint8Array,
    artId: number,
    what: string,
    offset: number,
    length: number,
  ) => {
    if (offset < 0 || length < 0 || offset + length > bytes.length) {
      throw new StoreError(
        "corrupt",
        `art ${artId}: short read${what} (${bytes.length} bytes, ${length} wanted at ${offset})`,
        store.path,
      );
    }
    return bytes.subarray(offset, offset + length);
  };
  const source: BlobSource = {
    art: (artId, offset, length) =>
      cache === null
        ? readArt(store, artId, offset, length)
        : sliceOf(imageOf(cache, artId).bytes, artId, "", offset, length),
    binaryTag: (id, offset, length) => readBinaryTag(store, id, offset, length),
  };
  if (cache !== null) {
    // Vorbis and Opus pages carry the image as base64 text: slices of the
    // cached text (the checksums' ends, short slices) need no encoding.
    source.artText = (artId, offset, length) => {
      const text = cache.text(artId, dataVersion());
      return text === undefined ? undefined : sliceOf(text, artId, " of its text", offset, length);
    };
  }
  if (store.mode === "ro") {
    source.artCrc = (art: ArtText, offset, length) => {
      let tables = crcTables.get(store);
      if (tables === undefined) crcTables.set(store, tables = new Map());
      const by = cache === null ? dataVersion() : imageOf(cache, art.artId).sha;
      const key = `${art.artId}:${art.base64}:${art.artTotal}`;
      let kept = tables.get(key);
      if (kept === undefined || kept.by !== by) {
        if (kept === undefined && tables.size >= CRC_TABLES) {
          tables.delete(tables.keys().next().value!);
        }
        kept = { table: ArtCrcTable.build(art, source), by };
        tables.set(key, kept);
      }
      return kept.table.slice(offset, length, source);
    };
  }
  return source;
}
