// Run by tree_footprint_test.ts in a child Deno with --expose-gc: builds a
// tree of N realistic tracks (plus the allocator) and prints the retained
// heap bytes per track as JSON.

import { InodeAllocator } from "../../src/core/inodes.ts";
import { VirtualTree } from "../../src/core/tree.ts";

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error("run with --v8-flags=--expose-gc");

const tracks = Number(Deno.args[0] ?? 200_000);

/**
 * Rendered paths generated during the build and referenced by nothing else
 * afterwards, so whatever of them the tree keeps (names may be slices of the
 * path strings) is counted as the tree's. Flat strings, like rows from the store.
 */
function* rendered(): Generator<[number, string]> {
  for (let i = 0; i < tracks; i++) {
    const artist = Math.floor(i / 100);
    const album = Math.floor(i / 10);
    const track = String((i % 10) + 1).padStart(2, "0");
    const path =
      `Artist Name ${artist}/Album Title ${album} (2001)/${track} - Song Title ${i}.flac`;
    yield [i + 1, JSON.parse(JSON.stringify(path))];
  }
}

gc();
const before = Deno.memoryUsage().heapUsed;
const allocator = new InodeAllocator(false);
const tree = VirtualTree.build(rendered(), { allocator });
// Listing caches count too: materialize every directory's sorted names.
for (const [, artist] of tree.children(VirtualTree.ROOT)!) {
  for (const [, album] of tree.children(artist)!) tree.childNames(album);
}
gc();
const after = Deno.memoryUsage().heapUsed;
console.log(
  JSON.stringify({ tracks, nodes: tree.nodeCount, bytesPerTrack: (after - before) / tracks }),
);
