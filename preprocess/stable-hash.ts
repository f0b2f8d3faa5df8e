/**
 * FNV-1a, 32 bits, over the UTF-8 bytes of `text`: stable across runs, machines and Node
 * versions (unlike a language's built-in string hash), so a saved model keeps meaning the same.
 * The original notebook hashed the whole column into one constant; this hashes each row.
 */
export function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    let code = text.charCodeAt(i);
    if (code < 0x80) {
      hash = Math.imul(hash ^ code, 0x01000193);
      continue;
    }
    // Non-ASCII: hash the UTF-8 bytes, as the documentation promises.
    if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      code = 0x10000 + ((code - 0xd800) << 10) + (text.charCodeAt(++i) - 0xdc00);
    }
    for (const byte of utf8Bytes(code)) hash = Math.imul(hash ^ byte, 0x01000193);
  }
  return hash >>> 0;
}

/** The bucket of `text` among `buckets`: `fnv1a32(text) % buckets`. */
export function hashBucket(text: string, buckets: number): number {
  return fnv1a32(text) % buckets;
}

function utf8Bytes(code: number): number[] {
  if (code < 0x800) return [0xc0 | (code >> 6), 0x80 | (code & 0x3f)];
  if (code < 0x10000) return [0xe0 | (code >> 12), 0x80 | ((code >> 6) & 0x3f), 0x80 | (code & 0x3f)];
  return [0xf0 | (code >> 18), 0x80 | ((code >> 12) & 0x3f), 0x80 | ((code >> 6) & 0x3f), 0x80 | (code & 0x3f)];
}
