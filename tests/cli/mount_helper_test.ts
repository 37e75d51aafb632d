// The mount(8) form's options, resolved by the real CLI
// (MUSEFS_PRINT_OPTIONS: parse and print, mount nothing): each option is a
// mount flag without dashes, standard mount options are ignored, anything
// else is a usage error naming it.

import assert from "node:assert/strict";
import { splitOptions } from "../../src/cli/mount_helper.ts";
import { musefsAll, resolved } from "./run_musefs.ts";

Deno.test("mount helper form: options become mount flags; paths become absolute", async () => {
  const inv = await resolved([
    "lib.db",
    "mnt",
    "-o",
    "rw,allow_other,template=$title,keep_cache=false,owner=0,max-readahead-kib=1024," +
    "dev,suid,noatime,_netdev,nofail,x-systemd.automount,default_permissions,fsname=music," +
    'fallback="genre=Rock, Pop",expose_metrics',
  ]);
  assert.equal(inv.command, "mount");
  const o = inv.options;
  assert.equal(o.db, `${Deno.cwd()}/lib.db`);
  assert.equal(o.mountpoint, `${Deno.cwd()}/mnt`);
  assert.equal(o.allowOther, true);
  assert.equal(o.template, "$title");
  assert.equal(o.keepCache, false);
  assert.equal(o.uid, 0);
  assert.equal(o.maxReadaheadKib, 1024);
  assert.equal(o.exposeMetrics, true);
  assert.deepEqual(o.fallbacks, { genre: "Rock, Pop" });
  assert.equal(o.dryRun, false);
});

Deno.test("mount helper form: bare owner/group are mount(8)'s, -oOPTS attached, -o repeated", async () => {
  const inv = await resolved(["/s.db", "/m", "-oowner,group", "-o", "keep_cache", "-v"]);
  assert.equal(inv.options.uid, Deno.uid());
  assert.equal(inv.options.ownerGiven, false);
  assert.equal(inv.options.allowOther, false);
  assert.equal(inv.options.keepCache, true);
  assert.equal(inv.verbose, 1);
});

Deno.test("mount helper form: bad options are usage errors naming them", async () => {
  const cases: [string[], RegExp][] = [
    [["/s.db", "/m", "-o", "templat=$x"], /unknown mount option 'templat'/],
    [["/s.db", "/m", "-o", "db=/other.db"], /mount option 'db' is not accepted: the store is/],
    [["/s.db", "/m", "-o", "dry_run"], /mount option 'dry_run' is not accepted/],
    [["/s.db", "/m", "-o", "allow_other=1"], /'allow_other' takes no value/],
    [["/s.db", "/m", "-o", "template"], /'template' needs a value/],
    [["/s.db", "-o", "ro"], /the mount\(8\) form is `musefs STORE MOUNTPOINT -o OPTIONS` \(got 1/],
    [["/s.db", "/m", "-o", 'fallback="a=b'], /unclosed quote/],
    [["/s.db", "/m", "-o", "ro", "--template", "x"], /unexpected argument '--template'/],
    [["/s.db", "/m", "-o", "mode=sideways"], /invalid value "sideways" for --mode/],
    [["/s.db", "/m", "-o"], /a value is required for -o/],
  ];
  const ran = await musefsAll(cases.map(([args]) => ({ args })));
  ran.forEach((r, i) => {
    const [args, message] = cases[i];
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, message, args.join(" "));
    assert.match(r.stderr, /^musefs: /);
  });
});

Deno.test("mount helper form: option splitting keeps quoted commas", () => {
  assert.deepEqual(splitOptions('a,b=1,,c="x, y",d'), ["a", "b=1", "c=x, y", "d"]);
  assert.deepEqual(splitOptions(""), []);
});
