// Writing replies on the device fd: one preallocated buffer for metadata
// answers, one writev for read data. Nothing here allocates per reply.

import * as libc from "../../ffi/libc.ts";
import { OUT_HEADER_SIZE, writeOutHeader } from "../../ffi/fuse_abi.ts";

/** Largest metadata reply body (readdir buffers are at most max_pages × 4 KiB). */
const BODY_MAX = 1 << 20;

export class Replier {
  /** Body of the next reply starts at `OUT_HEADER_SIZE`. */
  readonly buf = new Uint8Array(OUT_HEADER_SIZE + BODY_MAX);
  readonly view = new DataView(this.buf.buffer);
  private readonly iov = new libc.IoVec(1);
  /** Set when the kernel has gone (ENODEV on write): the loop should end. */
  gone = false;

  constructor(readonly fd: number) {}

  /** Send the header plus `bodyLen` bytes already written at `OUT_HEADER_SIZE`. */
  ok(unique: bigint, bodyLen: number): void {
    writeOutHeader(this.view, OUT_HEADER_SIZE + bodyLen, 0, unique);
    this.send(OUT_HEADER_SIZE + bodyLen);
  }

  /** An error reply; `errno` is positive (the header carries it negated). */
  error(unique: bigint, errno: number): void {
    writeOutHeader(this.view, OUT_HEADER_SIZE, -errno, unique);
    this.send(OUT_HEADER_SIZE);
  }

  private send(len: number): void {
    this.iov.reset().push(this.buf, 0, len);
    try {
      libc.writev(this.fd, this.iov);
    } catch (e) {
      // ENOENT: the request was interrupted and is gone; nothing to do.
      if (e instanceof libc.ErrnoError && e.errno === libc.E.ENOENT) return;
      if (e instanceof libc.ErrnoError && e.errno === libc.E.ENODEV) {
        this.gone = true;
        return;
      }
      throw e;
    }
  }
}
