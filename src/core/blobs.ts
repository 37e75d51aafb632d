// The format layer's BlobSource backed by a store connection: at serve time
// the bytes of art and binary tags stream from the store's rows.

import type { BlobSource } from "../format/mod.ts";
import { readArt, readBinaryTag, type Store } from "../store/mod.ts";

export function storeBlobSource(store: Store): BlobSource {
  return {
    art: (artId, offset, length) => readArt(store, artId, offset, length),
    binaryTag: (id, offset, length) => readBinaryTag(store, id, offset, length),
  };
}
