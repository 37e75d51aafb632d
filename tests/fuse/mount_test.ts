// Real mounts: the everyday tools through the FUSE server (ls, find, stat,
// du, cat), read-only refusals, statfs, xattrs, large directories, metrics.

import assert from "node:assert/strict";
import {
  assertCleanStop,
  type MountHandle,
  noFuse,
  sh,
  shOk,
  startMount,
  tempDirs,
} from "./helpers.ts";
import { SYN_HEADER } from "./dir_library.ts";

async function withMount(
  fill: (source: string) => Promise<void>,
  options: Record<string, unknown>,
  body: (mp: string, source: string, mount: MountHandle) => Promise<void>,
): Promise<void> {
  await using dirs = await tempDirs();
  const { source, mountpoint } = dirs;
  await fill(source);
  await using m = await startMount(source, mountpoint, options);
  await body(mountpoint, source, m);
  await assertCleanStop(m);
}

async function smallTree(src: string): Promise<void> {
  await Deno.mkdir(`${src}/Artist/Album`, { recursive: true });
  await Deno.writeTextFile(`${src}/Artist/Album/01 One.flac`, "one\n".repeat(1000));
  await Deno.writeTextFile(`${src}/Artist/Album/02 Two.flac`, "two\n".repeat(3000));
  await Deno.writeTextFile(`${src}/Artist/cover.syn`, "synthesized body\n");
  await Deno.writeTextFile(`${src}/top.txt`, "top\n");
}

Deno.test({
  name: "fuse mount: ls, find, stat, du and cat see the served tree",
  ignore: noFuse,
  fn: () =>
    withMount(smallTree, {}, async (mp, src) => {
      assert.equal((await shOk(`ls ${mp}`)).trim().split("\n").join(","), "Artist,top.txt");
      const found = (await shOk(`cd ${mp} && find . | sort`)).trim().split("\n");
      assert.deepEqual(found, [
        ".",
        "./Artist",
        "./Artist/Album",
        "./Artist/Album/01 One.flac",
        "./Artist/Album/02 Two.flac",
        "./Artist/cover.syn",
        "./top.txt",
      ]);
      const st = (await shOk(`stat -c '%s %a %F %b' "${mp}/Artist/Album/02 Two.flac"`)).trim();
      assert.equal(st, `12000 444 regular file ${Math.ceil(12000 / 512)}`);
      assert.equal((await shOk(`stat -c '%a %F' ${mp}/Artist`)).trim(), "555 directory");
      // du sums st_blocks: 4000 + 12000 + 41 + 4 bytes → 8 + 24 + 1 + 1 blocks of 512.
      assert.equal((await shOk(`du -s --block-size=512 ${mp}`)).split("\t")[0], "34");
      assert.equal(await shOk(`cat "${mp}/Artist/Album/01 One.flac"`), "one\n".repeat(1000));
      // A synthesized header (bytes piece) in front of file bytes (file piece).
      const syn = await shOk(`cat ${mp}/Artist/cover.syn`);
      assert.equal(syn, new TextDecoder().decode(SYN_HEADER) + "synthesized body\n");
      // Partial reads across the header/file boundary.
      const mid = await shOk(`dd if=${mp}/Artist/cover.syn bs=1 skip=20 count=10 2>/dev/null`);
      assert.equal(
        mid,
        (new TextDecoder().decode(SYN_HEADER) + "synthesized body\n").slice(20, 30),
      );
      // Missing names are ENOENT.
      const missing = await sh(`stat ${mp}/nope`);
      assert.notEqual(missing.code, 0);
      assert.match(missing.stderr, /No such file or directory/);
      assert.ok(src);
    }),
});

Deno.test({
  name: "fuse mount: writes are refused with EROFS, statfs reports fixed values, xattrs read-only",
  ignore: noFuse,
  fn: () =>
    withMount(smallTree, {}, async (mp) => {
      const append = await sh(`echo x >> ${mp}/top.txt`);
      assert.notEqual(append.code, 0);
      assert.match(append.stderr, /Read-only file system/);
      const create = await sh(`touch ${mp}/new`);
      assert.match(create.stderr, /Read-only file system/);
      // O_RDWR open without creating, through python (no shell redirection shortcut).
      const rdwr = await sh(
        `/usr/bin/python3 -c "import os,errno
try:
  os.open('${mp}/top.txt', os.O_RDWR)
except OSError as e:
  print(errno.errorcode[e.errno])"`,
      );
      assert.equal(rdwr.stdout.trim(), "EROFS");
      const statfs = (await shOk(`stat -f -c '%S %b %f %a %c %d %l' ${mp}`)).trim();
      assert.equal(statfs, `512 ${2 ** 31} ${2 ** 31} ${2 ** 31} ${2 ** 32} ${2 ** 32} 255`);
      const xattr = await sh(
        `/usr/bin/python3 -c "import os,errno
for f in (lambda: os.getxattr('${mp}/top.txt', 'user.x'), lambda: os.listxattr('${mp}/top.txt'),
          lambda: os.setxattr('${mp}/top.txt', 'user.y', b'1'),
          lambda: os.removexattr('${mp}/top.txt', 'user.y')):
  try:
    f(); print('ok')
  except OSError as e:
    print(errno.errorcode[e.errno])"`,
      );
      // Reads answer (no such attribute here); the read-only mount refuses writes (EROFS).
      assert.deepEqual(xattr.stdout.trim().split("\n"), ["ENODATA", "ok", "EROFS", "EROFS"]);
    }),
});

Deno.test({
  name: "fuse mount: a directory of 3000 entries lists completely over many readdir replies",
  ignore: noFuse,
  fn: () =>
    withMount(
      async (src) => {
        await Deno.mkdir(`${src}/many`);
        for (let i = 0; i < 3000; i++) {
          await Deno.writeTextFile(`${src}/many/track-${String(i).padStart(5, "0")}.mp3`, `${i}`);
        }
      },
      {},
      async (mp) => {
        const names = (await shOk(`ls -f ${mp}/many`)).trim().split("\n");
        assert.equal(names.length, 3002); // with . and ..
        assert.equal(new Set(names).size, 3002);
        const sizes =
          (await shOk(`ls -l ${mp}/many | tail -n +2 | awk '{s+=$5} END {print s, NR}'`))
            .trim();
        // sizes 1 (0-9) ×10, 2 ×90, 3 ×900, 4 ×2000
        assert.equal(sizes, `${10 + 180 + 2700 + 8000} 3000`);
      },
    ),
});

Deno.test({
  name: "fuse mount: --expose-metrics adds .musefs-metrics/metrics with Prometheus text",
  ignore: noFuse,
  fn: () =>
    withMount(smallTree, { exposeMetrics: true }, async (mp) => {
      assert.equal(
        (await shOk(`ls -a ${mp}`)).trim().split("\n").join(","),
        ".,..,.musefs-metrics,Artist,top.txt",
      );
      assert.equal((await shOk(`ls ${mp}/.musefs-metrics`)).trim(), "metrics");
      assert.equal(
        (await shOk(`stat -c '%s %F' ${mp}/.musefs-metrics/metrics`)).trim(),
        "0 regular empty file",
      );
      await shOk(`cat ${mp}/top.txt ${mp}/Artist/cover.syn > /dev/null`);
      const text = await shOk(`cat ${mp}/.musefs-metrics/metrics`);
      for (
        const name of [
          "musefs_uptime_seconds",
          "musefs_handles_open",
          "musefs_reads_inflight_max",
          "musefs_dir_handles_max",
          "musefs_passthrough_active",
          "musefs_read_errors_total",
          "musefs_tree_nodes",
          "musefs_process_resident_bytes",
        ]
      ) {
        assert.match(text, new RegExp(`^# TYPE ${name} (gauge|counter)$`, "m"), name);
        assert.match(text, new RegExp(`^${name} [0-9.]+$`, "m"), name);
      }
      // 3 dirs (root, Artist, Album) + 4 files in the library.
      assert.match(text, /^musefs_tree_nodes 7$/m);
      // The metrics file is open while it is read.
      assert.match(text, /^musefs_handles_open 1$/m);
      const inline = Number(/^musefs_reads_inline_total (\d+)$/m.exec(text)![1]);
      assert.ok(inline >= 2, `inline reads ${inline}`);
      // Rendered once per open: two opens see different uptimes.
      const again = await shOk(`sleep 0.05; cat ${mp}/.musefs-metrics/metrics`);
      const uptime = (t: string) => /^musefs_uptime_seconds (.*)$/m.exec(t)![1];
      assert.notEqual(uptime(again), uptime(text));
    }),
});

Deno.test({
  name: "fuse mount: failed reads reach the reader as EIO; unexpected errors are also logged",
  ignore: noFuse,
  fn: () =>
    withMount(
      async (src) => {
        await Deno.writeTextFile(`${src}/changed.eio`, "x");
        await Deno.writeTextFile(`${src}/bug.boom`, "x");
        await Deno.writeTextFile(`${src}/fine.flac`, "fine\n");
      },
      { exposeMetrics: true },
      async (mp, _src, mount) => {
        const typed = await sh(`cat ${mp}/changed.eio`);
        assert.notEqual(typed.code, 0);
        assert.match(typed.stderr, /Input\/output error/);
        const bug = await sh(`cat ${mp}/bug.boom`);
        assert.match(bug.stderr, /Input\/output error/);
        // The mount keeps serving.
        assert.equal(await shOk(`cat ${mp}/fine.flac`), "fine\n");
        const text = await shOk(`cat ${mp}/.musefs-metrics/metrics`);
        assert.match(text, /^musefs_read_errors_total [1-9]\d*$/m);
        // Only the unexpected failure is worth a warning.
        assert.match(mount.stderr(), /READ of inode \d+: a bug in the core/);
        assert.doesNotMatch(mount.stderr(), /backing file changed/);
      },
    ),
});

Deno.test({
  name: "fuse mount: other users are kept out unless allow_other is asked for",
  ignore: noFuse || (await sh("command -v setpriv")).code !== 0,
  fn: async () => {
    const asNobody = "setpriv --reuid=nobody --regid=nogroup --clear-groups";
    for (const allowOther of [false, true]) {
      await withMount(smallTree, { allowOther }, async (mp) => {
        // The temp dirs are 0700: open the path up for the other user first.
        await shOk(`chmod 755 $(dirname ${mp})`);
        const r = await sh(`${asNobody} cat ${mp}/top.txt`);
        if (allowOther) assert.equal(r.stdout, "top\n", r.stderr);
        else assert.match(r.stderr, /Permission denied/);
        assert.equal(await shOk(`cat ${mp}/top.txt`), "top\n"); // the owner always can
      });
    }
  },
});
