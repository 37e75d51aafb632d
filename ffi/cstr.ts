// C strings for native calls: UTF-8 bytes with a terminating NUL.

const enc = new TextEncoder();

/** `s` as a NUL-terminated UTF-8 buffer. */
export function cstr(s: string): Uint8Array<ArrayBuffer> {
  const bytes = enc.encode(s);
  const b = new Uint8Array(bytes.length + 1);
  b.set(bytes);
  return b;
}
