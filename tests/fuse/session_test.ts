import assert from "node:assert/strict";
import { MountError, mountFuse, prepareMountpoint } from "../../src/fuse/session.ts";
import { fuseConfAllowsOther } from "../../src/fuse/fuse_conf.ts";
import { mountDeviceId } from "../../src/fuse/bdi.ts";
import { noFuse, shOk, startMount, tempDirs } from "./helpers.ts";
import { scratchDir } from "../scratch.ts";

Deno.test("session: a missing mountpoint or a file is refused with a clear message", async () => {
  using tmp = scratchDir("musefs-session-");
  const dir = tmp.path;
  assert.throws(
    () => prepareMountpoint(`${dir}/missing`),
    (e) =>
      e instanceof MountError && /mountpoint does not exist \(create it first\)/.test(e.message),
  );
  await Deno.writeTextFile(`${dir}/file`, "x");
  assert.throws(
    () => prepareMountpoint(`${dir}/file`),
    (e) => e instanceof MountError && e.message === `mountpoint is not a directory: ${dir}/file`,
  );
  assert.throws(() => mountFuse({ mountpoint: `${dir}/file`, allowOther: false }), MountError);
  prepareMountpoint(dir); // a directory is fine
});

Deno.test("session: user_allow_other counts only on an uncommented line of its own", async () => {
  using tmp = scratchDir("musefs-session-");
  const dir = tmp.path;
  const conf = `${dir}/fuse.conf`;
  await Deno.writeTextFile(conf, "# user_allow_other\n#user_allow_other\nmount_max = 10\n");
  assert.equal(fuseConfAllowsOther(conf), false);
  await Deno.writeTextFile(conf, "mount_max = 10\n  user_allow_other  \n");
  assert.equal(fuseConfAllowsOther(conf), true);
  assert.equal(fuseConfAllowsOther(`${dir}/missing.conf`), false);
});

Deno.test({
  name: "session: the mount's device id is found in mountinfo and its read-ahead raised to 1 MiB",
  ignore: noFuse,
  fn: async () => {
    await using dirs = await tempDirs();
    const { source, mountpoint } = dirs;
    const m = await startMount(source, mountpoint);
    try {
      const dev = Number((await shOk(`stat -c %d ${mountpoint}`)).trim());
      const major = (dev >> 8) & 0xfff;
      const minor = (dev & 0xff) | ((dev >> 12) & 0xfff00);
      assert.equal(mountDeviceId(mountpoint), `${major}:${minor}`);
      const ra = await Deno.readTextFile(`/sys/class/bdi/${major}:${minor}/read_ahead_kb`);
      assert.equal(ra.trim(), "1024");
      assert.equal(m.ready.readAheadRaised, true);
    } finally {
      const r = await m.stop();
      assert.equal(r.code, 0, r.stderr);
    }
    assert.equal(mountDeviceId(mountpoint), null);
  },
});
