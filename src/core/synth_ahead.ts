// Layouts built ahead, on a worker thread: a walker that opens one file of a
// directory (a media server's scan reading every file's first bytes) opens
// its siblings next, in name order, and the serving thread, which is single
// and answers every request, should find their layouts built by then.
//
// The serving thread hands the worker the next files a top-down walk opens
// whose layouts are not cached (`submit`; the library picks them with
// core/walk_order.ts), and before it opens a file it takes in whatever
// the worker has finished (`drain`, synchronous: the request loop yields to
// the event loop only when idle, so an `onmessage` would come too late). A
// file the worker has not started is taken back and built here (the worker
// then skips it); one it is building is waited for, briefly. Layouts taken
// in are checked against the track's current row at open, as any cached
// layout is (src/core/resolve.ts `adopt`).

import type { Id3Version } from "../format/mod.ts";
import { LIBRARY_DEFAULTS, type ServeMode } from "./defaults.ts";
import type { HandedBacking, ResolvedFile, Resolver } from "./resolve.ts";
import { adoptBacking, closeBacking } from "./backing.ts";
import {
  BUILDING,
  CONSUMED,
  CTRL_ART_KIB,
  CTRL_INTS,
  CTRL_PROGRESS,
  CTRL_READY,
  DONE,
  FAILED,
  QUEUED,
  RECORD_HEADER,
  RING_BYTES,
  type SizeResult,
  SLOTS,
  type SynthJobs,
  type SynthWorkerInit,
  TAKEN,
  WORKER_READY,
  WRAP,
  WRITTEN,
} from "./synth_messages.ts";
import {
  isSizeRecord,
  readSizeResult,
  readSynthResult,
  type TakenResult,
  WireReader,
} from "./synth_wire.ts";

const WORKER_URL = new URL("./synth_worker.ts", import.meta.url).href;

/** Jobs in flight at most (submitted, not yet passed by the worker). */
const MAX_AHEAD = SLOTS / 2;
/** How long an open waits for a layout the worker is building. */
const WAIT_BUILDING_MS = 2;
/**
 * Backing fds the worker handed over, kept for the opens that come next;
 * beyond this many the oldest is closed (its open opens the file itself).
 */
export const MAX_HANDED_FDS = 64;
/** Size jobs kept queued on the worker while it sizes a first scan ahead, and per message. */
const WARM_QUEUE = 512;
const WARM_CHUNK = 64;

export interface SynthAheadOptions {
  dbPath: string;
  mode: ServeMode;
  id3Version: Id3Version;
  libraryRoots: readonly string[];
  /** Budget of the worker's art cache, the whole images its synthesis slices (default: `--art-cache-mib`'s). */
  artCacheBytes?: number;
  /** Size of the result ring (default RING_BYTES; tests use a small one). */
  ringBytes?: number;
  /**
   * Backing fds held for the opens to come, at most (default
   * MAX_HANDED_FDS); asked at each hold, as the process's fd limit may move.
   */
  handedLimit?: () => number;
}

export class SynthAhead {
  #worker: Worker | null = null;
  #port: MessagePort | null = null;
  // The memory shared with the worker.
  readonly #states: Int32Array;
  readonly #ctrl: Int32Array;
  readonly #positions: BigInt64Array;
  readonly #ring: Uint8Array;
  readonly #ringWords: Uint32Array;
  /** Ring bytes taken in (monotonic). */
  #consumed = 0;
  /** trackId → seq of a job submitted and neither taken in nor taken back. */
  readonly #pending = new Map<number, number>();
  #nextSeq = 0;
  #closed = false;
  /** trackId → the backing file the worker opened for it, oldest first. */
  readonly #handed = new Map<number, HandedBacking>();
  /** While closing: records still in the ring only give their fds back. */
  #discard = false;
  /** Tracks to size ahead, in walk order (`warm`); null when none are left. */
  #warm: Iterator<number> | null = null;
  #wanted: (trackId: number) => boolean = () => false;
  /** Sizes the worker computed ahead and the size index took in. */
  sized = 0;
  /** Layouts taken in / jobs taken back / waits for a job being built / results dropped (cached meanwhile). */
  adopted = 0;
  takenBack = 0;
  waited = 0;
  dropped = 0;
  /** Jobs `settle` found failed by the worker (left to the open path). */
  failedSeen = 0;

  constructor(
    readonly resolver: Resolver,
    readonly options: SynthAheadOptions,
    readonly log: { warn(message: string): void } | null = null,
  ) {
    const bytes = options.ringBytes ?? RING_BYTES;
    if (bytes % 4 !== 0 || bytes < 1024) throw new RangeError(`ring of ${bytes} bytes`);
    this.#states = new Int32Array(new SharedArrayBuffer(SLOTS * 4));
    this.#ctrl = new Int32Array(new SharedArrayBuffer(CTRL_INTS * 4));
    this.#positions = new BigInt64Array(new SharedArrayBuffer(16));
    this.#ring = new Uint8Array(new SharedArrayBuffer(bytes));
    this.#ringWords = new Uint32Array(this.#ring.buffer);
  }

  /**
   * Start the worker now (it otherwise starts with the first job) and settle
   * once it has loaded and opened its store: true, or false when it failed
   * or took longer than `timeoutMs` (it goes on starting then). The worker
   * then stays until `close`: its fixed cost (a second JavaScript runtime and
   * store connection, docs/tuning.md) is paid once, at mount, not by each scan.
   */
  async start(timeoutMs = 10_000): Promise<boolean> {
    if (this.#closed) return false;
    this.#start();
    const until = performance.now() + timeoutMs;
    // A worker that fails to start closes this (its error handler).
    while (
      !this.#closed && Atomics.load(this.#ctrl, CTRL_READY) !== WORKER_READY &&
      performance.now() < until
    ) {
      await new Promise((r) => setTimeout(r, 5));
    }
    return !this.#closed && Atomics.load(this.#ctrl, CTRL_READY) === WORKER_READY;
  }

  /** True while a worker runs. */
  get running(): boolean {
    return this.#port !== null;
  }

  /** Bytes of images the worker's art cache holds (KiB granularity). */
  get artBytes(): number {
    return Atomics.load(this.#ctrl, CTRL_ART_KIB) * 1024;
  }

  /** Ring bytes taken in so far (the ring wraps every ring size). */
  get ringBytesTaken(): number {
    return this.#consumed;
  }

  #start(): MessagePort {
    if (this.#port !== null) return this.#port;
    const channel = new MessageChannel();
    const worker = new Worker(WORKER_URL, { type: "module" });
    worker.onerror = (ev) => {
      // Speculation only: without the worker every file is built on open.
      ev.preventDefault();
      this.log?.warn(
        `the worker that builds files ahead failed (${ev.message}); files are built when ` +
          "opened from now on",
      );
      this.close();
    };
    const { ringBytes: _, handedLimit: _limit, ...options } = this.options;
    const init: SynthWorkerInit = {
      type: "init",
      ...options,
      artCacheBytes: options.artCacheBytes ?? LIBRARY_DEFAULTS.artCacheBytes,
      states: this.#states.buffer as SharedArrayBuffer,
      ctrl: this.#ctrl.buffer as SharedArrayBuffer,
      positions: this.#positions.buffer as SharedArrayBuffer,
      ring: this.#ring.buffer as SharedArrayBuffer,
      port: channel.port2,
    };
    worker.postMessage(init, [channel.port2]);
    this.#worker = worker;
    this.#port = channel.port1;
    return channel.port1;
  }

  /**
   * Have the worker build these tracks' layouts, in this order (those not
   * cached nor pending). With `minNew`, fewer new ones than that are not
   * sent while the first track is already cached or pending: they wait to
   * go with the next ones, so the worker reads their rows in one batch.
   */
  submit(trackIds: readonly number[], minNew = 0): void {
    if (this.#closed) return;
    const progress = Atomics.load(this.#ctrl, CTRL_PROGRESS);
    if (this.#pending.size >= MAX_AHEAD) this.#prune(progress);
    const fresh = trackIds.filter((id) =>
      !this.#pending.has(id) && this.resolver.headers.peek(id) === undefined
    );
    if (fresh.length < minNew && fresh[0] !== trackIds[0]) return;
    const jobs: number[] = [];
    for (const id of fresh) {
      if (this.#nextSeq - progress >= MAX_AHEAD) break;
      const seq = this.#nextSeq++;
      Atomics.store(this.#states, seq % SLOTS, QUEUED);
      this.#pending.set(id, seq);
      jobs.push(seq, id);
    }
    if (jobs.length > 0) {
      this.#start().postMessage({ jobs });
    }
  }

  /**
   * Size these tracks ahead on the worker, in this order, as long as
   * `wanted` says a size is still missing (a first scan after the store was
   * built: a walk that follows finds most sizes in the size index). Fed a
   * chunk at a time as the worker progresses; opens' jobs come between.
   */
  warm(trackIds: Iterator<number>, wanted: (trackId: number) => boolean): void {
    if (this.#closed) return;
    this.#warm = trackIds;
    this.#wanted = wanted;
    this.#feed();
  }

  /** True while tracks are left to size ahead. */
  get warming(): boolean {
    return this.#warm !== null;
  }

  /**
   * Stop sizing ahead (a scan that opens files wants their layouts built
   * ahead instead, and sizes its listings itself). Size jobs already queued
   * are still done.
   */
  stopWarming(): void {
    this.#warm = null;
  }

  #feed(): void {
    const warm = this.#warm;
    if (warm === null || this.#closed) return;
    const progress = Atomics.load(this.#ctrl, CTRL_PROGRESS);
    while (this.#nextSeq - progress < WARM_QUEUE) {
      const jobs: number[] = [];
      while (jobs.length < WARM_CHUNK * 2) {
        const next = warm.next();
        if (next.done) {
          this.#warm = null;
          break;
        }
        const id = next.value;
        if (this.#pending.has(id) || !this.#wanted(id)) continue;
        const seq = this.#nextSeq++;
        Atomics.store(this.#states, seq % SLOTS, QUEUED);
        this.#pending.set(id, seq);
        jobs.push(seq, id);
      }
      if (jobs.length > 0) {
        this.#start().postMessage({ jobs, sizes: true } satisfies SynthJobs);
      }
      if (this.#warm === null) return;
    }
  }

  /** While the worker sizes ahead, take in what it finished and keep it fed (the poll timer). */
  keepFed(): void {
    if (this.#warm !== null) this.drain();
  }

  /** Forget jobs the worker has passed without a result (failed: no open took them back). */
  #prune(progress: number): void {
    for (const [id, seq] of this.#pending) {
      if (seq < progress && Atomics.load(this.#states, seq % SLOTS) !== DONE) {
        this.#pending.delete(id);
      }
    }
  }

  /**
   * Before the serving thread builds or sizes `trackId` (an open, a listing):
   * take in what the worker finished, and make sure the worker does not
   * build `trackId` while the caller does.
   */
  claim(trackId: number): void {
    if (this.#port === null) return;
    this.drain();
    const seq = this.#pending.get(trackId);
    if (seq === undefined) return;
    const slot = seq % SLOTS;
    const was = Atomics.compareExchange(this.#states, slot, QUEUED, TAKEN);
    if (was === QUEUED) {
      this.#pending.delete(trackId);
      this.takenBack++;
      return;
    }
    if (was === BUILDING) {
      this.waited++;
      Atomics.wait(this.#states, slot, BUILDING, WAIT_BUILDING_MS);
    }
    if (Atomics.load(this.#states, slot) === DONE) this.drain();
    // Failed, or still building after the wait: the caller builds it.
    this.#pending.delete(trackId);
  }

  /** Take in every finished layout (synchronously). */
  drain(): void {
    const written = Number(Atomics.load(this.#positions, WRITTEN));
    if (written === this.#consumed) {
      if (this.#warm !== null) this.#feed();
      return;
    }
    while (this.#consumed < written) {
      const at = this.#consumed % this.#ring.length;
      const length = this.#ringWords[at / 4];
      if (length === WRAP) {
        this.#consumed += this.#ring.length - at;
        continue;
      }
      const headLength = this.#ringWords[at / 4 + 1];
      const body = at + RECORD_HEADER;
      const head = new WireReader(this.#ring, body);
      if (isSizeRecord(this.#ring, body)) this.#takeSize(readSizeResult(head));
      else this.#adopt(readSynthResult(head, body + headLength));
      this.#consumed += Math.ceil((RECORD_HEADER + length) / 4) * 4;
    }
    Atomics.store(this.#positions, CONSUMED, BigInt(this.#consumed));
    this.#feed();
  }

  #takeSize(r: SizeResult): void {
    const f = r.sized;
    if (this.#pending.get(f.trackId) === r.seq) this.#pending.delete(f.trackId);
    if (this.#discard) return;
    this.resolver.recordSize(f, f.size);
    this.sized++;
  }

  /** Close the fds of records the worker wrote and nobody took in (at close). */
  drainFds(): void {
    this.#discard = true;
    try {
      this.drain();
    } finally {
      this.#discard = false;
    }
  }

  #adopt(r: TakenResult): void {
    if (this.#discard) {
      closeBacking(r.backing.fd);
      return;
    }
    const file: ResolvedFile = r.file;
    const id = file.trackId;
    if (this.#pending.get(id) === r.seq) this.#pending.delete(id);
    const opened = adoptBacking(r.backing);
    if (this.resolver.adopt(file, r.geometryChecked)) {
      this.adopted++;
      this.#hold(id, { path: file.backingPath, opened });
    } else {
      this.dropped++;
      closeBacking(opened.fd);
    }
  }

  #hold(trackId: number, handed: HandedBacking): void {
    const old = this.#handed.get(trackId);
    if (old !== undefined) {
      this.#handed.delete(trackId);
      closeBacking(old.opened.fd);
    }
    this.#handed.set(trackId, handed);
    const limit = this.options.handedLimit?.() ?? MAX_HANDED_FDS;
    while (this.#handed.size > limit) {
      const [oldest, o] = this.#handed.entries().next().value!;
      this.#handed.delete(oldest);
      closeBacking(o.opened.fd);
    }
  }

  /**
   * The backing file the worker opened for `trackId`, now the caller's (to
   * use or close); undefined when none is held.
   */
  takeBacking(trackId: number): HandedBacking | undefined {
    const handed = this.#handed.get(trackId);
    if (handed !== undefined) this.#handed.delete(trackId);
    return handed;
  }

  /** Backing fds held for coming opens. */
  get handedFds(): number {
    return this.#handed.size;
  }

  #closeHanded(): void {
    for (const h of this.#handed.values()) closeBacking(h.opened.fd);
    this.#handed.clear();
  }

  /** Jobs submitted and neither taken in nor taken back. */
  get pending(): number {
    return this.#pending.size;
  }

  /** Wait until the worker has passed every job submitted, taking nothing in (tests). */
  async workerPassed(timeoutMs = 10_000): Promise<boolean> {
    const until = performance.now() + timeoutMs;
    while (Atomics.load(this.#ctrl, CTRL_PROGRESS) < this.#nextSeq) {
      if (performance.now() > until) return false;
      await new Promise((r) => setTimeout(r, 5));
    }
    return true;
  }

  /** Take in results until no job is pending or `timeoutMs` passed (tests; the server never waits). */
  async settle(timeoutMs = 10_000): Promise<void> {
    const until = performance.now() + timeoutMs;
    for (;;) {
      this.drain();
      // Jobs the worker failed stay pending until an open takes them back.
      for (const [id, seq] of this.#pending) {
        if (Atomics.load(this.#states, seq % SLOTS) === FAILED) {
          this.#pending.delete(id);
          this.failedSeen++;
        }
      }
      if (this.#pending.size === 0 || performance.now() > until) return;
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#warm = null;
    // Whatever it is doing, even starting up.
    this.#worker?.terminate();
    this.#worker = null;
    this.#port = null;
    this.#pending.clear();
    // Records the worker wrote and nobody took in hold fds too.
    this.drainFds();
    this.#closeHanded();
  }
}
