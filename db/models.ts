import type { Db } from './connection.js';
import { contextError } from './connection.js';

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
export function upsertModel(db: Db, sensor: string, model: ModelRow): void {
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
    db.transaction(modelsLock(sensor), () => {
      if (model.active) db.run(DEACTIVATE_OTHERS, [sensor, model.version]);
      db.run(UPSERT_MODEL, params);
    });
  } catch (error) {
    throw contextError(`${db.name}: recording model ${model.version} of sensor ${sensor}`, error);
  }
}

/** A version as the model store lists it: what `mirrorModels` needs of it. */
export interface StoredVersion {
  version: string;
  createdAt: string;
  active: boolean;
  metrics: unknown;
}

/**
 * Keeps `sensor`'s rows of the `models` table in step with its store, so anomalies can be joined
 * with their model and the dashboard names it. Every path that scores with a version calls it.
 */
export function mirrorModels(db: Db, sensor: string, versions: readonly StoredVersion[]): void {
  for (const info of versions) {
    const metrics = info.metrics as { preset?: unknown } | null;
    const preset = typeof metrics?.preset === 'string' ? metrics.preset : null;
    upsertModel(db, sensor, { version: info.version, createdAt: info.createdAt, active: info.active, preset, metrics: info.metrics });
  }
}

const MODEL_EXISTS = `SELECT 1 FROM models WHERE sensor = ? AND version = ?`;
const ACTIVATE_ONLY = `UPDATE models SET active = CASE WHEN version = @version THEN 1 ELSE 0 END WHERE sensor = @sensor AND (active = 1 OR version = @version)`;

/** Makes `version` `sensor`'s one active model. Throws, naming it, when the sensor has no such version. */
export function setActiveModel(db: Db, sensor: string, version: string): void {
  db.transaction(modelsLock(sensor), () => {
    if (db.get(MODEL_EXISTS, [sensor, version]) === undefined) {
      throw new Error(`${db.name}: no model version '${version}' of sensor ${sensor} in the models table`);
    }
    db.run(ACTIVATE_ONLY, { sensor, version });
  });
}

const LIST_MODELS = `
  SELECT sensor, version, created_at AS "createdAt", active, preset, metrics FROM models WHERE (CAST(@sensor AS TEXT) IS NULL OR sensor = @sensor)
  ORDER BY created_at, version, sensor`;

/** Every version of every sensor (or of `sensor`), oldest first. */
export function listModels(db: Db, sensor?: string): SensorModelRow[] {
  return db
    .all<{ sensor: string; version: string; createdAt: string; active: number; preset: string | null; metrics: string }>(LIST_MODELS, { sensor: sensor ?? null })
    .map((row) => ({ ...row, active: row.active === 1, metrics: parseMetrics(db, row.version, row.metrics) }));
}

// The models of one sensor are written one transaction at a time: one active model per sensor.
function modelsLock(sensor: string): string {
  return `models/${sensor}`;
}

function parseMetrics(db: Db, version: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw contextError(`${db.name}: model ${version}: metrics is not JSON (${JSON.stringify(text.slice(0, 80))})`, error);
  }
}
