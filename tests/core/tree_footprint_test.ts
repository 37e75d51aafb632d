// Memory ceiling of the tree (DESIGN "Performance model": ≤ 1.5 KB per track
// including indexes). Measured in a child process with an explicit GC so the
// number is retained heap, not garbage. MUSEFS_TREE_FOOTPRINT_TRACKS sets the
// size (default 50 000 to keep the suite quick; the target is stated at 200 000).

import assert from "node:assert/strict";

const CEILING_BYTES_PER_TRACK = 1536;

Deno.test("tree footprint stays under 1.5 KB per track", async () => {
  const tracks = Deno.env.get("MUSEFS_TREE_FOOTPRINT_TRACKS") ?? "50000";
  const probe = new URL("./tree_footprint_probe.ts", import.meta.url).pathname;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-check", "--v8-flags=--expose-gc", probe, tracks],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  const result = JSON.parse(new TextDecoder().decode(out.stdout));
  assert.equal(result.tracks, Number(tracks));
  assert.ok(result.nodes > result.tracks, "the tree was built");
  assert.ok(result.bytesPerTrack > 100, `implausible measure: ${result.bytesPerTrack} B/track`);
  assert.ok(
    result.bytesPerTrack <= CEILING_BYTES_PER_TRACK,
    `${result.bytesPerTrack.toFixed(0)} B/track exceeds ${CEILING_BYTES_PER_TRACK}`,
  );
});
