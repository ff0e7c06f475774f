package tracking

import (
	"math"
	"os"
	"reflect"
	"testing"
	"time"
)

func TestRoundTrip(t *testing.T) {
	s := newStore(t, Options{})
	exp, created, err := s.EnsureExperiment("zoo", "name: zoo\n", "h1")
	if err != nil || !created {
		t.Fatalf("EnsureExperiment = %v, %v, %v", exp, created, err)
	}
	again, created, err := s.EnsureExperiment("zoo", "name: zoo\n", "h1")
	if err != nil || created || again.ID != exp.ID {
		t.Fatalf("EnsureExperiment again = %v, %v, %v; want id %d, not created", again, created, err, exp.ID)
	}
	env := map[string]string{EnvGitCommit: "abc123", EnvGitDirty: "false", PluginChecksumKey("full"): "ff00"}
	if err := s.SetEnvironment(exp.ID, env); err != nil {
		t.Fatal(err)
	}
	params := map[string]string{"train.lr": "1e-3", "attention.plugin": "full", "objective.seq_len": "256"}
	st, err := s.UpsertTrial(TrialSpec{ID: "t1", ExperimentID: exp.ID, Seed: 3, ConfigJSON: `{"a":1}`, Params: params})
	if err != nil || st != StatusQueued {
		t.Fatalf("UpsertTrial = %q, %v", st, err)
	}
	if attempt, err := s.StartTrial("t1"); err != nil || attempt != 1 {
		t.Fatalf("StartTrial = %d, %v; want 1", attempt, err)
	}
	for step := 0; step < 10; step++ {
		s.Log("t1", "loss", step, 10-float64(step))
	}
	s.Log("t1", "grad_norm", 0, math.NaN())
	s.Log("t1", "grad_norm", 1, math.Inf(1))
	if err := s.FinishTrial("t1", StatusFinished, "", map[string]float64{SummaryLoss: 1, SummaryAccuracy: 0.5}); err != nil {
		t.Fatal(err)
	}
	// FinishTrial commits the points logged before it: no Flush needed.
	loss, err := s.Metrics("t1", "loss")
	if err != nil || len(loss) != 10 || loss[9].Step != 9 || loss[9].Value != 1 {
		t.Fatalf("Metrics(loss) = %v, %v", loss, err)
	}
	if time.Since(loss[0].Time) > time.Minute {
		t.Errorf("point time %v is not now", loss[0].Time)
	}
	gn, err := s.Metrics("t1", "grad_norm")
	if err != nil || len(gn) != 2 || !math.IsNaN(gn[0].Value) || !math.IsInf(gn[1].Value, 1) {
		t.Fatalf("Metrics(grad_norm) = %v, %v; want NaN, +Inf", gn, err)
	}
	if keys, err := s.MetricKeys("t1"); err != nil || !reflect.DeepEqual(keys, []string{"grad_norm", "loss"}) {
		t.Errorf("MetricKeys = %v, %v", keys, err)
	}
	tr, err := s.Trial("t1")
	if err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	if tr.Status != StatusFinished || tr.Attempt != 1 || tr.Seed != 3 || tr.ConfigJSON != `{"a":1}` ||
		tr.ExperimentID != exp.ID || tr.PID != os.Getpid() || tr.Host != host ||
		tr.StartedAt.IsZero() || tr.FinishedAt.Before(tr.StartedAt) || tr.HeartbeatAt.IsZero() {
		t.Errorf("Trial = %+v", tr)
	}
	if !reflect.DeepEqual(tr.Params, params) || tr.Summaries[SummaryAccuracy] != 0.5 {
		t.Errorf("params %v, summaries %v", tr.Params, tr.Summaries)
	}
	if got, err := s.Environment(exp.ID); err != nil || !reflect.DeepEqual(got, env) {
		t.Errorf("Environment = %v, %v", got, err)
	}
	if ts, err := s.Trials(exp.ID); err != nil || len(ts) != 1 || ts[0].ID != "t1" {
		t.Errorf("Trials = %v, %v", ts, err)
	}
	if st, err := s.TrialStatus("t1"); err != nil || st != StatusFinished {
		t.Errorf("TrialStatus = %q, %v", st, err)
	}
	if c, err := s.StatusCounts(exp.ID); err != nil || !reflect.DeepEqual(c, map[Status]int{StatusFinished: 1}) {
		t.Errorf("StatusCounts = %v, %v", c, err)
	}
	if got, err := s.LatestExperiment("zoo"); err != nil || got.ID != exp.ID || got.ConfigYAML != "name: zoo\n" {
		t.Errorf("LatestExperiment = %+v, %v", got, err)
	}
	// The numeric column of params is there for SQL.
	if n := count(t, s, `SELECT count(*) FROM params WHERE trial_id = 't1' AND value_real = 0.001`); n != 1 {
		t.Errorf("value_real of train.lr: %d rows equal 0.001", n)
	}
	if n := count(t, s, `SELECT count(*) FROM params WHERE key = 'attention.plugin' AND value_real IS NULL`); n != 1 {
		t.Errorf("value_real of a string param is not NULL")
	}
	// A resumed sweep sees the status and skips the trial.
	if st, err := s.UpsertTrial(TrialSpec{ID: "t1", ExperimentID: exp.ID, Seed: 3, Params: params}); err != nil || st != StatusFinished {
		t.Errorf("UpsertTrial of a finished trial = %q, %v", st, err)
	}
}

// A re-run from scratch deletes the old attempt's metrics and summaries in
// the transaction that marks it running, including points of the old
// attempt still waiting in the queue.
func TestStartTrialRerunsFromScratch(t *testing.T) {
	s := newStore(t, Options{FlushInterval: time.Hour})
	exp := newTrial(t, s, "rerun", "t", nil)
	if _, err := s.StartTrial("t"); err != nil {
		t.Fatal(err)
	}
	for step := 0; step < 100; step++ {
		s.Log("t", "loss", step, 1)
	}
	if err := s.FinishTrial("t", StatusFailed, "plugin crashed: exit status 2", map[string]float64{"peak_rss": 1e6}); err != nil {
		t.Fatal(err)
	}
	if tr, err := s.Trial("t"); err != nil || tr.Error != "plugin crashed: exit status 2" || tr.Status != StatusFailed {
		t.Fatalf("Trial = %+v, %v", tr, err)
	}
	for step := 100; step < 150; step++ {
		s.Log("t", "loss", step, 1) // queued, not flushed, before the re-run
	}
	attempt, err := s.StartTrial("t")
	if err != nil || attempt != 2 {
		t.Fatalf("StartTrial = %d, %v; want attempt 2", attempt, err)
	}
	if n := count(t, s, `SELECT count(*) FROM metrics WHERE trial_id = 't'`); n != 0 {
		t.Errorf("%d old metric rows survived the re-run", n)
	}
	for step := 0; step < 50; step++ {
		s.Log("t", "loss", step, 2)
	}
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	tr, err := s.Trial("t")
	if err != nil || tr.Status != StatusRunning || tr.Error != "" || !tr.FinishedAt.IsZero() || len(tr.Summaries) != 0 {
		t.Errorf("after re-run: %+v, %v", tr, err)
	}
	if n := count(t, s, `SELECT count(*) FROM metrics WHERE trial_id = 't' AND value = 2`); n != 50 {
		t.Errorf("%d rows of the new attempt, want 50", n)
	}
	if stale, err := s.StaleRunning(exp.ID, time.Hour); err != nil || len(stale) != 0 {
		t.Errorf("StaleRunning(1h) = %v, %v", stale, err)
	}
}

func TestFinishTrialStatuses(t *testing.T) {
	s := newStore(t, Options{})
	for _, st := range []Status{StatusFinished, StatusFailed, StatusDiverged, StatusPruned, StatusKilled} {
		t.Run(string(st), func(t *testing.T) {
			id := "trial-" + string(st)
			newTrial(t, s, "statuses", id, nil)
			if _, err := s.StartTrial(id); err != nil {
				t.Fatal(err)
			}
			if err := s.FinishTrial(id, st, "reason "+string(st), map[string]float64{SummaryLoss: math.NaN()}); err != nil {
				t.Fatal(err)
			}
			tr, err := s.Trial(id)
			if err != nil || tr.Status != st || tr.Error != "reason "+string(st) || !math.IsNaN(tr.Summaries[SummaryLoss]) {
				t.Errorf("Trial = %+v, %v", tr, err)
			}
			// An ended trial stays as it ended.
			wantErr(t, s.FinishTrial(id, StatusFailed, "late", nil), ErrBadTransition, id, "already "+string(st))
			wantErr(t, s.Heartbeat(id), ErrBadTransition, id, string(st)+", not running")
		})
	}
	newTrial(t, s, "statuses", "queued", nil)
	wantErr(t, s.FinishTrial("queued", StatusRunning, "", nil), ErrBadTransition, "not a terminal status")
	wantErr(t, s.FinishTrial("queued", "bogus", "", nil), ErrBadTransition, "bogus")
	if err := s.FinishTrial("queued", StatusKilled, "interrupted before it started", nil); err != nil {
		t.Errorf("queued -> killed: %v", err)
	}
	wantErr(t, s.FinishTrial("nope", StatusFinished, "", nil), ErrNotFound, `"nope"`, "UpsertTrial", s.Path())
	wantErr(t, s.Heartbeat("nope"), ErrNotFound, `"nope"`)
	_, err := s.StartTrial("nope")
	wantErr(t, err, ErrNotFound, `"nope"`)
}

func TestHeartbeatAndStaleRunning(t *testing.T) {
	s := newStore(t, Options{})
	exp := newTrial(t, s, "stale", "alive", nil)
	newTrial(t, s, "stale", "dead", nil)
	newTrial(t, s, "stale", "waiting", nil)
	for _, id := range []string{"alive", "dead"} {
		if _, err := s.StartTrial(id); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(60 * time.Millisecond)
	if err := s.Heartbeat("alive"); err != nil {
		t.Fatal(err)
	}
	stale, err := s.StaleRunning(exp.ID, 30*time.Millisecond)
	if err != nil || len(stale) != 1 || stale[0].ID != "dead" || stale[0].Status != StatusRunning {
		t.Fatalf("StaleRunning = %+v, %v; want the trial without a heartbeat", stale, err)
	}
	other, _, err := s.EnsureExperiment("other", "", "")
	if err != nil {
		t.Fatal(err)
	}
	if stale, err := s.StaleRunning(other.ID, 0); err != nil || len(stale) != 0 {
		t.Errorf("StaleRunning(other experiment) = %v, %v", stale, err)
	}
}

// A re-logged (trial, key, step) overwrites the row instead of adding one.
func TestRelogOverwrites(t *testing.T) {
	s := newStore(t, Options{})
	newTrial(t, s, "relog", "t", nil)
	s.Log("t", "loss", 5, 1)
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	s.Log("t", "loss", 5, 2)
	s.Log("t", "loss", 5, 3) // same batch
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	if pts, err := s.Metrics("t", "loss"); err != nil || len(pts) != 1 || pts[0].Value != 3 {
		t.Errorf("Metrics = %v, %v; want one point of value 3", pts, err)
	}
}

// Points for an unknown trial are reported by the next Flush, with the
// trial, key and step; the good points of the same batch are kept.
func TestLogUnknownTrial(t *testing.T) {
	s := newStore(t, Options{})
	newTrial(t, s, "unknown", "t", nil)
	s.Log("t", "loss", 0, 1)
	s.Log("ghost", "loss", 3, 1)
	s.Log("ghost", "loss", 4, 1)
	s.Log("t", "", 0, 1)
	s.Log("t", "loss", 1, 1)
	wantErr(t, s.Flush(), nil, "3 metric points were not written", `trial "ghost" key "loss" step 3`, "UpsertTrial", s.Path())
	if err := s.Flush(); err != nil {
		t.Errorf("second Flush = %v; want the error reported once", err)
	}
	if n := count(t, s, `SELECT count(*) FROM metrics`); n != 2 {
		t.Errorf("%d rows, want the 2 good ones", n)
	}
}

// A trial keeps one row when a changed config (a new experiment) includes
// it again, and belongs to both experiments.
func TestTrialInTwoExperiments(t *testing.T) {
	s := newStore(t, Options{})
	a := newTrial(t, s, "sweep", "shared", map[string]string{"seed": "1"})
	b, created, err := s.EnsureExperiment("sweep", "name: sweep\nrepeats: 2\n", "hash-2")
	if err != nil || !created {
		t.Fatal(created, err)
	}
	if _, err := s.UpsertTrial(TrialSpec{ID: "shared", ExperimentID: b.ID, Seed: 7}); err != nil {
		t.Fatal(err)
	}
	for _, id := range []int64{a.ID, b.ID} {
		if ts, err := s.Trials(id); err != nil || len(ts) != 1 || ts[0].ExperimentID != a.ID {
			t.Errorf("Trials(%d) = %+v, %v", id, ts, err)
		}
	}
	if latest, err := s.LatestExperiment("sweep"); err != nil || latest.ID != b.ID {
		t.Errorf("LatestExperiment = %+v, %v", latest, err)
	}
	if exps, err := s.Experiments(); err != nil || len(exps) != 2 {
		t.Errorf("Experiments = %v, %v", exps, err)
	}
}

func TestReadsOfMissingThings(t *testing.T) {
	s := newStore(t, Options{})
	_, err := s.Trial("nope")
	wantErr(t, err, ErrNotFound, `trial "nope"`)
	_, err = s.TrialStatus("nope")
	wantErr(t, err, ErrNotFound, `trial "nope"`)
	_, err = s.Experiment(42)
	wantErr(t, err, ErrNotFound, "experiment 42")
	_, err = s.LatestExperiment("nope")
	wantErr(t, err, ErrNotFound, `experiment "nope"`)
	wantErr(t, s.SetEnvironment(42, map[string]string{"k": "v"}), ErrNotFound, "experiment 42", "EnsureExperiment")
	_, err = s.UpsertTrial(TrialSpec{ID: "t", ExperimentID: 42})
	wantErr(t, err, ErrNotFound, "experiment 42")
	_, _, err = s.EnsureExperiment("", "", "")
	wantErr(t, err, nil, "empty experiment name")
	if pts, err := s.Metrics("nope", "loss"); err != nil || len(pts) != 0 {
		t.Errorf("Metrics of nothing = %v, %v", pts, err)
	}
}

func TestClosedStore(t *testing.T) {
	s, err := Open(t.TempDir() + "/runs.db")
	if err != nil {
		t.Fatal(err)
	}
	newTrial(t, s, "closed", "t", nil)
	s.Log("t", "loss", 0, 1)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
	s.Log("t", "loss", 1, 1) // no panic
	wantErr(t, s.Flush(), ErrClosed, "flush")
	_, err = s.StartTrial("t")
	wantErr(t, err, ErrClosed, `start trial "t"`)

	r, err := OpenReadOnly(s.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if pts, err := r.Metrics("t", "loss"); err != nil || len(pts) != 1 {
		t.Errorf("the point logged before Close: %v, %v", pts, err)
	}
	_, err = r.StartTrial("t")
	wantErr(t, err, ErrReadOnly, s.Path())
}
