// A ByteSource over an open file descriptor: each read is one positional
// read (pread), so probing never moves a shared offset. Probers often re-read
// what they just saw (a header, then the header plus its body) or come back
// to the front after a look at the tail, so the two most recent buffers are
// kept; small reads are widened to MIN_READ bytes so a walk over many tiny
// headers costs one system call, not one per header.

import * as fs from "node:fs";
import type { ByteSource } from "../format/mod.ts";

/** Reads smaller than this are widened (clamped to the end of the file). */
export const MIN_READ = 4096;
const RECENT = 2;

export class PreadSource implements ByteSource {
  /** The most recent buffers read, newest first. */
  #recent: { offset: number; bytes: Uint8Array }[] = [];
  /** System calls made. */
  preads = 0;
  /** Bytes the system calls returned. */
  bytesRead = 0;

  constructor(readonly fd: number, readonly size: number) {}

  read(offset: number, length: number): Uint8Array {
    const end = Math.min(this.size, offset + length);
    if (offset >= end) return new Uint8Array(0);
    for (const c of this.#recent) {
      if (offset >= c.offset && end <= c.offset + c.bytes.length) {
        return c.bytes.subarray(offset - c.offset, end - c.offset);
      }
    }
    let buf: Uint8Array;
    const head = this.#recent.find((c) => offset >= c.offset && offset < c.offset + c.bytes.length);
    if (head) {
      // Starts inside a buffer we hold: read only what follows it.
      const have = head.bytes.subarray(offset - head.offset);
      const from = offset + have.length;
      const more = this.#pread(from, Math.min(this.size - from, Math.max(end - from, MIN_READ)));
      buf = new Uint8Array(have.length + more.length);
      buf.set(have);
      buf.set(more, have.length);
    } else {
      buf = this.#pread(offset, Math.min(this.size - offset, Math.max(end - offset, MIN_READ)));
    }
    this.#recent = [{ offset, bytes: buf }, ...this.#recent.slice(0, RECENT - 1)];
    return buf.subarray(0, Math.min(buf.length, end - offset));
  }

  #pread(offset: number, length: number): Uint8Array {
    const buf = new Uint8Array(length);
    let got = 0;
    while (got < length) {
      const n = fs.readSync(this.fd, buf, got, length - got, offset + got);
      this.preads++;
      if (n <= 0) break; // the file shrank: the caller sees a short read
      got += n;
    }
    this.bytesRead += got;
    return got === length ? buf : buf.subarray(0, got);
  }
}
