// The backing_path range probes behind the mount guards: exact answers for
// names that sort next to a directory's range (".", " ", "0", multibyte),
// and index seeks, never a table scan.

import assert from "node:assert/strict";
import { firstTrackUnder, tracksInDirectory } from "../../src/store/mod.ts";
import { addTrack, freshStore } from "./helpers.ts";

const PATHS = [
  "/srv/music.flac", // "." sorts before "/": next to /srv/music's range, not in it
  "/srv/music x/a.flac", // " " too
  "/srv/music/Artist A/Album/01.flac",
  "/srv/music/Artist A/Album/02.flac",
  "/srv/music/Artist B/Album/01.flac",
  "/srv/music/loose.mp3",
  "/srv/music0/a.flac", // "0" is the byte after "/": first name past the range
  "/srv/musicé/a.flac",
  "/lib/only/one.flac",
];

Deno.test("store paths: range probes find exactly what lies under a directory", () => {
  using fresh = freshStore();
  const { store } = fresh;
  PATHS.forEach((p, i) => addTrack(store, i + 1, { backingPath: p }));
  assert.equal(firstTrackUnder(store, "/srv/music"), "/srv/music/Artist A/Album/01.flac");
  assert.equal(
    firstTrackUnder(store, "/srv/music/Artist B"),
    "/srv/music/Artist B/Album/01.flac",
  );
  assert.equal(firstTrackUnder(store, "/srv/music/Artist"), null);
  assert.equal(firstTrackUnder(store, "/srv/music/loose.mp3"), null, "a file holds nothing");
  assert.equal(firstTrackUnder(store, "/srv/musi"), null);
  assert.equal(firstTrackUnder(store, "/"), "/lib/only/one.flac");
  assert.equal(firstTrackUnder(store, "/mnt"), null);

  assert.deepEqual(tracksInDirectory(store, "/srv/music", 64), {
    directFile: "/srv/music/loose.mp3",
    subdirs: ["Artist A", "Artist B"],
  });
  assert.deepEqual(tracksInDirectory(store, "/srv/music", 1), {
    directFile: null,
    subdirs: ["Artist A"],
  }, "at most `limit` subdirectories");
  assert.deepEqual(tracksInDirectory(store, "/srv/music/Artist A", 64), {
    directFile: null,
    subdirs: ["Album"],
  });
  assert.deepEqual(tracksInDirectory(store, "/srv/music/Artist A/Album", 64), {
    directFile: "/srv/music/Artist A/Album/01.flac",
    subdirs: [],
  });
  assert.deepEqual(tracksInDirectory(store, "/srv", 64), {
    directFile: "/srv/music.flac",
    subdirs: ["music x"],
  }, "the search stops at the first direct file");
  assert.deepEqual(tracksInDirectory(store, "/lib", 64), { directFile: null, subdirs: ["only"] });
  assert.deepEqual(tracksInDirectory(store, "/", 1), { directFile: null, subdirs: ["lib"] });
  assert.deepEqual(tracksInDirectory(store, "/", 64), {
    directFile: null,
    subdirs: ["lib", "srv"],
  });
});

Deno.test("store paths: the probe is an index seek on backing_path", () => {
  using fresh = freshStore();
  const { store } = fresh;
  const plan = store.db.prepare(
    "EXPLAIN QUERY PLAN SELECT backing_path AS p FROM tracks " +
      "WHERE backing_path >= ? AND backing_path < ? ORDER BY backing_path LIMIT 1",
  ).all("/a/", "/a0") as { detail: string }[];
  const detail = plan.map((r) => r.detail).join("; ");
  assert.match(
    detail,
    /SEARCH tracks USING COVERING INDEX sqlite_autoindex_tracks_1 \(backing_path>\? AND backing_path<\?\)/,
  );
  assert.doesNotMatch(detail, /SCAN|TEMP B-TREE/);
});
