import type { Database } from 'better-sqlite3';
import { contextError, prepared } from './statements.js';

/** A row of `models`, the database's mirror of the model store. */
export interface ModelRow {
  version: string;
  /** ISO 8601. */
  createdAt: string;
  active: boolean;
  preset: string | null;
  /** metrics.json, as the store saved it. */
  metrics: unknown;
}

const UPSERT_MODEL = `
  INSERT INTO models (version, created_at, active, preset, metrics)
  VALUES (@version, @createdAt, @active, @preset, @metrics)
  ON CONFLICT (version) DO UPDATE SET
    created_at = excluded.created_at, active = excluded.active, preset = excluded.preset, metrics = excluded.metrics`;

const DEACTIVATE_OTHERS = `UPDATE models SET active = 0 WHERE active = 1 AND version <> ?`;

/**
 * Adds or updates a version. When it comes in active, the others are made inactive in the same
 * transaction: there is never more than one active model.
 */
export function upsertModel(db: Database, model: ModelRow): void {
  const metrics = JSON.stringify(model.metrics);
  if (metrics === undefined) throw new Error(`${db.name}: model ${model.version}: metrics is ${String(model.metrics)}; expected a JSON value`);
  const params = {
    version: model.version,
    createdAt: model.createdAt,
    active: model.active ? 1 : 0,
    preset: model.preset ?? null,
    metrics,
  };
  try {
    // IMMEDIATE: take the write lock at BEGIN, so a concurrent writer waits (busy_timeout) here
    // rather than failing part-way.
    db.transaction(() => {
      if (model.active) prepared<[string]>(db, DEACTIVATE_OTHERS).run(model.version);
      prepared<[typeof params]>(db, UPSERT_MODEL).run(params);
    }).immediate();
  } catch (error) {
    throw contextError(`${db.name}: recording model ${model.version}`, error);
  }
}

const MODEL_EXISTS = `SELECT 1 FROM models WHERE version = ?`;
const ACTIVATE_ONLY = `UPDATE models SET active = (version = ?) WHERE active = 1 OR version = ?`;

/** Makes `version` the one active model. Throws, naming it, when the table has no such version. */
export function setActiveModel(db: Database, version: string): void {
  // IMMEDIATE: the transaction reads before it writes; a deferred one would fail with SQLITE_BUSY,
  // without waiting, if another connection wrote in between.
  db.transaction(() => {
    if (prepared<[string]>(db, MODEL_EXISTS).get(version) === undefined) {
      throw new Error(`${db.name}: no model version '${version}' in the models table`);
    }
    prepared<[string, string]>(db, ACTIVATE_ONLY).run(version, version);
  }).immediate();
}

const LIST_MODELS = `
  SELECT version, created_at AS createdAt, active, preset, metrics FROM models ORDER BY created_at, version`;

/** Every version, oldest first. */
export function listModels(db: Database): ModelRow[] {
  return prepared<[], { version: string; createdAt: string; active: number; preset: string | null; metrics: string }>(db, LIST_MODELS)
    .all()
    .map((row) => ({ ...row, active: row.active === 1, metrics: parseMetrics(db, row.version, row.metrics) }));
}

function parseMetrics(db: Database, version: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw contextError(`${db.name}: model ${version}: metrics is not JSON (${JSON.stringify(text.slice(0, 80))})`, error);
  }
}
