package tracking

import (
	"database/sql"
	"fmt"
	"math"
	"time"
)

// Reads run on the read-only connection pool and never wait for the
// writer (WAL readers see the last committed state). A point is visible
// once its transaction is committed: call Flush first to read your own
// latest points. Multi-query reads run in one read transaction, so they see
// one consistent snapshot.

// Experiments lists every experiment, oldest first.
func (s *Store) Experiments() ([]Experiment, error) {
	rows, err := s.rdb.Query(`SELECT id, name, config_yaml, config_hash, created_at FROM experiments ORDER BY id`)
	if err != nil {
		return nil, s.wrap("list experiments", err)
	}
	defer rows.Close()
	var out []Experiment
	for rows.Next() {
		var e Experiment
		var ms int64
		if err := rows.Scan(&e.ID, &e.Name, &e.ConfigYAML, &e.ConfigHash, &ms); err != nil {
			return nil, s.wrap("list experiments", err)
		}
		e.CreatedAt = time.UnixMilli(ms)
		out = append(out, e)
	}
	return out, s.wrap("list experiments", rows.Err())
}

// Experiment returns the experiment with this id.
func (s *Store) Experiment(id int64) (Experiment, error) {
	return s.oneExperiment(fmt.Sprintf("experiment %d", id), `WHERE id = ?`, id)
}

// LatestExperiment returns the newest experiment with this name (a name
// has one experiment per distinct config hash).
func (s *Store) LatestExperiment(name string) (Experiment, error) {
	return s.oneExperiment(fmt.Sprintf("experiment %q", name), `WHERE name = ? ORDER BY id DESC LIMIT 1`, name)
}

func (s *Store) oneExperiment(what, where string, arg any) (Experiment, error) {
	e := Experiment{}
	var ms int64
	err := s.rdb.QueryRow(`SELECT id, name, config_yaml, config_hash, created_at FROM experiments `+where, arg).
		Scan(&e.ID, &e.Name, &e.ConfigYAML, &e.ConfigHash, &ms)
	if err == sql.ErrNoRows {
		return e, s.wrap(what, ErrNotFound)
	}
	e.CreatedAt = time.UnixMilli(ms)
	return e, s.wrap(what, err)
}

// Environment returns the environment recorded for an experiment.
func (s *Store) Environment(experimentID int64) (map[string]string, error) {
	what := fmt.Sprintf("environment of experiment %d", experimentID)
	rows, err := s.rdb.Query(`SELECT key, value FROM environment WHERE experiment_id = ?`, experimentID)
	if err != nil {
		return nil, s.wrap(what, err)
	}
	defer rows.Close()
	env := map[string]string{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return nil, s.wrap(what, err)
		}
		env[k] = v
	}
	return env, s.wrap(what, rows.Err())
}

// Trials returns the trials of an experiment with their params and
// summaries, in the order they were first recorded.
func (s *Store) Trials(experimentID int64) ([]Trial, error) {
	ts, err := s.queryTrials(`t.id IN (SELECT trial_id FROM experiment_trials WHERE experiment_id = ?)`, experimentID)
	return ts, s.wrap(fmt.Sprintf("trials of experiment %d", experimentID), err)
}

// Trial returns one trial with its params and summaries.
func (s *Store) Trial(id string) (Trial, error) {
	what := fmt.Sprintf("trial %q", id)
	ts, err := s.queryTrials(`t.id = ?`, id)
	if err != nil {
		return Trial{}, s.wrap(what, err)
	}
	if len(ts) == 0 {
		return Trial{}, s.wrap(what, ErrNotFound)
	}
	return ts[0], nil
}

// TrialStatus returns the status of a trial.
func (s *Store) TrialStatus(id string) (Status, error) {
	var st Status
	err := s.rdb.QueryRow(`SELECT status FROM trials WHERE id = ?`, id).Scan(&st)
	if err == sql.ErrNoRows {
		err = ErrNotFound
	}
	return st, s.wrap(fmt.Sprintf("status of trial %q", id), err)
}

// StaleRunning returns the trials of an experiment that are marked running
// but whose heartbeat is older than olderThan: their process died (a crash,
// SIGKILL, a power cut), and a resumed sweep should run them again.
func (s *Store) StaleRunning(experimentID int64, olderThan time.Duration) ([]Trial, error) {
	cutoff := time.Now().Add(-olderThan).UnixMilli()
	ts, err := s.queryTrials(`t.status = 'running' AND coalesce(t.heartbeat_at, 0) < ?
		AND t.id IN (SELECT trial_id FROM experiment_trials WHERE experiment_id = ?)`, cutoff, experimentID)
	return ts, s.wrap(fmt.Sprintf("stale running trials of experiment %d", experimentID), err)
}

// StatusCounts returns how many trials of an experiment are in each status.
func (s *Store) StatusCounts(experimentID int64) (map[Status]int, error) {
	what := fmt.Sprintf("status counts of experiment %d", experimentID)
	rows, err := s.rdb.Query(`SELECT t.status, count(*) FROM trials t
		JOIN experiment_trials et ON et.trial_id = t.id WHERE et.experiment_id = ? GROUP BY t.status`, experimentID)
	if err != nil {
		return nil, s.wrap(what, err)
	}
	defer rows.Close()
	out := map[Status]int{}
	for rows.Next() {
		var st Status
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return nil, s.wrap(what, err)
		}
		out[st] = n
	}
	return out, s.wrap(what, rows.Err())
}

// MetricKeys returns the metric keys a trial has logged, sorted.
func (s *Store) MetricKeys(trialID string) ([]string, error) {
	what := fmt.Sprintf("metric keys of trial %q", trialID)
	rows, err := s.rdb.Query(`SELECT DISTINCT key FROM metrics WHERE trial_id = ? ORDER BY key`, trialID)
	if err != nil {
		return nil, s.wrap(what, err)
	}
	defer rows.Close()
	var keys []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, s.wrap(what, err)
		}
		keys = append(keys, k)
	}
	return keys, s.wrap(what, rows.Err())
}

// Metrics returns one metric series of a trial in step order.
func (s *Store) Metrics(trialID, key string) ([]Point, error) {
	series, err := s.querySeries(`SELECT trial_id, step, value, time FROM metrics
		WHERE trial_id = ? AND key = ? ORDER BY step`, trialID, key)
	return series[trialID], s.wrap(fmt.Sprintf("metric %q of trial %q", key, trialID), err)
}

// ExperimentMetrics returns one metric series for every trial of an
// experiment that logged it, by trial id, each in step order: a report's
// loss curves in one query.
func (s *Store) ExperimentMetrics(experimentID int64, key string) (map[string][]Point, error) {
	series, err := s.querySeries(`SELECT m.trial_id, m.step, m.value, m.time FROM metrics m
		JOIN experiment_trials et ON et.trial_id = m.trial_id
		WHERE et.experiment_id = ? AND m.key = ? ORDER BY m.trial_id, m.step`, experimentID, key)
	return series, s.wrap(fmt.Sprintf("metric %q of experiment %d", key, experimentID), err)
}

func (s *Store) querySeries(q string, args ...any) (map[string][]Point, error) {
	rows, err := s.rdb.Query(q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string][]Point{}
	for rows.Next() {
		var id string
		var p Point
		var v sql.NullFloat64
		var ms int64
		if err := rows.Scan(&id, &p.Step, &v, &ms); err != nil {
			return nil, err
		}
		p.Value, p.Time = nullToNaN(v), time.UnixMilli(ms)
		out[id] = append(out[id], p)
	}
	return out, rows.Err()
}

func nullToNaN(v sql.NullFloat64) float64 {
	if !v.Valid {
		return math.NaN()
	}
	return v.Float64
}

// queryTrials reads the trials matching where (over trials t), then their
// params and summaries, in one read transaction.
func (s *Store) queryTrials(where string, args ...any) ([]Trial, error) {
	tx, err := s.rdb.Begin()
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	rows, err := tx.Query(`SELECT t.id, t.experiment_id, t.seed, t.config_json, t.status, t.error, t.attempt,
		t.created_at, t.started_at, t.finished_at, t.heartbeat_at, t.host, t.pid
		FROM trials t WHERE `+where+` ORDER BY t.created_at, t.id`, args...)
	if err != nil {
		return nil, err
	}
	var ts []Trial
	index := map[string]int{}
	for rows.Next() {
		var t Trial
		var created int64
		var started, finished, heartbeat, pid sql.NullInt64
		if err := rows.Scan(&t.ID, &t.ExperimentID, &t.Seed, &t.ConfigJSON, &t.Status, &t.Error, &t.Attempt,
			&created, &started, &finished, &heartbeat, &t.Host, &pid); err != nil {
			rows.Close()
			return nil, err
		}
		t.CreatedAt = time.UnixMilli(created)
		t.StartedAt = fromMillis(started.Int64, started.Valid)
		t.FinishedAt = fromMillis(finished.Int64, finished.Valid)
		t.HeartbeatAt = fromMillis(heartbeat.Int64, heartbeat.Valid)
		t.PID = int(pid.Int64)
		t.Params, t.Summaries = map[string]string{}, map[string]float64{}
		index[t.ID] = len(ts)
		ts = append(ts, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(ts) == 0 {
		return ts, err
	}
	sub := `(SELECT t.id FROM trials t WHERE ` + where + `)`
	rows, err = tx.Query(`SELECT trial_id, key, value FROM params WHERE trial_id IN `+sub, args...)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var id, k, v string
		if err := rows.Scan(&id, &k, &v); err != nil {
			rows.Close()
			return nil, err
		}
		if i, ok := index[id]; ok {
			ts[i].Params[k] = v
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows, err = tx.Query(`SELECT trial_id, key, value FROM summaries WHERE trial_id IN `+sub, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id, k string
		var v sql.NullFloat64
		if err := rows.Scan(&id, &k, &v); err != nil {
			return nil, err
		}
		if i, ok := index[id]; ok {
			ts[i].Summaries[k] = nullToNaN(v)
		}
	}
	return ts, rows.Err()
}
