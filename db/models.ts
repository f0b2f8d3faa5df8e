import type { Database } from 'better-sqlite3';
import { contextError, prepared } from './statements.js';

/** A row of `models`, the database's mirror of a sensor's model store. */
export interface ModelRow {
  version: string;
  /** ISO 8601. */
  createdAt: string;
  active: boolean;
  preset: string | null;
  /** metrics.json, as the store saved it. */
  metrics: unknown;
}

/** A mirrored version, and the sensor whose store holds it. */
export type SensorModelRow = ModelRow & { sensor: string };

const UPSERT_MODEL = `
  INSERT INTO models (sensor, version, created_at, active, preset, metrics)
  VALUES (@sensor, @version, @createdAt, @active, @preset, @metrics)
  ON CONFLICT (sensor, version) DO UPDATE SET
    created_at = excluded.created_at, active = excluded.active, preset = excluded.preset, metrics = excluded.metrics`;

const DEACTIVATE_OTHERS = `UPDATE models SET active = 0 WHERE sensor = ? AND active = 1 AND version <> ?`;

/**
 * Adds or updates a version of `sensor`'s. When it comes in active, the sensor's others are made
 * inactive in the same transaction: a sensor never has more than one active model.
 */
export function upsertModel(db: Database, sensor: string, model: ModelRow): void {
  const metrics = JSON.stringify(model.metrics);
  if (metrics === undefined) throw new Error(`${db.name}: model ${model.version}: metrics is ${String(model.metrics)}; expected a JSON value`);
  const params = {
    sensor,
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
      if (model.active) prepared<[string, string]>(db, DEACTIVATE_OTHERS).run(sensor, model.version);
      prepared<[typeof params]>(db, UPSERT_MODEL).run(params);
    }).immediate();
  } catch (error) {
    throw contextError(`${db.name}: recording model ${model.version} of sensor ${sensor}`, error);
  }
}

const MODEL_EXISTS = `SELECT 1 FROM models WHERE sensor = ? AND version = ?`;
const ACTIVATE_ONLY = `UPDATE models SET active = (version = @version) WHERE sensor = @sensor AND (active = 1 OR version = @version)`;

/** Makes `version` `sensor`'s one active model. Throws, naming it, when the sensor has no such version. */
export function setActiveModel(db: Database, sensor: string, version: string): void {
  // IMMEDIATE: the transaction reads before it writes; a deferred one would fail with SQLITE_BUSY,
  // without waiting, if another connection wrote in between.
  db.transaction(() => {
    if (prepared<[string, string]>(db, MODEL_EXISTS).get(sensor, version) === undefined) {
      throw new Error(`${db.name}: no model version '${version}' of sensor ${sensor} in the models table`);
    }
    prepared<[{ sensor: string; version: string }]>(db, ACTIVATE_ONLY).run({ sensor, version });
  }).immediate();
}

const LIST_MODELS = `
  SELECT sensor, version, created_at AS createdAt, active, preset, metrics FROM models WHERE (@sensor IS NULL OR sensor = @sensor)
  ORDER BY created_at, version, sensor`;

/** Every version of every sensor (or of `sensor`), oldest first. */
export function listModels(db: Database, sensor?: string): SensorModelRow[] {
  return prepared<[{ sensor: string | null }], { sensor: string; version: string; createdAt: string; active: number; preset: string | null; metrics: string }>(
    db,
    LIST_MODELS,
  )
    .all({ sensor: sensor ?? null })
    .map((row) => ({ ...row, active: row.active === 1, metrics: parseMetrics(db, row.version, row.metrics) }));
}

function parseMetrics(db: Database, version: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw contextError(`${db.name}: model ${version}: metrics is not JSON (${JSON.stringify(text.slice(0, 80))})`, error);
  }
}
