// Content checksums. The fingerprint is a SHA-256 over the parsed
// probe output — cheap, it rides the probe — and identifies a file's content
// across a move without reading its audio. The content hash is a SHA-256 of
// the whole file (the `full` tier, or a move confirmation).
//
// Fingerprint byte layout, compatible with the original: every variable
// field is prefixed by its length as u64 little-endian; fixed numbers are
// u64 little-endian. Order: format; audio_offset; audio_length; tag count,
// then key, value per tag; picture count, then mime, type, description,
// width, height (0 when unknown), data per picture; binary tag count, then
// key, payload; structural block count, then kind, body.

import { createHash } from "node:crypto";
import * as fs from "node:fs";
import type { ProbeResult } from "../format/mod.ts";

const encoder = new TextEncoder();

/**
 * The fingerprint input, assembled in one buffer: one digest call instead
 * of dozens of small updates (each a round trip into the runtime, which made
 * hashing cost more than the probe itself).
 */
class Feed {
  #buf = new Uint8Array(4096);
  #view = new DataView(this.#buf.buffer);
  #len = 0;

  #room(n: number): void {
    if (this.#len + n <= this.#buf.length) return;
    let size = this.#buf.length * 2;
    while (size < this.#len + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.#buf.subarray(0, this.#len));
    this.#buf = next;
    this.#view = new DataView(next.buffer);
  }

  u64(n: number): void {
    this.#room(8);
    this.#view.setBigUint64(this.#len, BigInt(n), true);
    this.#len += 8;
  }

  field(bytes: Uint8Array): void {
    this.u64(bytes.length);
    this.#room(bytes.length);
    this.#buf.set(bytes, this.#len);
    this.#len += bytes.length;
  }

  text(s: string): void {
    // UTF-8 is at most 3 bytes per UTF-16 unit; reserve the length slot, then encode in place.
    this.#room(8 + s.length * 3);
    const at = this.#len;
    const { written } = encoder.encodeInto(s, this.#buf.subarray(at + 8));
    this.#view.setBigUint64(at, BigInt(written), true);
    this.#len = at + 8 + written;
  }

  digest(): string {
    return createHash("sha256").update(this.#buf.subarray(0, this.#len)).digest("hex");
  }
}

/** Lowercase hex SHA-256 fingerprint of a probe's parsed output. */
export function fingerprintOf(p: ProbeResult): string {
  const h = new Feed();
  h.text(p.format);
  h.u64(p.audioOffset);
  h.u64(p.audioLength);
  h.u64(p.tags.length);
  for (const t of p.tags) {
    h.text(t.key);
    h.text(t.value);
  }
  h.u64(p.pictures.length);
  for (const pic of p.pictures) {
    h.text(pic.mime);
    h.u64(pic.pictureType);
    h.text(pic.description);
    h.u64(pic.width ?? 0);
    h.u64(pic.height ?? 0);
    h.field(pic.data);
  }
  h.u64(p.binaryTags.length);
  for (const b of p.binaryTags) {
    h.text(b.key);
    h.field(b.data);
  }
  h.u64(p.structural.length);
  for (const s of p.structural) {
    h.text(s.kind);
    h.field(s.body);
  }
  return h.digest();
}

const HASH_CHUNK = 1 << 20;

/**
 * Streaming SHA-256 of the first `size` bytes of an open file (its whole
 * content when `size` is its fstat size). Returns the hex digest and the
 * bytes actually read (fewer when the file shrank meanwhile).
 */
export function contentHashOfFd(fd: number, size: number): { hash: string; bytes: number } {
  const h = createHash("sha256");
  const buf = new Uint8Array(Math.min(HASH_CHUNK, Math.max(1, size)));
  let pos = 0;
  while (pos < size) {
    const n = fs.readSync(fd, buf, 0, Math.min(buf.length, size - pos), pos);
    if (n <= 0) break;
    h.update(buf.subarray(0, n));
    pos += n;
  }
  return { hash: h.digest("hex"), bytes: pos };
}
