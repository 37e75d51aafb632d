// The hot path: answering READ with one writev of header + data. `bytes`
// pieces go into the iovec as they are; `file` pieces are read inline through
// the core's one non-blocking read (`readNow`) into a reused buffer. When that
// would block (cold data), the backing file system cannot read without
// blocking, or the core already found the piece cold, the whole request goes
// to an I/O worker. No allocation per read beyond what the FFI layer does.

import * as libc from "../../ffi/libc.ts";
import { OUT_HEADER_SIZE, writeOutHeader } from "../../ffi/fuse_abi.ts";
import { readNow, type ReadPiece } from "../core/mod.ts";
import { MAX_READ } from "./defaults.ts";

const IOV_MAX = 1024;

export class InlineReader {
  private readonly header = new Uint8Array(OUT_HEADER_SIZE);
  private readonly headerView = new DataView(this.header.buffer);
  private readonly data = new Uint8Array(MAX_READ);
  private readonly iov = new libc.IoVec(IOV_MAX);
  /** Set when the device has gone (ENODEV). */
  gone = false;

  constructor(private readonly devFd: number) {}

  /**
   * Try to answer `unique` from `pieces` without blocking: true when the
   * reply was written, false when it must go to an I/O worker. Errors from
   * the backing fd (other than would-block) are thrown for the caller to map.
   */
  serve(unique: bigint, pieces: ReadPiece[]): boolean {
    if (pieces.length + 1 > IOV_MAX) return false;
    const iov = this.iov.reset().push(this.header);
    let total = 0;
    let pos = 0;
    for (let i = 0; i < pieces.length; i++) {
      const p = pieces[i];
      if (p.kind === "bytes") {
        iov.push(p.bytes);
        total += p.bytes.length;
        continue;
      }
      // Ogg pages the core could not read without blocking: a worker re-pages them.
      if (p.kind === "ogg") return false;
      if (p.length === 0) continue;
      if (p.cold === true || pos + p.length > this.data.length) return false;
      // A short read is either end of file or a partly cached range: read on
      // from there; 0 means end of file, negative: an I/O worker must read it.
      let got = 0;
      while (got < p.length) {
        const n = readNow(p.fd, this.data, pos + got, p.length - got, p.offset + got);
        if (n < 0) return false;
        if (n === 0) break;
        got += n;
      }
      iov.push(this.data, pos, got);
      pos += got;
      total += got;
      if (got < p.length) break; // end of file: nothing after it is valid
    }
    writeOutHeader(this.headerView, OUT_HEADER_SIZE + total, 0, unique);
    try {
      libc.writev(this.devFd, iov);
    } catch (e) {
      if (!(e instanceof libc.ErrnoError)) throw e;
      if (e.errno === libc.E.ENODEV) this.gone = true;
      else if (e.errno !== libc.E.ENOENT) throw e;
    }
    return true;
  }
}
