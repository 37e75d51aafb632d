// Reassembly of the header packets at the front of an Ogg stream, reading
// one page at a time with small bounded reads. Only the logical stream of
// the first page is accepted: another serial or a second BOS page inside the
// header region means a chained or multiplexed file (unsupported).

import { type ByteSource, FormatError, MAX_PROBE_BYTES } from "../types.ts";
import {
  FLAG_BOS,
  FLAG_CONTINUED,
  MAX_PAGE_HEADER,
  MAX_PAGE_SIZE,
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
  /** Its length; -1 for a packet stepped over by a jump to the region's tail (not counted). */
  length: number;
}

/** The first window read back from the region's end when jumping to its tail (doubled ×4 as needed). */
const TAIL_WINDOW = 16 * 1024;

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
  /** Where the header region is known to end (see the constructor); null: unknown. */
  readonly #regionEnd: number | null;
  /** The bytes a jump to the tail read, [at, at + bytes.length), for the pages read after it. */
  #tail: { at: number; bytes: Uint8Array } | null = null;

  /**
   * `regionEnd`: where the header region is known to end, at a page
   * boundary with whole packets before it (the scanned audio offset of a
   * file whose stamp shows it unchanged since). It lets `skip` jump over a
   * long packet, found from the end; null walks every page.
   */
  constructor(src: ByteSource, maxPacket = MAX_PROBE_BYTES, regionEnd: number | null = null) {
    this.#src = src;
    this.#maxPacket = maxPacket;
    this.#regionEnd = regionEnd;
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
    const head = this.#read(offset, MAX_PAGE_HEADER);
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
      const rest = this.#read(offset + head.length, size - head.length);
      if (rest.length !== size - head.length) {
        throw new FormatError("truncated", "ogg page cut off");
      }
      bytes.set(rest, head.length);
    }
    if (!pageCrcValid(bytes)) throw new FormatError("malformed", `bad ogg page CRC at ${offset}`);
    return bytes;
  }

  /**
   * Bytes of the source; inside the region's tail a jump read, from those
   * (cut at the region's end: the pages read there lie inside it).
   */
  #read(offset: number, length: number): Uint8Array {
    const tail = this.#tail;
    if (tail !== null && offset >= tail.at && offset < tail.at + tail.bytes.length) {
      const from = offset - tail.at;
      return tail.bytes.subarray(from, Math.min(tail.bytes.length, from + length));
    }
    return this.#src.read(offset, length);
  }

  /**
   * Steps over the next packet, whose head (its bytes on its first page)
   * `check` sees first, when exactly `following` more packets end the header
   * region. With the region's end known, the pages in between are not
   * walked: the start of those last packets is found from the end (a comment
   * packet carrying a cover is a hundred pages or more, the packets after it
   * one or two). Falls back to walking when that search finds no sure answer.
   */
  skip(check: (head: Uint8Array) => false, following: number): void {
    this.next(check, following);
  }

  /**
   * Positions the reader at the start of the last `following` packets of the
   * region, for `next` to read them, when they can be found from its end
   * with certainty: the pages found back from the end must chain exactly to
   * it, and every page from that start on must carry its own valid CRC (so a
   * capture pattern inside a packet's data is never taken for a page).
   * False (nothing changed) when they cannot.
   */
  #jumpToTail(following: number): boolean {
    const end = this.#regionEnd!;
    const from = this.#next;
    const serial = this.serial;
    if (end <= from || end > this.#src.size) return false;
    for (let window = TAIL_WINDOW;; window *= 4) {
      const lo = Math.max(from, end - window);
      const bytes = this.#src.read(lo, end - lo);
      if (bytes.length !== end - lo) return false;
      const found = tailStart(bytes, serial, following);
      if (found !== null) {
        const header = parsePageHeader(bytes, found.page)!;
        const size = pageSize(header);
        this.#tail = { at: lo, bytes };
        this.pages.push({ offset: lo + found.page, header });
        this.#current = bytes.subarray(found.page, found.page + size);
        this.#next = lo + found.page + size;
        this.#lace = found.lace;
        return true;
      }
      if (lo === from || window > MAX_PAGE_SIZE * 16) return false;
    }
  }

  /** The whole current page, reading its body if it was skipped so far. */
  #ensureBody(page: HeaderPage): Uint8Array {
    if (this.#current === null) {
      const size = pageSize(page.header);
      this.#current = this.#pageBytes(
        page.offset,
        this.#read(page.offset, MAX_PAGE_HEADER),
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
  next(keep: boolean | ((head: Uint8Array) => boolean), following?: number): Packet {
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
      // Stepping over a packet that goes on past this page: jump to the region's tail if known.
      if (!want && following !== undefined && this.#regionEnd !== null) {
        if (this.#jumpToTail(following)) return { bytes: null, length: -1 };
      }
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

/**
 * Where the last `following` packets of a header region start, from
 * `bytes`, its last bytes (the region ends where `bytes` does, at a page
 * boundary, whole packets before it): the offset in `bytes` of the page
 * holding that start and the index of its first lacing value. Null when no
 * sure answer comes from these bytes: the pages found back from the end do
 * not reach that start, or some page from it on is not a page of `serial`
 * with a valid CRC.
 */
export function tailStart(
  bytes: Uint8Array,
  serial: number,
  following: number,
): { page: number; lace: number } | null {
  // Every capture pattern that parses as a page header of this stream, and
  // which of them chain page after page exactly to the end.
  const headers = new Map<number, PageHeader>();
  const starts: number[] = [];
  for (let i = bytes.indexOf(0x4f); i >= 0; i = bytes.indexOf(0x4f, i + 1)) {
    if (bytes[i + 1] !== 0x67 || bytes[i + 2] !== 0x67 || bytes[i + 3] !== 0x53) continue;
    let h: PageHeader | null;
    try {
      h = parsePageHeader(bytes, i);
    } catch {
      continue; // cut off by the end: not a page of the region
    }
    if (h === null || h.serial !== serial || (h.flags & FLAG_BOS) !== 0) continue;
    headers.set(i, h);
    starts.push(i);
  }
  const reaches = new Set<number>([bytes.length]);
  let first = -1;
  for (let k = starts.length - 1; k >= 0; k--) {
    const at = starts[k];
    if (reaches.has(at + pageSize(headers.get(at)!))) {
      reaches.add(at);
      first = at;
    }
  }
  if (first < 0) return null;
  const pages: { at: number; header: PageHeader }[] = [];
  for (let at = first; at < bytes.length;) {
    const header = headers.get(at)!;
    pages.push({ at, header });
    at += pageSize(header);
  }
  const last = pages[pages.length - 1].header.lacing;
  // Whole packets end the region: its last lacing value ends one.
  if (last.length === 0 || last[last.length - 1] === 255) return null;
  if (following === 0) return verified(bytes, pages, pages.length - 1, last.length);
  // Back from the end over the lacing values: a value below 255 ends a packet.
  let ends = 0;
  for (let p = pages.length - 1; p >= 0; p--) {
    const lacing = pages[p].header.lacing;
    for (let j = lacing.length - 1; j >= 0; j--) {
      if (lacing[j] < 255 && ++ends === following + 1) {
        // lacing[j] ends the packet before the last `following`: they start right after it,
        // on this page or at the start of the next (which then must continue no packet).
        if (j + 1 < lacing.length) return verified(bytes, pages, p, j + 1);
        if ((pages[p + 1].header.flags & FLAG_CONTINUED) !== 0) return null;
        return verified(bytes, pages, p + 1, 0);
      }
    }
    // A page that continues no packet starts one: when exactly the last
    // `following` packets end from here on, they start here.
    if (ends === following && (pages[p].header.flags & FLAG_CONTINUED) === 0) {
      return verified(bytes, pages, p, 0);
    }
  }
  return null;
}

/**
 * The start found (page `p`, lacing value `lace`) when pages[p..] all carry
 * valid CRCs; else null.
 */
function verified(
  bytes: Uint8Array,
  pages: { at: number; header: PageHeader }[],
  p: number,
  lace: number,
): { page: number; lace: number } | null {
  for (let k = p; k < pages.length; k++) {
    const { at, header } = pages[k];
    if (!pageCrcValid(bytes.subarray(at, at + pageSize(header)))) return null;
  }
  return { page: pages[p].at, lace };
}
