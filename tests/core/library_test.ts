// The Library facade: attributes, lookup, directory listings and their
// snapshots, open flags, structure-only passthrough, dry run, counts, metrics.

import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as libc from "../../ffi/libc.ts";
import { FsError, S_IFDIR, S_IFREG } from "../../src/core/api.ts";
import { SIDE_STORE_CACHE_KIB } from "../../src/core/defaults.ts";
import { dryRun, dryRunLines, walkTree } from "../../src/core/dry_run.ts";
import { MAX_DIR_SNAPSHOTS, openLibrary } from "../../src/core/library.ts";
import { statStamp } from "../../src/core/stamp.ts";
import { assemble, expectedBytes, fixtureStore, inodeAt, readAll } from "./ingest.ts";
import { closing } from "../scratch.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

function assertErrno(fn: () => unknown, errno: string, what: string): void {
  assert.throws(fn, (e: unknown) => e instanceof FsError && e.errno === errno, what);
}

Deno.test("attributes: exact size, blocks, modes, owner, mtimes", async () => {
  using t = await fixtureStore(["flac", "wav"]);
  using lib = closing(openLibrary(t.db, {
    template: "$format/$title",
    pollIntervalMs: 0,
    uid: 1234,
    gid: 5678,
    fileMode: 0o440,
    dirMode: 0o550,
  }));
  const { id, path } = t.tracks.get("flac")!;
  const ino = lib.tree.inodeOfTrack(id)!;
  const expected = expectedBytes(t.store, id);
  // updated_at (scan time, seconds) is older than the file's mtime here: mtime with ns wins.
  t.store.run("UPDATE tracks SET updated_at = 1000 WHERE id = ?", id);
  const stamp = statStamp(path);
  let a = lib.getattr(ino);
  assert.equal(a.size, expected.length);
  assert.equal(a.blocks, Math.ceil(expected.length / 512));
  assert.equal(a.mode, S_IFREG | 0o440);
  assert.equal(a.nlink, 1);
  assert.equal(a.uid, 1234);
  assert.equal(a.gid, 5678);
  assert.equal(BigInt(a.mtimeSec) * 1_000_000_000n + BigInt(a.mtimeNsec), stamp.mtimeNs);
  // A tag edit moves updated_at (trigger) past the file's mtime: the file's mtime follows.
  t.store.run("UPDATE tracks SET updated_at = 4000000000 WHERE id = ?", id);
  a = lib.getattr(ino);
  assert.equal(a.mtimeSec, 4_000_000_000);
  assert.equal(a.mtimeNsec, 0);
  const dir = lib.lookup(1, enc.encode("flac"));
  assert.equal(dir.mode, S_IFDIR | 0o550);
  assert.equal(dir.nlink, 2);
  assert.equal(dir.size, 0);
  assert.equal(lib.getattr(1).mode, S_IFDIR | 0o550);
});

Deno.test("lookup: names as bytes, ENOENT, ENOTDIR, non-UTF-8", async () => {
  using t = await fixtureStore(["flac"]);
  using lib = closing(openLibrary(t.db, { template: "$albumartist/$title", pollIntervalMs: 0 }));
  const { id, fixture } = t.tracks.get("flac")!;
  const dir = lib.lookup(1, enc.encode(fixture.expect.albumartist));
  const file = lib.lookup(dir.ino, enc.encode(`${fixture.expect.title}.flac`));
  assert.equal(file.ino, lib.tree.inodeOfTrack(id));
  assertErrno(() => lib.lookup(1, enc.encode("nope")), "ENOENT", "missing");
  assertErrno(() => lib.lookup(file.ino, enc.encode("x")), "ENOTDIR", "under a file");
  assertErrno(() => lib.lookup(1, new Uint8Array([0xff, 0xfe])), "ENOENT", "not UTF-8");
  assertErrno(() => lib.getattr(999_999), "ENOENT", "unknown inode");
});

Deno.test("readdir: dots first, bytewise order, offsets, snapshots stable across a refresh", async () => {
  using t = await fixtureStore(["flac", "mp3_v24", "opus", "wav"]);
  using lib = closing(openLibrary(t.db, { template: "$format", pollIntervalMs: 0 }));
  const fh = lib.opendir(1);
  const names = lib.readdir(fh, 1, 0).map((e) => dec.decode(e.name));
  assert.deepEqual(names, [".", "..", "flac.flac", "mp3.mp3", "opus.opus", "wav.wav"]);
  assert.deepEqual(lib.readdir(fh, 1, 3, 2).map((e) => dec.decode(e.name)), [
    "mp3.mp3",
    "opus.opus",
  ]);
  assert.equal(lib.readdir(fh, 1, 0)[1].ino, 1, "root's parent is itself");
  // A track leaves; the open snapshot keeps its listing, a new one does not.
  t.store.run("DELETE FROM tracks WHERE id = ?", t.tracks.get("opus")!.id);
  assert.ok(lib.poll());
  assert.equal(lib.readdir(fh, 1, 0).length, 6);
  const fresh = lib.opendir(1);
  assert.equal(lib.readdir(fresh, 1, 0).length, 5);
  lib.releasedir(fh);
  lib.releasedir(fresh);
  const file = lib.tree.inodeOfTrack(t.tracks.get("flac")!.id)!;
  assertErrno(() => lib.opendir(file), "ENOTDIR", "opendir of a file");
  // Past the snapshot cap directories are listed statelessly (fh 0).
  const held = [];
  for (let i = 0; i < MAX_DIR_SNAPSHOTS; i++) held.push(lib.opendir(1));
  assert.equal(lib.opendir(1), 0);
  assert.equal(lib.dirSnapshotRejections, 1);
  assert.equal(lib.readdir(0, 1, 0).length, 5);
  for (const h of held) lib.releasedir(h);
});

Deno.test("open: write intent is EROFS, directories EISDIR", async () => {
  using t = await fixtureStore(["flac"]);
  using lib = closing(openLibrary(t.db, { pollIntervalMs: 0 }));
  const ino = lib.tree.inodeOfTrack(t.tracks.get("flac")!.id)!;
  for (const flags of [fs.constants.O_WRONLY, fs.constants.O_RDWR, fs.constants.O_TRUNC]) {
    assertErrno(() => lib.open(ino, flags), "EROFS", `flags ${flags}`);
  }
  assertErrno(() => lib.open(1, 0), "EISDIR", "root");
  const r = lib.open(ino, fs.constants.O_RDONLY);
  assert.equal(r.keepCache, true);
  assert.equal(r.passthroughFd, undefined);
  lib.release(r.fh);
});

Deno.test("structure-only: the backing file as it is, its fd offered for passthrough", async () => {
  using t = await fixtureStore(["mp3_v23", "m4a_moov_last"]);
  using lib = closing(
    openLibrary(t.db, { pollIntervalMs: 0, mode: "structure-only", keepCache: true }),
  );
  for (const { id, path } of t.tracks.values()) {
    const ino = lib.tree.inodeOfTrack(id)!;
    const original = Deno.readFileSync(path);
    const a = lib.getattr(ino);
    assert.equal(a.size, original.length);
    assert.equal(
      BigInt(a.mtimeSec) * 1_000_000_000n + BigInt(a.mtimeNsec),
      statStamp(path).mtimeNs,
      "backing mtime",
    );
    const r = lib.open(ino, 0);
    assert.equal(typeof r.passthroughFd, "number");
    assert.equal(r.keepCache, false);
    const head = new Uint8Array(16);
    libc.pread(r.passthroughFd!, head, 0);
    assert.deepEqual(head, original.subarray(0, 16), "the fd is the backing file");
    assert.deepEqual(assemble(lib.read(r.fh, ino, 0, original.length)), original);
    lib.release(r.fh);
    assert.deepEqual(readAll(lib, ino, 7777), original);
  }
});

Deno.test("dry run walks depth-first in readdir order; counts and metrics", async () => {
  using t = await fixtureStore();
  const options = { template: "$format/$title" };
  using lib = closing(openLibrary(t.db, options));
  const s = walkTree(lib.tree, 3);
  const n = t.tracks.size; // one file per fixture
  assert.equal(s.files, n);
  assert.equal(s.dirs, 7);
  assert.deepEqual(lib.counts(), { files: n, dirs: 7 });
  const title = t.tracks.get("flac")!.fixture.expect.title;
  // Bytewise: " (2)" sorts before "." (0x20 < 0x2e).
  assert.deepEqual(s.samples, [
    `flac/${title} (2).flac`,
    `flac/${title}.flac`,
    `m4a/${title} (2).m4a`,
  ]);
  assert.equal(s.more, n - 3);
  inodeAt(lib, s.samples[2]);
  const lines = dryRunLines(dryRun(t.db, options));
  assert.equal(lines[0], `dry run: ${n} files across 7 directories. Sample paths:`);
  // Header, every path (fewer than 30), the field statistics (header + $format + $title),
  // the collisions.
  assert.equal(lines.length, n + 5);
  assert.match(
    lines.at(-1)!,
    /^Name collisions: \d+ file\(s\) and 0 directory\(ies\) got a " \(k\)" suffix because a sibling already had the name$/,
  );
  assert.deepEqual(dryRunLines({ files: 0, dirs: 0, samples: [], more: 0 }).length, 1);
  const metrics = new Map(lib.metrics().map((m) => [m.name, m.value]));
  assert.deepEqual(lib.counts(), { files: n, dirs: 7 }); // musefs_tree_nodes is the server's
  assert.equal(metrics.get("musefs_readahead_budget_bytes"), 32 * 1024 * 1024);
  assert.equal(metrics.get("musefs_cache_header_bytes_max"), 8 * 1024 * 1024);
  assert.equal(metrics.get("musefs_cache_store_bytes_max"), 8 * 1024 * 1024);
  assert.equal(metrics.get("musefs_cache_size_bytes_max"), 8 * 1024 * 1024);
  assert.equal(metrics.get("musefs_cache_art_bytes_max"), 8 * 1024 * 1024);
  // The connection that polls for edits keeps a small page cache: the budget is the serving one's.
  const pages = (s: { get<T>(sql: string): T | undefined }) =>
    s.get<{ cache_size: number }>("PRAGMA cache_size")!.cache_size;
  assert.equal(pages(lib.refresher.store), -SIDE_STORE_CACHE_KIB);
});

Deno.test("case-insensitive lookup and the original extension names", async () => {
  using t = await fixtureStore(["ogg_vorbis", "m4b"]);
  using lib = closing(openLibrary(t.db, {
    template: "$format/$title",
    pollIntervalMs: 0,
    caseInsensitive: true,
    extensions: "original",
  }));
  const title = t.tracks.get("m4b")!.fixture.expect.title;
  const dir = lib.lookup(1, enc.encode("VORBIS"));
  assert.equal(dir.ino, lib.tree.lookup(1, "vorbis"));
  const file = lib.lookup(dir.ino, enc.encode(`${title.toUpperCase()}.VORBIS`));
  assert.equal(file.ino, lib.tree.inodeOfTrack(t.tracks.get("ogg_vorbis")!.id));
  assert.ok(lib.tree.lookup(lib.tree.lookup(1, "m4a")!, `${title}.m4a`) !== undefined);
});
