// End to end: a store writable by an unprivileged user must not let that user
// read files they could not read themselves through a root --allow-other
// mount (docs/trust.md). An unprivileged user is created for the test; a
// track row pointing at /etc/shadow (with its real size and time stamps, so
// the stamp check passes) is inserted, and the user reads through the mount.

import assert from "node:assert/strict";
import { type Library, musefs, noFuse, q, scannedLibrary, sh, shOk, withMount } from "./helpers.ts";
import { removing } from "../scratch.ts";

const USER = "musefs-trust-test";

/** The unprivileged test user, created if missing and then deleted when the scope ends. */
async function testUser(): Promise<AsyncDisposable> {
  if ((await sh(`id -u ${USER}`)).code === 0) return { [Symbol.asyncDispose]: async () => {} };
  await shOk(`useradd --system --no-create-home --shell /usr/sbin/nologin ${USER}`);
  return {
    [Symbol.asyncDispose]: async () => {
      await sh(`userdel ${USER}`);
    },
  };
}

/** `cat` a file as the test user: exit code and stderr. */
function catAsUser(path: string) {
  return sh(`runuser -u ${USER} -- cat ${q(path)} > /dev/null`);
}

/** Insert a track whose backing file is `target`, stamped as it is now, titled `title`. */
async function insertForeignTrack(db: string, target: string, title: string, asUser: boolean) {
  const [size, mtime, ctime] = (await shOk(`stat -L -c '%s %.9Y %.9Z' ${q(target)}`)).trim()
    .split(" ");
  const ns = (t: string) => t.replace(".", "");
  const sql = `
    PRAGMA busy_timeout = 5000;
    INSERT INTO tracks (backing_path, format, audio_offset, audio_length, backing_size,
                        backing_mtime_ns, backing_ctime_ns, updated_at)
    VALUES ('${target}', 'mp3', 0, ${size}, ${size}, ${ns(mtime)}, ${ns(ctime)}, 0);
    INSERT INTO tags (track_id, key, value) VALUES
      (last_insert_rowid(), 'title', '${title}');`;
  const run = asUser ? `runuser -u ${USER} -- ` : "";
  await shOk(`${run}sqlite3 -bail ${q(db)} ${q(sql)}`);
}

/**
 * A copy of the library's `source` file at `target`, inserted as a track with
 * the source's geometry and the copy's stamp, titled `title`.
 */
async function insertCopyTrack(db: string, source: string, target: string, title: string) {
  await Deno.copyFile(source, target);
  const [mtime, ctime] = (await shOk(`stat -L -c '%.9Y %.9Z' ${q(target)}`)).trim().split(" ");
  const ns = (t: string) => t.replace(".", "");
  await shOk(
    `sqlite3 -bail ${q(db)} ${
      q(`INSERT INTO tracks (backing_path, format, audio_offset, audio_length, backing_size,
                          backing_mtime_ns, backing_ctime_ns, updated_at)
       SELECT '${target}', format, audio_offset, audio_length, backing_size,
              ${ns(mtime)}, ${ns(ctime)}, 0 FROM tracks WHERE backing_path = '${source}';
       INSERT INTO tags (track_id, key, value) VALUES (last_insert_rowid(), 'title', '${title}');`)
    }`,
  );
}

/** A library whose base is traversable by everyone (the user must reach the mountpoint). */
async function openLibrary(): Promise<Library & AsyncDisposable> {
  const lib = await scannedLibrary("musefs-trust-");
  await Deno.chmod(lib.base, 0o755);
  return lib;
}

const secret = "/etc/shadow";

Deno.test({
  name: "e2e trust: a store owned by an unprivileged user cannot serve /etc/shadow",
  ignore: noFuse,
  async fn() {
    await using _user = await testUser();
    await using lib = await openLibrary();
    // The store lives in a directory the user owns, as a beets user's would.
    const storeDir = `${lib.base}/store`;
    await Deno.mkdir(storeDir);
    const db = `${storeDir}/lib.db`;
    await shOk(`sqlite3 ${q(lib.db)} ".backup ${db}"`);
    await shOk(`chown -R ${USER} ${q(storeDir)}`);
    await insertForeignTrack(db, secret, "shadow", true);
    await insertForeignTrack(db, `${lib.base}/lib/../../../../../..${secret}`, "dotdot", true);
    for (const mode of ["synthesis", "structure-only"]) {
      const mnt = `${lib.base}/mnt`;
      await withMount(db, mnt, ["--allow-other", "--mode", mode], async (m) => {
        for (const title of ["shadow", "dotdot"]) {
          const path = `${mnt}/Unknown/Unknown/${title}.mp3`;
          const r = await catAsUser(path);
          assert.notEqual(r.code, 0, `${mode}: the user read ${secret} through ${path}`);
          assert.match(r.stderr, /Permission denied/, r.stderr);
          // Refused for root too: the policy is the daemon's, not the kernel's.
          const asRoot = await sh(`cat ${q(path)} > /dev/null`);
          assert.match(asRoot.stderr, /Permission denied/, asRoot.stderr);
        }
        assert.match(m.log(), /refusing to serve \/etc\/shadow: user musefs-trust-test/);
        // The real tracks stay readable by the same user.
        const files = (await shOk(`find ${q(mnt)} -type f -name '*.flac'`)).trim().split("\n");
        assert.ok(files.length > 0 && files[0] !== "");
        for (const f of files) {
          const r = await catAsUser(f);
          assert.equal(r.code, 0, `${mode}: ${f}: ${r.stderr}`);
        }
      });
    }
  },
});

Deno.test({
  name: "e2e trust: a world-writable root store and --library-root refuse files outside",
  ignore: noFuse,
  async fn() {
    await using _user = await testUser();
    await using lib = await openLibrary();
    // Audio only root can read, outside the library; and a symlinked directory in the library to it.
    // Outside the mountpoint's ancestors (a mount inside the library is refused).
    using tmp = removing(
      await Deno.makeTempDir({ dir: "/var/tmp", prefix: "musefs-trust-private-" }),
    );
    const privateDir = tmp.path;
    await Deno.chmod(privateDir, 0o700);
    const source = `${lib.lib}/mp3_v23.mp3`;
    const hidden = `${privateDir}/secret.mp3`;
    await insertCopyTrack(lib.db, source, hidden, "shadow");
    // A symlinked directory (a symlink as the last component is refused by the open itself).
    await Deno.symlink(privateDir, `${lib.lib}/linkdir`);
    const link = `${lib.lib}/linkdir/secret.mp3`;
    await shOk(
      `sqlite3 -bail ${q(lib.db)} ${
        q(`INSERT INTO tracks (backing_path, format, audio_offset, audio_length, backing_size,
                              backing_mtime_ns, backing_ctime_ns, updated_at)
           SELECT '${link}', format, audio_offset, audio_length, backing_size, backing_mtime_ns,
                  backing_ctime_ns, 0 FROM tracks WHERE backing_path = '${hidden}';
           INSERT INTO tags (track_id, key, value) VALUES (last_insert_rowid(), 'title', 'linked');`)
      }`,
    );
    const mnt = `${lib.base}/mnt`;
    const shadow = `${mnt}/Unknown/Unknown/shadow.mp3`;
    const linked = `${mnt}/Unknown/Unknown/linked.mp3`;
    // Store and directory only root can write: root's store may serve what root reads.
    await withMount(lib.db, mnt, ["--allow-other"], async () => {
      assert.equal((await sh(`cat ${q(shadow)} > /dev/null`)).code, 0);
    });
    // World-writable: every user is a writer, so only world-readable files are served.
    await Deno.chmod(lib.db, 0o666);
    await withMount(lib.db, mnt, ["--allow-other"], async (m) => {
      for (const path of [shadow, linked]) {
        assert.match((await catAsUser(path)).stderr, /Permission denied/);
      }
      assert.match(
        m.log(),
        /(group root|every user), who can write the store, could not (read|reach) it/,
      );
      const flac = (await shOk(`find ${q(mnt)} -type f -name '*.flac'`)).trim().split("\n")[0];
      assert.equal((await catAsUser(flac)).code, 0);
    });
    await Deno.chmod(lib.db, 0o644);
    // Library roots named by the admin: nothing outside them, however the path is spelt.
    await withMount(lib.db, mnt, ["--allow-other", "--library-root", lib.lib], async (m) => {
      for (const path of [shadow, linked]) {
        assert.match((await sh(`cat ${q(path)} > /dev/null`)).stderr, /Permission denied/);
      }
      assert.match(m.log(), /outside the library roots/);
      const flac = (await shOk(`find ${q(mnt)} -type f -name '*.flac'`)).trim().split("\n")[0];
      assert.equal((await catAsUser(flac)).code, 0);
    });
    const bad = await musefs(["mount", "--dry-run", "--db", lib.db, "--library-root", "/nope"]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /--library-root \/nope is not an existing directory/);
  },
});

Deno.test({
  name: "e2e trust: .musefs-metrics takes --owner, --group, --file-mode and --dir-mode",
  ignore: noFuse,
  async fn() {
    await using _user = await testUser();
    await using lib = await openLibrary();
    await insertForeignTrack(lib.db, secret, "shadow", false);
    await Deno.chmod(lib.db, 0o666);
    const mnt = `${lib.base}/mnt`;
    const flags = [
      "--expose-metrics",
      ...["--owner", USER, "--group", "root", "--file-mode", "640", "--dir-mode", "750"],
    ];
    await withMount(lib.db, mnt, flags, async () => {
      const stat = async (p: string) => (await shOk(`stat -c '%a %U %G' ${q(p)}`)).trim();
      const flac = (await shOk(`find ${q(mnt)} -type f -name '*.flac'`)).trim().split("\n")[0];
      assert.equal(await stat(flac), `640 ${USER} root`);
      assert.equal(await stat(`${mnt}/.musefs-metrics`), `750 ${USER} root`);
      assert.equal(await stat(`${mnt}/.musefs-metrics/metrics`), `640 ${USER} root`);
      // The kernel enforces them: the owner reads, another user does not.
      await sh(`cat ${q(`${mnt}/Unknown/Unknown/shadow.mp3`)} 2>/dev/null`);
      const text = await shOk(`runuser -u ${USER} -- cat ${q(`${mnt}/.musefs-metrics/metrics`)}`);
      assert.match(text, /^musefs_backing_refusals_total [1-9][0-9]*$/m);
      const other = await sh(`runuser -u nobody -- cat ${q(`${mnt}/.musefs-metrics/metrics`)}`);
      assert.match(other.stderr, /Permission denied/);
    });
  },
});
