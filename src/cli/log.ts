// A small leveled logger on stderr, the counterpart of the original's
// env_logger: `-v` raises the level (0 warn, 1 info, 2 debug, ≥3 trace) and
// MUSEFS_LOG (or RUST_LOG) overrides it. Lines look like
// `[2026-01-02T03:04:05Z WARN  musefs::scan] message`.

export type LogLevel = "off" | "error" | "warn" | "info" | "debug" | "trace";

const RANK: Record<LogLevel, number> = {
  off: 0,
  error: 1,
  warn: 2,
  info: 3,
  debug: 4,
  trace: 5,
};

export interface Logger {
  error(message: string): void;
  warn(message: string): void;
  info(message: string): void;
  debug(message: string): void;
  trace(message: string): void;
  /** True when `level` would be written (to skip building costly messages). */
  enabled(level: Exclude<LogLevel, "off">): boolean;
}

let current: LogLevel = "warn";
const encoder = new TextEncoder();

function writeStderr(line: string): void {
  const bytes = encoder.encode(line + "\n");
  let off = 0;
  try {
    while (off < bytes.length) off += Deno.stderr.writeSync(bytes.subarray(off));
  } catch (e) {
    // Nobody reads stderr any more: nothing left to tell.
    if (!(e instanceof Deno.errors.BrokenPipe)) throw e;
  }
}

let sink: (line: string) => void = writeStderr;

/** The level -v counts map to. */
export function levelFromVerbosity(verbose: number): LogLevel {
  if (verbose <= 0) return "warn";
  if (verbose === 1) return "info";
  if (verbose === 2) return "debug";
  return "trace";
}

/**
 * Parse an env_logger-style spec: `debug`, or `musefs=debug,other=info`.
 * Target filters are not kept: the most verbose level named applies. Returns
 * undefined when nothing in it is a level.
 */
export function parseLevelSpec(spec: string): LogLevel | undefined {
  let found: LogLevel | undefined;
  for (const part of spec.split(",")) {
    const word = (part.includes("=") ? part.slice(part.indexOf("=") + 1) : part)
      .trim().toLowerCase();
    const level = word === "warning" ? "warn" : word;
    if (!(level in RANK)) continue;
    const l = level as LogLevel;
    if (found === undefined || RANK[l] > RANK[found]) found = l;
  }
  return found;
}

/** Set the level from -v and the environment (MUSEFS_LOG, then RUST_LOG, win). */
export function configureLogging(
  verbose: number,
  env: (name: string) => string | undefined = (n) => Deno.env.get(n),
): LogLevel {
  let level = levelFromVerbosity(verbose);
  for (const name of ["MUSEFS_LOG", "RUST_LOG"]) {
    const spec = env(name);
    if (spec === undefined || spec.trim() === "") continue;
    const parsed = parseLevelSpec(spec);
    if (parsed !== undefined) {
      level = parsed;
      break;
    }
    writeStderr(`warning: ignoring ${name}=${spec}: not a log level`);
  }
  current = level;
  return level;
}

export function setLogLevel(level: LogLevel): void {
  current = level;
}

export function logLevel(): LogLevel {
  return current;
}

/**
 * Route log lines elsewhere (a progress bar clears its line first), or back
 * to stderr with no argument. Returns the previous sink.
 */
export function setLogSink(fn?: (line: string) => void): (line: string) => void {
  const previous = sink;
  sink = fn ?? writeStderr;
  return previous;
}

function timestamp(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** A logger whose lines name `target` (e.g. "musefs::scan"). */
export function createLogger(target = "musefs"): Logger {
  const emit = (level: Exclude<LogLevel, "off">, message: string) => {
    if (RANK[level] > RANK[current]) return;
    sink(`[${timestamp()} ${level.toUpperCase().padEnd(5)} ${target}] ${message}`);
  };
  return {
    error: (m) => emit("error", m),
    warn: (m) => emit("warn", m),
    info: (m) => emit("info", m),
    debug: (m) => emit("debug", m),
    trace: (m) => emit("trace", m),
    enabled: (level) => RANK[level] <= RANK[current],
  };
}

/** The default logger (target "musefs"). */
export const log: Logger = createLogger();
