// The latest uid of each followed pair, updated on nearly every row: copied into a slot of a typed
// array rather than kept as a string. A string cut from the reader's chunk would pin the chunk, and
// copying it into a string of its own on every row made gathering a file's activity 27% slower
// (docs/benchmarks.md); a slot costs its characters, and crosses threads as one transferred buffer.

/** Zeek's uids are 'C' and up to 17 base62 characters; a longer one is kept aside, as a string. */
const SLOT = 20;
const NONE = 0xff;
const ASIDE = 0xfe;

export interface UidSlotsParts {
  chars: Uint16Array<ArrayBuffer>;
  lengths: Uint8Array<ArrayBuffer>;
  aside: Map<number, string>;
}

export class UidSlots {
  private chars: Uint16Array<ArrayBuffer>;
  private lengths: Uint8Array<ArrayBuffer>;
  private aside: Map<number, string>;

  constructor(capacity: number, parts?: UidSlotsParts) {
    this.chars = parts?.chars ?? new Uint16Array(capacity * SLOT);
    this.lengths = parts?.lengths ?? new Uint8Array(capacity).fill(NONE);
    this.aside = parts?.aside ?? new Map<number, string>();
  }

  set(i: number, uid: string | null): void {
    if (i >= this.lengths.length) this.grow(Math.max(i + 1, this.lengths.length * 2));
    if (uid === null) {
      this.lengths[i] = NONE;
      return;
    }
    if (uid.length > SLOT) {
      this.lengths[i] = ASIDE;
      this.aside.set(i, (' ' + uid).slice(1));
      return;
    }
    const at = i * SLOT;
    for (let k = 0; k < uid.length; k++) this.chars[at + k] = uid.charCodeAt(k);
    this.lengths[i] = uid.length;
  }

  get(i: number): string | null {
    const length = this.lengths[i];
    if (length === undefined || length === NONE) return null;
    if (length === ASIDE) return this.aside.get(i) ?? null;
    return String.fromCharCode(...this.chars.subarray(i * SLOT, i * SLOT + length));
  }

  handOver(): { parts: UidSlotsParts; buffers: ArrayBuffer[] } {
    return { parts: { chars: this.chars, lengths: this.lengths, aside: this.aside }, buffers: [this.chars.buffer, this.lengths.buffer] };
  }

  private grow(capacity: number): void {
    const chars = new Uint16Array(capacity * SLOT);
    chars.set(this.chars);
    const lengths = new Uint8Array(capacity).fill(NONE);
    lengths.set(this.lengths);
    this.chars = chars;
    this.lengths = lengths;
  }
}
