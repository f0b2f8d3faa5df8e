import type { AnomalyRow, ExplainedFeature } from '../../db/anomalies.js';
import { describeContext } from '../context/describe-context.js';
import type { ConnRecord } from '../read/conn-record.js';
import { ownString } from '../read/own-string.js';

/** A flagged connection, as it goes into the `anomalies` table. */
export type FlaggedConnection = AnomalyRow;

/** A feature's share of a row's score; a context feature also carries its value, to be put in words. */
export interface ScoredFeature {
  feature: string;
  share: number;
  value?: number;
}

const EXPLAINED = 3;
const NONE = 255;
const INITIAL_CAPACITY = 4096;

/**
 * The rows that may end up flagged, stored by column: typed arrays for numbers (NaN for unset),
 * packed explanations, and references for strings. As JS objects a row took about 650 bytes,
 * which for a 10M-row file (600k candidates, then 500k flagged) alone broke the memory target;
 * here it is about a quarter of that. Rows are added in row order and pruning keeps that order,
 * so a row is found by binary search on its index.
 */
export class CandidateTable {
  size = 0;
  private capacity = INITIAL_CAPACITY;
  private rowIndex = new Int32Array(INITIAL_CAPACITY);
  private score = new Float32Array(INITIAL_CAPACITY);
  private numbers = new Float64Array(INITIAL_CAPACITY * NUMBER_COLUMNS);
  private strings: (string | null)[] = [];
  private explainFeature = new Uint8Array(INITIAL_CAPACITY * EXPLAINED);
  private explainShare = new Float32Array(INITIAL_CAPACITY * EXPLAINED);
  /** A context feature's value (NaN for a per-connection feature). */
  private explainValue = new Float32Array(INITIAL_CAPACITY * EXPLAINED);
  /** Each model's error (NaN when there is no context model). */
  private connScore = new Float32Array(INITIAL_CAPACITY);
  private contextScore = new Float32Array(INITIAL_CAPACITY);

  constructor(private readonly featureNames: readonly string[]) {
    if (featureNames.length >= NONE) throw new RangeError(`${featureNames.length} features: explanations pack feature numbers in a byte`);
  }

  /** Adds a row; rows must come in increasing `index` order. `contextScore` is NaN without a context model. */
  add(index: number, score: number, record: ConnRecord, explanation: readonly ScoredFeature[], connScore: number, contextScore: number): void {
    if (this.size === this.capacity) this.grow();
    const slot = this.size++;
    this.rowIndex[slot] = index;
    this.score[slot] = score;
    this.connScore[slot] = connScore;
    this.contextScore[slot] = contextScore;
    const n = slot * NUMBER_COLUMNS;
    const numbers = this.numbers;
    numbers[n] = record.ts;
    numbers[n + 1] = record['id.orig_p'];
    numbers[n + 2] = record['id.resp_p'];
    numbers[n + 3] = record.duration ?? NaN;
    numbers[n + 4] = record.orig_bytes ?? NaN;
    numbers[n + 5] = record.resp_bytes ?? NaN;
    numbers[n + 6] = record.orig_pkts ?? NaN;
    numbers[n + 7] = record.resp_pkts ?? NaN;
    // Owned copies: the reader's strings are views that would pin their chunk. proto, service
    // and conn_state come from the reader's intern tables, which own theirs.
    const s = slot * STRING_COLUMNS;
    this.strings[s] = record.uid === null ? null : ownString(record.uid);
    this.strings[s + 1] = ownString(record['id.orig_h']);
    this.strings[s + 2] = ownString(record['id.resp_h']);
    this.strings[s + 3] = record.proto;
    this.strings[s + 4] = record.service;
    this.strings[s + 5] = record.conn_state;
    this.strings[s + 6] = record.history === null ? null : ownString(record.history);
    const e = slot * EXPLAINED;
    for (let k = 0; k < EXPLAINED; k++) {
      const share = explanation[k];
      this.explainFeature[e + k] = share === undefined ? NONE : this.featureNumber(share.feature);
      this.explainShare[e + k] = share?.share ?? 0;
      this.explainValue[e + k] = share?.value ?? NaN;
    }
  }

  /** Drops the rows scoring below `cut`, keeping row order. */
  prune(cut: number): void {
    let kept = 0;
    for (let slot = 0; slot < this.size; slot++) {
      if (this.score[slot]! < cut) continue;
      if (kept !== slot) this.move(slot, kept);
      kept++;
    }
    this.strings.length = kept * STRING_COLUMNS;
    this.size = kept;
  }

  has(index: number): boolean {
    return this.slotOf(index) >= 0;
  }

  /** The row with this index as a flagged connection, or undefined when it is not here. */
  get(index: number, threshold: number, modelVersion: string): FlaggedConnection | undefined {
    const slot = this.slotOf(index);
    return slot < 0 ? undefined : this.rowAt(slot, threshold, modelVersion);
  }

  /** Every row, in row order, each made when it is needed. */
  *rows(threshold: number, modelVersion: string): Generator<FlaggedConnection> {
    for (let slot = 0; slot < this.size; slot++) yield this.rowAt(slot, threshold, modelVersion);
  }

  private rowAt(slot: number, threshold: number, modelVersion: string): FlaggedConnection {
    const n = slot * NUMBER_COLUMNS;
    const s = slot * STRING_COLUMNS;
    const numbers = this.numbers;
    const orNull = (value: number): number | null => (Number.isNaN(value) ? null : value);
    const subject = { origH: this.strings[s + 1]!, respH: this.strings[s + 2]!, respP: numbers[n + 2]!, proto: this.strings[s + 3]! };
    const explanation: ExplainedFeature[] = [];
    for (let k = 0; k < EXPLAINED; k++) {
      const feature = this.explainFeature[slot * EXPLAINED + k]!;
      if (feature === NONE) continue;
      const name = this.featureNames[feature]!;
      const share = this.explainShare[slot * EXPLAINED + k]!;
      const value = this.explainValue[slot * EXPLAINED + k]!;
      const text = Number.isNaN(value) ? null : describeContext(name, value, subject);
      explanation.push(text === null ? { feature: name, share } : { feature: name, share, text });
    }
    return {
      ts: numbers[n]!,
      uid: this.strings[s] ?? null,
      origH: this.strings[s + 1]!,
      origP: numbers[n + 1]!,
      respH: this.strings[s + 2]!,
      respP: numbers[n + 2]!,
      proto: this.strings[s + 3]!,
      service: this.strings[s + 4] ?? null,
      duration: orNull(numbers[n + 3]!),
      origBytes: orNull(numbers[n + 4]!),
      respBytes: orNull(numbers[n + 5]!),
      connState: this.strings[s + 5] ?? null,
      history: this.strings[s + 6] ?? null,
      origPkts: orNull(numbers[n + 6]!),
      respPkts: orNull(numbers[n + 7]!),
      score: this.score[slot]!,
      threshold,
      modelVersion,
      explanation,
      connScore: this.connScore[slot]!,
      contextScore: orNull(this.contextScore[slot]!),
    };
  }

  private featureNumbers: Map<string, number> | null = null;

  private featureNumber(name: string): number {
    this.featureNumbers ??= new Map(this.featureNames.map((f, i) => [f, i]));
    return this.featureNumbers.get(name) ?? NONE;
  }

  private slotOf(index: number): number {
    let low = 0;
    let high = this.size - 1;
    while (low <= high) {
      const middle = (low + high) >>> 1;
      const at = this.rowIndex[middle]!;
      if (at === index) return middle;
      if (at < index) low = middle + 1;
      else high = middle - 1;
    }
    return -1;
  }

  private move(from: number, to: number): void {
    this.rowIndex[to] = this.rowIndex[from]!;
    this.score[to] = this.score[from]!;
    this.connScore[to] = this.connScore[from]!;
    this.contextScore[to] = this.contextScore[from]!;
    this.numbers.copyWithin(to * NUMBER_COLUMNS, from * NUMBER_COLUMNS, (from + 1) * NUMBER_COLUMNS);
    for (let k = 0; k < STRING_COLUMNS; k++) this.strings[to * STRING_COLUMNS + k] = this.strings[from * STRING_COLUMNS + k]!;
    this.explainFeature.copyWithin(to * EXPLAINED, from * EXPLAINED, (from + 1) * EXPLAINED);
    this.explainShare.copyWithin(to * EXPLAINED, from * EXPLAINED, (from + 1) * EXPLAINED);
    this.explainValue.copyWithin(to * EXPLAINED, from * EXPLAINED, (from + 1) * EXPLAINED);
  }

  private grow(): void {
    this.capacity *= 2;
    this.rowIndex = resized(this.rowIndex, this.capacity);
    this.score = resized(this.score, this.capacity);
    this.numbers = resized(this.numbers, this.capacity * NUMBER_COLUMNS);
    this.explainFeature = resized(this.explainFeature, this.capacity * EXPLAINED);
    this.explainShare = resized(this.explainShare, this.capacity * EXPLAINED);
    this.explainValue = resized(this.explainValue, this.capacity * EXPLAINED);
    this.connScore = resized(this.connScore, this.capacity);
    this.contextScore = resized(this.contextScore, this.capacity);
  }
}

// ts, orig_p, resp_p, duration, orig_bytes, resp_bytes, orig_pkts, resp_pkts
const NUMBER_COLUMNS = 8;
// uid, orig_h, resp_h, proto, service, conn_state, history
const STRING_COLUMNS = 7;

function resized<T extends Int32Array | Float32Array | Float64Array | Uint8Array>(array: T, length: number): T {
  const bigger = new (array.constructor as new (length: number) => T)(length);
  bigger.set(array);
  return bigger;
}
