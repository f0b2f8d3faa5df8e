/**
 * The schema, as numbered migrations applied in order at start, one list for both engines: each
 * number says what SQLite runs and what PostgreSQL runs. SQLite records the last one applied in
 * `PRAGMA user_version`, PostgreSQL in the `schema_migrations` table. Append new migrations, with
 * both engines' SQL; never edit one that has shipped.
 *
 * PostgreSQL stores began at version 7, so 1 to 6 run nothing there: the PostgreSQL SQL of 7 makes
 * the schema as it stood after 7 on SQLite, and from 8 on each migration changes both.
 */
export interface Migration {
  version: number;
  name: string;
  sqlite: string;
  /** null: nothing to do on PostgreSQL (a version from before PostgreSQL stores). */
  postgres: string | null;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'files, anomalies and models',
    postgres: null,
    sqlite: `
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
  {
    version: 2,
    name: 'one done row per content',
    postgres: null,
    sqlite: `
      -- Exactly once, in the schema: at most one 'done' row per content hash. An older version
      -- could, in a race, record the same content as 'done' twice. Before the index can be made,
      -- each such content keeps its first 'done' row (the lowest id, the one findDoneBySha256
      -- returns); the later ones become what they would have been, 'skipped' duplicates of it
      -- with no results of their own, and their anomalies (a second copy of the first's) go.
      -- This runs inside the migration's transaction: all of it happens, or none.
      CREATE TEMP TABLE later_done AS
        SELECT f.id AS id, (SELECT min(g.id) FROM files g WHERE g.sha256 = f.sha256 AND g.status = 'done') AS first_id
        FROM files f
        WHERE f.status = 'done' AND EXISTS (SELECT 1 FROM files g WHERE g.sha256 = f.sha256 AND g.status = 'done' AND g.id < f.id);

      DELETE FROM anomalies WHERE file_id IN (SELECT id FROM later_done);
      -- Skipped rows that named a later copy as their original now name the first.
      UPDATE files SET duplicate_of = (SELECT first_id FROM later_done WHERE later_done.id = files.duplicate_of)
        WHERE duplicate_of IN (SELECT id FROM later_done);
      UPDATE files SET
          status = 'skipped', duplicate_of = (SELECT first_id FROM later_done WHERE later_done.id = files.id),
          rows = NULL, bad_lines = NULL, flagged = NULL, threshold = NULL, threshold_mode = NULL, error = NULL,
          model_version = NULL, first_ts = NULL, last_ts = NULL
        WHERE id IN (SELECT id FROM later_done);
      DROP TABLE later_done;

      -- The database itself now refuses a second 'done' row for one content, whatever the code does.
      CREATE UNIQUE INDEX files_done_by_sha256 ON files (sha256) WHERE status = 'done';
    `,
  },
  {
    version: 3,
    name: 'context state, and both errors of each anomaly',
    postgres: null,
    sqlite: `
      -- The context stage's state (what every host, pair and channel had been doing) as it stood
      -- after the last file scored: saved in that file's own transaction, so a crash loses or
      -- repeats no file's part in it. One row per part, in order: pipeline/context/state-codec.ts
      -- writes each table's arrays as parts of their own, so no copy of the whole is made to save it.
      CREATE TABLE context_state (
        part     INTEGER PRIMARY KEY,
        file_id  INTEGER REFERENCES files (id) ON DELETE SET NULL,
        saved_at TEXT    NOT NULL,
        bytes    BLOB    NOT NULL
      );

      -- A model with context scores a row by its two errors combined; each is kept. NULL for rows
      -- flagged before, or by a model without context (context_score).
      ALTER TABLE anomalies ADD COLUMN conn_score REAL;
      ALTER TABLE anomalies ADD COLUMN context_score REAL;
    `,
  },
  {
    version: 4,
    name: 'findings',
    postgres: null,
    sqlite: `
      -- What an analyst should look at: one row per detection of a type on an entity (a host, a
      -- pair, a channel). A detection that goes on over many files is one row, updated by each
      -- file in that file's own transaction. pipeline/findings/ says what each type means.
      CREATE TABLE findings (
        id            INTEGER PRIMARY KEY,
        type          TEXT    NOT NULL,
        severity      TEXT    NOT NULL CHECK (severity IN ('info', 'low', 'medium', 'high', 'critical')),
        score         REAL    NOT NULL CHECK (score >= 0 AND score <= 100),
        src           TEXT,
        dst           TEXT,
        port          INTEGER,
        proto         TEXT,
        first_ts      REAL    NOT NULL,
        last_ts       REAL    NOT NULL,
        connections   INTEGER NOT NULL,
        bytes_out     INTEGER NOT NULL,
        bytes_in      INTEGER NOT NULL,
        summary       TEXT    NOT NULL,
        evidence      TEXT    NOT NULL,
        model_version TEXT,
        created_at    TEXT    NOT NULL,
        updated_at    TEXT    NOT NULL
      );
      CREATE INDEX findings_by_entity ON findings (type, src, dst, port, proto, last_ts);
      CREATE INDEX findings_by_score ON findings (score);
      CREATE INDEX findings_by_last_ts ON findings (last_ts);
      CREATE INDEX findings_by_src ON findings (src, last_ts);
      CREATE INDEX findings_by_dst ON findings (dst, last_ts);

      -- Which files a finding was raised or updated by, with what each added.
      CREATE TABLE finding_files (
        finding_id  INTEGER NOT NULL REFERENCES findings (id) ON DELETE CASCADE,
        file_id     INTEGER NOT NULL REFERENCES files (id) ON DELETE CASCADE,
        connections INTEGER NOT NULL,
        PRIMARY KEY (finding_id, file_id)
      ) WITHOUT ROWID;
      CREATE INDEX finding_files_by_file ON finding_files (file_id);

      -- The flagged connections (anomalies) that support a finding: those of its entity in its files.
      CREATE TABLE finding_anomalies (
        finding_id INTEGER NOT NULL REFERENCES findings (id) ON DELETE CASCADE,
        anomaly_id INTEGER NOT NULL REFERENCES anomalies (id) ON DELETE CASCADE,
        PRIMARY KEY (finding_id, anomaly_id)
      ) WITHOUT ROWID;
      CREATE INDEX finding_anomalies_by_anomaly ON finding_anomalies (anomaly_id);

      -- What a detector has gathered on an entity that has not (yet) reached a finding: a channel
      -- refused a dozen times an hour, a pair whose rhythm needs hours to show. Each file adds to
      -- it in its own transaction; once it reaches its detector's threshold it becomes a finding.
      CREATE TABLE finding_tracks (
        entity      TEXT    PRIMARY KEY,
        type        TEXT    NOT NULL,
        first_ts    REAL    NOT NULL,
        last_ts     REAL    NOT NULL,
        connections INTEGER NOT NULL,
        bytes_out   INTEGER NOT NULL,
        bytes_in    INTEGER NOT NULL,
        evidence    TEXT    NOT NULL
      ) WITHOUT ROWID;
      CREATE INDEX finding_tracks_by_last_ts ON finding_tracks (last_ts);
    `,
  },
  {
    version: 5,
    name: "a finding's flagged connections by score",
    postgres: null,
    sqlite: `
      -- A finding that goes on for a month can hold 100,000 flagged connections; its page shows the
      -- highest scoring. With the score beside each link and indexed, that is an index range, not
      -- 100,000 rows read from all over the anomalies table and sorted (4 s from a cold cache).
      -- A link's score is its anomaly's, which never changes.
      ALTER TABLE finding_anomalies ADD COLUMN score REAL;
      UPDATE finding_anomalies SET score = (SELECT a.score FROM anomalies a WHERE a.id = finding_anomalies.anomaly_id);
      CREATE INDEX finding_anomalies_by_score ON finding_anomalies (finding_id, score);
    `,
  },
  {
    version: 6,
    name: 'the context state in pieces',
    postgres: null,
    sqlite: `
      -- A part (a whole table's rows, 40 MB for a million channels) bound as one blob is copied
      -- whole by SQLite, twice, while it is written: 90 MB more at the peak of every file's save.
      -- Pieces of at most 1 MiB each (db/context-state.ts) make that 1 MiB.
      CREATE TABLE context_state_pieces (
        part     INTEGER NOT NULL,
        piece    INTEGER NOT NULL,
        file_id  INTEGER REFERENCES files (id) ON DELETE SET NULL,
        saved_at TEXT    NOT NULL,
        bytes    BLOB    NOT NULL,
        PRIMARY KEY (part, piece)
      );
      INSERT INTO context_state_pieces (part, piece, file_id, saved_at, bytes) SELECT part, 0, file_id, saved_at, bytes FROM context_state;
      DROP TABLE context_state;
      ALTER TABLE context_state_pieces RENAME TO context_state;
    `,
  },
  {
    version: 7,
    name: 'sensors',
    postgres: `
      -- The whole schema as SQLite has it after migrations 1 to 7 (their comments say why each
      -- table and index is there), in PostgreSQL's types. Ids are bigint identities; times of
      -- connections are epoch seconds (double precision) and times of the ledger ISO 8601 text,
      -- as on SQLite, so both engines return the same values; JSON columns are text, parsed by db/.
      CREATE TABLE files (
        id             bigint  GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        sensor         text    NOT NULL,
        path           text    NOT NULL,
        size           bigint  NOT NULL,
        sha256         text    NOT NULL,
        status         text    NOT NULL CHECK (status IN ('done', 'failed', 'skipped')),
        rows           bigint,
        bad_lines      bigint,
        flagged        bigint,
        threshold      double precision,
        threshold_mode text    CHECK (threshold_mode IN ('per-file', 'baseline')),
        error          text,
        duplicate_of   bigint  REFERENCES files (id),
        model_version  text,
        first_ts       double precision,
        last_ts        double precision,
        started_at     text    NOT NULL,
        finished_at    text    NOT NULL
      );
      CREATE INDEX files_by_sha256 ON files (sha256, status);
      CREATE INDEX files_by_path ON files (path);
      CREATE UNIQUE INDEX files_done_by_sha256 ON files (sensor, sha256) WHERE status = 'done';

      CREATE TABLE anomalies (
        id            bigint  GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        file_id       bigint  NOT NULL REFERENCES files (id) ON DELETE CASCADE,
        ts            double precision NOT NULL,
        uid           text,
        orig_h        text    NOT NULL,
        orig_p        integer NOT NULL,
        resp_h        text    NOT NULL,
        resp_p        integer NOT NULL,
        proto         text    NOT NULL,
        service       text,
        duration      double precision,
        orig_bytes    bigint,
        resp_bytes    bigint,
        conn_state    text,
        history       text,
        orig_pkts     bigint,
        resp_pkts     bigint,
        score         double precision NOT NULL,
        threshold     double precision NOT NULL,
        model_version text    NOT NULL,
        explanation   text    NOT NULL,
        conn_score    double precision,
        context_score double precision
      );
      CREATE INDEX anomalies_by_ts ON anomalies (ts);
      CREATE INDEX anomalies_by_orig_h ON anomalies (orig_h, ts);
      CREATE INDEX anomalies_by_resp_h ON anomalies (resp_h, ts);
      CREATE INDEX anomalies_by_score ON anomalies (score);
      CREATE INDEX anomalies_by_file ON anomalies (file_id);

      CREATE TABLE context_state (
        sensor   text    NOT NULL,
        part     integer NOT NULL,
        piece    integer NOT NULL,
        file_id  bigint  REFERENCES files (id) ON DELETE SET NULL,
        saved_at text    NOT NULL,
        bytes    bytea   NOT NULL,
        PRIMARY KEY (sensor, part, piece)
      );

      CREATE TABLE findings (
        id            bigint  GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        sensor        text    NOT NULL,
        type          text    NOT NULL,
        severity      text    NOT NULL CHECK (severity IN ('info', 'low', 'medium', 'high', 'critical')),
        score         double precision NOT NULL CHECK (score >= 0 AND score <= 100),
        src           text,
        dst           text,
        port          integer,
        proto         text,
        first_ts      double precision NOT NULL,
        last_ts       double precision NOT NULL,
        connections   bigint  NOT NULL,
        bytes_out     bigint  NOT NULL,
        bytes_in      bigint  NOT NULL,
        summary       text    NOT NULL,
        evidence      text    NOT NULL,
        model_version text,
        created_at    text    NOT NULL,
        updated_at    text    NOT NULL
      );
      CREATE INDEX findings_by_entity ON findings (sensor, type, src, dst, port, proto, last_ts);
      CREATE INDEX findings_by_score ON findings (score);
      CREATE INDEX findings_by_last_ts ON findings (last_ts);
      CREATE INDEX findings_by_src ON findings (src, last_ts);
      CREATE INDEX findings_by_dst ON findings (dst, last_ts);

      CREATE TABLE finding_files (
        finding_id  bigint NOT NULL REFERENCES findings (id) ON DELETE CASCADE,
        file_id     bigint NOT NULL REFERENCES files (id) ON DELETE CASCADE,
        connections bigint NOT NULL,
        PRIMARY KEY (finding_id, file_id)
      );
      CREATE INDEX finding_files_by_file ON finding_files (file_id);

      CREATE TABLE finding_anomalies (
        finding_id bigint NOT NULL REFERENCES findings (id) ON DELETE CASCADE,
        anomaly_id bigint NOT NULL REFERENCES anomalies (id) ON DELETE CASCADE,
        score      double precision,
        PRIMARY KEY (finding_id, anomaly_id)
      );
      CREATE INDEX finding_anomalies_by_anomaly ON finding_anomalies (anomaly_id);
      CREATE INDEX finding_anomalies_by_score ON finding_anomalies (finding_id, score);

      CREATE TABLE finding_tracks (
        sensor      text   NOT NULL,
        entity      text   NOT NULL,
        type        text   NOT NULL,
        first_ts    double precision NOT NULL,
        last_ts     double precision NOT NULL,
        connections bigint NOT NULL,
        bytes_out   bigint NOT NULL,
        bytes_in    bigint NOT NULL,
        evidence    text   NOT NULL,
        PRIMARY KEY (sensor, entity)
      );
      CREATE INDEX finding_tracks_by_last_ts ON finding_tracks (last_ts);

      CREATE TABLE models (
        sensor     text     NOT NULL,
        version    text     NOT NULL,
        created_at text     NOT NULL,
        active     smallint NOT NULL CHECK (active IN (0, 1)),
        preset     text,
        metrics    text     NOT NULL,
        PRIMARY KEY (sensor, version)
      );
    `,
    sqlite: `
      -- Every instance names its sensor (config \`sensor\`, by default the host name), and the
      -- ledger, the findings, the context state and the models mirror are each sensor's own: the same content met
      -- by two sensors is scored by both, once each, and a host on one sensor's network is not
      -- the same entity as its namesake on another's. An anomaly belongs to its file's sensor.
      -- Rows from before this migration get '' (no name yet): the first instance to write after
      -- it takes them as its own (db/sensors.ts), since until now one instance wrote each database.
      ALTER TABLE files ADD COLUMN sensor TEXT NOT NULL DEFAULT '';
      DROP INDEX files_done_by_sha256;
      CREATE UNIQUE INDEX files_done_by_sha256 ON files (sensor, sha256) WHERE status = 'done';

      ALTER TABLE findings ADD COLUMN sensor TEXT NOT NULL DEFAULT '';
      DROP INDEX findings_by_entity;
      CREATE INDEX findings_by_entity ON findings (sensor, type, src, dst, port, proto, last_ts);

      CREATE TABLE finding_tracks_by_sensor (
        sensor      TEXT    NOT NULL,
        entity      TEXT    NOT NULL,
        type        TEXT    NOT NULL,
        first_ts    REAL    NOT NULL,
        last_ts     REAL    NOT NULL,
        connections INTEGER NOT NULL,
        bytes_out   INTEGER NOT NULL,
        bytes_in    INTEGER NOT NULL,
        evidence    TEXT    NOT NULL,
        PRIMARY KEY (sensor, entity)
      ) WITHOUT ROWID;
      INSERT INTO finding_tracks_by_sensor SELECT '', entity, type, first_ts, last_ts, connections, bytes_out, bytes_in, evidence FROM finding_tracks;
      DROP TABLE finding_tracks;
      ALTER TABLE finding_tracks_by_sensor RENAME TO finding_tracks;
      CREATE INDEX finding_tracks_by_last_ts ON finding_tracks (last_ts);

      CREATE TABLE context_state_by_sensor (
        sensor   TEXT    NOT NULL,
        part     INTEGER NOT NULL,
        piece    INTEGER NOT NULL,
        file_id  INTEGER REFERENCES files (id) ON DELETE SET NULL,
        saved_at TEXT    NOT NULL,
        bytes    BLOB    NOT NULL,
        PRIMARY KEY (sensor, part, piece)
      );
      INSERT INTO context_state_by_sensor SELECT '', part, piece, file_id, saved_at, bytes FROM context_state;
      DROP TABLE context_state;
      ALTER TABLE context_state_by_sensor RENAME TO context_state;

      -- Each sensor's scorer has its model store on its own disk: which versions it has, and which
      -- one it runs, are its own (two hosts may each have a v0001).
      CREATE TABLE models_by_sensor (
        sensor     TEXT    NOT NULL,
        version    TEXT    NOT NULL,
        created_at TEXT    NOT NULL,
        active     INTEGER NOT NULL CHECK (active IN (0, 1)),
        preset     TEXT,
        metrics    TEXT    NOT NULL,
        PRIMARY KEY (sensor, version)
      );
      INSERT INTO models_by_sensor SELECT '', version, created_at, active, preset, metrics FROM models;
      DROP TABLE models;
      ALTER TABLE models_by_sensor RENAME TO models;
    `,
  },
  {
    version: 8,
    name: 'sensor leases',
    postgres: `
      -- Which scorer is scoring each sensor's files (docs/scale-out.md): one at a time, so that the
      -- sensor's context state goes from file to file in order. A scorer holds the lease while it
      -- scores, renews it, and lets it go when it has nothing left; one that dies stops renewing,
      -- and once \`expires_at\` (epoch seconds, by the database's clock) has passed another takes it.
      CREATE TABLE sensor_leases (
        sensor     text             PRIMARY KEY,
        holder     text             NOT NULL,
        expires_at double precision NOT NULL,
        file       text,
        file_since double precision
      );

      -- The context state is rewritten with every file (85 MB after the 1M-row benchmark file):
      -- stored out of line as it is, without PostgreSQL first trying to compress each 1 MiB piece
      -- of numbers that barely compress (docs/scale-out.md).
      ALTER TABLE context_state ALTER COLUMN bytes SET STORAGE EXTERNAL;
    `,
    sqlite: `
      -- As on PostgreSQL: one scorer at a time per sensor (several processes on one host can share
      -- a SQLite file). Times are epoch seconds by the host's clock, the one all of them share.
      CREATE TABLE sensor_leases (
        sensor     TEXT PRIMARY KEY,
        holder     TEXT NOT NULL,
        expires_at REAL NOT NULL,
        file       TEXT,
        file_since REAL
      );
    `,
  },
  {
    version: 9,
    name: "a finding's uid sample",
    postgres: `
      -- A bounded sample of the Zeek uids of a finding's connections (its entity over first_ts …
      -- last_ts), as JSON: {"first": uid, "last": uid, "top": uid} (the earliest, the latest and the
      -- highest-scored flagged one; null where unknown). NULL for findings raised before it was kept.
      -- A track keeps its first and last, so the finding it becomes still knows where it began.
      ALTER TABLE findings ADD COLUMN uids text;
      ALTER TABLE finding_tracks ADD COLUMN uids text;
    `,
    sqlite: `
      ALTER TABLE findings ADD COLUMN uids TEXT;
      ALTER TABLE finding_tracks ADD COLUMN uids TEXT;
    `,
  },
  {
    version: 10,
    name: 'triage',
    postgres: `
      -- What an analyst decided about a finding: new (not looked at), acknowledged (seen, being
      -- looked at), threat (a true positive), benign (a false positive), closed (dealt with); who
      -- said so, when, and why.
      ALTER TABLE findings ADD COLUMN status text NOT NULL DEFAULT 'new'
        CHECK (status IN ('new', 'acknowledged', 'threat', 'benign', 'closed'));
      ALTER TABLE findings ADD COLUMN status_note text;
      ALTER TABLE findings ADD COLUMN status_by text;
      ALTER TABLE findings ADD COLUMN status_at text;
      CREATE INDEX findings_by_status ON findings (status, score);

      -- The audit trail: every change of a finding's status, appended, never updated. No foreign
      -- key: a finding deleted by retention keeps its trail, which has a retention of its own.
      CREATE TABLE finding_events (
        id          bigint  GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        finding_id  bigint  NOT NULL,
        sensor      text    NOT NULL,
        at          text    NOT NULL,
        by_whom     text    NOT NULL,
        action      text    NOT NULL CHECK (action IN ('triaged', 'reopened')),
        status_from text    NOT NULL,
        status_to   text    NOT NULL,
        note        text
      );
      CREATE INDEX finding_events_by_finding ON finding_events (finding_id, id);
      CREATE INDEX finding_events_by_at ON finding_events (at);
    `,
    sqlite: `
      ALTER TABLE findings ADD COLUMN status TEXT NOT NULL DEFAULT 'new'
        CHECK (status IN ('new', 'acknowledged', 'threat', 'benign', 'closed'));
      ALTER TABLE findings ADD COLUMN status_note TEXT;
      ALTER TABLE findings ADD COLUMN status_by TEXT;
      ALTER TABLE findings ADD COLUMN status_at TEXT;
      CREATE INDEX findings_by_status ON findings (status, score);

      CREATE TABLE finding_events (
        id          INTEGER PRIMARY KEY,
        finding_id  INTEGER NOT NULL,
        sensor      TEXT    NOT NULL,
        at          TEXT    NOT NULL,
        by_whom     TEXT    NOT NULL,
        action      TEXT    NOT NULL CHECK (action IN ('triaged', 'reopened')),
        status_from TEXT    NOT NULL,
        status_to   TEXT    NOT NULL,
        note        TEXT
      );
      CREATE INDEX finding_events_by_finding ON finding_events (finding_id, id);
      CREATE INDEX finding_events_by_at ON finding_events (at);
    `,
  },
  {
    version: 11,
    name: 'suppressions',
    postgres: `
      -- Noise an analyst silenced from a verdict of benign, in the store (not the config file), so it
      -- takes effect without a restart and holds for every scorer of a fleet. A suppression hides the
      -- findings it matches when they are listed and keeps them from being reopened; they are still
      -- raised and updated, so a revoke brings them back. Every part given must match: sensor and
      -- type (null for every one), src and dst (an address or a network), port, proto.
      CREATE TABLE suppressions (
        id          bigint  GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        sensor      text,
        type        text,
        scope       text    NOT NULL CHECK (scope IN ('entity', 'pair', 'channel', 'src', 'dst')),
        src         text,
        dst         text,
        port        integer,
        proto       text,
        reason      text    NOT NULL,
        by_whom     text    NOT NULL,
        created_at  text    NOT NULL,
        expires_at  text,
        finding_id  bigint,
        revoked_at  text,
        revoked_by  text
      );
      CREATE INDEX suppressions_active ON suppressions (revoked_at, expires_at);
    `,
    sqlite: `
      CREATE TABLE suppressions (
        id          INTEGER PRIMARY KEY,
        sensor      TEXT,
        type        TEXT,
        scope       TEXT    NOT NULL CHECK (scope IN ('entity', 'pair', 'channel', 'src', 'dst')),
        src         TEXT,
        dst         TEXT,
        port        INTEGER,
        proto       TEXT,
        reason      TEXT    NOT NULL,
        by_whom     TEXT    NOT NULL,
        created_at  TEXT    NOT NULL,
        expires_at  TEXT,
        finding_id  INTEGER,
        revoked_at  TEXT,
        revoked_by  TEXT
      );
      CREATE INDEX suppressions_active ON suppressions (revoked_at, expires_at);
    `,
  },
];

/** The schema version this code writes and reads: the last migration's. */
export const SCHEMA_VERSION = latestVersion(MIGRATIONS);

function latestVersion(migrations: readonly Migration[]): number {
  migrations.forEach((migration, i) => {
    if (migration.version !== i + 1) {
      throw new Error(`db/migrations.ts: migration '${migration.name}' is number ${migration.version}, expected ${i + 1}: versions go 1, 2, 3… in order`);
    }
  });
  return migrations.length;
}
