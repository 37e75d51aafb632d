// A throwaway store with artist/title tracks whose backing files do not
// exist: what the refresh and fault tests build libraries over.

import { openStore, replaceTextTags, type Store, upsertTrack } from "../../src/store/mod.ts";
import { scratchDir } from "../scratch.ts";

/** Disposing it closes the store and removes the temp dir. */
export interface Fixture extends Disposable {
  dir: string;
  db: string;
  store: Store;
}

/** A fresh rw store in its own temp dir: `using f = freshStore()`. */
export function freshStore(prefix = "musefs-core-test-"): Fixture {
  const scratch = scratchDir(prefix);
  const dir = scratch.path;
  const db = `${dir}/lib.db`;
  const store = openStore(db, { mode: "rw", create: true });
  return {
    dir,
    db,
    store,
    [Symbol.dispose]: () => {
      store.close(); // a no-op when the test closed it already
      scratch[Symbol.dispose]();
    },
  };
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
