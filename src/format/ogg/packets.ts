// Reassembly of the header packets at the front of an Ogg stream, reading
// one page at a time with small bounded reads. Only the logical stream of
// the first page is accepted: another serial or a second BOS page inside the
// header region means a chained or multiplexed file (unsupported).

import { type ByteSource, FormatError, MAX_PROBE_BYTES } from "../types.ts";
import {
  FLAG_BOS,
  FLAG_CONTINUED,
  MAX_PAGE_HEADER,
  pageCrcValid,
  type PageHeader,
  pageSize,
  parsePageHeader,
} from "./page.ts";

/** One page of the header region as read. */
export interface HeaderPage {
  offset: number;
  header: PageHeader;
}

export interface Packet {
  /** The packet bytes, or null when it was skipped. */
  bytes: Uint8Array | null;
  length: number;
}

/**
 * Reads packets from the start of a stream. `next(keep)` returns the next
 * packet; with keep=false its page bodies are not read (only headers), so a
 * large packet can be stepped over cheaply.
 */
export class HeaderPacketReader {
  readonly pages: HeaderPage[] = [];
  #src: ByteSource;
  #maxPacket: number;
  /** Index of the next lacing value to consume on the current (last) page. */
  #lace = 0;
  /** Offset just past the last page read. */
  #next = 0;
  /** The whole last page once its body was read (earlier bodies are released). */
  #current: Uint8Array | null = null;

  constructor(src: ByteSource, maxPacket = MAX_PROBE_BYTES) {
    this.#src = src;
    this.#maxPacket = maxPacket;
  }

  /** The serial number of the stream (of the first page). */
  get serial(): number {
    if (this.pages.length === 0) throw new Error("no page read yet");
    return this.pages[0].header.serial;
  }

  /** Offset just past the last page read. */
  get end(): number {
    return this.#next;
  }

  /** Whether every lacing value of the last page read belongs to packets returned so far. */
  get pageComplete(): boolean {
    const last = this.pages[this.pages.length - 1];
    return last !== undefined && this.#lace >= last.header.lacing.length;
  }

  #readPage(withBody: boolean): HeaderPage {
    const offset = this.#next;
    if (offset >= this.#src.size) throw new FormatError("truncated", "ogg stream ends in headers");
    const head = this.#src.read(offset, MAX_PAGE_HEADER);
    const header = parsePageHeader(head, 0);
    if (header === null) throw new FormatError("malformed", `no ogg page at ${offset}`);
    const first = this.pages.length === 0;
    if (first && !(header.flags & FLAG_BOS)) {
      throw new FormatError("malformed", "first ogg page is not a stream start");
    }
    if (!first && header.flags & FLAG_BOS) {
      throw new FormatError("unsupported", "chained or multiplexed ogg stream");
    }
    if (!first && header.serial !== this.pages[0].header.serial) {
      throw new FormatError("unsupported", "multiplexed ogg stream (second serial in headers)");
    }
    const size = pageSize(header);
    if (offset + size > this.#src.size) throw new FormatError("truncated", "ogg page cut off");
    this.#current = withBody ? this.#pageBytes(offset, head, size) : null;
    const page = { offset, header };
    this.pages.push(page);
    this.#next = offset + size;
    this.#lace = 0;
    return page;
  }

  #pageBytes(offset: number, head: Uint8Array, size: number): Uint8Array {
    let bytes: Uint8Array;
    if (head.length >= size) {
      bytes = head.subarray(0, size);
    } else {
      bytes = new Uint8Array(size);
      bytes.set(head);
      const rest = this.#src.read(offset + head.length, size - head.length);
      if (rest.length !== size - head.length) {
        throw new FormatError("truncated", "ogg page cut off");
      }
      bytes.set(rest, head.length);
    }
    if (!pageCrcValid(bytes)) throw new FormatError("malformed", `bad ogg page CRC at ${offset}`);
    return bytes;
  }

  /** The whole current page, reading its body if it was skipped so far. */
  #ensureBody(page: HeaderPage): Uint8Array {
    if (this.#current === null) {
      const size = pageSize(page.header);
      this.#current = this.#pageBytes(
        page.offset,
        this.#src.read(page.offset, MAX_PAGE_HEADER),
        size,
      );
    }
    return this.#current;
  }

  /**
   * The next packet of the stream. `keep` says whether its bytes are wanted:
   * false steps over it reading page headers only; a function decides from
   * the packet's bytes on its first page (the body of that page is read).
   */
  next(keep: boolean | ((head: Uint8Array) => boolean)): Packet {
    const chunks: Uint8Array[] = [];
    let length = 0;
    let started = false;
    let want = keep !== false;
    for (;;) {
      let page = this.pages[this.pages.length - 1];
      if (page === undefined || this.#lace >= page.header.lacing.length) {
        page = this.#readPage(want);
        if (page.header.lacing.length === 0) continue; // a page without segments carries nothing
        const continued = (page.header.flags & FLAG_CONTINUED) !== 0;
        if (continued !== started) {
          throw new FormatError(
            "malformed",
            started ? "ogg packet not continued on the next page" : "ogg page continues no packet",
          );
        }
      }
      const lacing = page.header.lacing;
      // Body offset of the lacing value #lace inside this page.
      let bodyAt = 0;
      for (let i = 0; i < this.#lace; i++) bodyAt += lacing[i];
      let take = 0;
      let done = false;
      while (this.#lace < lacing.length) {
        const v = lacing[this.#lace++];
        take += v;
        if (v < 255) {
          done = true;
          break;
        }
      }
      length += take;
      if (length > this.#maxPacket) {
        throw new FormatError("too-large", `ogg header packet beyond ${this.#maxPacket} bytes`);
      }
      if (want && take > 0) {
        const bytes = this.#ensureBody(page);
        const start = page.header.headerSize + bodyAt;
        const chunk = bytes.subarray(start, start + take);
        if (!started && typeof keep === "function") want = keep(chunk);
        if (want) chunks.push(chunk);
      }
      started = true;
      if (done) break;
    }
    if (!want) return { bytes: null, length };
    if (chunks.length === 1) return { bytes: chunks[0], length };
    const out = new Uint8Array(length);
    let o = 0;
    for (const c of chunks) {
      out.set(c, o);
      o += c.length;
    }
    return { bytes: out, length };
  }
}
