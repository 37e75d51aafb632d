// Ogg audio is served re-paged (sequence numbers moved, CRCs patched), so the
// core reads its backing pages itself. On a file system that cannot read
// without blocking (here a FUSE store; NFS, CIFS and mergerfs behave the
// same), those pages must not be read on the serving thread: the read comes
// back as an "ogg" piece for an I/O worker, and the bytes it stands for are
// exactly the served file's.

import assert from "node:assert/strict";
import { openLibrary } from "../../src/core/library.ts";
import { ensureFixtures } from "../fixtures/fixtures.ts";
import { closing } from "../scratch.ts";
import { assemble, expectedBytes, fixtureStore, ingestFile } from "./ingest.ts";
import { fuseStore, noFuseStore } from "./nowait_probe.ts";

const OGG = ["ogg_vorbis", "opus", "ogg_flac"];

Deno.test({
  name: "Ogg audio on a file system without RWF_NOWAIT goes to an I/O worker, bytes exact",
  ignore: noFuseStore,
  async fn() {
    await using fuse = await fuseStore();
    using t = await fixtureStore([]);
    const ids: number[] = [];
    for (const f of (await ensureFixtures()).filter((f) => OGG.includes(f.name))) {
      Deno.copyFileSync(f.path, `${fuse.src}/${f.name}${f.ext}`);
      ids.push(ingestFile(t.store, `${fuse.mnt}/${f.name}${f.ext}`));
    }
    assert.equal(ids.length, OGG.length);
    using lib = closing(openLibrary(t.db, { pollIntervalMs: 0 }));
    let handedOver = 0;
    for (const id of ids) {
      const ino = lib.tree.inodeOfTrack(id)!;
      const { fh } = lib.open(ino, 0);
      try {
        const size = lib.getattr(ino).size;
        const pieces = lib.read(fh, ino, 0, size);
        handedOver += pieces.filter((p) => p.kind === "ogg").length;
        assert.deepEqual(assemble(pieces), expectedBytes(t.store, id), `track ${id}`);
        // A read from the middle, across page boundaries.
        const mid = Math.floor(size / 2);
        const part = assemble(lib.read(fh, ino, mid, 5000));
        assert.deepEqual(part, expectedBytes(t.store, id).subarray(mid, mid + 5000));
      } finally {
        lib.release(fh);
      }
    }
    assert.ok(handedOver > 0, "re-paged audio was handed to a worker, not read inline");
  },
});
