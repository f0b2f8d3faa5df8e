/** What a `StratifiedReservoir` holds at the end: the kept items, and how many rows of the stream each one stands for. */
export interface WeightedSample<T> {
  items: T[];
  /** `weights[i]` belongs to `items[i]`: its group's rows seen over its group's rows kept (1 for a group kept whole). */
  weights: Float64Array;
}

interface Group<T> {
  seen: number;
  items: T[];
}

/** A group as it stood when a checkpoint was taken, saved the first time the checkpoint's rows change it. */
interface SavedGroup<T> {
  group: Group<T>;
  seen: number;
  items: T[];
}

// When the budget is exceeded, the groups are cut to this share of it, so that the next cut is
// thousands of rows away rather than one: each cut walks every group.
const REFILL_SHARE = 1 / 64;

/**
 * A sample of a stream of keyed items that keeps every group (items of one key) whole while it is
 * small, and a uniform sample of each large one: every group holds at most `cap` items, the one
 * `cap` that fits all groups into `budget` items (water-filling). A group's items stand for its
 * `seen / kept` rows, so sums and quantiles weighted by that are those of the whole stream.
 *
 * Each group is a reservoir (Algorithm R) of `cap` items; when the total goes over `budget`, `cap`
 * is lowered and every group above it drops items at random (a uniform subsample of a uniform
 * sample is uniform). Memory stays at `budget` items and one small record per group. Deterministic
 * for a `random` stream and an order of offers.
 */
export class StratifiedReservoir<T> {
  seen = 0;
  private readonly groups = new Map<string, Group<T>>();
  private cap: number;
  private kept = 0;
  private checkpoint: { seen: number; cap: number; kept: number; created: string[]; saved: Map<Group<T>, SavedGroup<T>> } | null = null;

  /** `keep` makes the copy that is stored, only for items that are kept; `keepKey`, the copy of a new group's key. */
  constructor(
    readonly budget: number,
    private readonly random: () => number,
    private readonly keep: (item: T) => T = (item) => item,
    private readonly keepKey: (key: string) => string = (key) => key,
  ) {
    if (!Number.isInteger(budget) || budget < 1) throw new RangeError(`StratifiedReservoir: budget is ${budget}; it must be a whole number ≥ 1`);
    this.cap = budget;
  }

  /** Items held now (at most `budget`). */
  get size(): number {
    return this.kept;
  }

  /** Groups seen so far. */
  get groupCount(): number {
    return this.groups.size;
  }

  offer(key: string, item: T): void {
    this.seen++;
    let group = this.groups.get(key);
    if (group === undefined) {
      group = { seen: 0, items: [] };
      const kept = this.keepKey(key);
      this.groups.set(kept, group);
      this.checkpoint?.created.push(kept);
    }
    this.save(group);
    group.seen++;
    if (group.items.length < this.cap) {
      group.items.push(this.keep(item));
      this.kept++;
      // At a cap of 1 no cut can help: there are more groups than the budget, and every group
      // keeps its one row. Keys must be coarse enough for that not to happen.
      if (this.kept > this.budget && this.cap > 1) this.cut();
      return;
    }
    const slot = Math.floor(this.random() * group.seen);
    if (slot < this.cap) group.items[slot] = this.keep(item);
  }

  /** The kept items, group by group in the order the groups were first seen, with their weights. */
  sample(): WeightedSample<T> {
    const items: T[] = [];
    const weights = new Float64Array(this.kept);
    for (const group of this.groups.values()) {
      const weight = group.seen / group.items.length;
      weights.fill(weight, items.length, items.length + group.items.length);
      items.push(...group.items);
    }
    return { items, weights };
  }

  /** Marks a point to return to: the rows of a file that turns out bad half-way must not stay in the sample. */
  begin(): void {
    this.checkpoint = { seen: this.seen, cap: this.cap, kept: this.kept, created: [], saved: new Map() };
  }

  commit(): void {
    this.checkpoint = null;
  }

  rollback(): void {
    const checkpoint = this.checkpoint;
    if (checkpoint === null) return;
    for (const { group, seen, items } of checkpoint.saved.values()) {
      group.seen = seen;
      group.items = items;
    }
    for (const key of checkpoint.created) this.groups.delete(key);
    this.seen = checkpoint.seen;
    this.cap = checkpoint.cap;
    this.kept = checkpoint.kept;
    this.checkpoint = null;
  }

  /** Lowers `cap` to the largest that fits every group into a little less than the budget, and cuts the groups above it. */
  private cut(): void {
    const target = Math.max(1, Math.floor(this.budget * (1 - REFILL_SHARE)));
    // groupsOfLength[n]: the groups holding n items (n ≤ cap).
    const groupsOfLength = new Uint32Array(this.cap + 1);
    for (const group of this.groups.values()) groupsOfLength[group.items.length]!++;
    // Walk cap down from the top: total(c) = Σ min(length, c) falls by the groups holding c or more at each step.
    let total = this.kept;
    let atLeast = 0;
    let cap = this.cap;
    while (cap > 1 && total > target) {
      atLeast += groupsOfLength[cap]!;
      total -= atLeast;
      cap--;
    }
    this.cap = cap;
    for (const group of this.groups.values()) {
      if (group.items.length <= cap) continue;
      this.save(group);
      this.kept -= group.items.length - cap;
      group.items = this.subsample(group.items, cap);
    }
  }

  /** `n` of `items` drawn uniformly (a partial Fisher–Yates), into a new array: a saved checkpoint may still hold the old one. */
  private subsample(items: T[], n: number): T[] {
    const out = items.slice();
    for (let i = 0; i < n; i++) {
      const j = i + Math.floor(this.random() * (out.length - i));
      const held = out[i]!;
      out[i] = out[j]!;
      out[j] = held;
    }
    out.length = n;
    return out;
  }

  private save(group: Group<T>): void {
    const checkpoint = this.checkpoint;
    if (checkpoint === null || checkpoint.saved.has(group)) return;
    checkpoint.saved.set(group, { group, seen: group.seen, items: group.items.slice() });
  }
}
