// A test-only Library: serves the real files of a directory through the
// FUSE server, a stand-in for the core until the real one lands. Files are
// read through `file` pieces (the server preads them); names ending in
// `.syn` are served with a synthesized header in front (a `bytes` piece), so
// both piece kinds cross the mount. Reads of `*.eio` fail with a typed EIO,
// reads of `*.boom` with an unexpected error; `*.frag` files come in many
// small pieces. poll() rescans the directory and reports
// changed and vanished files, as the core's refresh would.

import {
  type Attr,
  type DirEntry,
  FsError,
  type Library,
  type OpenResult,
  type ReadPiece,
  type RefreshReport,
  S_IFDIR,
  S_IFREG,
} from "../../src/core/api.ts";
import * as libc from "../../ffi/libc.ts";

export const SYN_HEADER = new TextEncoder().encode("MUSEFS-SYNTHETIC-HEADER\n");

interface Node {
  ino: number;
  parent: number;
  name: Uint8Array;
  path: string;
  isDir: boolean;
  size: number;
  mtimeMs: number;
  children: Map<string, Node>;
}

export interface DirLibraryOptions {
  /** Return passthroughFd from open (structure-only mode). */
  passthrough?: boolean;
  /** Report changes from poll() (false: never, to show stale kernel caches). */
  invalidate?: boolean;
  /** Debounce for poll(). */
  pollIntervalMs?: number;
  keepCache?: boolean;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

export class DirLibrary implements Library {
  private readonly byIno = new Map<number, Node>();
  private readonly inoByPath = new Map<string, number>();
  private nextIno = 2;
  private readonly handles = new Map<number, { fd: number; node: Node }>();
  private nextFh = 1;
  private readonly dirHandles = new Map<number, DirEntry[]>();
  private lastPoll = 0;
  private root: Node;
  readonly mountTime = Math.floor(Date.now() / 1000);

  constructor(readonly dir: string, private readonly opts: DirLibraryOptions = {}) {
    this.root = this.scan();
  }

  private ino(path: string): number {
    let ino = this.inoByPath.get(path);
    if (ino === undefined) {
      ino = path === "" ? 1 : this.nextIno++;
      this.inoByPath.set(path, ino);
    }
    return ino;
  }

  /** Build the tree from the directory; inodes are stable per path. */
  private scan(): Node {
    this.byIno.clear();
    const walk = (path: string, parent: number, name: string): Node => {
      const full = path === "" ? this.dir : `${this.dir}/${path}`;
      const info = Deno.statSync(full);
      const node: Node = {
        ino: this.ino(path),
        parent,
        name: enc.encode(name),
        path,
        isDir: info.isDirectory,
        size: info.isDirectory ? 0 : info.size + (name.endsWith(".syn") ? SYN_HEADER.length : 0),
        mtimeMs: info.mtime?.getTime() ?? 0,
        children: new Map(),
      };
      this.byIno.set(node.ino, node);
      if (info.isDirectory) {
        for (const e of Deno.readDirSync(full)) {
          const child = walk(path === "" ? e.name : `${path}/${e.name}`, node.ino, e.name);
          node.children.set(e.name, child);
        }
      }
      return node;
    };
    return walk("", 1, "");
  }

  private node(ino: number): Node {
    const n = this.byIno.get(ino);
    if (!n) throw new FsError("ENOENT", `no inode ${ino}`);
    return n;
  }

  private attr(n: Node): Attr {
    return {
      ino: n.ino,
      size: n.size,
      blocks: Math.ceil(n.size / 512),
      mode: n.isDir ? S_IFDIR | 0o555 : S_IFREG | 0o444,
      nlink: n.isDir ? 2 : 1,
      uid: 0,
      gid: 0,
      mtimeSec: Math.floor(n.mtimeMs / 1000),
      mtimeNsec: (n.mtimeMs % 1000) * 1_000_000,
    };
  }

  lookup(parent: number, name: Uint8Array): Attr {
    const p = this.node(parent);
    if (!p.isDir) throw new FsError("ENOTDIR", "not a directory");
    const child = p.children.get(dec.decode(name));
    if (!child) throw new FsError("ENOENT", `no entry ${dec.decode(name)}`);
    return this.attr(child);
  }

  forget(): void {}

  getattr(ino: number): Attr {
    return this.attr(this.node(ino));
  }

  opendir(ino: number): number {
    const n = this.node(ino);
    if (!n.isDir) throw new FsError("ENOTDIR", "not a directory");
    const entries: DirEntry[] = [
      { name: enc.encode("."), ino: n.ino, isDir: true },
      { name: enc.encode(".."), ino: n.parent, isDir: true },
    ];
    const names = [...n.children.keys()].sort();
    for (const name of names) {
      const c = n.children.get(name)!;
      entries.push({ name: c.name, ino: c.ino, isDir: c.isDir });
    }
    const fh = this.nextFh++;
    this.dirHandles.set(fh, entries);
    return fh;
  }

  readdir(fh: number, _ino: number, offset: number, limit?: number): DirEntry[] {
    const entries = this.dirHandles.get(fh);
    if (!entries) throw new FsError("EIO", "unknown dir handle");
    return entries.slice(offset, limit === undefined ? undefined : offset + limit);
  }

  releasedir(fh: number): void {
    this.dirHandles.delete(fh);
  }

  open(ino: number, flags: number): OpenResult {
    const n = this.node(ino);
    if (n.isDir) throw new FsError("EISDIR", "is a directory");
    if ((flags & 3) !== 0) throw new FsError("EROFS", "read-only");
    const fd = libc.open(`${this.dir}/${n.path}`, libc.O_RDONLY | libc.O_CLOEXEC);
    const fh = this.nextFh++;
    this.handles.set(fh, { fd, node: n });
    const pass = this.opts.passthrough === true && !n.path.endsWith(".syn");
    return {
      fh,
      keepCache: this.opts.keepCache ?? true,
      directIo: false,
      // `*.badfd`: an fd the kernel refuses to register (passthrough failure path).
      passthroughFd: pass ? (n.path.endsWith(".badfd") ? -1 : fd) : undefined,
    };
  }

  read(fh: number, _ino: number, offset: number, size: number): ReadPiece[] {
    const h = this.handles.get(fh);
    if (!h) throw new FsError("EIO", "unknown handle");
    const fd = h.fd;
    // Failure injection by name: a typed error and an unexpected one.
    if (h.node.path.endsWith(".eio")) throw new FsError("EIO", "backing file changed");
    if (h.node.path.endsWith(".boom")) throw new TypeError("a bug in the core");
    if (h.node.path.endsWith(".frag")) return fragments(fd, offset, size);
    if (!h.node.path.endsWith(".syn")) return [{ kind: "file", fd, offset, length: size }];
    const pieces: ReadPiece[] = [];
    const hl = SYN_HEADER.length;
    if (offset < hl) {
      pieces.push({
        kind: "bytes",
        bytes: SYN_HEADER.subarray(offset, Math.min(hl, offset + size)),
      });
    }
    const start = Math.max(offset, hl);
    const end = offset + size;
    if (end > start) pieces.push({ kind: "file", fd, offset: start - hl, length: end - start });
    return pieces;
  }

  release(fh: number): void {
    const h = this.handles.get(fh);
    if (h) libc.close(h.fd);
    this.handles.delete(fh);
  }

  poll(): RefreshReport | null {
    if (this.opts.invalidate === false) return null;
    const now = Date.now();
    if (now - this.lastPoll < (this.opts.pollIntervalMs ?? 200)) return null;
    this.lastPoll = now;
    const before = new Map([...this.byIno.values()].map((n) => [n.ino, n]));
    this.root = this.scan();
    const report: RefreshReport = { invalidateInodes: [], invalidateEntries: [] };
    for (const [ino, old] of before) {
      const now = this.byIno.get(ino);
      if (!now) {
        report.invalidateInodes.push(ino);
        report.invalidateEntries.push({ parent: old.parent, name: old.name });
      } else if (now.size !== old.size || now.mtimeMs !== old.mtimeMs) {
        report.invalidateInodes.push(ino);
      }
    }
    return report.invalidateInodes.length + report.invalidateEntries.length > 0 ? report : null;
  }

  counts(): { files: number; dirs: number } {
    let files = 0;
    let dirs = 0;
    for (const n of this.byIno.values()) n.isDir ? dirs++ : files++;
    return { files, dirs };
  }

  close(): void {
    for (const h of this.handles.values()) libc.close(h.fd);
    this.handles.clear();
  }
}

/**
 * `*.frag` files: the range cut into 512-byte pieces, alternately `file`
 * pieces and `bytes` pieces (read here), so a 1 MiB read has 2048 pieces:
 * more than one writev takes, which sends it down the worker path.
 */
function fragments(fd: number, offset: number, size: number): ReadPiece[] {
  const pieces: ReadPiece[] = [];
  for (let at = offset, i = 0; at < offset + size; at += 512, i++) {
    const length = Math.min(512, offset + size - at);
    if (i % 2 === 0) {
      pieces.push({ kind: "file", fd, offset: at, length });
    } else {
      const bytes = new Uint8Array(length);
      const n = libc.pread(fd, bytes, at);
      pieces.push({ kind: "bytes", bytes: bytes.subarray(0, n) });
      if (n < length) break;
    }
  }
  return pieces;
}
