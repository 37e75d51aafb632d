// The walk over real directories: order, canonical paths, symlinks (skipped,
// followed, looped, broken, duplicate targets), non-music tallies and names
// that are not valid UTF-8.

import assert from "node:assert/strict";
import { ProbeAborted } from "../../src/scan/pool.ts";
import { skippedSummary, walk, WalkError } from "../../src/scan/walk.ts";
import { python } from "./helpers.ts";
import { scratchDir } from "../scratch.ts";

function touch(path: string, text = "x"): void {
  Deno.writeTextFileSync(path, text);
}

async function collect(target: string, followSymlinks: boolean) {
  const warnings: string[] = [];
  const result = await walk(target, { followSymlinks, warn: (m) => warnings.push(m) });
  return { ...result, warnings };
}

Deno.test("walk: depth-first in name order, canonical paths, non-music tallied by extension", async () => {
  using tmp = scratchDir("musefs-scan-test-");
  const dir = tmp.path;
  Deno.mkdirSync(`${dir}/b/inner`, { recursive: true });
  Deno.mkdirSync(`${dir}/a`);
  touch(`${dir}/b/2.FLAC`);
  touch(`${dir}/b/1.mp3`);
  touch(`${dir}/b/inner/x.opus`);
  touch(`${dir}/a/z.m4b`);
  touch(`${dir}/top.wav`);
  touch(`${dir}/cover.JPG`);
  touch(`${dir}/a/folder.jpg`);
  touch(`${dir}/b/log`);
  touch(`${dir}/.hidden`);
  const r = await collect(`${dir}/./b/..`, false);
  assert.equal(r.root, dir);
  assert.equal(r.rootIsFile, false);
  assert.deepEqual(r.files, [
    `${dir}/top.wav`,
    `${dir}/a/z.m4b`,
    `${dir}/b/1.mp3`,
    `${dir}/b/2.FLAC`,
    `${dir}/b/inner/x.opus`,
  ]);
  assert.equal(r.skippedTotal, 4);
  assert.deepEqual(Object.fromEntries(r.skipped), { jpg: 2, "<none>": 2 });
  assert.equal(skippedSummary(r.skipped, r.skippedTotal), "skipped 4: <none>=2, jpg=2");
  assert.deepEqual(r.warnings, []);
});

Deno.test("walk: a file target is scanned alone; a missing target is a WalkError", async () => {
  using tmp = scratchDir("musefs-scan-test-");
  const dir = tmp.path;
  try {
    touch(`${dir}/song.ogg`);
    touch(`${dir}/other.ogg`);
    const r = await collect(`${dir}/song.ogg`, false);
    assert.deepEqual(r.files, [`${dir}/song.ogg`]);
    assert.equal(r.rootIsFile, true);
    const t = await collect(
      `${dir}/other.ogg`.replace(".ogg", ".txt").replace("other", "song"),
      false,
    );
    assert.fail(`expected a WalkError, got ${JSON.stringify(t.files)}`);
  } catch (e) {
    assert.ok(e instanceof WalkError, String(e));
    assert.match(e.message, /^cannot read .*song\.txt: /);
  }
});

Deno.test("walk: symlinks are skipped unless followed; followed ones de-duplicate, loops and broken links warn", async () => {
  using tmp = scratchDir("musefs-scan-test-");
  const dir = tmp.path;
  using outsideTmp = scratchDir("musefs-scan-test-");
  const outside = outsideTmp.path;
  const lib = `${dir}/lib`;
  Deno.mkdirSync(`${lib}/album`, { recursive: true });
  touch(`${lib}/album/a.flac`);
  touch(`${outside}/b.mp3`);
  Deno.symlinkSync(`${outside}/b.mp3`, `${lib}/link-to-outside.mp3`);
  Deno.symlinkSync(`${lib}/album/a.flac`, `${lib}/dup.flac`); // same file twice
  Deno.symlinkSync(lib, `${lib}/album/loop`); // a loop back to the root
  Deno.symlinkSync(`${dir}/nowhere.flac`, `${lib}/broken.flac`);
  Deno.symlinkSync(outside, `${lib}/outside-dir`); // reaches b.mp3 a second way

  const plain = await collect(lib, false);
  assert.deepEqual(plain.files, [`${lib}/album/a.flac`]);
  assert.equal(plain.symlinksSkipped, 5);
  assert.deepEqual(plain.warnings, []);

  const followed = await collect(lib, true);
  assert.deepEqual(followed.files.sort(), [`${lib}/album/a.flac`, `${outside}/b.mp3`].sort());
  assert.equal(followed.warnings.length, 2, followed.warnings.join("\n"));
  assert.ok(followed.warnings.some((w) => /^skipping broken symlink .*broken\.flac/.test(w)));
  assert.ok(followed.warnings.some((w) => /^skipping symlink loop at .*album\/loop/.test(w)));
});

Deno.test("walk: names that are not UTF-8 are walked under their lossy form", async () => {
  using tmp = scratchDir("musefs-scan-test-");
  const dir = tmp.path;
  // Deno cannot create such names; python can (bytes paths).
  const py = await python(
    "import os,sys; d=sys.argv[1].encode(); " +
      "open(d+b'/caf\\xe9.flac','wb').write(b'x'); open(d+b'/img\\xff.jpg','wb').write(b'x'); " +
      "os.mkdir(d+b'/dir\\xfe'); open(d+b'/dir\\xfe/in.flac','wb').write(b'x'); " +
      "os.mkdir(d+b'/dir\\xfe/deep\\xfd'); open(d+b'/dir\\xfe/deep\\xfd/z\\xfc.ogg','wb').write(b'x'); " +
      "open(d+b'/twin\\xe9.mp3','wb').write(b'x'); open(d+b'/twin\\xea.mp3','wb').write(b'x'); " +
      "os.mkdir(d+b'/tw\\xe9'); os.mkdir(d+b'/tw\\xea'); " +
      "os.symlink(d+b'/ok.flac', d+b'/link\\xe9.flac'); " +
      "open(d+b'/ok.flac','wb').write(b'x')",
    dir,
  );
  assert.equal(py.code, 0, new TextDecoder().decode(py.stderr));
  for (const follow of [false, true]) {
    const r = await collect(dir, follow);
    assert.deepEqual(r.files, [
      `${dir}/caf\uFFFD.flac`,
      `${dir}/ok.flac`,
      `${dir}/dir\uFFFD/in.flac`,
      `${dir}/dir\uFFFD/deep\uFFFD/z\uFFFD.ogg`,
    ]);
    assert.deepEqual(r.unreadableNames, [`${dir}/twin\uFFFD.mp3`, `${dir}/twin\uFFFD.mp3`]);
    assert.deepEqual(r.unreadableShown, [`${dir}/twin\\xe9.mp3`, `${dir}/twin\\xea.mp3`]);
    assert.deepEqual(Object.fromEntries(r.skipped), { jpg: 1 });
    assert.match(
      r.warnings.join("\n"),
      /skipping directory .*tw\uFFFD: 2 names here differ .*tw\\xe9, .*tw\\xea; rename them/,
    );
    if (follow) {
      assert.match(r.warnings.join("\n"), /skipping .*link\\xe9\.flac: a symlink whose name/);
    }
  }
});

Deno.test("walk: yields to the event loop and stops on an aborted signal", async () => {
  using tmp = scratchDir("musefs-scan-test-");
  const dir = tmp.path;
  for (let i = 0; i < 200; i++) Deno.mkdirSync(`${dir}/d${i}`);
  const controller = new AbortController();
  // A timer can only fire if the walk yields while it runs.
  setTimeout(() => controller.abort(), 0);
  await assert.rejects(
    walk(dir, { followSymlinks: false, warn: () => {}, signal: controller.signal }),
    ProbeAborted,
  );
  // Not aborted: the same walk completes.
  const r = await walk(dir, { followSymlinks: false, warn: () => {} });
  assert.equal(r.files.length, 0);
});
