// The files the synthesis worker builds ahead (src/core/walk_order.ts): the
// order a top-down, name-ordered walk (os.walk, find) opens them in.

import assert from "node:assert/strict";
import { tracksAfter } from "../../src/core/walk_order.ts";
import { build, filePaths, must } from "./tree_helpers.ts";

const tree = build([
  [1, "A/Album 1/01.flac"],
  [2, "A/Album 1/02.flac"],
  [3, "A/Album 1/03.flac"],
  [4, "A/Album 2/01.flac"],
  [5, "A/Album 2/02.flac"],
  [6, "A/Album 2/Disc 2/01.flac"],
  [7, "B/Single.flac"],
  [8, "B/Album/01.flac"],
  [9, "C/Empty Artist/Only Dirs/Album/01.flac"],
]);
const files = filePaths(tree);

function after(path: string, count: number): number[] {
  const ino = must(files.get(path));
  return tracksAfter(tree, must(tree.parent(ino)), ino, count);
}

Deno.test("the files ahead are the rest of the directory, then the next directories a top-down walk reads", () => {
  assert.deepEqual(after("A/Album 1/01.flac", 64), [2, 3, 4, 5, 6, 7, 8, 9]);
  assert.deepEqual(after("A/Album 1/03.flac", 64), [4, 5, 6, 7, 8, 9]);
  // A directory's own files come before its subdirectories'.
  assert.deepEqual(after("A/Album 2/02.flac", 64), [6, 7, 8, 9]);
  // From the last subdirectory of an artist to the next artist's own files.
  assert.deepEqual(after("A/Album 2/Disc 2/01.flac", 64), [7, 8, 9]);
  assert.deepEqual(after("B/Single.flac", 64), [8, 9]);
  // Directories holding only directories are passed through.
  assert.deepEqual(after("B/Album/01.flac", 64), [9]);
  assert.deepEqual(after("C/Empty Artist/Only Dirs/Album/01.flac", 64), []);
});

Deno.test("no more files ahead than asked for", () => {
  assert.deepEqual(after("A/Album 1/01.flac", 1), [2]);
  assert.deepEqual(after("A/Album 1/01.flac", 3), [2, 3, 4]);
  // Across directories up to the count, the walk's order kept.
  assert.deepEqual(after("A/Album 1/02.flac", 4), [3, 4, 5, 6]);
  assert.deepEqual(after("A/Album 1/01.flac", 0), []);
});
