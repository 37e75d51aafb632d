// A tiny ingest for the core tests (the real scanner lives in src/scan):
// probe a real file with the format layer, stamp it, and write its rows with
// the store API. Plus helpers to open a library over such a store and read
// a whole served file through Library.read (file pieces pread here).

import * as libc from "../../ffi/libc.ts";
import { materialize, probePath, readOggAudioInto, synthesize } from "../../src/format/mod.ts";
import { BufferSource } from "../../src/format/source.ts";
import type { SynthInput } from "../../src/format/types.ts";
import {
  getTrack,
  listBinaryTagRefs,
  listStructuralBlocks,
  listTextTags,
  listTrackArt,
  openStore,
  replaceBinaryTags,
  replaceStructuralBlocks,
  replaceTextTags,
  replaceTrackPictures,
  type Store,
  upsertTrack,
} from "../../src/store/mod.ts";
import { storeBlobSource } from "../../src/core/blobs.ts";
import type { ReadPiece } from "../../src/core/api.ts";
import type { MusefsLibrary } from "../../src/core/library.ts";
import { statStamp } from "../../src/core/stamp.ts";
import { ensureFixtures, type Fixture } from "../fixtures/fixtures.ts";
import { mulberry32 } from "../fixtures/tools.ts";
import { scratchDir } from "../scratch.ts";

/** Probe `path` and write its track, tags, art and structural rows. Returns the track id. */
export function ingestFile(store: Store, path: string): number {
  const bytes = Deno.readFileSync(path);
  const probe = probePath(path, new BufferSource(bytes));
  if (probe === null) throw new Error(`not a music file: ${path}`);
  const stamp = statStamp(path);
  return store.transaction(() => {
    const id = upsertTrack(store, {
      backingPath: path,
      format: probe.format,
      audioOffset: probe.audioOffset,
      audioLength: probe.audioLength,
      backingSize: stamp.size,
      backingMtimeNs: stamp.mtimeNs,
      backingCtimeNs: stamp.ctimeNs,
    });
    replaceTextTags(store, id, probe.tags);
    replaceBinaryTags(store, id, probe.binaryTags);
    replaceTrackPictures(store, id, probe.pictures);
    replaceStructuralBlocks(store, id, probe.structural);
    return id;
  });
}

/** Re-stamp a track after its backing file was legitimately rewritten (what revalidate does). */
export function restamp(store: Store, id: number): void {
  const row = getTrack(store, id)!;
  const s = statStamp(row.backingPath);
  store.run(
    "UPDATE tracks SET backing_size = ?, backing_mtime_ns = ?, backing_ctime_ns = ? WHERE id = ?",
    s.size,
    s.mtimeNs,
    s.ctimeNs,
    id,
  );
}

/** Disposing it closes the store and removes the temp dir. */
export interface TestLibrary extends Disposable {
  dir: string;
  db: string;
  /** The writer connection (rw), as an external tagger or the scanner would hold. */
  store: Store;
  /** Fixture copies in `dir`, by fixture name → [path, track id]. */
  tracks: Map<string, { path: string; id: number; fixture: Fixture }>;
}

/**
 * Copy every fixture (or those `names`) into a temp dir and ingest the copies into a fresh
 * store: `using t = await fixtureStore()`.
 */
export async function fixtureStore(names?: readonly string[]): Promise<TestLibrary> {
  const fixtures = (await ensureFixtures()).filter((f) => !names || names.includes(f.name));
  const scratch = scratchDir("musefs-core-test-");
  const dir = scratch.path;
  const db = `${dir}/lib.db`;
  const store = openStore(db, { mode: "rw", create: true });
  const dispose = () => {
    store.close(); // a no-op when the test closed it already
    scratch[Symbol.dispose]();
  };
  const tracks = new Map<string, { path: string; id: number; fixture: Fixture }>();
  try {
    for (const f of fixtures) {
      const path = `${dir}/${f.name}${f.ext}`;
      Deno.copyFileSync(f.path, path);
      tracks.set(f.name, { path, id: ingestFile(store, path), fixture: f });
    }
  } catch (e) {
    dispose();
    throw e;
  }
  return { dir, db, store, tracks, [Symbol.dispose]: dispose };
}

/** Close the store and remove the temp dir (what `using` does; for tests not yet converted). */
export function disposeStore(t: TestLibrary): void {
  t[Symbol.dispose]();
}

/** The bytes the pieces stand for (file and Ogg pieces read here, as the server would). */
export function assemble(pieces: ReadPiece[]): Uint8Array {
  const parts: Uint8Array[] = [];
  let total = 0;
  for (const p of pieces) {
    if (p.kind === "bytes") {
      parts.push(p.bytes.slice());
      total += p.bytes.length;
      continue;
    }
    if (p.kind === "ogg") {
      // What the I/O worker does: re-page from blocking preads.
      const buf = new Uint8Array(p.take);
      const seg = {
        kind: "ogg-audio" as const,
        offset: p.offset,
        length: p.length,
        seqDelta: p.seqDelta,
      };
      readOggAudioInto(libc.preadSource(p.fd, p.size), seg, p.from, buf);
      parts.push(buf);
      total += buf.length;
      continue;
    }
    const buf = new Uint8Array(p.length);
    let got = 0;
    while (got < p.length) {
      const n = libc.pread(p.fd, buf.subarray(got), p.offset + got);
      if (n === 0) break;
      got += n;
    }
    parts.push(buf.subarray(0, got));
    total += got;
    if (got < p.length) break;
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Read a whole file through an open handle in `chunk`-sized reads. */
export function readAll(lib: MusefsLibrary, ino: number, chunk = 128 * 1024): Uint8Array {
  const size = lib.getattr(ino).size;
  const { fh } = lib.open(ino, 0);
  try {
    const out = new Uint8Array(size);
    for (let at = 0; at < size; at += chunk) {
      const got = assemble(lib.read(fh, ino, at, chunk));
      out.set(got, at);
    }
    return out;
  } finally {
    lib.release(fh);
  }
}

/** The served file as the format layer alone makes it from the store's current rows. */
export function expectedBytes(store: Store, id: number): Uint8Array {
  const row = getTrack(store, id)!;
  const input: SynthInput = {
    format: row.format,
    audioOffset: row.audioOffset,
    audioLength: row.audioLength,
    backingSize: row.backingSize,
    tags: listTextTags(store, id),
    binaryTags: listBinaryTagRefs(store, id),
    art: listTrackArt(store, id),
    structural: listStructuralBlocks(store, id),
  };
  const backing = new BufferSource(Deno.readFileSync(row.backingPath));
  const blobs = storeBlobSource(store);
  return materialize(synthesize(input, backing, blobs), { backing, blobs });
}

/** The inode of the file at `path` ("a/b/c.flac") in the library's tree. */
export function inodeAt(lib: MusefsLibrary, path: string): number {
  let ino = 1;
  for (const part of path.split("/")) {
    const next = lib.tree.lookup(ino, part);
    if (next === undefined) throw new Error(`no ${part} under inode ${ino} (path ${path})`);
    ino = next;
  }
  return ino;
}

/** Every file path in the library, in walk order. */
export function allPaths(lib: MusefsLibrary): string[] {
  const out: string[] = [];
  const visit = (ino: number, prefix: string) => {
    for (const [name, child] of lib.tree.children(ino) ?? []) {
      const p = prefix === "" ? name : `${prefix}/${name}`;
      if (lib.tree.isDir(child)) visit(child, p);
      else out.push(p);
    }
  };
  visit(1, "");
  return out;
}

/** Deterministic PRNG (mulberry32) for reproducible random ranges and edits. */
export const rng = mulberry32;
