// ByteSource implementations: an in-memory buffer (tests, synthesized
// headers) and a bounded wrapper that enforces the probe read budget
// (never more than 64 MiB read per probe) and counts what was read.

import { type ByteSource, FormatError, MAX_PROBE_BYTES } from "./types.ts";

export class BufferSource implements ByteSource {
  constructor(readonly bytes: Uint8Array) {}
  get size(): number {
    return this.bytes.length;
  }
  read(offset: number, length: number): Uint8Array {
    if (offset < 0 || length < 0) throw new FormatError("malformed", "negative read range");
    const start = Math.min(offset, this.bytes.length);
    return this.bytes.subarray(start, Math.min(this.bytes.length, start + length));
  }
}

/**
 * Wraps a source with a total read budget. A probe that asks for more than
 * the budget fails with a typed `too-large` error instead of allocating.
 */
export class BoundedSource implements ByteSource {
  #read = 0;
  constructor(readonly inner: ByteSource, readonly budget = MAX_PROBE_BYTES) {}
  get size(): number {
    return this.inner.size;
  }
  /** Bytes handed out so far. */
  get bytesRead(): number {
    return this.#read;
  }
  read(offset: number, length: number): Uint8Array {
    if (
      !Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0
    ) {
      throw new FormatError("malformed", `bad read range ${offset}+${length}`);
    }
    const avail = Math.max(0, Math.min(length, this.inner.size - offset));
    if (this.#read + avail > this.budget) {
      throw new FormatError(
        "too-large",
        `probe would read more than ${this.budget} bytes (at offset ${offset})`,
      );
    }
    const out = this.inner.read(offset, avail);
    this.#read += out.length;
    return out;
  }
}
