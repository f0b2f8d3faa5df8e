// The first and last uid of each followed pair and service, updated on nearly every row: copied
// into an 18-byte slot of a typed array rather than kept as a string. A string cut from the reader's
// chunk would pin the chunk; copying it into a string of its own on every row made gathering a
// file's activity 27% slower, and the strings kept cost about 72 bytes a uid (58 MB more heap on
// a 1M-row file of 300,000 pairs). A slot costs 18 bytes and crosses threads as a transferred buffer.

/** Zeek's uids are 'C' and up to 17 base62 characters; a longer or non-ASCII one is kept aside, as a string. */
const SLOT = 18;
const NONE = 0xff;
const ASIDE = 0xfe;

export interface UidSlotsParts {
  chars: Uint8Array<ArrayBuffer>;
  lengths: Uint8Array<ArrayBuffer>;
  aside: Map<number, string>;
}

export class UidSlots {
  private chars: Uint8Array<ArrayBuffer>;
  private lengths: Uint8Array<ArrayBuffer>;
  private aside: Map<number, string>;

  constructor(capacity: number, parts?: UidSlotsParts) {
    this.chars = parts?.chars ?? new Uint8Array(capacity * SLOT);
    this.lengths = parts?.lengths ?? new Uint8Array(capacity).fill(NONE);
    this.aside = parts?.aside ?? new Map<number, string>();
  }

  set(i: number, uid: string | null): void {
    if (i >= this.lengths.length) this.grow(Math.max(i + 1, Math.ceil(this.lengths.length * 1.5)));
    if (uid === null) {
      this.lengths[i] = NONE;
      return;
    }
    const at = i * SLOT;
    if (uid.length <= SLOT) {
      let k = 0;
      for (; k < uid.length; k++) {
        const code = uid.charCodeAt(k);
        if (code > 0x7f) break;
        this.chars[at + k] = code;
      }
      if (k === uid.length) {
        this.lengths[i] = uid.length;
        this.aside.delete(i);
        return;
      }
    }
    this.lengths[i] = ASIDE;
    this.aside.set(i, (' ' + uid).slice(1));
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
    const chars = new Uint8Array(capacity * SLOT);
    chars.set(this.chars);
    const lengths = new Uint8Array(capacity).fill(NONE);
    lengths.set(this.lengths);
    this.chars = chars;
    this.lengths = lengths;
  }
}
