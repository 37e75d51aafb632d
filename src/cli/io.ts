// Where commands print: result lines to stdout, warnings to stderr. Commands
// take an Io so they can be driven in-process as well as from main.ts.

export interface Io {
  /** One line of program output (stdout). */
  out(line: string): void;
  /** One line of diagnostics (stderr). */
  err(line: string): void;
}

const encoder = new TextEncoder();

function writeAll(file: { writeSync(p: Uint8Array): number }, text: string): void {
  const bytes = encoder.encode(text);
  let off = 0;
  while (off < bytes.length) off += file.writeSync(bytes.subarray(off));
}

/** The process's stdout and stderr. */
export const stdio: Io = {
  out: (line) => writeAll(Deno.stdout, line + "\n"),
  err: (line) => writeAll(Deno.stderr, line + "\n"),
};
