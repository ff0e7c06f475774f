package tracking

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

// newStore opens a fresh store in a temporary directory and closes it when
// the test ends.
func newStore(t testing.TB, opt Options) *Store {
	t.Helper()
	s, err := OpenOptions(filepath.Join(t.TempDir(), "runs.db"), opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return s
}

// newTrial records an experiment (once per name) and a queued trial in it.
func newTrial(t testing.TB, s *Store, expName, trialID string, params map[string]string) Experiment {
	t.Helper()
	exp, _, err := s.EnsureExperiment(expName, "name: "+expName+"\n", "hash-"+expName)
	if err != nil {
		t.Fatal(err)
	}
	st, err := s.UpsertTrial(TrialSpec{ID: trialID, ExperimentID: exp.ID, Seed: 7,
		ConfigJSON: `{"trial":"` + trialID + `"}`, Params: params})
	if err != nil {
		t.Fatal(err)
	}
	if st != StatusQueued && st != StatusRunning && !st.Terminal() {
		t.Fatalf("UpsertTrial(%s) = %q", trialID, st)
	}
	return exp
}

// count runs a COUNT-like query on the read-only pool.
func count(t testing.TB, s *Store, query string, args ...any) int {
	t.Helper()
	var n int
	if err := s.rdb.QueryRow(query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// wantErr checks that err wraps target (when not nil) and mentions every
// fragment.
func wantErr(t testing.TB, err, target error, fragments ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one mentioning %q", fragments)
	}
	if target != nil && !errors.Is(err, target) {
		t.Errorf("error %q does not wrap %q", err, target)
	}
	for _, f := range fragments {
		if !strings.Contains(err.Error(), f) {
			t.Errorf("error %q does not mention %q", err, f)
		}
	}
}
