// Small byte helpers shared by every format: endian reads and writes,
// text codecs, concatenation. Offsets are plain numbers (files < 2^53).

const utf8Decoder = new TextDecoder("utf-8");
const utf8Fatal = new TextDecoder("utf-8", { fatal: true });
const utf8Encoder = new TextEncoder();

export function u16be(b: Uint8Array, o: number): number {
  return (b[o] << 8) | b[o + 1];
}
export function u24be(b: Uint8Array, o: number): number {
  return (b[o] << 16) | (b[o + 1] << 8) | b[o + 2];
}
export function u32be(b: Uint8Array, o: number): number {
  return ((b[o] << 24) >>> 0) + ((b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]);
}
/** 64-bit big-endian as a number; throws RangeError beyond 2^53. */
export function u64be(b: Uint8Array, o: number): number {
  const hi = u32be(b, o);
  if (hi >= 0x200000) throw new RangeError("64-bit value beyond 2^53");
  return hi * 0x1_0000_0000 + u32be(b, o + 4);
}
export function u16le(b: Uint8Array, o: number): number {
  return b[o] | (b[o + 1] << 8);
}
export function u32le(b: Uint8Array, o: number): number {
  return (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16)) + ((b[o + 3] << 24) >>> 0);
}
export function u64le(b: Uint8Array, o: number): number {
  const hi = u32le(b, o + 4);
  if (hi >= 0x200000) throw new RangeError("64-bit value beyond 2^53");
  return hi * 0x1_0000_0000 + u32le(b, o);
}

export function putU16be(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 8) & 0xff;
  b[o + 1] = v & 0xff;
}
export function putU24be(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 16) & 0xff;
  b[o + 1] = (v >>> 8) & 0xff;
  b[o + 2] = v & 0xff;
}
export function putU32be(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 24) & 0xff;
  b[o + 1] = (v >>> 16) & 0xff;
  b[o + 2] = (v >>> 8) & 0xff;
  b[o + 3] = v & 0xff;
}
export function putU64be(b: Uint8Array, o: number, v: number): void {
  putU32be(b, o, Math.floor(v / 0x1_0000_0000));
  putU32be(b, o + 4, v >>> 0);
}
export function putU16le(b: Uint8Array, o: number, v: number): void {
  b[o] = v & 0xff;
  b[o + 1] = (v >>> 8) & 0xff;
}
export function putU32le(b: Uint8Array, o: number, v: number): void {
  b[o] = v & 0xff;
  b[o + 1] = (v >>> 8) & 0xff;
  b[o + 2] = (v >>> 16) & 0xff;
  b[o + 3] = (v >>> 24) & 0xff;
}

/** Lossy UTF-8 decode (invalid sequences → U+FFFD). */
export function utf8(b: Uint8Array): string {
  return utf8Decoder.decode(b);
}
/** Strict UTF-8 decode: null when the bytes are not valid UTF-8. */
export function utf8Strict(b: Uint8Array): string | null {
  try {
    return utf8Fatal.decode(b);
  } catch {
    return null;
  }
}
export function encodeUtf8(s: string): Uint8Array {
  return utf8Encoder.encode(s);
}
/** ISO-8859-1 decode: each byte is one code point. */
export function latin1(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i += 8192) {
    s += String.fromCharCode(...b.subarray(i, Math.min(b.length, i + 8192)));
  }
  return s;
}
/** ASCII/Latin-1 encode of a string whose code points are all < 256. */
export function encodeLatin1(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i) & 0xff;
  return out;
}

export function ascii4(b: Uint8Array, o: number): string {
  return String.fromCharCode(b[o], b[o + 1], b[o + 2], b[o + 3]);
}

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Growable output buffer for building headers. The default capacity stays
 * small: V8 keeps typed arrays of up to 64 bytes on its own heap, while a
 * larger one costs a native allocation and a finalizer. Synthesis builds
 * many small pieces per file, so that difference dominates its cost.
 */
export class ByteWriter {
  #buf: Uint8Array;
  #len = 0;
  constructor(initial = 64) {
    this.#buf = new Uint8Array(initial);
  }
  get length(): number {
    return this.#len;
  }
  #room(n: number): void {
    if (this.#len + n <= this.#buf.length) return;
    let cap = this.#buf.length * 2;
    while (cap < this.#len + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.#buf.subarray(0, this.#len));
    this.#buf = next;
  }
  /** Append `v` as the `size` bytes `put` writes. */
  #put(size: number, put: (b: Uint8Array, o: number, v: number) => void, v: number): this {
    this.#room(size);
    put(this.#buf, this.#len, v);
    this.#len += size;
    return this;
  }
  bytes(b: Uint8Array): this {
    this.#room(b.length);
    this.#buf.set(b, this.#len);
    this.#len += b.length;
    return this;
  }
  u8(v: number): this {
    this.#room(1);
    this.#buf[this.#len++] = v & 0xff;
    return this;
  }
  u16be(v: number): this {
    return this.#put(2, putU16be, v);
  }
  u24be(v: number): this {
    return this.#put(3, putU24be, v);
  }
  u32be(v: number): this {
    return this.#put(4, putU32be, v);
  }
  u64be(v: number): this {
    return this.#put(8, putU64be, v);
  }
  u16le(v: number): this {
    return this.#put(2, putU16le, v);
  }
  u32le(v: number): this {
    return this.#put(4, putU32le, v);
  }
  /** UTF-8 of `s`, written in place (ASCII without a native call or a temporary). */
  utf8(s: string): this {
    const n = s.length;
    this.#room(n);
    const buf = this.#buf;
    const at = this.#len;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c > 0x7f) return this.bytes(encodeUtf8(s));
      buf[at + i] = c;
    }
    this.#len = at + n;
    return this;
  }
  /** ISO-8859-1 of `s` (code points < 256), written in place. */
  latin1(s: string): this {
    const n = s.length;
    this.#room(n);
    const buf = this.#buf;
    const at = this.#len;
    for (let i = 0; i < n; i++) buf[at + i] = s.charCodeAt(i) & 0xff;
    this.#len = at + n;
    return this;
  }
  /** Overwrite 4 bytes at an earlier position (size back-patching). */
  patchU32be(at: number, v: number): this {
    putU32be(this.#buf, at, v);
    return this;
  }
  patchU32le(at: number, v: number): this {
    putU32le(this.#buf, at, v);
    return this;
  }
  /**
   * A copy of the bytes written, and the writer emptied for reuse: a scratch
   * writer that lives across builds grows once, and each build allocates
   * only what it keeps.
   */
  take(): Uint8Array {
    const out = this.#buf.slice(0, this.#len);
    this.#len = 0;
    return out;
  }
  /** Forget what was written (the buffer is kept for reuse). */
  clear(): this {
    this.#len = 0;
    return this;
  }
  /**
   * The bytes written. The writer is done after this: a writer sized exactly
   * hands over its buffer without a copy.
   */
  finish(): Uint8Array {
    return this.#len === this.#buf.length ? this.#buf : this.#buf.slice(0, this.#len);
  }
}

/**
 * The length of `encodeUtf8(s)` without encoding it: a surrogate pair is 4
 * bytes, a lone surrogate 3 (TextEncoder writes U+FFFD for it).
 */
export function utf8Length(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) n += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      // A pair: two code units, four bytes. A lone high surrogate: U+FFFD.
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 2;
        i++;
      } else n += 2;
    } else n += 2;
  }
  return n;
}

/**
 * What a ByteWriter would hold, counted without writing: synthesis that only
 * needs a file's size runs the same writing code against one of these.
 */
export class ByteCounter implements ByteSink {
  length = 0;
  bytes(b: Uint8Array): this {
    this.length += b.length;
    return this;
  }
  u8(_v: number): this {
    this.length += 1;
    return this;
  }
  u16le(_v: number): this {
    this.length += 2;
    return this;
  }
  u16be(_v: number): this {
    this.length += 2;
    return this;
  }
  u32be(_v: number): this {
    this.length += 4;
    return this;
  }
  u32le(_v: number): this {
    this.length += 4;
    return this;
  }
  utf8(s: string): this {
    this.length += utf8Length(s);
    return this;
  }
  latin1(s: string): this {
    this.length += s.length;
    return this;
  }
}

/** Where generated bytes go: a ByteWriter, or a ByteCounter when only the length is wanted. */
export interface ByteSink {
  readonly length: number;
  bytes(b: Uint8Array): ByteSink;
  u8(v: number): ByteSink;
  u16le(v: number): ByteSink;
  u16be(v: number): ByteSink;
  u32be(v: number): ByteSink;
  u32le(v: number): ByteSink;
  utf8(s: string): ByteSink;
  latin1(s: string): ByteSink;
}
