// `musefs status`: every live musefs mount on this machine, as each reports
// itself through its root's `user.musefs.status` attribute, with the process
// checked in /proc. A mount that does not answer in time is listed as such.

import { EXIT_OK } from "./errors.ts";
import type { Io } from "./io.ts";
import { type MountStatus, mountStatus, musefsMountpoints } from "./mounts.ts";
import type { StatusOptions } from "./curate_options.ts";

/** One mount as `status --json` prints it (docs/cli.md "status"). */
export interface MountReport {
  mountpoint: string;
  answering: boolean;
  store: string | null;
  mode: string | null;
  tracks: number | null;
  files: number | null;
  directories: number | null;
  passthrough: boolean | null;
  pid: number | null;
  process_alive: boolean | null;
  version: string | null;
  uptime_seconds: number | null;
}

function alive(pid: number): boolean {
  try {
    Deno.statSync(`/proc/${pid}`);
    return true;
  } catch {
    return false;
  }
}

function reportOf(mountpoint: string, s: MountStatus | null): MountReport {
  const now = Math.floor(Date.now() / 1000);
  return {
    mountpoint,
    answering: s !== null,
    store: s?.store ?? null,
    mode: s?.mode ?? null,
    tracks: s?.files ?? null,
    files: s?.files ?? null,
    directories: s?.directories ?? null,
    passthrough: s?.passthrough ?? null,
    pid: s?.pid ?? null,
    process_alive: s?.pid === undefined ? null : alive(s.pid),
    version: s?.version ?? null,
    uptime_seconds: s?.started_at === undefined ? null : Math.max(0, now - s.started_at),
  };
}

function duration(seconds: number): string {
  const d = Math.floor(seconds / 86400);
  const h = Math.floor((seconds % 86400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return d > 0 ? `${d}d ${h}h` : h > 0 ? `${h}h ${m}m` : m > 0 ? `${m}m ${s}s` : `${s}s`;
}

export async function runStatus(options: StatusOptions, io: Io): Promise<number> {
  const reports: MountReport[] = [];
  for (const mp of musefsMountpoints()) reports.push(reportOf(mp, await mountStatus(mp)));
  if (options.json) {
    for (const r of reports) io.out(JSON.stringify(r));
    return EXIT_OK;
  }
  if (reports.length === 0) {
    io.out("no musefs mounts");
    return EXIT_OK;
  }
  reports.forEach((r, i) => {
    if (i > 0) io.out("");
    io.out(r.mountpoint);
    if (!r.answering) {
      io.out(
        "  not answering (the daemon is busy, stopped or gone; `umount -l` detaches a dead mount)",
      );
      return;
    }
    io.out(`  store        ${r.store}`);
    io.out(`  mode         ${r.mode}, passthrough ${r.passthrough ? "on" : "off"}`);
    io.out(`  tracks       ${r.tracks} (${r.files} files in ${r.directories} directories)`);
    io.out(
      `  process      ${r.pid}${r.process_alive ? "" : " (not running)"}, musefs ${r.version}`,
    );
    io.out(`  uptime       ${duration(r.uptime_seconds ?? 0)}`);
  });
  return EXIT_OK;
}
