// A throwaway store with artist/title tracks whose backing files do not
// exist: what the refresh and fault tests build libraries over.

import { replaceTextTags, type Store, upsertTrack } from "../../src/store/mod.ts";
import { freshStore as freshRwStore } from "../store/helpers.ts";

/** Disposing it closes the store and removes the temp dir. */
export interface Fixture extends Disposable {
  dir: string;
  db: string;
  store: Store;
}

/** A fresh rw store in its own temp dir (the store tests' one, `path` also as `db`). */
export function freshStore(prefix = "musefs-core-test-"): Fixture {
  const fresh = freshRwStore(prefix);
  return Object.assign(fresh, { db: fresh.path });
}

let pathSeq = 0;
/** A FLAC track at a unique missing path with these artist and title tags; its id. */
export function addTrack(store: Store, artist: string, title: string): number {
  const n = ++pathSeq;
  const id = upsertTrack(store, {
    backingPath: `/nowhere/${n}.flac`,
    format: "flac",
    audioOffset: 100,
    audioLength: 900,
    backingSize: 1000,
    backingMtimeNs: 1_700_000_000_000_000_000n + BigInt(n),
    backingCtimeNs: 1_700_000_000_000_000_000n + BigInt(n),
  });
  replaceTextTags(store, id, [
    { key: "artist", value: artist, ordinal: 0 },
    { key: "title", value: title, ordinal: 0 },
  ]);
  return id;
}
