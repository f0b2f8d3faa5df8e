import type { FoundLog } from '../discover/log-files.js';
import { LogReadError } from '../read/log-read-error.js';
import { readConnLog } from '../read/read-conn-log.js';
import type { BadLinePolicy } from '../read/bad-line-policy.js';
import { Reservoir, seededRandom } from '../../model/random.js';
import { copiedRow, type SampledRow, type TrainingSample } from './training-sample.js';

export interface PlanOptions {
  maxRows: number;
  seed: number;
  /** Rows with `ts` in [since, until) count, in seconds. */
  since: number;
  until: number;
  badLines?: BadLinePolicy;
  signal?: AbortSignal;
}

/**
 * A uniform sample drawn in two reads instead of one. The first read only counts rows, and draws
 * which row numbers to keep with the same reservoir over row numbers that one read over rows
 * makes (so the sample, its order, and every model trained from it are the same as before, and the
 * model notebook's replay of them still holds). The second read copies exactly those rows.
 *
 * Why: a reservoir over rows copies a row each time it keeps one, and most are later replaced. For
 * 100,000 of 1M rows that is 330,000 copies, whose garbage the heap grows to hold; here exactly
 * 100,000 are made. Counting costs one more read of the files (the reader alone, a few seconds a
 * million rows), far less than training.
 *
 * The returned sample is then offered every row of the second read, in the same order and with the
 * same checkpoints per file. A file that fails in the first read fails again in the second, and its
 * rollback undoes what it filled. Null when the signal stopped the first read.
 */
export async function plannedUniformSample(files: readonly FoundLog[], options: PlanOptions): Promise<TrainingSample | null> {
  const ordinals = new Reservoir<number>(options.maxRows, seededRandom(options.seed));
  for (const found of files) {
    if (options.signal?.aborted) return null;
    ordinals.begin();
    try {
      for await (const batch of readConnLog(found.path, { badLines: options.badLines })) {
        if (options.signal?.aborted) return null;
        for (const record of batch) if (record.ts >= options.since && record.ts < options.until) ordinals.offer(ordinals.seen);
      }
      ordinals.commit();
    } catch (error) {
      ordinals.rollback();
      if (!(error instanceof LogReadError)) throw error;
    }
  }
  return new PlannedSample(ordinals.items);
}

/** Fills the slots a plan chose as the rows with those numbers are offered. */
class PlannedSample implements TrainingSample {
  seen = 0;
  size = 0;
  private readonly slots: (SampledRow | undefined)[];
  // Row numbers in rising order, and the slot each fills: rows are offered in rising order.
  private readonly wanted: Float64Array;
  private readonly slotOf: Int32Array;
  private next = 0;
  private checkpoint: { seen: number; size: number; next: number; filled: number[] } | null = null;

  constructor(chosen: readonly number[]) {
    this.slots = new Array<SampledRow | undefined>(chosen.length);
    const bySlot = Array.from(chosen.keys()).sort((a, b) => chosen[a]! - chosen[b]!);
    this.wanted = Float64Array.from(bySlot, (slot) => chosen[slot]!);
    this.slotOf = Int32Array.from(bySlot);
  }

  offer(row: SampledRow): void {
    const ordinal = this.seen++;
    if (this.next >= this.wanted.length || this.wanted[this.next] !== ordinal) return;
    const slot = this.slotOf[this.next++]!;
    this.slots[slot] = copiedRow(row);
    this.size++;
    this.checkpoint?.filled.push(slot);
  }

  begin(): void {
    this.checkpoint = { seen: this.seen, size: this.size, next: this.next, filled: [] };
  }

  commit(): void {
    this.checkpoint = null;
  }

  rollback(): void {
    const checkpoint = this.checkpoint;
    if (checkpoint === null) return;
    for (const slot of checkpoint.filled) this.slots[slot] = undefined;
    this.seen = checkpoint.seen;
    this.size = checkpoint.size;
    this.next = checkpoint.next;
    this.checkpoint = null;
  }

  /** The rows in slot order, as the one-read reservoir holds them; a slot left empty (a file that changed between the reads) is left out. */
  drawn(): { rows: SampledRow[]; weights: null } {
    return { rows: this.slots.filter((row): row is SampledRow => row !== undefined), weights: null };
  }
}
