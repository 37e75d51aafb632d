// systemd: the units in contrib/systemd parse (systemd-analyze verify), the
// scan unit's sandbox rates ≤ 5 (systemd-analyze security), the install
// comment names the file build.ts writes, and a real mount speaks sd_notify:
// READY=1 once it answers, STOPPING=1 when it unmounts, to a path socket and
// to an abstract one.

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { compilePlan } from "../../build.ts";
import { noFuse, scannedLibrary, sh } from "../e2e/helpers.ts";
import { q, shippedArgv } from "./shipped.ts";
import { scratchDir } from "../scratch.ts";

const UNITS = fileURLToPath(new URL("../../contrib/systemd/", import.meta.url));
const haveAnalyze = (await sh("command -v systemd-analyze")).code === 0;
if (!haveAnalyze) {
  console.warn("SKIPPING the unit checks: systemd-analyze missing (apt package systemd)");
}
const PYTHON = "/usr/bin/python3";

Deno.test({
  name: "deploy: systemd units verify, and the scan unit's exposure is at most 5",
  ignore: !haveAnalyze,
  async fn() {
    using tmp = scratchDir("musefs-units-");
    const dir = tmp.path;
    // verify checks that ExecStart= programs exist: point them at a stand-in.
    await Deno.writeTextFile(`${dir}/musefs`, "#!/bin/sh\n", { mode: 0o755 });
    const names = ["musefs.service", "musefs-scan.service", "musefs-scan.timer"];
    for (const name of names) {
      const text = await Deno.readTextFile(`${UNITS}/${name}`);
      await Deno.writeTextFile(
        `${dir}/${name}`,
        text.replaceAll("/usr/local/bin/musefs", `${dir}/musefs`),
      );
    }
    const verify = await sh(
      `systemd-analyze verify --man=no ${names.map((n) => q(`${dir}/${n}`)).join(" ")}`,
    );
    assert.equal(verify.code, 0, verify.stderr);
    assert.equal(verify.stderr.trim(), "", "no warnings (unknown keys, bad values)");

    const security = await sh(
      `systemd-analyze security --offline=true --no-pager ${q(`${UNITS}/musefs-scan.service`)}`,
    );
    const m = /Overall exposure level for musefs-scan\.service: ([\d.]+)/.exec(security.stdout);
    assert.ok(m, security.stdout + security.stderr);
    assert.ok(Number(m[1]) <= 5, `exposure ${m[1]}:\n${security.stdout}`);
  },
});

Deno.test("deploy: the mount unit is Type=notify and its install comment names the built file", async () => {
  const unit = await Deno.readTextFile(`${UNITS}/musefs.service`);
  assert.match(unit, /^Type=notify$/m);
  assert.match(unit, /^NotifyAccess=main$/m);
  const install = /install -m 0755 (.+?) \/usr\/local\/bin\/musefs/.exec(unit);
  assert.ok(install, "an install line for the binary");
  // The shell word names exactly the file build.ts writes, for each architecture `uname -m` says.
  for (const arch of ["x86_64", "aarch64"] as const) {
    const word: string = install[1].replaceAll('"$(uname -m)"', arch);
    const glob: RegExp = new RegExp(
      "^" + word.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replaceAll("*", "[^/]*") + "$",
    );
    const built = compilePlan([arch]).map((s) => s.output);
    assert.deepEqual(built.filter((p) => glob.test(p)), built, `${word} vs ${built}`);
    assert.doesNotMatch(compilePlan([arch === "x86_64" ? "aarch64" : "x86_64"])[0].output, glob);
  }
});

/**
 * A unix datagram socket receiving sd_notify messages (python3), printing
 * one JSON value per line: "LISTENING", then each message; right after a
 * message with READY=1 it lists `mountpoint` ({"ls": [...]}) — the mount
 * must answer by then. Ends after STOPPING=1 (or 60 s without a message).
 */
function listen(address: string, mountpoint: string) {
  const script = `
import json, os, socket, sys
a, mp = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("\\0" + a[1:] if a.startswith("@") else a)
print(json.dumps("LISTENING"), flush=True)
s.settimeout(60)
while True:
    m = s.recv(4096).decode()
    print(json.dumps(m), flush=True)
    lines = m.split("\\n")
    if "READY=1" in lines:
        print(json.dumps({"ls": sorted(os.listdir(mp))}), flush=True)
    if "STOPPING=1" in lines:
        break
`;
  const child = new Deno.Command(PYTHON, {
    args: ["-c", script, address, mountpoint],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buf = "";
  /** The next printed value, or null once the listener ended. */
  const next = async (): Promise<unknown> => {
    for (;;) {
      const nl = buf.indexOf("\n");
      if (nl >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        return JSON.parse(line);
      }
      const r = await reader.read();
      if (r.done) return null;
      buf += r.value;
    }
  };
  return { child, next };
}

/** `p`, or throw after `ms` naming `what`. */
async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) =>
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms)
  );
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

Deno.test({
  name: "deploy: a mount sends READY=1 once it answers and STOPPING=1 when it unmounts",
  ignore: noFuse,
  async fn(t) {
    await using lib = await scannedLibrary("musefs-notify-");
    const mp = `${lib.base}/mnt`;
    const env: Record<string, string> = { NO_COLOR: "1" };
    for (const name of ["PATH", "HOME", "DENO_DIR"]) {
      const v = Deno.env.get(name);
      if (v !== undefined) env[name] = v;
    }
    for (const kind of ["path", "abstract"] as const) {
      await t.step(`${kind} socket`, async () => {
        const address = kind === "path"
          ? `${lib.base}/notify.sock`
          : `@musefs-test-${crypto.randomUUID()}`;
        const listener = listen(address, mp);
        let mount: Deno.ChildProcess | null = null;
        try {
          assert.equal(await within(listener.next(), 10_000, "the listener"), "LISTENING");
          const [program, ...args] = shippedArgv(["mount", mp, "--db", lib.db]);
          mount = new Deno.Command(program, {
            args,
            env: { ...env, NOTIFY_SOCKET: address },
            clearEnv: true,
            stdin: "null",
            stdout: "null",
            stderr: "piped",
          }).spawn();
          const ready = await within(listener.next(), 30_000, "READY=1") as string;
          const lines = ready.split("\n");
          assert.ok(lines.includes("READY=1"), ready);
          assert.ok(lines.includes(`STATUS=serving ${lib.fixtures.size} files at ${mp}`), ready);
          assert.ok(lines.includes(`MAINPID=${mount.pid}`), ready);
          assert.deepEqual(await within(listener.next(), 10_000, "the listing"), {
            ls: ["Various Ärtists"],
          }, "the mount answers when READY=1 arrives");

          mount.kill("SIGTERM");
          const stopping = await within(listener.next(), 10_000, "STOPPING=1") as string;
          assert.ok(stopping.split("\n").includes("STOPPING=1"), stopping);
          const status = await within(mount.status, 15_000, "the mount to exit");
          assert.equal(status.code, 0);
          assert.equal(await listener.next(), null, "nothing after STOPPING=1");
        } finally {
          if (mount !== null) {
            await mount.stderr.cancel().catch(() => {});
            try {
              mount.kill("SIGKILL");
            } catch { /* exited */ }
            await mount.status;
          }
          try {
            listener.child.kill();
          } catch { /* exited */ }
          await listener.child.status;
          await listener.child.stderr.cancel().catch(() => {});
          await sh(`umount -l ${q(mp)} 2>/dev/null`);
        }
      });
    }
  },
});
