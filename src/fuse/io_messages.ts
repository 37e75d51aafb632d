// Messages between the server's main thread and its I/O Workers.

import type { ReadPiece } from "../core/mod.ts";

export type WorkerRequest =
  | { type: "init"; devFd: number }
  /** Read the pieces (blocking) and writev the reply for `unique`. */
  | { type: "read"; unique: bigint; pieces: ReadPiece[] };

export type WorkerReply =
  /** The reply was written; `errno` is 0 or the error sent. */
  | { type: "done"; unique: bigint; errno: number }
  /** An unexpected failure; the main thread answers EIO. */
  | { type: "failed"; unique: bigint; message: string };
