/** mulberry32: a small seeded generator, so that splits, samples and shuffles repeat exactly for a seed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fisher–Yates, in place. */
export function shuffleInPlace<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const held = items[i]!;
    items[i] = items[j]!;
    items[j] = held;
  }
  return items;
}

/**
 * A uniform sample of at most `capacity` items from a stream of unknown length (Algorithm R):
 * every item seen has the same chance to be kept, and memory stays at `capacity` items.
 */
export class Reservoir<T> {
  readonly items: T[] = [];
  seen = 0;
  private checkpoint: { seen: number; length: number; replaced: { slot: number; item: T }[] } | null = null;

  /** `keep` makes the copy that is stored, only for items that are kept. */
  constructor(
    readonly capacity: number,
    private readonly random: () => number,
    private readonly keep: (item: T) => T = (item) => item,
  ) {}

  offer(item: T): void {
    this.seen++;
    if (this.items.length < this.capacity) {
      this.items.push(this.keep(item));
      return;
    }
    const slot = Math.floor(this.random() * this.seen);
    if (slot >= this.capacity) return;
    this.checkpoint?.replaced.push({ slot, item: this.items[slot]! });
    this.items[slot] = this.keep(item);
  }

  /**
   * Marks a point to return to: the rows of a file that turns out bad half-way must not stay in
   * the sample. The undo log holds only the items replaced since, not the rows offered.
   */
  begin(): void {
    this.checkpoint = { seen: this.seen, length: this.items.length, replaced: [] };
  }

  commit(): void {
    this.checkpoint = null;
  }

  rollback(): void {
    const checkpoint = this.checkpoint;
    if (checkpoint === null) return;
    for (let i = checkpoint.replaced.length - 1; i >= 0; i--) {
      const { slot, item } = checkpoint.replaced[i]!;
      this.items[slot] = item;
    }
    this.items.length = checkpoint.length;
    this.seen = checkpoint.seen;
    this.checkpoint = null;
  }
}
