// The one base of the errors each layer reports on purpose (StoreError,
// FormatError, TemplateError, MountError, WalkError, CliError …): a kind a
// caller may branch on and, where there is one, the path or id concerned.
// Its message is complete: the command line prints it as it is, while any
// other error is a fault and is printed with its chain of causes.
// Also here, because every layer that answers a reader needs it (the FUSE
// I/O workers without loading the core): what an OS error reads as.

export class MusefsError extends Error {
  constructor(
    /** What went wrong, in the layer's own words ("busy", "malformed", "column" …). */
    readonly kind: string,
    message: string,
    /** The file, mountpoint or id the error concerns, when there is one. */
    readonly subject?: string | number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The errno names an OS error met on a backing file is answered with. */
export type ServedOsErrno = "ENOENT" | "EACCES" | "ENFILE" | "EIO";

const SERVED = new Map<string, ServedOsErrno>([
  ["ENOENT", "ENOENT"],
  // A directory on the backing path became a file: the backing file is gone.
  ["ENOTDIR", "ENOENT"],
  ["EACCES", "EACCES"],
  // Refused either way; EPERM would tell the reader it lacks a privilege it can never have here.
  ["EPERM", "EACCES"],
  // The daemon is out of descriptors, not the reader: the opener is told the
  // system's table is full, and may retry.
  ["EMFILE", "ENFILE"],
  ["ENFILE", "ENFILE"],
]);

/**
 * The one rule for what a reader of a served file is told when an OS error
 * (by its name: "ENOENT", "EPERM" …) stops its backing file from being
 * served: the file is gone (ENOENT), refused (EACCES), the daemon is out of
 * descriptors (ENFILE), or anything else (EIO). The core, the FUSE server and
 * its I/O workers all answer through it (docs/design.md, "Errors").
 */
export function servedErrno(osCode: string | undefined): ServedOsErrno {
  return SERVED.get(osCode ?? "") ?? "EIO";
}
