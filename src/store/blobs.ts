// The format layer's BlobSource backed by a store connection (serve time).

import type { BlobSource } from "../format/types.ts";
import { readArt } from "./art.ts";
import type { Store } from "./open.ts";
import { readBinaryTag } from "./tags.ts";

export function storeBlobSource(store: Store): BlobSource {
  return {
    art: (artId, offset, length) => readArt(store, artId, offset, length),
    binaryTag: (id, offset, length) => readBinaryTag(store, id, offset, length),
  };
}
