// Package tracking is attnlab's experiment store: one SQLite file (by
// default runs.db) holding every experiment, trial, parameter, metric and
// summary, written by the harness and read by reports, the CLI, the
// sqlite3 shell or pandas. It knows nothing of plugins or kernels.
//
// # Using it
//
//	s, err := tracking.Open("runs.db")          // creates or migrates the file
//	exp, _, err := s.EnsureExperiment(name, yaml, hash)
//	err = s.SetEnvironment(exp.ID, env)           // git commit, Go version, plugin sha256s...
//	st, err := s.UpsertTrial(tracking.TrialSpec{ID: id, ExperimentID: exp.ID, ...})
//	if st != tracking.StatusFinished {            // resume: skip what is done
//		attempt, err := s.StartTrial(id)          // running, attempt+1, old metrics deleted
//		s.Log(id, "loss", step, loss)             // cheap, asynchronous
//		err = s.Heartbeat(id)                     // every few seconds
//		err = s.FinishTrial(id, tracking.StatusFinished, "", summaries)
//	}
//	err = s.Close()                               // commits the last points
//
// A resumed sweep calls StaleRunning(exp.ID, threshold) to find the trials
// a dead process left running, and StartTrial runs them again from
// scratch. Reports open the file with OpenReadOnly.
//
// # Schema (version 1)
//
// Times are Unix milliseconds (INTEGER) and NULL when not yet known. A
// NaN metric or summary value is stored as NULL (SQLite has no NaN) and
// read back by this package as NaN; ±Inf is stored as is.
//
// schema_version(version, name, applied_at): one row per applied
// migration; the store's version is max(version).
//
// experiments(id, name, config_yaml, config_hash, created_at): one row per
// distinct config of a named experiment. id is an INTEGER key; config_yaml
// is the file as the user wrote it; config_hash is the caller's hash of
// the resolved config. (name, config_hash) is unique: running the same
// config again finds the same experiment; editing it makes a new one with
// the same name (LatestExperiment returns the newest).
//
// environment(experiment_id, key, value): facts about the machine and
// build, as text, one row per key: git.commit, git.dirty ("true" or
// "false"), go.version, os.arch, cpu.model, attnlab.version, and
// plugin.NAME.sha256 for each plugin binary (see the Env* constants). A
// later run of the same experiment overwrites the keys it sets.
//
// trials(id, experiment_id, seed, config_json, status, error, attempt,
// created_at, started_at, finished_at, heartbeat_at, host, pid): one row
// per trial. id is the trial identity hash chosen by the caller (a hash of
// the resolved trial config and seed), so the same trial is one row
// however many times a sweep runs. experiment_id is the experiment that
// first recorded it. status is one of queued, running, finished, failed,
// diverged, pruned, killed; error is the reason a trial did not finish
// (empty otherwise); attempt counts starts (0 while queued). host and pid
// identify the process that last started it; heartbeat_at is its last
// sign of life.
//
// experiment_trials(experiment_id, trial_id): which trials an experiment
// includes. A trial belongs to every experiment whose sweep contains it,
// so a sweep extended with more seeds reuses its finished trials and its
// report still shows them. (DESIGN.md gives a trial one experiment; this
// link table is the one addition to its list of tables.)
//
// params(trial_id, key, value, value_real): the trial's flattened
// hyper-parameters ("train.lr", "attention.plugin"), as text in value and,
// when the text is a finite number, as REAL in value_real for SQL such as
// ORDER BY value_real or a scatter plot.
//
// metrics(trial_id, key, step, value, time): one row per logged point:
// value is REAL (NULL for NaN), step is the training step, time is when Log
// was called. (trial_id, key, step) is the primary key, so a point can
// never be stored twice: logging the same step again overwrites the value.
// A trial re-run from scratch deletes its old rows in the transaction that
// marks it running (StartTrial).
//
// summaries(trial_id, key, value): end-of-trial numbers: loss, accuracy
// (the views read these two keys), throughput, peak memory and anything
// else, REAL (NULL for NaN). Deleted, like metrics, by a re-run.
//
// Deleting a trial (with SQL; the API never deletes) deletes its params,
// metrics, summaries and links; deleting an experiment deletes its
// environment and links, and is refused while a trial it first recorded
// remains.
//
// # Views
//
// trial_summary: one row per trial and experiment including it:
// experiment (name), experiment_id, trial_id, status, seed, attempt, error,
// params (a JSON object key → text value), loss and accuracy (from
// summaries, else the last logged metric of that key), summaries (a JSON
// object), started and finished (ISO 8601 UTC text) and duration_s.
//
// metric_last: the last point of each trial and key: trial_id, key, step,
// value, time, and points (how many points the series has).
//
// param_summary: long format for pandas: one row per trial, parameter and
// summary: experiment, experiment_id, trial_id, status, seed, param,
// param_value, param_real, summary, value. For example accuracy against
// learning rate: WHERE param = 'train.lr' AND summary = 'accuracy'.
//
// metric_long: every point with its experiment, status and seed:
// experiment, experiment_id, trial_id, status, seed, key, step, value, time.
//
// # Status lifecycle
//
//	queued ──StartTrial──▶ running ──FinishTrial──▶ finished | failed | diverged | pruned | killed
//	   └────────────FinishTrial (e.g. killed before it started)──────▲
//	any status ──StartTrial──▶ running (attempt+1, old metrics and summaries deleted)
//
// UpsertTrial creates a trial as queued and never changes the status of
// an existing one. FinishTrial moves only an active (queued or running)
// trial, so a late "failed" cannot overwrite the "killed" recorded by a
// Ctrl-C handler; Heartbeat succeeds only while running and tells a
// trial that was ended meanwhile to stop. A running trial whose heartbeat
// is older than a threshold belongs to a dead process: StaleRunning finds
// it and StartTrial re-runs it.
//
// # Concurrency and durability
//
// The file is in WAL mode with synchronous=NORMAL, foreign keys on and a
// busy timeout. One writer goroutine owns the only write connection and is
// fed by a buffered channel that carries both metric points and control
// operations, in the order they were sent:
//
//   - Log puts a point on the channel and returns: it blocks only when the
//     writer is Options.QueueSize points behind. The writer commits points
//     in transactions of up to Options.FlushRows points, and a partial
//     batch after Options.FlushInterval (20 ms by default).
//   - A control operation (EnsureExperiment, SetEnvironment, UpsertTrial,
//     StartTrial, Heartbeat, FinishTrial, PutSummaries) first makes the
//     writer commit every point queued before it, then runs in its own
//     transaction, and returns its error to the caller.
//   - Flush waits for every point logged before it and reports points that
//     could not be written (an unknown trial, an empty key) with their
//     trial, key and step; Close does the same and then closes the file.
//
// Every write transaction is BEGIN IMMEDIATE, so it never has to upgrade a
// read lock, the case that busy_timeout cannot retry and that shows up as
// "database is locked". Since this process has one writer, that error can
// only come from another process holding the lock past the busy timeout.
//
// Readers use a separate pool of read-only connections (mode=ro). In WAL
// mode they never wait for the writer and never block it; they see the
// last committed state, so a caller reading its own latest points calls
// Flush first. Multi-query reads (Trials) run in one read transaction.
//
// Every multi-row change is one transaction, so the file is never
// half-written: a crash or SIGKILL at any moment leaves a store that opens
// cleanly and holds a prefix of what was logged, in whole batches, losing
// at most the points not yet committed (the last FlushInterval or so) and
// nothing that Flush, Close or a later control operation had returned for.
// A power cut may in addition lose the last transactions before the WAL
// was synced (synchronous=NORMAL); it cannot corrupt the file.
//
// # Migrations
//
// Open applies, in one IMMEDIATE transaction, every migration newer than
// the file's version, so a store is always at one version and two
// processes opening a new file create the schema once. A store written by
// a newer attnlab is refused with ErrNewerSchema and left untouched;
// OpenReadOnly never migrates. Released migrations are never edited: a
// schema change is a new migration appended to the list in schema.go.
package tracking
