// Where commands print: result lines to stdout, warnings to stderr. Commands
// take an Io so they can be driven in-process as well as from main.ts.

export interface Io {
  /** One line of program output (stdout). */
  out(line: string): void;
  /** One line of diagnostics (stderr). */
  err(line: string): void;
}

const encoder = new TextEncoder();

/**
 * A stream whose reader went away (`musefs mount --dry-run | head -1`) takes
 * no more output: the write is dropped quietly and the command carries on
 * (a scan still commits), as output to a closed pipe should.
 */
const closed = { out: false, err: false };

function writeAll(
  which: "out" | "err",
  file: { writeSync(p: Uint8Array): number },
  text: string,
): void {
  if (closed[which]) return;
  const bytes = encoder.encode(text);
  let off = 0;
  try {
    while (off < bytes.length) off += file.writeSync(bytes.subarray(off));
  } catch (e) {
    if (!(e instanceof Deno.errors.BrokenPipe)) throw e;
    closed[which] = true;
  }
}

/** The process's stdout and stderr. */
export const stdio: Io = {
  out: (line) => writeAll("out", Deno.stdout, line + "\n"),
  err: (line) => writeAll("err", Deno.stderr, line + "\n"),
};
