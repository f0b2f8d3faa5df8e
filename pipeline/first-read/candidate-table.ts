import { ANOMALY_COLUMNS, CONN_COLUMNS, type AnomalyRow, type ExplainedFeature } from '../../db/anomaly-columns.js';
import { describeContext } from '../context/describe-context.js';
import type { ConnRecord, KnownField } from '../read/conn-record.js';
import { TextColumns, type TextColumnsParts } from './text-columns.js';

/** A flagged connection, as it goes into the `anomalies` table. */
export type FlaggedConnection = AnomalyRow;

/** A feature's share of a row's score; a context feature also carries its value, to be put in words. */
export interface ScoredFeature {
  feature: string;
  share: number;
  value?: number;
}

/** Features kept of each row's explanation. */
export const EXPLAINED = 3;
/** An explanation's slot that names no feature. */
export const NO_FEATURE = 255;
const INITIAL_CAPACITY = 4096;

/**
 * The rows that may end up flagged, stored by column: typed arrays for numbers (NaN for unset),
 * packed explanations, numbered categories, and the other text as UTF-8 bytes, with no object or
 * string per row. As JS objects a row took about 650 bytes, which for a 10M-row file (600k
 * candidates, then 500k flagged) alone broke the memory target; here it is under 200. Rows are
 * added in row order and pruning keeps that order, so a row is found by binary search on its index.
 */
export class CandidateTable {
  size = 0;
  private capacity = INITIAL_CAPACITY;
  private rowIndex = new Int32Array(INITIAL_CAPACITY);
  private score = new Float32Array(INITIAL_CAPACITY);
  private numbers = new Float64Array(INITIAL_CAPACITY * NUMBER_COLUMNS);
  /** The text columns (`TEXT_FIELDS`). */
  private text = new TextColumns(TEXT_COLUMNS);
  /** The few-valued text columns (`CATEGORY_FIELDS`): numbers into `categories`, -1 for unset. */
  private category = new Int32Array(INITIAL_CAPACITY * CATEGORY_COLUMNS);
  private categories: string[] = [];
  private categoryNumbers = new Map<string, number>();
  private explainFeature = new Uint8Array(INITIAL_CAPACITY * EXPLAINED);
  private explainShare = new Float32Array(INITIAL_CAPACITY * EXPLAINED);
  /** A context feature's value (NaN for a per-connection feature). */
  private explainValue = new Float32Array(INITIAL_CAPACITY * EXPLAINED);
  /** Each model's error (NaN when there is no context model). */
  private connScore = new Float32Array(INITIAL_CAPACITY);
  private contextScore = new Float32Array(INITIAL_CAPACITY);

  constructor(private readonly featureNames: readonly string[]) {
    if (featureNames.length >= NO_FEATURE) throw new RangeError(`${featureNames.length} features: explanations pack feature numbers in a byte`);
  }

  /** The table another thread handed over (see `handOver`). */
  static fromParts(parts: CandidateTableParts): CandidateTable {
    const table = new CandidateTable(parts.featureNames);
    table.size = parts.size;
    table.capacity = parts.capacity;
    table.rowIndex = parts.rowIndex;
    table.score = parts.score;
    table.numbers = parts.numbers;
    table.text = TextColumns.fromParts(parts.text);
    table.category = parts.category;
    table.categories = parts.categories;
    table.categoryNumbers = new Map(parts.categories.map((c, i) => [c, i]));
    table.explainFeature = parts.explainFeature;
    table.explainShare = parts.explainShare;
    table.explainValue = parts.explainValue;
    table.connScore = parts.connScore;
    table.contextScore = parts.contextScore;
    return table;
  }

  /** The table for another thread, with the buffers to transfer (nothing is copied): this table cannot be used after. */
  handOver(): { parts: CandidateTableParts; buffers: ArrayBuffer[] } {
    const text = this.text.handOver();
    const columns = {
      rowIndex: this.rowIndex,
      score: this.score,
      numbers: this.numbers,
      category: this.category,
      explainFeature: this.explainFeature,
      explainShare: this.explainShare,
      explainValue: this.explainValue,
      connScore: this.connScore,
      contextScore: this.contextScore,
    };
    const parts: CandidateTableParts = { featureNames: [...this.featureNames], size: this.size, capacity: this.capacity, categories: this.categories, text: text.parts, ...columns };
    return { parts, buffers: [...Object.values(columns).map((column) => column.buffer), ...text.buffers] };
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
    for (let k = 0; k < NUMBER_COLUMNS; k++) this.numbers[n + k] = (record[NUMBER_FIELDS[k]!] as number | null) ?? NaN;
    this.text.set(slot, TEXT_FIELDS.map((field) => record[field] as string | null));
    const c = slot * CATEGORY_COLUMNS;
    for (let k = 0; k < CATEGORY_COLUMNS; k++) this.category[c + k] = this.categoryNumber(record[CATEGORY_FIELDS[k]!] as string | null);
    const e = slot * EXPLAINED;
    for (let k = 0; k < EXPLAINED; k++) {
      const share = explanation[k];
      this.explainFeature[e + k] = share === undefined ? NO_FEATURE : this.featureNumber(share.feature);
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
    this.text.truncate(kept);
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
    // Copied from one object of the row's shape, so every row has the same hidden class.
    const row: Record<string, unknown> = { ...ROW_SHAPE };
    const n = slot * NUMBER_COLUMNS;
    for (let k = 0; k < NUMBER_COLUMNS; k++) row[NUMBER_COLUMN_KEYS[k]!] = orNull(this.numbers[n + k]!);
    for (let k = 0; k < TEXT_COLUMNS; k++) row[TEXT_COLUMN_KEYS[k]!] = this.text.get(slot, k);
    const c = slot * CATEGORY_COLUMNS;
    for (let k = 0; k < CATEGORY_COLUMNS; k++) row[CATEGORY_COLUMN_KEYS[k]!] = this.categoryAt(c + k);
    const subject = { origH: row.origH as string, respH: row.respH as string, respP: row.respP as number, proto: row.proto as string };
    const explanation: ExplainedFeature[] = [];
    for (let k = 0; k < EXPLAINED; k++) {
      const feature = this.explainFeature[slot * EXPLAINED + k]!;
      if (feature === NO_FEATURE) continue;
      const name = this.featureNames[feature]!;
      const share = this.explainShare[slot * EXPLAINED + k]!;
      const value = this.explainValue[slot * EXPLAINED + k]!;
      const text = Number.isNaN(value) ? null : describeContext(name, value, subject);
      explanation.push(text === null ? { feature: name, share } : { feature: name, share, text });
    }
    row.score = this.score[slot]!;
    row.threshold = threshold;
    row.modelVersion = modelVersion;
    row.explanation = explanation;
    row.connScore = this.connScore[slot]!;
    row.contextScore = orNull(this.contextScore[slot]!);
    return row as FlaggedConnection;
  }

  private featureNumbers: Map<string, number> | null = null;

  private categoryNumber(value: string | null): number {
    if (value === null) return -1;
    let number = this.categoryNumbers.get(value);
    if (number === undefined) {
      number = this.categories.length;
      this.categories.push(value);
      this.categoryNumbers.set(value, number);
    }
    return number;
  }

  private categoryAt(at: number): string | null {
    return this.categories[this.category[at]!] ?? null;
  }

  private featureNumber(name: string): number {
    this.featureNumbers ??= new Map(this.featureNames.map((f, i) => [f, i]));
    return this.featureNumbers.get(name) ?? NO_FEATURE;
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
    this.text.move(from, to);
    this.category.copyWithin(to * CATEGORY_COLUMNS, from * CATEGORY_COLUMNS, (from + 1) * CATEGORY_COLUMNS);
    this.explainFeature.copyWithin(to * EXPLAINED, from * EXPLAINED, (from + 1) * EXPLAINED);
    this.explainShare.copyWithin(to * EXPLAINED, from * EXPLAINED, (from + 1) * EXPLAINED);
    this.explainValue.copyWithin(to * EXPLAINED, from * EXPLAINED, (from + 1) * EXPLAINED);
  }

  private grow(): void {
    this.capacity *= 2;
    this.rowIndex = resized(this.rowIndex, this.capacity);
    this.score = resized(this.score, this.capacity);
    this.numbers = resized(this.numbers, this.capacity * NUMBER_COLUMNS);
    this.category = resized(this.category, this.capacity * CATEGORY_COLUMNS);
    this.explainFeature = resized(this.explainFeature, this.capacity * EXPLAINED);
    this.explainShare = resized(this.explainShare, this.capacity * EXPLAINED);
    this.explainValue = resized(this.explainValue, this.capacity * EXPLAINED);
    this.connScore = resized(this.connScore, this.capacity);
    this.contextScore = resized(this.contextScore, this.capacity);
  }
}

/** What `handOver` gives: the columns, and what goes with them. */
export interface CandidateTableParts {
  featureNames: string[];
  size: number;
  capacity: number;
  rowIndex: Int32Array<ArrayBuffer>;
  score: Float32Array<ArrayBuffer>;
  numbers: Float64Array<ArrayBuffer>;
  text: TextColumnsParts;
  category: Int32Array<ArrayBuffer>;
  categories: string[];
  explainFeature: Uint8Array<ArrayBuffer>;
  explainShare: Float32Array<ArrayBuffer>;
  explainValue: Float32Array<ArrayBuffer>;
  connScore: Float32Array<ArrayBuffer>;
  contextScore: Float32Array<ArrayBuffer>;
}

// The layout follows the anomalies' column list: its numbers from the conn record as Float64 (NaN
// for unset), its text as UTF-8, its few-valued text as numbers into `categories`.
const NUMBER_FIELDS = CONN_COLUMNS.numbers.map((c) => c.from as KnownField);
const NUMBER_COLUMN_KEYS = CONN_COLUMNS.numbers.map((c) => c.key);
const NUMBER_COLUMNS = NUMBER_FIELDS.length;
const TEXT_FIELDS = CONN_COLUMNS.text.map((c) => c.from as KnownField);
const TEXT_COLUMN_KEYS = CONN_COLUMNS.text.map((c) => c.key);
const TEXT_COLUMNS = TEXT_FIELDS.length;
const CATEGORY_FIELDS = CONN_COLUMNS.few.map((c) => c.from as KnownField);
const CATEGORY_COLUMN_KEYS = CONN_COLUMNS.few.map((c) => c.key);
const CATEGORY_COLUMNS = CATEGORY_FIELDS.length;

const ROW_SHAPE: Readonly<Record<string, null>> = Object.fromEntries(ANOMALY_COLUMNS.map((c) => [c.key, null]));

function orNull(value: number): number | null {
  return Number.isNaN(value) ? null : value;
}

function resized<T extends Int32Array | Float32Array | Float64Array | Uint8Array>(array: T, length: number): T {
  const bigger = new (array.constructor as new (length: number) => T)(length);
  bigger.set(array);
  return bigger;
}
