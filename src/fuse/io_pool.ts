// The pool of I/O Workers that take reads the main thread could not serve
// without blocking, and the writer of cache notifications (a notification may
// wait on page locks held by reads that only we can answer, so it must never
// be written from the thread that serves; it goes to a thread of the
// runtime's blocking pool, which costs no JavaScript heap of its own).
// Workers start lazily: a mount whose data stays in the page cache (or uses
// passthrough) never pays for one.

import * as libc from "../../ffi/libc.ts";
import { holdBacking, type ReadPiece, releaseBacking } from "../core/mod.ts";
import type { WorkerReply, WorkerRequest } from "./io_messages.ts";
import type { ServerLog } from "./log.ts";

const WORKER_URL = new URL("./io_worker.ts", import.meta.url).href;

interface Slot {
  worker: Worker;
  /** Reads in progress → the backing fds they hold open (see holdBacking). */
  pending: Map<bigint, number[]>;
}

export interface IoPoolStats {
  workers: number;
  /** Workers with at least one read in progress. */
  active: number;
  /** Reads waiting behind another read on their worker. */
  queued: number;
  inflight: number;
}

export class IoPool {
  private readonly slots: Slot[] = [];
  private inflight = 0;
  private closed = false;
  /** Notifications written and not yet acknowledged. */
  notifyPending = 0;

  constructor(
    private readonly devFd: number,
    private readonly maxWorkers: number,
    private readonly log: ServerLog,
    /** Called when a worker failed a read unexpectedly; the caller answers EIO. */
    private readonly onFailed: (unique: bigint, message: string) => void,
  ) {}

  get inflightReads(): number {
    return this.inflight;
  }

  stats(): IoPoolStats {
    let active = 0;
    let queued = 0;
    for (const s of this.slots) {
      if (s.pending.size > 0) active++;
      if (s.pending.size > 1) queued += s.pending.size - 1;
    }
    return { workers: this.slots.length, active, queued, inflight: this.inflight };
  }

  private spawn(onMessage: (m: WorkerReply) => void): Worker {
    const worker = new Worker(WORKER_URL, { type: "module" });
    worker.onmessage = (ev: MessageEvent<WorkerReply>) => onMessage(ev.data);
    worker.postMessage({ type: "init", devFd: this.devFd } satisfies WorkerRequest);
    return worker;
  }

  private pick(): Slot {
    let best: Slot | null = null;
    for (const s of this.slots) {
      if (best === null || s.pending.size < best.pending.size) best = s;
    }
    if (best !== null && (best.pending.size === 0 || this.slots.length >= this.maxWorkers)) {
      return best;
    }
    const slot: Slot = { worker: null as unknown as Worker, pending: new Map() };
    slot.worker = this.spawn((m) => this.onReadMessage(slot, m));
    slot.worker.onerror = (ev) => {
      ev.preventDefault();
      this.log.error(`I/O worker crashed: ${ev.message}`);
      this.retire(slot, ev.message);
    };
    this.slots.push(slot);
    return slot;
  }

  private onReadMessage(slot: Slot, m: WorkerReply): void {
    const fds = slot.pending.get(m.unique);
    if (fds === undefined) return;
    slot.pending.delete(m.unique);
    for (const fd of fds) releaseBacking(fd);
    this.inflight--;
    if (m.type === "failed") this.onFailed(m.unique, m.message);
  }

  /** A crashed worker: answer its reads with EIO and forget it. */
  private retire(slot: Slot, message: string): void {
    const i = this.slots.indexOf(slot);
    if (i >= 0) this.slots.splice(i, 1);
    for (const [unique, fds] of slot.pending) {
      for (const fd of fds) releaseBacking(fd);
      this.inflight--;
      this.onFailed(unique, message);
    }
    slot.pending.clear();
    slot.worker.terminate();
  }

  /** Hand a read to a worker; it writes the reply itself. */
  submit(unique: bigint, pieces: ReadPiece[]): void {
    const slot = this.pick();
    // The fds stay open until the worker answers, even if the core closes
    // them meanwhile (handle released, fd evicted): their numbers cannot be
    // reused for another file under the worker.
    const fds: number[] = [];
    for (const p of pieces) {
      if (p.kind !== "bytes") {
        holdBacking(p.fd);
        fds.push(p.fd);
      }
    }
    slot.pending.set(unique, fds);
    this.inflight++;
    // Copy `bytes` pieces into their own buffers and transfer those: a piece
    // may be a small view into a large cached buffer, which posting as is
    // would clone whole.
    const transfer: ArrayBuffer[] = [];
    const sent = pieces.map((p): ReadPiece => {
      if (p.kind !== "bytes") return p;
      const bytes = p.bytes.slice();
      transfer.push(bytes.buffer);
      return { kind: "bytes", bytes };
    });
    slot.worker.postMessage(
      { type: "read", unique, pieces: sent } satisfies WorkerRequest,
      transfer,
    );
  }

  /** Queue one notification (header included) for the notifier worker. */
  /**
   * Write a kernel cache notification, in order with the others. The write
   * may block until the kernel has dropped the pages, so it runs on a thread
   * of the runtime's blocking pool, never on the serving thread (which must
   * go on answering the reads the kernel may be waiting for).
   */
  notify(bytes: Uint8Array<ArrayBuffer>): void {
    if (this.closed) return;
    this.notifyPending++;
    this.#notified = this.#notified.then(async () => {
      try {
        // A closed pool's device fd may be closed, and its number reused.
        if (this.closed) return;
        // -1: usually ENOENT, the kernel no longer caches that inode or entry.
        if (await libc.writeAsync(this.devFd, bytes) < 0) this.notifyFailures++;
      } finally {
        this.notifyPending--;
      }
    });
  }

  /** Notifications that failed (the kernel had nothing cached for them, mostly). */
  notifyFailures = 0;
  #notified: Promise<void> = Promise.resolve();

  /** Wait, at most `timeoutMs`, for the notifications in flight (before the device closes). */
  async settleNotifications(timeoutMs = 1000): Promise<void> {
    if (this.notifyPending === 0) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      this.#notified,
      new Promise<void>((r) => timer = setTimeout(r, timeoutMs)),
    ]);
    clearTimeout(timer);
  }

  close(): void {
    this.closed = true;
    for (const s of this.slots) s.worker.terminate();
    this.slots.length = 0;
  }
}
