// The one base of the errors each layer reports on purpose (StoreError,
// FormatError, TemplateError, MountError, WalkError, CliError …): a kind a
// caller may branch on and, where there is one, the path or id concerned.
// Its message is complete: the command line prints it as it is, while any
// other error is a fault and is printed with its chain of causes.

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
