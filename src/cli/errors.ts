// The CLI's error types and its exit codes. Every failure that leaves the
// program is mapped to an exit code in exactly one place (run.ts).

import { MusefsError } from "../model/mod.ts";

/** Exit codes: 0 ok, 1 hard error, 2 usage error or ≥1 file failed. */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;
/** A second stop signal during the unmount grace period (mount). */
export const EXIT_SIGNAL = 130;

/**
 * The command line itself is wrong (unknown flag, bad value, missing
 * argument). Exit 2. `command` names the subcommand whose `--help` to suggest.
 */
export class UsageError extends Error {
  override readonly name = "UsageError";
  constructor(message: string, readonly command?: string) {
    super(message);
  }
}

/** A flag the command does not take; `flag` is as typed (`--tempalte`, `-x`). */
export class UnknownFlagError extends UsageError {
  constructor(readonly flag: string, command: string, readonly suggestion?: string) {
    super(
      `unexpected argument '${flag}'` + (suggestion ? ` (did you mean ${suggestion}?)` : ""),
      command,
    );
  }
}

/** A hard error a command reports as `musefs: <message>` and exit 1. */
export class CliError extends MusefsError {
  override readonly name = "CliError";
  constructor(message: string, options?: { cause?: unknown }) {
    super("command", message, undefined, options);
  }
}

/**
 * A value parser's complaint, without the flag name: the flag engine adds
 * `invalid value "<raw>" for --flag: ` in front. `message` completes the sentence
 * after the colon, e.g. "expected a non-negative integer".
 */
export class ValueError extends Error {
  override readonly name = "ValueError";
}
