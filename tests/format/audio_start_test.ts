// The "does the stored geometry point at audio" check, per format, on real
// fixture files: the true offset passes; shifted by one or zeroed fails.

import assert from "node:assert/strict";
import { audioStartProblem, probePath } from "../../src/format/mod.ts";
import { BufferSource } from "../../src/format/source.ts";
import { ensureFixtures } from "../fixtures/fixtures.ts";

Deno.test("audioStartProblem: the probed offset passes, shifted or zeroed offsets fail", async () => {
  const formats = new Set<string>();
  for (const f of await ensureFixtures()) {
    const src = new BufferSource(Deno.readFileSync(f.path));
    const probe = probePath(f.path, src);
    if (probe === null) continue;
    formats.add(probe.format);
    const { format, audioOffset: o, audioLength: n } = probe;
    assert.equal(audioStartProblem(format, src, o, n), null, `${f.name}: true geometry`);
    for (const [what, at] of [["minus one", o - 1], ["plus one", o + 1], ["zero", 0]] as const) {
      if (at === o) continue;
      assert.notEqual(audioStartProblem(format, src, at, n), null, `${f.name}: ${what}`);
    }
    assert.equal(
      audioStartProblem(format, src, 0, 0),
      null,
      `${f.name}: no audio, nothing to check`,
    );
  }
  assert.deepEqual(
    [...formats].sort(),
    ["flac", "m4a", "mp3", "oggflac", "opus", "vorbis", "wav"],
  );
});
