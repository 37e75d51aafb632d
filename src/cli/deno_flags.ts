// How musefs runs: the one list of Deno flags (permissions included) used by
// the `musefs` task in deno.json, by build.ts for `deno compile`, and by every
// test or benchmark that runs the CLI as a subprocess. tests/build_test.ts
// fails when the three disagree.

/** What the binary may do: read the library and store, FFI for FUSE/libc, run fusermount3/umount. */
export const DENO_FLAGS = [
  "--allow-read",
  "--allow-write",
  "--allow-env",
  "--allow-ffi",
  "--allow-run",
  "--allow-sys",
] as const;
