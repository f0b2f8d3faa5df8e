/**
 * 64-bit keys for the context tables, as two 32-bit halves: an address hashed, or several parts
 * mixed. At a million keys the chance that any two share a key is about one in 36 million (a
 * single 32-bit hash would merge about a hundred pairs of hosts), and numbers need no string built
 * per row. The results are left in `key.hi` and `key.lo` so that the hot path allocates nothing.
 */
export interface Key64 {
  hi: number;
  lo: number;
}

/** FNV-1a over UTF-16 code units for one half, a murmur-style multiply for the other. */
export function hashText(text: string, into: Key64): void {
  let a = 0x811c9dc5;
  let b = 0x9747b28c ^ text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 13;
  }
  into.hi = finalMix(b);
  into.lo = finalMix(a);
}

/** The key of (`first`, `second`): order matters, so A → B and B → A differ. */
export function combineKeys(first: Key64, second: Key64, into: Key64): void {
  const hi = Math.imul(first.hi ^ 0x27d4eb2f, 0x85ebca6b) ^ second.hi;
  const lo = Math.imul(first.lo ^ 0x165667b1, 0xc2b2ae35) ^ second.lo;
  into.hi = finalMix(hi);
  into.lo = finalMix(lo);
}

/** The key of (`base`, `value`) for a small integer such as a port. */
export function combineNumber(base: Key64, value: number, into: Key64): void {
  into.hi = finalMix(Math.imul(base.hi ^ value, 0x85ebca6b) ^ 0x3c6ef372);
  into.lo = finalMix(Math.imul(base.lo ^ 0xa54ff53a, 0xc2b2ae35) ^ value);
}

// murmur3's fmix32: every input bit affects every output bit.
function finalMix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
