/**
 * The schema, as numbered migrations applied in order at start. `PRAGMA user_version` records the
 * last one applied. Append new migrations; never edit one that has shipped.
 */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'files, anomalies and models',
    sql: `
      -- The ledger: one row per file met. A scored file is inserted, status 'done', in the same
      -- transaction as its anomalies, so after a crash a file is either fully present or absent.
      CREATE TABLE files (
        id             INTEGER PRIMARY KEY,
        path           TEXT    NOT NULL,
        size           INTEGER NOT NULL,
        sha256         TEXT    NOT NULL,
        status         TEXT    NOT NULL CHECK (status IN ('done', 'failed', 'skipped')),
        rows           INTEGER,
        bad_lines      INTEGER,
        flagged        INTEGER,
        threshold      REAL,
        threshold_mode TEXT    CHECK (threshold_mode IN ('per-file', 'baseline')),
        error          TEXT,
        duplicate_of   INTEGER REFERENCES files (id),
        model_version  TEXT,
        first_ts       REAL,
        last_ts        REAL,
        started_at     TEXT    NOT NULL,
        finished_at    TEXT    NOT NULL
      );
      CREATE INDEX files_by_sha256 ON files (sha256, status);
      CREATE INDEX files_by_path ON files (path);

      -- One row per flagged connection, with why it was flagged.
      CREATE TABLE anomalies (
        id            INTEGER PRIMARY KEY,
        file_id       INTEGER NOT NULL REFERENCES files (id) ON DELETE CASCADE,
        ts            REAL    NOT NULL,
        uid           TEXT,
        orig_h        TEXT    NOT NULL,
        orig_p        INTEGER NOT NULL,
        resp_h        TEXT    NOT NULL,
        resp_p        INTEGER NOT NULL,
        proto         TEXT    NOT NULL,
        service       TEXT,
        duration      REAL,
        orig_bytes    INTEGER,
        resp_bytes    INTEGER,
        conn_state    TEXT,
        history       TEXT,
        orig_pkts     INTEGER,
        resp_pkts     INTEGER,
        score         REAL    NOT NULL,
        threshold     REAL    NOT NULL,
        model_version TEXT    NOT NULL,
        explanation   TEXT    NOT NULL -- JSON: [{"feature": "orig_bytes", "share": 0.62}, …]
      );
      CREATE INDEX anomalies_by_ts ON anomalies (ts);
      CREATE INDEX anomalies_by_orig_h ON anomalies (orig_h, ts);
      CREATE INDEX anomalies_by_resp_h ON anomalies (resp_h, ts);
      CREATE INDEX anomalies_by_score ON anomalies (score);
      CREATE INDEX anomalies_by_file ON anomalies (file_id);

      -- A mirror of the model store, so that anomalies can be joined with the model that flagged them.
      CREATE TABLE models (
        version    TEXT    PRIMARY KEY,
        created_at TEXT    NOT NULL,
        active     INTEGER NOT NULL CHECK (active IN (0, 1)),
        preset     TEXT,
        metrics    TEXT    NOT NULL -- JSON, as the store's metrics.json
      );
    `,
  },
];
