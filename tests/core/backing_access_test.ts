// The backing-file access policy on real files with real owners and modes:
// whoever can write the store must be able to read a file for it to be
// served; library roots compare real paths. Root only (it chowns files).

import assert from "node:assert/strict";
import * as fs from "node:fs";
import { backingAccess, storeWriters } from "../../src/core/backing_access.ts";
import { BackingIoError } from "../../src/core/stamp.ts";
import { openLossy } from "../../ffi/lossy_path.ts";
import { scratchDir } from "../scratch.ts";

const isRoot = Deno.uid() === 0;
const NOBODY = 65534;

/** Open `path` and ask `policy`; "ok" or the refusal's errno code (its message → `reasons`). */
function verdict(
  policy: ReturnType<typeof backingAccess>,
  path: string,
  reasons: string[] = [],
): string {
  const fd = fs.openSync(path, "r");
  try {
    policy.check(fd, path);
    return "ok";
  } catch (e) {
    assert.ok(e instanceof BackingIoError, String(e));
    reasons.push(e.message);
    return e.code;
  } finally {
    fs.closeSync(fd);
  }
}

/** A temp tree of files with assorted modes and a store file; removed when the scope ends. */
function setup() {
  const scratch = scratchDir("musefs-access-");
  const dir = scratch.path;
  Deno.chmodSync(dir, 0o755);
  Deno.mkdirSync(`${dir}/store`);
  Deno.mkdirSync(`${dir}/music`, { mode: 0o755 });
  Deno.mkdirSync(`${dir}/private`, { mode: 0o700 });
  Deno.chmodSync(`${dir}/private`, 0o700);
  const store = `${dir}/store/lib.db`;
  Deno.writeTextFileSync(store, "");
  for (const [name, mode] of [["open", 0o644], ["secret", 0o600], ["group", 0o640]] as const) {
    Deno.writeTextFileSync(`${dir}/music/${name}.flac`, name);
    Deno.chmodSync(`${dir}/music/${name}.flac`, mode);
  }
  Deno.chownSync(`${dir}/music/group.flac`, 0, NOBODY);
  Deno.writeTextFileSync(`${dir}/private/hidden.flac`, "x");
  Deno.chmodSync(`${dir}/private/hidden.flac`, 0o644);
  return { dir, store, [Symbol.dispose]: () => scratch[Symbol.dispose]() };
}

Deno.test({
  name: "a store only root can write serves whatever root can read",
  ignore: !isRoot,
  fn() {
    using tree = setup();
    const { dir, store } = tree;
    const policy = backingAccess(store, []);
    assert.deepEqual(storeWriters(store).map((p) => p.label), ["user root"]);
    for (const f of ["music/open.flac", "music/secret.flac", "private/hidden.flac"]) {
      assert.equal(verdict(policy, `${dir}/${f}`), "ok", f);
    }
    assert.equal(policy.refusals, 0);
  },
});

Deno.test({
  name: "a store another user owns serves only what that user can read and reach",
  ignore: !isRoot,
  fn() {
    using tree = setup();
    const { dir, store } = tree;
    Deno.chownSync(store, NOBODY, NOBODY);
    const warnings: string[] = []; // refusal messages
    const policy = backingAccess(store, []);
    assert.equal(verdict(policy, `${dir}/music/open.flac`), "ok");
    assert.equal(verdict(policy, `${dir}/music/group.flac`), "ok", "readable through its group");
    assert.equal(verdict(policy, `${dir}/music/secret.flac`, warnings), "EACCES");
    assert.equal(
      verdict(policy, `${dir}/private/hidden.flac`, warnings),
      "EACCES",
      "directory not searchable",
    );
    assert.equal(verdict(policy, `${dir}/music/../music/secret.flac`), "EACCES");
    assert.equal(verdict(policy, `${dir}/music/secret.flac`), "EACCES");
    assert.equal(policy.refusals, 4);
    assert.match(warnings[0], /user nobody, who can write the store, could not read it/);
    assert.match(warnings[1], /could not reach it \(.*\/private\)/);
  },
});

Deno.test({
  name: "a group- or world-writable store adds that group or everyone to the writers",
  ignore: !isRoot,
  fn() {
    using tree = setup();
    const { dir, store } = tree;
    Deno.chownSync(store, 0, NOBODY);
    Deno.chmodSync(store, 0o664);
    assert.deepEqual(storeWriters(store).map((p) => p.label), ["user root", "group nogroup"]);
    let policy = backingAccess(store, []);
    assert.equal(verdict(policy, `${dir}/music/group.flac`), "ok");
    assert.equal(verdict(policy, `${dir}/music/secret.flac`), "EACCES");
    // A sticky world-writable directory (/tmp) lets nobody replace the store.
    Deno.chmodSync(`${dir}/store`, 0o1777);
    assert.ok(!storeWriters(store).some((p) => p.label === "every user"));
    Deno.chmodSync(`${dir}/store`, 0o777);
    assert.ok(storeWriters(store).some((p) => p.label === "every user"));
    policy = backingAccess(store, []);
    assert.equal(verdict(policy, `${dir}/music/open.flac`), "ok");
    assert.equal(verdict(policy, `${dir}/music/group.flac`), "EACCES");
  },
});

Deno.test({
  name: "library roots compare the real path of the opened file",
  ignore: !isRoot,
  fn() {
    using tree = setup();
    const { dir, store } = tree;
    Deno.symlinkSync(`${dir}/private/hidden.flac`, `${dir}/music/link.flac`);
    const policy = backingAccess(store, [`${dir}/music/`]);
    assert.equal(verdict(policy, `${dir}/music/secret.flac`), "ok");
    assert.equal(verdict(policy, `${dir}/music/link.flac`), "EACCES");
    assert.equal(verdict(policy, `${dir}/music/../private/hidden.flac`), "EACCES");
    assert.throws(() => backingAccess(store, [`${dir}/nope`]), /library root .*nope/);
    const all = backingAccess(store, ["/"]);
    assert.equal(verdict(all, `${dir}/private/hidden.flac`), "ok");
  },
});

Deno.test({
  name: "a directory whose name is not valid UTF-8 is checked through its raw bytes",
  ignore: !isRoot,
  async fn() {
    using tree = setup();
    const { dir, store } = tree;
    // `caf\xe9`: Latin-1, not UTF-8.
    const made = await new Deno.Command("bash", {
      args: ["-c", `mkdir -m 755 "$1"/caf$'\\xe9' && echo x > "$1"/caf$'\\xe9'/a.flac`, "-", dir],
    }).output();
    assert.equal(made.code, 0, new TextDecoder().decode(made.stderr));
    const lossy = `${dir}/caf\uFFFD/a.flac`;
    Deno.chownSync(store, NOBODY, NOBODY);
    const policy = backingAccess(store, []);
    const fd = openLossy(lossy, fs.constants.O_RDONLY);
    try {
      policy.check(fd, lossy);
    } finally {
      fs.closeSync(fd);
    }
    assert.equal(policy.refusals, 0);
  },
});
