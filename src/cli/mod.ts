// Public API of the command line.
export { errorChain, invocationFor, reportError, route, runCli, VERSION } from "./run.ts";
export type {
  ChecksumTier,
  ExtensionStyle,
  Invocation,
  MatchStrictness,
  MountOptions,
  RevalidateOptions,
  ScanOptions,
  ServeMode,
  VacuumOptions,
} from "./options.ts";
export { CliError, EXIT_FAILURE, EXIT_OK, EXIT_SIGNAL, EXIT_USAGE, UsageError } from "./errors.ts";
export type { Io } from "./io.ts";
export { stdio } from "./io.ts";
export { humanBytes, humanDuration } from "./human.ts";
export {
  configureLogging,
  createLogger,
  log,
  type Logger,
  type LogLevel,
  setLogLevel,
  setLogSink,
} from "./log.ts";
