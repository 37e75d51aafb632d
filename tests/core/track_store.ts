// A throwaway store with artist/title tracks whose backing files do not
// exist: what the refresh and fault tests build libraries over.

import { openStore, replaceTextTags, type Store, upsertTrack } from "../../src/store/mod.ts";
import type { MusefsLibrary } from "../../src/core/library.ts";

/** Disposing it closes the store and removes the temp dir. */
export interface Fixture extends Disposable {
  dir: string;
  db: string;
  store: Store;
}

export function freshStore(prefix = "musefs-core-test-"): Fixture {
  const dir = Deno.makeTempDirSync({ prefix });
  const db = `${dir}/lib.db`;
  const f: Fixture = {
    dir,
    db,
    store: openStore(db, { mode: "rw", create: true }),
    [Symbol.dispose]: () => dispose(f),
  };
  return f;
}

export function dispose(f: Fixture, lib?: MusefsLibrary): void {
  lib?.close();
  f.store.close();
  Deno.removeSync(f.dir, { recursive: true });
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
