// `--expose-metrics`: a Library decorator that adds `.musefs-metrics/metrics`
// to the root so the core never knows about it. The file is the server's
// samples (stats.ts) and the library's, as Prometheus text (exposition.ts)
// rendered once per open, size 0, served with DIRECT_IO (read to EOF).
//
// Reserved inodes: just below 2^53 (the largest inode a JS number holds
// exactly), far above anything the core's allocator reaches. The original
// used u64::MAX−1/−2, which a JS number cannot represent.

import {
  type Attr,
  attrsOfMany,
  type DirEntry,
  FsError,
  type Library,
  type MetricSample,
  type OpenResult,
  type ReadPiece,
  type RefreshReport,
  RESERVED_ROOT_NAME,
  S_IFDIR,
  S_IFREG,
} from "../core/mod.ts";
import { renderMetrics } from "./exposition.ts";
import { serverSamples, type ServerStats } from "./stats.ts";

export const METRICS_DIR_INO = 2 ** 53 - 2;
export const METRICS_FILE_INO = 2 ** 53 - 3;
/** Reserved at the root: a track directory of this name is served as `.musefs-metrics (2)`. */
export const METRICS_DIR_NAME = RESERVED_ROOT_NAME;
export const METRICS_FILE_NAME = "metrics";
/** Open metrics files at most; more → ENFILE. */
const METRICS_HANDLES_MAX = 1024;
/** Handles of metrics files live above every handle the core hands out. */
const METRICS_FH_BASE = 2 ** 52;
const METRICS_DIR_FH = METRICS_FH_BASE - 1;

const enc = new TextEncoder();
const DIR_NAME = enc.encode(METRICS_DIR_NAME);
const FILE_NAME = enc.encode(METRICS_FILE_NAME);

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * The library plus the metrics directory. The root listing shows
 * `.musefs-metrics` right after "." and ".." (index 2), shifting the core's
 * indexes from 2 on by one. A real root entry of that name is shadowed on
 * lookup (as in the original).
 */
// Required: every optional method of Library is passed through, so adding one
// to the core without forwarding it here fails to type-check (a missing
// `nextRequest` once left the art cache's arena pinned under --expose-metrics).
export class MetricsLibrary implements Required<Library> {
  private readonly bodies = new Map<number, Uint8Array>();
  private nextFh = METRICS_FH_BASE;

  /** `fileMode`: the file's permission bits (--file-mode); the directory takes the root's. */
  constructor(
    private readonly inner: Library,
    private readonly stats: ServerStats,
    private readonly fileMode = 0o444,
  ) {}

  private attrs(ino: number): Attr {
    const root = this.inner.getattr(1);
    const seconds = Math.floor(this.stats.startedAt / 1000);
    const base = {
      size: 0,
      blocks: 0,
      uid: root.uid,
      gid: root.gid,
      mtimeSec: seconds,
      mtimeNsec: 0,
    };
    return ino === METRICS_DIR_INO
      ? { ...base, ino, mode: S_IFDIR | (root.mode & 0o7777), nlink: 2 }
      : { ...base, ino, mode: S_IFREG | (this.fileMode & 0o7777), nlink: 1 };
  }

  lookup(parent: number, name: Uint8Array): Attr {
    if (parent === 1 && sameBytes(name, DIR_NAME)) return this.attrs(METRICS_DIR_INO);
    if (parent === METRICS_DIR_INO) {
      if (sameBytes(name, FILE_NAME)) return this.attrs(METRICS_FILE_INO);
      throw new FsError("ENOENT", "no such metrics file");
    }
    return this.inner.lookup(parent, name);
  }

  forget(ino: number, nlookup: number): void {
    if (ino !== METRICS_DIR_INO && ino !== METRICS_FILE_INO) this.inner.forget(ino, nlookup);
  }

  getattr(ino: number, fh?: number): Attr {
    if (ino === METRICS_DIR_INO || ino === METRICS_FILE_INO) return this.attrs(ino);
    return this.inner.getattr(ino, fh);
  }

  /** The inner library's batch for its own inodes (the root listing also holds the metrics directory). */
  getattrMany(inos: readonly number[]): (Attr | null)[] {
    const own = (ino: number) => ino === METRICS_DIR_INO || ino === METRICS_FILE_INO;
    const theirs = inos.filter((ino) => !own(ino));
    const got = attrsOfMany(this.inner, theirs);
    let k = 0;
    return inos.map((ino) => own(ino) ? this.attrs(ino) : got[k++]);
  }

  opendir(ino: number): number {
    if (ino === METRICS_DIR_INO) return METRICS_DIR_FH;
    if (ino === METRICS_FILE_INO) throw new FsError("ENOTDIR", "metrics is a file");
    return this.inner.opendir(ino);
  }

  readdir(fh: number, ino: number, offset: number, limit?: number): DirEntry[] {
    if (ino === METRICS_DIR_INO) {
      const all: DirEntry[] = [
        { name: enc.encode("."), ino: METRICS_DIR_INO, isDir: true },
        { name: enc.encode(".."), ino: 1, isDir: true },
        { name: FILE_NAME, ino: METRICS_FILE_INO, isDir: false },
      ];
      return all.slice(offset);
    }
    if (ino !== 1) return this.inner.readdir(fh, ino, offset, limit);
    const dir: DirEntry = { name: DIR_NAME, ino: METRICS_DIR_INO, isDir: true };
    if (offset > 2) return this.inner.readdir(fh, ino, offset - 1, limit);
    const got = this.inner.readdir(fh, ino, offset, limit);
    const dots = Math.max(0, 2 - offset);
    return [...got.slice(0, dots), dir, ...got.slice(dots)];
  }

  releasedir(fh: number): void {
    if (fh !== METRICS_DIR_FH) this.inner.releasedir(fh);
  }

  open(ino: number, flags: number, uid?: number): OpenResult {
    if (ino === METRICS_DIR_INO) throw new FsError("EISDIR", "metrics directory");
    if (ino !== METRICS_FILE_INO) return this.inner.open(ino, flags, uid);
    if ((flags & 3) !== 0) throw new FsError("EROFS", "read-only file system");
    if (this.bodies.size >= METRICS_HANDLES_MAX) {
      throw new FsError("ENFILE", "too many metrics handles");
    }
    const samples = serverSamples(this.stats, this.inner.counts())
      .concat(this.inner.metrics?.() ?? []);
    const fh = this.nextFh++;
    this.bodies.set(fh, enc.encode(renderMetrics(samples)));
    return { fh, keepCache: false, directIo: true };
  }

  read(fh: number, ino: number, offset: number, size: number): ReadPiece[] {
    const body = this.bodies.get(fh);
    if (body === undefined) return this.inner.read(fh, ino, offset, size);
    return [{ kind: "bytes", bytes: body.subarray(Math.min(offset, body.length), offset + size) }];
  }

  release(fh: number): void {
    if (!this.bodies.delete(fh)) this.inner.release(fh);
  }

  nextRequest(): void {
    this.inner.nextRequest?.();
  }

  poll(): RefreshReport | null {
    return this.inner.poll();
  }

  metrics(): MetricSample[] {
    return this.inner.metrics?.() ?? [];
  }

  counts(): { files: number; dirs: number } {
    return this.inner.counts();
  }

  xattrNames(ino: number): string[] {
    if (ino === METRICS_DIR_INO || ino === METRICS_FILE_INO) return [];
    return this.inner.xattrNames?.(ino) ?? [];
  }

  xattr(ino: number, name: string): string | null {
    if (ino === METRICS_DIR_INO || ino === METRICS_FILE_INO) return null;
    return this.inner.xattr?.(ino, name) ?? null;
  }

  close(): void {
    this.bodies.clear();
    this.inner.close();
  }
}
