package tracking

import (
	"database/sql"
	"errors"
	"fmt"
	"math"
	"os"
	"sort"
	"strconv"
	"time"
)

// Control operations run on the writer goroutine, each in one
// transaction, after every metric point logged before them has been
// committed; they return their error to the caller.

// EnsureExperiment returns the experiment with this name and config hash,
// recording it first if there is none (created reports which). Running the
// same config again therefore finds the same experiment and its trials.
func (s *Store) EnsureExperiment(name, configYAML, configHash string) (exp Experiment, created bool, err error) {
	if name == "" {
		return exp, false, s.wrap("ensure experiment", errors.New("empty experiment name"))
	}
	err = s.do(fmt.Sprintf("ensure experiment %q", name), func(tx *sql.Tx) error {
		exp = Experiment{Name: name, ConfigHash: configHash}
		var ms int64
		err := tx.QueryRow(`SELECT id, config_yaml, created_at FROM experiments WHERE name = ? AND config_hash = ?`,
			name, configHash).Scan(&exp.ID, &exp.ConfigYAML, &ms)
		if err == nil {
			exp.CreatedAt = time.UnixMilli(ms)
			return nil
		}
		if err != sql.ErrNoRows {
			return err
		}
		now := time.Now()
		res, err := tx.Exec(`INSERT INTO experiments (name, config_yaml, config_hash, created_at) VALUES (?, ?, ?, ?)`,
			name, configYAML, configHash, now.UnixMilli())
		if err != nil {
			return err
		}
		exp.ID, err = res.LastInsertId()
		exp.ConfigYAML, exp.CreatedAt, created = configYAML, time.UnixMilli(now.UnixMilli()), true
		return err
	})
	return exp, created, err
}

// SetEnvironment records key/value facts about the machine and build an
// experiment ran with (see the Env* keys and PluginChecksumKey). Existing
// keys are overwritten, so the last run of an experiment is what it shows.
func (s *Store) SetEnvironment(experimentID int64, env map[string]string) error {
	return s.do(fmt.Sprintf("set environment of experiment %d", experimentID), func(tx *sql.Tx) error {
		if err := experimentExists(tx, experimentID); err != nil {
			return err
		}
		for _, k := range sortedKeys(env) {
			if _, err := tx.Exec(`INSERT INTO environment (experiment_id, key, value) VALUES (?, ?, ?)
				ON CONFLICT (experiment_id, key) DO UPDATE SET value = excluded.value`,
				experimentID, k, env[k]); err != nil {
				return fmt.Errorf("key %q: %w", k, err)
			}
		}
		return nil
	})
}

// TrialSpec is what UpsertTrial records about a trial before it runs.
type TrialSpec struct {
	ID           string // the trial identity hash; the primary key
	ExperimentID int64
	Seed         int64
	ConfigJSON   string            // the fully resolved trial config
	Params       map[string]string // flattened hyper-parameters, e.g. "train.lr": "0.001"
}

// UpsertTrial records a trial as queued and a member of the experiment,
// or, when a trial with this ID exists (in this experiment or another),
// adds the membership, refreshes its seed, config and params and leaves its
// status alone. It returns the trial's status, so that a resumed sweep can
// skip trials already finished.
func (s *Store) UpsertTrial(t TrialSpec) (Status, error) {
	var st Status
	err := s.do(fmt.Sprintf("upsert trial %q", t.ID), func(tx *sql.Tx) error {
		if t.ID == "" {
			return errors.New("empty trial id")
		}
		if err := experimentExists(tx, t.ExperimentID); err != nil {
			return err
		}
		if _, err := tx.Exec(`INSERT INTO trials (id, experiment_id, seed, config_json, status, created_at)
			VALUES (?, ?, ?, ?, 'queued', ?)
			ON CONFLICT (id) DO UPDATE SET seed = excluded.seed, config_json = excluded.config_json`,
			t.ID, t.ExperimentID, t.Seed, t.ConfigJSON, time.Now().UnixMilli()); err != nil {
			return err
		}
		if _, err := tx.Exec(`INSERT OR IGNORE INTO experiment_trials (experiment_id, trial_id) VALUES (?, ?)`,
			t.ExperimentID, t.ID); err != nil {
			return err
		}
		if _, err := tx.Exec(`DELETE FROM params WHERE trial_id = ?`, t.ID); err != nil {
			return err
		}
		for _, k := range sortedKeys(t.Params) {
			v := t.Params[k]
			if _, err := tx.Exec(`INSERT INTO params (trial_id, key, value, value_real) VALUES (?, ?, ?, ?)`,
				t.ID, k, v, numeric(v)); err != nil {
				return fmt.Errorf("param %q: %w", k, err)
			}
		}
		return tx.QueryRow(`SELECT status FROM trials WHERE id = ?`, t.ID).Scan(&st)
	})
	return st, err
}

// StartTrial (re)starts a trial from scratch whatever its status: in one
// transaction it deletes the metrics and summaries of earlier attempts,
// adds one to attempt, and marks it running with a fresh heartbeat, this
// host and this process. Points logged before StartTrial belong to the old
// attempt and are deleted with it; points logged after belong to the new
// one. It returns the new attempt number (1 on the first start).
func (s *Store) StartTrial(trialID string) (attempt int, err error) {
	host, _ := os.Hostname()
	err = s.do(fmt.Sprintf("start trial %q", trialID), func(tx *sql.Tx) error {
		if _, err := trialStatus(tx, trialID); err != nil {
			return err
		}
		for _, q := range []string{`DELETE FROM metrics WHERE trial_id = ?`, `DELETE FROM summaries WHERE trial_id = ?`} {
			if _, err := tx.Exec(q, trialID); err != nil {
				return err
			}
		}
		now := time.Now().UnixMilli()
		return tx.QueryRow(`UPDATE trials SET status = 'running', attempt = attempt + 1, error = '',
			started_at = ?, heartbeat_at = ?, finished_at = NULL, host = ?, pid = ?
			WHERE id = ? RETURNING attempt`, now, now, host, os.Getpid(), trialID).Scan(&attempt)
	})
	return attempt, err
}

// Heartbeat records that a running trial is alive. It fails with
// ErrBadTransition when the trial is not running (someone finished or
// killed it), which tells the caller to stop.
func (s *Store) Heartbeat(trialID string) error {
	return s.do(fmt.Sprintf("heartbeat of trial %q", trialID), func(tx *sql.Tx) error {
		res, err := tx.Exec(`UPDATE trials SET heartbeat_at = ? WHERE id = ? AND status = 'running'`,
			time.Now().UnixMilli(), trialID)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 1 {
			return err
		}
		st, err := trialStatus(tx, trialID)
		if err != nil {
			return err
		}
		return fmt.Errorf("%w: the trial is %s, not running", ErrBadTransition, st)
	})
}

// FinishTrial ends an active (queued or running) trial with a terminal
// status, the reason when it did not finish (empty otherwise), and its
// summaries, all in one transaction. Ending a trial that has already ended
// fails with ErrBadTransition and changes nothing, so that a late "failed"
// cannot overwrite a "killed" recorded by the Ctrl-C handler.
func (s *Store) FinishTrial(trialID string, status Status, errText string, summaries map[string]float64) error {
	return s.do(fmt.Sprintf("finish trial %q as %s", trialID, status), func(tx *sql.Tx) error {
		if !status.Terminal() {
			return fmt.Errorf("%w: %q is not a terminal status (want finished, failed, diverged, pruned or killed)",
				ErrBadTransition, status)
		}
		st, err := trialStatus(tx, trialID)
		if err != nil {
			return err
		}
		if st.Terminal() {
			return fmt.Errorf("%w: the trial is already %s", ErrBadTransition, st)
		}
		if _, err := tx.Exec(`UPDATE trials SET status = ?, error = ?, finished_at = ? WHERE id = ?`,
			status, errText, time.Now().UnixMilli(), trialID); err != nil {
			return err
		}
		return putSummaries(tx, trialID, summaries)
	})
}

// PutSummaries records (or overwrites) summary values of a trial without
// changing its status, e.g. a peak memory measured while it runs.
func (s *Store) PutSummaries(trialID string, summaries map[string]float64) error {
	return s.do(fmt.Sprintf("put summaries of trial %q", trialID), func(tx *sql.Tx) error {
		if _, err := trialStatus(tx, trialID); err != nil {
			return err
		}
		return putSummaries(tx, trialID, summaries)
	})
}

func putSummaries(tx *sql.Tx, trialID string, summaries map[string]float64) error {
	for _, k := range sortedKeys(summaries) {
		var v any = summaries[k]
		if math.IsNaN(summaries[k]) {
			v = nil
		}
		if _, err := tx.Exec(`INSERT INTO summaries (trial_id, key, value) VALUES (?, ?, ?)
			ON CONFLICT (trial_id, key) DO UPDATE SET value = excluded.value`, trialID, k, v); err != nil {
			return fmt.Errorf("summary %q: %w", k, err)
		}
	}
	return nil
}

func experimentExists(tx *sql.Tx, id int64) error {
	var one int
	err := tx.QueryRow(`SELECT 1 FROM experiments WHERE id = ?`, id).Scan(&one)
	if err == sql.ErrNoRows {
		return fmt.Errorf("experiment %d: %w (create it with EnsureExperiment)", id, ErrNotFound)
	}
	return err
}

func trialStatus(tx *sql.Tx, id string) (Status, error) {
	var st Status
	err := tx.QueryRow(`SELECT status FROM trials WHERE id = ?`, id).Scan(&st)
	if err == sql.ErrNoRows {
		return "", fmt.Errorf("trial %q: %w (record it with UpsertTrial)", id, ErrNotFound)
	}
	return st, err
}

// numeric is the REAL form of a parameter value, or NULL when the text is
// not a finite number.
func numeric(v string) any {
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return nil
	}
	return f
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
