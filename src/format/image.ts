// What kind of image a byte string is, from its own bytes (never a file
// name): the mime type a picture row stores and, where the header says, its
// pixel size. Used when a user links a picture (`musefs art --set`).

export interface ImageInfo {
  mime: string;
  /** null when the header does not say (or says 0). */
  width: number | null;
  height: number | null;
}

function u16be(b: Uint8Array, o: number): number {
  return (b[o] << 8) | b[o + 1];
}

function u32be(b: Uint8Array, o: number): number {
  return ((b[o] << 24) >>> 0) + (b[o + 1] << 16) + (b[o + 2] << 8) + b[o + 3];
}

function u32le(b: Uint8Array, o: number): number {
  return b[o] + (b[o + 1] << 8) + (b[o + 2] << 16) + ((b[o + 3] << 24) >>> 0);
}

function sized(mime: string, width: number, height: number): ImageInfo {
  return { mime, width: width > 0 ? width : null, height: height > 0 ? height : null };
}

/** JPEG: walk the markers to the first start-of-frame (SOF0–SOF15 but DHT/JPG/DAC). */
function jpeg(b: Uint8Array): ImageInfo {
  let o = 2;
  while (o + 9 < b.length) {
    if (b[o] !== 0xff) break;
    const marker = b[o + 1];
    if (marker === 0xff) {
      o++;
      continue;
    }
    const len = u16be(b, o + 2);
    const isSof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 &&
      marker !== 0xcc;
    if (isSof) return sized("image/jpeg", u16be(b, o + 7), u16be(b, o + 5));
    if (len < 2) break;
    o += 2 + len;
  }
  return sized("image/jpeg", 0, 0);
}

/** The image type of `bytes`, or null when it is not a JPEG, PNG, GIF, WebP or BMP. */
export function sniffImage(bytes: Uint8Array): ImageInfo | null {
  const b = bytes;
  if (b.length >= 4 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return jpeg(b);
  const png = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (b.length >= 24 && png.every((x, i) => b[i] === x)) {
    return sized("image/png", u32be(b, 16), u32be(b, 20));
  }
  const head = String.fromCharCode(...b.subarray(0, 16));
  if (b.length >= 10 && (head.startsWith("GIF87a") || head.startsWith("GIF89a"))) {
    return sized("image/gif", b[6] | (b[7] << 8), b[8] | (b[9] << 8));
  }
  if (b.length >= 30 && head.startsWith("RIFF") && head.slice(8, 12) === "WEBP") {
    const chunk = head.slice(12, 16);
    if (chunk === "VP8X") {
      return sized("image/webp", (u32le(b, 24) & 0xffffff) + 1, (u32le(b, 27) & 0xffffff) + 1);
    }
    if (chunk === "VP8 ") return sized("image/webp", u16le(b, 26) & 0x3fff, u16le(b, 28) & 0x3fff);
    if (chunk === "VP8L") {
      const bits = u32le(b, 21);
      return sized("image/webp", (bits & 0x3fff) + 1, ((bits >>> 14) & 0x3fff) + 1);
    }
    return sized("image/webp", 0, 0);
  }
  if (b.length >= 26 && head.startsWith("BM")) {
    return sized("image/bmp", Math.abs(u32le(b, 18) | 0), Math.abs(u32le(b, 22) | 0));
  }
  return null;
}

function u16le(b: Uint8Array, o: number): number {
  return b[o] | (b[o + 1] << 8);
}
