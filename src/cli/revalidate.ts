// `musefs revalidate` (also `scan --revalidate`). Not wired in yet.

import { CliError } from "./errors.ts";
import type { Io } from "./io.ts";
import type { RevalidateOptions } from "./options.ts";

/** Exit 0, or 2 when at least one file failed; hard errors throw. */
export function runRevalidate(_options: RevalidateOptions, _io: Io): Promise<number> {
  throw new CliError("revalidate is not implemented yet");
}
