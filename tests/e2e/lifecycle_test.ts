// End to end: the mount's life — signals unmount and exit 0 (also when the
// mount is busy), the metrics file, and bad invocations that must fail with
// a clear message, a non-zero exit and nothing mounted.

import assert from "node:assert/strict";
import {
  isMounted,
  mount,
  musefsWithin,
  noFuse,
  q,
  type Ran,
  scannedLibrary,
  sh,
  withMount,
} from "./helpers.ts";
import { FIXTURE_NAMES } from "../fixtures/fixtures.ts";

const DIR = "Various Ärtists/Älbum of Fixtures";

Deno.test({
  name: "e2e: lifecycle: signals, metrics, bad invocations",
  ignore: noFuse,
  async fn(t) {
    await using lib = await scannedLibrary();
    const mnt = `${lib.base}/mnt`;
    await t.step("SIGTERM unmounts and exits 0", async () => {
      await using m = await mount(lib.db, mnt);
      assert.equal(
        (await Array.fromAsync(Deno.readDir(`${mnt}/${DIR}`))).length,
        FIXTURE_NAMES.length,
      );
      const started = Date.now();
      const r = await m.stop();
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /unmounting/);
      assert.doesNotMatch(r.stderr, /busy/, "an idle mount unmounts directly");
      assert.ok(Date.now() - started < 3000, "promptly");
      assert.equal(await isMounted(mnt), false);
    });

    await t.step("SIGINT unmounts and exits 0", async () => {
      await using m = await mount(lib.db, mnt);
      m.child.kill("SIGINT");
      const s = await m.child.status;
      assert.equal(s.code, 0);
      assert.equal(await isMounted(mnt), false);
    });

    await t.step("a busy mount is detached on SIGTERM and the process exits 0", async () => {
      await using m = await mount(lib.db, mnt);
      // A process whose working directory is inside the mount keeps it busy (killed first).
      await using _holder = new Deno.Command("sleep", { args: ["60"], cwd: `${mnt}/${DIR}` })
        .spawn();
      const started = Date.now();
      const r = await m.stop();
      assert.equal(r.code, 0, r.stderr);
      assert.ok(Date.now() - started < 12_000, "exits promptly");
      assert.equal(await isMounted(mnt), false);
    });

    await t.step("a second signal during a busy unmount exits 130 at once", async () => {
      const m = await mount(lib.db, mnt);
      const holder = new Deno.Command("sleep", { args: ["60"], cwd: `${mnt}/${DIR}` }).spawn();
      try {
        m.child.kill("SIGTERM");
        // Wait until the first signal was taken (the busy unmount is in its grace period).
        const deadline = Date.now() + 5000;
        while (!/busy/.test(m.log()) && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 20));
        }
        assert.match(m.log(), /busy/, "the first signal found the mount busy");
        const started = Date.now();
        m.child.kill("SIGTERM");
        const s = await m.child.status;
        assert.equal(s.code, 130);
        assert.ok(Date.now() - started < 2000, "at once, not after the grace period");
      } finally {
        holder.kill("SIGKILL");
        await holder.status;
        await m.stop(); // detaches whatever the abrupt exit left behind
      }
      assert.equal(await isMounted(mnt), false);
    });

    await t.step("--expose-metrics serves Prometheus text", async () => {
      await withMount(lib.db, mnt, ["--expose-metrics"], async () => {
        const root = [];
        for await (const e of Deno.readDir(mnt)) root.push(e.name);
        assert.ok(root.includes(".musefs-metrics"), root.join(", "));
        await Deno.readFile(`${mnt}/${DIR}/Ça va — 東京 ♫.flac`);
        const text = await Deno.readTextFile(`${mnt}/.musefs-metrics/metrics`);
        const values = new Map<string, number>();
        for (const line of text.split("\n")) {
          if (line === "" || line.startsWith("#")) continue;
          const [name, value] = line.split(" ");
          assert.match(name, /^musefs_[a-z_]+$/, line);
          assert.ok(Number.isFinite(Number(value)), line);
          values.set(name, Number(value));
        }
        for (
          const name of [
            "musefs_uptime_seconds",
            "musefs_handles_open",
            "musefs_read_errors_total",
            "musefs_refresh_generation",
            "musefs_passthrough_active",
          ]
        ) {
          assert.ok(values.has(name), `${name} in\n${text}`);
          assert.match(text, new RegExp(`^# TYPE ${name} (gauge|counter)$`, "m"));
          assert.match(text, new RegExp(`^# HELP ${name} .+$`, "m"));
        }
        assert.ok(values.get("musefs_uptime_seconds")! > 0);
        assert.equal(values.get("musefs_read_errors_total"), 0);
        assert.equal(values.get("musefs_passthrough_active"), 0, "synthesis mode");
      });
      await withMount(lib.db, mnt, [], async () => {
        const r = await sh(`ls ${q(`${mnt}/.musefs-metrics`)}`);
        assert.notEqual(r.code, 0, "no metrics directory without the flag");
      });
    });

    await t.step("bad invocations: clear message, exit 1, nothing mounted", async () => {
      await Deno.writeTextFile(`${lib.base}/a-file`, "x");
      await Deno.writeTextFile(`${lib.base}/not-a-store.db`, "this is not sqlite");
      const cases: [string, string[], RegExp][] = [
        [
          "missing store",
          ["mount", mnt, "--db", `${lib.base}/none.db`],
          /database does not exist/,
        ],
        [
          "store not SQLite",
          ["mount", mnt, "--db", `${lib.base}/not-a-store.db`],
          /not a database/,
        ],
        [
          "missing mountpoint",
          ["mount", `${lib.base}/nowhere`, "--db", lib.db],
          /does not exist/,
        ],
        [
          "mountpoint is a file",
          ["mount", `${lib.base}/a-file`, "--db", lib.db],
          /not a directory/,
        ],
        ["unclosed [", ["mount", mnt, "--db", lib.db, "--template", "[unclosed"], /template/],
        ["unclosed ${", ["mount", mnt, "--db", lib.db, "--template", "${title"], /template/],
        [
          "unknown syntax",
          ["mount", mnt, "--db", lib.db, "--template", "${title:x}"],
          /template/,
        ],
      ];
      for (const [what, args, message] of cases) {
        const r = await musefsWithin(args);
        try {
          assert.notEqual(r, "timeout", `${what}: still running (mounted?)`);
          const ran = r as Ran;
          assert.equal(ran.code, 1, `${what}: exit code (${ran.stderr})`);
          assert.match(ran.stderr, /^musefs: /, what);
          assert.match(ran.stderr, message, what);
          assert.equal(ran.stderr.trim().split("\n").length, 1, `${what}: one line`);
        } finally {
          assert.equal(await isMounted(mnt), false, `${what}: nothing mounted`);
        }
      }
    });

    await t.step("--dry-run prints a sample and mounts nothing", async () => {
      const r = await musefsWithin(["mount", mnt, "--db", lib.db, "--dry-run"]);
      assert.notEqual(r, "timeout");
      const ran = r as Ran;
      assert.equal(ran.code, 0, ran.stderr);
      assert.match(
        ran.stdout,
        new RegExp(`^dry run: ${FIXTURE_NAMES.length} files across 2 directories`, "m"),
      );
      assert.match(ran.stdout, /^ {2}Various Ärtists\/Älbum of Fixtures\/Ça va — 東京 ♫\.flac$/m);
      assert.equal(await isMounted(mnt), false);
    });
  },
});
