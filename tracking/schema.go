package tracking

import (
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// SchemaVersion is the newest schema this package knows. Open migrates an
// older store up to it and refuses a newer one.
const SchemaVersion = 1

// ErrNewerSchema is wrapped by Open when the store was written by a newer
// attnlab whose schema this binary does not know.
var ErrNewerSchema = errors.New("store schema is newer than this binary")

// A migration moves a store from version-1 to version. Migrations are never
// edited once released: a change is a new migration appended to the list.
type migration struct {
	version int
	name    string
	sql     string
}

var migrations = []migration{
	{1, "initial schema: experiments, environment, trials, params, metrics, summaries, views", schemaV1},
}

// schemaV1 is documented table by table in doc.go. Times are Unix
// milliseconds (INTEGER); NaN values are stored as NULL.
const schemaV1 = `
CREATE TABLE experiments (
	id          INTEGER PRIMARY KEY,
	name        TEXT    NOT NULL CHECK (name <> ''),
	config_yaml TEXT    NOT NULL,
	config_hash TEXT    NOT NULL,
	created_at  INTEGER NOT NULL,
	UNIQUE (name, config_hash)
);

CREATE TABLE environment (
	experiment_id INTEGER NOT NULL REFERENCES experiments(id) ON DELETE CASCADE,
	key           TEXT    NOT NULL CHECK (key <> ''),
	value         TEXT    NOT NULL,
	PRIMARY KEY (experiment_id, key)
) WITHOUT ROWID;

CREATE TABLE trials (
	id            TEXT    PRIMARY KEY CHECK (id <> ''),
	experiment_id INTEGER NOT NULL REFERENCES experiments(id),
	seed          INTEGER NOT NULL,
	config_json   TEXT    NOT NULL,
	status        TEXT    NOT NULL CHECK (status IN
		('queued', 'running', 'finished', 'failed', 'diverged', 'pruned', 'killed')),
	error         TEXT    NOT NULL DEFAULT '',
	attempt       INTEGER NOT NULL DEFAULT 0,
	created_at    INTEGER NOT NULL,
	started_at    INTEGER,
	finished_at   INTEGER,
	heartbeat_at  INTEGER,
	host          TEXT    NOT NULL DEFAULT '',
	pid           INTEGER
);
CREATE INDEX trials_experiment ON trials (experiment_id);
CREATE INDEX trials_status ON trials (status, heartbeat_at);

CREATE TABLE experiment_trials (
	experiment_id INTEGER NOT NULL REFERENCES experiments(id) ON DELETE CASCADE,
	trial_id      TEXT    NOT NULL REFERENCES trials(id) ON DELETE CASCADE,
	PRIMARY KEY (experiment_id, trial_id)
) WITHOUT ROWID;
CREATE INDEX experiment_trials_trial ON experiment_trials (trial_id);

CREATE TABLE params (
	trial_id   TEXT NOT NULL REFERENCES trials(id) ON DELETE CASCADE,
	key        TEXT NOT NULL CHECK (key <> ''),
	value      TEXT NOT NULL,
	value_real REAL,
	PRIMARY KEY (trial_id, key)
) WITHOUT ROWID;

CREATE TABLE metrics (
	trial_id TEXT    NOT NULL REFERENCES trials(id) ON DELETE CASCADE,
	key      TEXT    NOT NULL CHECK (key <> ''),
	step     INTEGER NOT NULL,
	value    REAL,
	time     INTEGER NOT NULL,
	PRIMARY KEY (trial_id, key, step)
) WITHOUT ROWID;

CREATE TABLE summaries (
	trial_id TEXT NOT NULL REFERENCES trials(id) ON DELETE CASCADE,
	key      TEXT NOT NULL CHECK (key <> ''),
	value    REAL,
	PRIMARY KEY (trial_id, key)
) WITHOUT ROWID;

CREATE VIEW metric_last AS
SELECT trial_id, key, max(step) AS step, value, time, count(*) AS points
FROM metrics
GROUP BY trial_id, key;

CREATE VIEW trial_summary AS
SELECT e.name AS experiment, et.experiment_id, t.id AS trial_id, t.status,
	t.seed, t.attempt, t.error,
	(SELECT json_group_object(p.key, p.value) FROM params p
		WHERE p.trial_id = t.id) AS params,
	coalesce(
		(SELECT s.value FROM summaries s WHERE s.trial_id = t.id AND s.key = 'loss'),
		(SELECT m.value FROM metrics m WHERE m.trial_id = t.id AND m.key = 'loss'
			ORDER BY m.step DESC LIMIT 1)) AS loss,
	coalesce(
		(SELECT s.value FROM summaries s WHERE s.trial_id = t.id AND s.key = 'accuracy'),
		(SELECT m.value FROM metrics m WHERE m.trial_id = t.id AND m.key = 'accuracy'
			ORDER BY m.step DESC LIMIT 1)) AS accuracy,
	(SELECT json_group_object(s.key, s.value) FROM summaries s
		WHERE s.trial_id = t.id) AS summaries,
	strftime('%Y-%m-%dT%H:%M:%fZ', t.started_at / 1000.0, 'unixepoch') AS started,
	strftime('%Y-%m-%dT%H:%M:%fZ', t.finished_at / 1000.0, 'unixepoch') AS finished,
	(t.finished_at - t.started_at) / 1000.0 AS duration_s
FROM experiment_trials et
JOIN experiments e ON e.id = et.experiment_id
JOIN trials t ON t.id = et.trial_id;

CREATE VIEW param_summary AS
SELECT e.name AS experiment, et.experiment_id, t.id AS trial_id, t.status, t.seed,
	p.key AS param, p.value AS param_value, p.value_real AS param_real,
	s.key AS summary, s.value AS value
FROM experiment_trials et
JOIN experiments e ON e.id = et.experiment_id
JOIN trials t ON t.id = et.trial_id
JOIN params p ON p.trial_id = t.id
JOIN summaries s ON s.trial_id = t.id;

CREATE VIEW metric_long AS
SELECT e.name AS experiment, et.experiment_id, t.id AS trial_id, t.status, t.seed,
	m.key, m.step, m.value, m.time
FROM experiment_trials et
JOIN experiments e ON e.id = et.experiment_id
JOIN trials t ON t.id = et.trial_id
JOIN metrics m ON m.trial_id = t.id;
`

// migrate brings the database on conn up to the last version in list, in
// one IMMEDIATE transaction: a store is either fully at the old version or
// fully at the new one, and two processes opening the same new file apply
// each migration once. It returns the versions before and after.
func migrate(conn *sql.Conn, list []migration) (from, to int, err error) {
	for i, m := range list {
		if m.version != i+1 {
			return 0, 0, fmt.Errorf("migration %d (%q) is out of order: want version %d", m.version, m.name, i+1)
		}
	}
	latest := len(list)
	tx, err := conn.BeginTx(bg, nil) // BEGIN IMMEDIATE (see dsn)
	if err != nil {
		return 0, 0, fmt.Errorf("begin migration: %w", err)
	}
	defer tx.Rollback()

	var hasVersion, others int
	err = tx.QueryRow(`SELECT
		count(*) FILTER (WHERE name = 'schema_version'),
		count(*) FILTER (WHERE name <> 'schema_version' AND name NOT LIKE 'sqlite_%')
		FROM sqlite_schema WHERE type = 'table'`).Scan(&hasVersion, &others)
	if err != nil {
		return 0, 0, fmt.Errorf("read schema: %w", err)
	}
	if hasVersion == 0 && others > 0 {
		return 0, 0, errors.New("a SQLite database, but not an attnlab store (it has tables and no schema_version)")
	}
	if _, err := tx.Exec(`CREATE TABLE IF NOT EXISTS schema_version (
		version    INTEGER PRIMARY KEY,
		name       TEXT    NOT NULL,
		applied_at INTEGER NOT NULL
	)`); err != nil {
		return 0, 0, fmt.Errorf("create schema_version: %w", err)
	}
	if err := tx.QueryRow(`SELECT coalesce(max(version), 0) FROM schema_version`).Scan(&from); err != nil {
		return 0, 0, fmt.Errorf("read schema_version: %w", err)
	}
	if from > latest {
		return from, from, fmt.Errorf("%w: the store is at version %d, this attnlab knows versions up to %d; use a newer attnlab",
			ErrNewerSchema, from, latest)
	}
	now := time.Now().UnixMilli()
	for _, m := range list[from:] {
		if _, err := tx.Exec(m.sql); err != nil {
			return from, from, fmt.Errorf("migration %d (%s): %w", m.version, m.name, err)
		}
		if _, err := tx.Exec(`INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)`,
			m.version, m.name, now); err != nil {
			return from, from, fmt.Errorf("record migration %d: %w", m.version, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return from, from, fmt.Errorf("commit migration to version %d: %w", latest, err)
	}
	return from, latest, nil
}

// readVersion returns the schema version of a store opened read-only,
// checking that this binary can read it as it is.
func readVersion(db *sql.DB) (int, error) {
	var hasVersion, others int
	if err := db.QueryRow(`SELECT
		count(*) FILTER (WHERE name = 'schema_version'),
		count(*) FILTER (WHERE name <> 'schema_version' AND name NOT LIKE 'sqlite_%')
		FROM sqlite_schema WHERE type = 'table'`).Scan(&hasVersion, &others); err != nil {
		return 0, err
	}
	switch {
	case hasVersion == 0 && others > 0:
		return 0, errors.New("a SQLite database, but not an attnlab store (it has tables and no schema_version)")
	case hasVersion == 0:
		return 0, errors.New("an empty database, not yet an attnlab store: open it read-write once to create the schema")
	}
	var v int
	if err := db.QueryRow(`SELECT coalesce(max(version), 0) FROM schema_version`).Scan(&v); err != nil {
		return 0, err
	}
	switch {
	case v > SchemaVersion:
		return v, fmt.Errorf("%w: the store is at version %d, this attnlab knows versions up to %d; use a newer attnlab",
			ErrNewerSchema, v, SchemaVersion)
	case v < SchemaVersion:
		return v, fmt.Errorf("the store is at schema version %d, older than %d: open it read-write once to migrate it", v, SchemaVersion)
	}
	return v, nil
}
