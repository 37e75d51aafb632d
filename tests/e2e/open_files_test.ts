// End to end: what an open served file reads while things change under it.
// An open file keeps the version it opened (its header bytes and its backing
// file) until it is closed — a tag edit, a rename of the served path or of
// the backing file never mixes two versions; new opens see the new version.
// Backing paths that are not plain regular files (a FIFO, a symlink swapped
// in) and stored geometry that does not point at audio answer EIO, quickly.

import assert from "node:assert/strict";
import fs from "node:fs";
import { concatBytes as concat } from "../fixtures/tools.ts";
import {
  eventually,
  type Library,
  noFuse,
  pathsById,
  q,
  query,
  readOrErrno,
  scannedLibrary,
  sh,
  shOk,
  sqlWrite,
  type TrackRow,
  tracks,
  withMount,
} from "./helpers.ts";

const CHUNK = 4096;

/** Read `fd` from `from` to the end in CHUNK reads (O_DIRECT: each one reaches the daemon). */
function readRest(fd: number, from: number, into: Uint8Array[]): number {
  let at = from;
  for (;;) {
    const buf = new Uint8Array(CHUNK);
    const n = fs.readSync(fd, buf, 0, CHUNK, at);
    if (n === 0) return at;
    into.push(buf.subarray(0, n));
    at += n;
  }
}

/** `text` appears in `bytes` as UTF-8 or UTF-16 (either byte order): how tag frames carry it. */
function contains(bytes: Uint8Array, text: string): boolean {
  const hay = new TextDecoder("latin1").decode(bytes);
  const le = [...text].map((c) => `${c}\0`).join("");
  const be = [...text].map((c) => `\0${c}`).join("");
  return hay.includes(text) || hay.includes(le) || hay.includes(be);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Read a third of each file, run `change`, read the rest with the same fd: it must equal the opened version. */
async function readAcross(
  lib: Library,
  mnt: string,
  change: (row: TrackRow) => Promise<void>,
  settled: (row: TrackRow) => Promise<boolean>,
  newOpensServe = true,
): Promise<void> {
  const paths = pathsById(lib, mnt);
  for (const row of tracks(lib.db)) {
    const path = paths.get(row.id)!;
    const fd = fs.openSync(path, fs.constants.O_RDONLY | fs.constants.O_DIRECT);
    try {
      // The version this fd opened, as the daemon serves it (O_DIRECT: no page cache).
      const first: Uint8Array[] = [];
      readRest(fd, 0, first);
      const opened = concat(first);
      const parts: Uint8Array[] = [];
      const third = Math.floor(opened.length / 3 / CHUNK) * CHUNK;
      for (let at = 0; at < third; at += CHUNK) {
        const buf = new Uint8Array(CHUNK);
        assert.equal(fs.readSync(fd, buf, 0, CHUNK, at), CHUNK);
        parts.push(buf);
      }
      await change(row);
      assert.ok(
        await eventually(() => settled(row)),
        `${row.format}: the change reached the mount`,
      );
      readRest(fd, third, parts);
      // The old version's reads leave nothing stale for other openers.
      const now = pathsById(lib, mnt).get(row.id)!;
      if (newOpensServe) {
        const size = (await Deno.stat(now)).size;
        assert.equal((await Deno.readFile(now)).length, size, `${row.format}: a new reader`);
      }
      const got = concat(parts);
      assert.ok(
        sameBytes(got, opened),
        `${row.format} (${row.backing_path}): the open file read the version it opened ` +
          `(${got.length} vs ${opened.length} bytes)`,
      );
    } finally {
      fs.closeSync(fd);
    }
  }
}

Deno.test({
  name: "e2e: an open file keeps its version across a tag edit and renames; new opens see the edit",
  ignore: noFuse,
  async fn(t) {
    await using lib = await scannedLibrary();
    const mnt = `${lib.base}/mnt`;
    // Unique titles first: a served name freed by a rename is never taken over by another track.
    await sqlWrite(
      lib.db,
      "UPDATE tags SET value = value || ' #' || track_id WHERE key = 'title'",
    );
    await withMount(lib.db, mnt, ["--poll-interval-ms", "50"], async () => {
      await t.step("a tag edit that keeps the path", async () => {
        const sizes = new Map<number, number>();
        await readAcross(lib, mnt, async (row) => {
          sizes.set(row.id, (await Deno.stat(pathsById(lib, mnt).get(row.id)!)).size);
          // One new comment, longer than any fixture's, whether the track had one or not.
          await sqlWrite(
            lib.db,
            `DELETE FROM tags WHERE track_id = ${row.id} AND key = 'comment'; ` +
              `INSERT INTO tags (track_id, key, value, ordinal) VALUES (${row.id}, 'comment', ` +
              `'${"edited while open ".repeat(6)}', 0)`,
          );
        }, async (row) => {
          const size = (await Deno.stat(pathsById(lib, mnt).get(row.id)!)).size;
          return size !== sizes.get(row.id);
        });
      });

      await t.step("a rename of the served path (title edit)", async () => {
        const before = new Map<number, string>();
        await readAcross(lib, mnt, async (row) => {
          before.set(row.id, pathsById(lib, mnt).get(row.id)!);
          await sqlWrite(
            lib.db,
            `UPDATE tags SET value = value || ' (renamed)' WHERE track_id = ${row.id} AND key = 'title'`,
          );
        }, (row) => {
          const now = pathsById(lib, mnt).get(row.id)!;
          return Promise.resolve(now !== before.get(row.id) && fs.existsSync(now));
        });
      });

      await t.step("new opens serve the edited version", async () => {
        for (const [id, path] of pathsById(lib, mnt)) {
          const bytes = await Deno.readFile(path);
          assert.ok(contains(bytes, "(renamed)"), `track ${id} serves the new title`);
          assert.ok(contains(bytes, "edited while open"), `track ${id} serves the new comment`);
        }
      });

      await t.step("a rename of the backing file", async () => {
        await readAcross(
          lib,
          mnt,
          async (row) => {
            await Deno.rename(row.backing_path, `${row.backing_path}.moved`);
          },
          () => Promise.resolve(true),
          false,
        );
        // New opens find the file gone (the store still names the old path).
        const row = tracks(lib.db)[0];
        assert.equal(await readOrErrno(pathsById(lib, mnt).get(row.id)!), "ENOENT");
        for (const r of tracks(lib.db)) {
          await Deno.rename(`${r.backing_path}.moved`, r.backing_path);
        }
      });
    });
  },
});

/** Seconds-grain stamp of `path` as the store would record it (compared at that grain). */
async function restampRow(db: string, id: number, path: string, size: number): Promise<void> {
  const out = await shOk(`stat -c '%Y %Z' ${q(path)}`);
  const [m, c] = out.trim().split(" ").map((s) => `${s}000000000`);
  await sqlWrite(
    db,
    `UPDATE tracks SET backing_path = '${path.replaceAll("'", "''")}', backing_size = ${size}, ` +
      (size === 0 ? "audio_offset = 0, audio_length = 0, " : "") +
      `backing_mtime_ns = ${m}, backing_ctime_ns = ${c} WHERE id = ${id}`,
  );
}

Deno.test({
  name: "e2e: a FIFO or a symlink where a backing file was answers EIO without hanging",
  ignore: noFuse,
  async fn(t) {
    await using lib = await scannedLibrary();
    const mnt = `${lib.base}/mnt`;
    const rows = tracks(lib.db);
    const byFormat = (f: string) => rows.find((r) => r.format === f)!;
    await withMount(lib.db, mnt, ["--poll-interval-ms", "50"], async () => {
      const paths = pathsById(lib, mnt);
      await t.step("a file replaced by mkfifo after the scan", async () => {
        const row = byFormat("opus");
        await Deno.remove(row.backing_path);
        await shOk(`mkfifo ${q(row.backing_path)}`);
        const ls = await sh(`timeout 20 ls -lR ${q(mnt)}`);
        assert.notEqual(ls.code, 124, "ls -lR finished");
        const cat = await sh(`timeout 20 cat ${q(paths.get(row.id)!)} > /dev/null`);
        assert.notEqual(cat.code, 124, "cat finished");
        assert.match(cat.stderr, /Input\/output error/);
      });

      await t.step("a crafted row naming a FIFO with its stamp", async () => {
        const row = byFormat("vorbis");
        const fifo = `${lib.lib}/crafted.fifo`;
        await shOk(`mkfifo ${q(fifo)}`);
        await restampRow(lib.db, row.id, fifo, 0);
        const cat = await sh(`timeout 20 cat ${q(paths.get(row.id)!)} > /dev/null`);
        assert.notEqual(cat.code, 124, "cat finished");
        assert.match(cat.stderr, /Input\/output error/);
        const ls = await sh(`timeout 20 ls -lR ${q(mnt)}`);
        assert.notEqual(ls.code, 124, "ls -lR finished");
      });

      await t.step("a symlink swapped in for the scanned file", async () => {
        const row = byFormat("mp3");
        const elsewhere = `${lib.base}/elsewhere.mp3`;
        await Deno.rename(row.backing_path, elsewhere);
        await Deno.symlink(elsewhere, row.backing_path);
        // The row matches what stat(2) shows through the link: only O_NOFOLLOW can refuse it.
        await restampRow(lib.db, row.id, row.backing_path, (await Deno.stat(elsewhere)).size);
        const served = pathsById(lib, mnt).get(row.id)!;
        assert.ok(await eventually(async () => (await readOrErrno(served)) === "EIO"));
      });

      await t.step("untouched files still serve", async () => {
        const row = byFormat("wav");
        assert.ok((await readOrErrno(paths.get(row.id)!)) instanceof Uint8Array);
      });
    });
  },
});

Deno.test({
  name: "e2e: stored geometry that does not point at audio answers EIO with a warning",
  ignore: noFuse,
  async fn(t) {
    await using lib = await scannedLibrary();
    const mnt = `${lib.base}/mnt`;
    await withMount(lib.db, mnt, ["--poll-interval-ms", "50"], async (m) => {
      const paths = pathsById(lib, mnt);
      // One track per format: the warnings name at most ten paths a minute.
      const firstOfFormat = tracks(lib.db).filter((r, i, all) =>
        all.findIndex((o) => o.format === r.format) === i
      );
      for (const row of firstOfFormat) {
        const path = paths.get(row.id)!;
        assert.ok((await readOrErrno(path)) instanceof Uint8Array, `${row.format} serves first`);
        const geo = query<{ o: number; n: number }>(
          lib.db,
          "SELECT audio_offset AS o, audio_length AS n FROM tracks WHERE id = ?",
          row.id,
        )[0];
        const shifts: [string, string][] = [
          ["shifted", `audio_offset = ${geo.o - 1}, audio_length = ${geo.n + 1}`],
          ["zeroed", `audio_offset = 0, audio_length = ${geo.o + geo.n}`],
        ];
        for (const [what, set] of shifts) {
          await t.step(`${row.format} ${row.id}: ${what}`, async () => {
            await sqlWrite(lib.db, `UPDATE tracks SET ${set} WHERE id = ${row.id}`);
            assert.ok(
              await eventually(async () => (await readOrErrno(path)) === "EIO"),
              `${row.format} ${what}: EIO`,
            );
            const warned = new RegExp(`WARN.*${row.backing_path.split("/").pop()}`);
            assert.ok(await eventually(() => Promise.resolve(warned.test(m.log()))), m.log());
          });
        }
        await sqlWrite(
          lib.db,
          `UPDATE tracks SET audio_offset = ${geo.o}, audio_length = ${geo.n} WHERE id = ${row.id}`,
        );
        assert.ok(
          await eventually(async () => (await readOrErrno(path)) instanceof Uint8Array),
          `${row.format}: serves again with the true geometry`,
        );
      }
    });
  },
});
