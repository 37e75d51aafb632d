// The format layer's BlobSource backed by a store connection: at serve time
// the bytes of art and binary tags stream from the store's rows.

import { ArtCrcTable, type ArtText, type BlobSource } from "../format/mod.ts";
import { readArt, readBinaryTag, type Store } from "../store/mod.ts";

/** Prefix-CRC tables of images kept per connection, at most this many. */
const CRC_TABLES = 64;

/**
 * A read-only connection's tables, valid while its data_version stays
 * (another connection's commit may have replaced an image's bytes under its
 * id). A connection that writes gets none: its own commits do not move its
 * data_version.
 */
const crcTables = new WeakMap<Store, { version: number; tables: Map<string, ArtCrcTable> }>();

export function storeBlobSource(store: Store): BlobSource {
  const source: BlobSource = {
    art: (artId, offset, length) => readArt(store, artId, offset, length),
    binaryTag: (id, offset, length) => readBinaryTag(store, id, offset, length),
  };
  if (store.mode === "ro") {
    source.artCrc = (art: ArtText, offset, length) => {
      const version = store.dataVersion();
      let kept = crcTables.get(store);
      if (kept === undefined || kept.version !== version) {
        kept = { version, tables: new Map() };
        crcTables.set(store, kept);
      }
      const key = `${art.artId}:${art.base64}:${art.artTotal}`;
      let table = kept.tables.get(key);
      if (table === undefined) {
        table = ArtCrcTable.build(art, source);
        if (kept.tables.size >= CRC_TABLES) kept.tables.delete(kept.tables.keys().next().value!);
        kept.tables.set(key, table);
      }
      return table.slice(offset, length, source);
    };
  }
  return source;
}
