// C strings for native calls: UTF-8 bytes with a terminating NUL.

const enc = new TextEncoder();

/** `s` as a NUL-terminated UTF-8 buffer. */
export function cstr(s: string): Uint8Array<ArrayBuffer> {
  const bytes = enc.encode(s);
  const b = new Uint8Array(bytes.length + 1);
  b.set(bytes);
  return b;
}

let scratch = new Uint8Array(1024);

/**
 * `s` NUL-terminated in a buffer that the next call overwrites: for a path
 * handed to one synchronous call and dropped (open, stat on every request),
 * where a fresh buffer per call was garbage the collector had to sweep.
 */
export function cstrScratch(s: string): Uint8Array<ArrayBuffer> {
  // UTF-8 takes at most 3 bytes per UTF-16 code unit.
  if (s.length * 3 + 1 > scratch.length) scratch = new Uint8Array(s.length * 3 + 1);
  const { written } = enc.encodeInto(s, scratch);
  scratch[written] = 0;
  return scratch;
}
