// `musefs scan`. The scanner is not wired in yet.

import { CliError } from "./errors.ts";
import type { Io } from "./io.ts";
import type { ScanOptions } from "./options.ts";

/** Exit 0, or 2 when at least one file failed; hard errors throw. */
export function runScan(_options: ScanOptions, _io: Io): Promise<number> {
  throw new CliError("scan is not implemented yet");
}
