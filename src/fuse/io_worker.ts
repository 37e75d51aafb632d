// An I/O Worker: serves READ requests whose backing bytes are not in the
// page cache (the main thread's RWF_NOWAIT read would have blocked). File
// descriptors are process-wide, so this thread preads the backing fd and
// writev's the reply on the device fd itself, and the main thread stays
// free for metadata.

/// <reference lib="deno.worker" />

import * as libc from "../../ffi/libc.ts";
import { OUT_HEADER_SIZE, writeOutHeader } from "../../ffi/fuse_abi.ts";
import type { ReadPiece } from "../core/mod.ts";
import { readOggAudioInto } from "../format/mod.ts";
import { servedErrno } from "../model/mod.ts";
import type { WorkerReply, WorkerRequest } from "./io_messages.ts";

let devFd = -1;
const header = new Uint8Array(OUT_HEADER_SIZE);
const headerView = new DataView(header.buffer);
let data = new Uint8Array(1 << 20);
const iov = new libc.IoVec(2);

function post(m: WorkerReply): void {
  self.postMessage(m);
}

/** Write one reply (the iovec is already filled); ignore requests that vanished. */
function sendReply(unique: bigint, total: number, error: number): void {
  writeOutHeader(headerView, OUT_HEADER_SIZE + total, -error, unique);
  try {
    libc.writev(devFd, iov);
  } catch (e) {
    if (e instanceof libc.ErrnoError && (e.errno === libc.E.ENOENT || e.errno === libc.E.ENODEV)) {
      return;
    }
    throw e;
  }
}

/**
 * Blocking read of every piece into one contiguous buffer (this is the cold
 * path: a copy of the ready bytes costs nothing next to the disk), then one
 * writev of header + data. Returns the errno sent (0 = ok).
 */
function serveRead(unique: bigint, pieces: ReadPiece[]): number {
  let need = 0;
  for (const p of pieces) {
    need += p.kind === "bytes" ? p.bytes.length : p.kind === "file" ? p.length : p.take;
  }
  if (need > data.length) data = new Uint8Array(need);
  let total = 0;
  for (const p of pieces) {
    if (p.kind === "bytes") {
      data.set(p.bytes, total);
      total += p.bytes.length;
      continue;
    }
    if (p.kind === "ogg") {
      // Re-paged from blocking preads; a read error or damaged pages fail the request.
      const seg = {
        kind: "ogg-audio" as const,
        offset: p.offset,
        length: p.length,
        seqDelta: p.seqDelta,
      };
      readOggAudioInto(
        libc.preadSource(p.fd, p.size),
        seg,
        p.from,
        data.subarray(total, total + p.take),
      );
      total += p.take;
      continue;
    }
    let got = 0;
    try {
      while (got < p.length) {
        const n = libc.pread(p.fd, data.subarray(total + got, total + p.length), p.offset + got);
        if (n === 0) break; // end of file
        got += n;
      }
    } catch (e) {
      // Answered as any layer answers this OS error (src/model/errors.ts).
      const errno = libc.E[servedErrno(e instanceof libc.ErrnoError ? e.code : undefined)];
      iov.reset().push(header);
      sendReply(unique, 0, errno);
      return errno;
    }
    total += got;
    if (got < p.length) break; // end of file: nothing after it is valid
  }
  iov.reset().push(header).push(data, 0, total);
  sendReply(unique, total, 0);
  return 0;
}

self.onmessage = (ev: MessageEvent<WorkerRequest>) => {
  const m = ev.data;
  switch (m.type) {
    case "init":
      devFd = m.devFd;
      break;
    case "read": {
      let errno: number;
      try {
        errno = serveRead(m.unique, m.pieces);
      } catch (e) {
        errno = libc.E.EIO;
        post({ type: "failed", unique: m.unique, message: (e as Error).message });
        break;
      }
      post({ type: "done", unique: m.unique, errno });
      break;
    }
  }
};
