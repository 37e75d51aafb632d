// Strict base64 decoding of METADATA_BLOCK_PICTURE values (standard
// alphabet, padding optional). Anything else makes the picture malformed.

const DECODE = (() => {
  const t = new Int16Array(128).fill(-1);
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (let i = 0; i < alphabet.length; i++) t[alphabet.charCodeAt(i)] = i;
  return t;
})();

/** The bytes of base64 `text`, or null when it is not valid base64. */
export function decodeBase64(text: string): Uint8Array | null {
  let n = text.length;
  if (n % 4 === 0 && n > 0 && text.charCodeAt(n - 1) === 0x3d) {
    n--;
    if (text.charCodeAt(n - 1) === 0x3d) n--;
  }
  if (n % 4 === 1) return null;
  const out = new Uint8Array(Math.floor((n * 3) / 4));
  let o = 0;
  let acc = 0;
  let bits = 0;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    const v = c < 128 ? DECODE[c] : -1;
    if (v < 0) return null;
    acc = ((acc << 6) | v) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >>> bits) & 0xff;
    }
  }
  return out;
}
