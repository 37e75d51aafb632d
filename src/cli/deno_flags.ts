// How musefs runs: the one list of Deno flags (permissions included) used by
// the `musefs` task in deno.json, by build.ts for `deno compile`, and by every
// test or benchmark that runs musefs as a subprocess. tests/build_test.ts
// fails when they disagree.
//
// The list is --allow-all, because no narrower set makes every feature work
// (docs/permissions.md has the evidence): Deno grants /proc, /sys and /dev
// (passthrough's privilege check, the connection's read_ahead_kb, the RSS
// metric, mountinfo) and SQLite ATTACH (which VACUUM runs internally) only
// under full permissions, whatever --allow-read/--allow-write say. FUSE needs
// --allow-ffi and unmounting needs --allow-run, and either already lets the
// process do anything its user can, so a narrower list would not contain it.
//
// --max-semi-space-size=4 (MiB) caps V8's young generation: left to grow, it
// reached 3 × 16 MiB of mostly empty space during a library scan (every stat
// of a new file makes short-lived garbage) and held it, about 70 MiB of RSS
// that no cache budget accounts for; capped, scans ran at the same speed.
// --optimize-for-size makes V8 grow its old generation by a smaller factor
// between collections: a media server's first walk of a library leaves
// garbage that V8 otherwise lets accumulate to several times the live heap,
// RSS no cache budget accounts for. It costs some CPU on that first walk;
// streaming throughput is unchanged (docs/tuning.md has the figures). It also
// caps each semi-space at 1 MiB, over the 4 asked for; the 4 keeps the young
// generation bounded should --optimize-for-size ever be dropped.

/** Full permissions (see above and docs/permissions.md) and a bounded V8 heap. */
export const DENO_FLAGS = [
  "--allow-all",
  "--v8-flags=--max-semi-space-size=4,--optimize-for-size",
] as const;
