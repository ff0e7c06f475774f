package cli

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/attnlab/attnlab/tracking"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./harness/cli -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (run with -update if the change is intended)\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

func run(args ...string) (stdout, stderr string, code int) {
	var o, e bytes.Buffer
	code = Main(args, strings.NewReader(""), &o, &e)
	return o.String(), e.String(), code
}

// store builds a small store with a finished, a failed and a diverged trial.
func store(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "runs.db")
	s, err := tracking.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	exp, _, err := s.EnsureExperiment("zoo", "name: zoo\n", "hash1")
	if err != nil {
		t.Fatal(err)
	}
	for _, tr := range []struct {
		id, lr string
		seed   int64
		status tracking.Status
		err    string
		sum    map[string]float64
	}{
		{"aaaa1111bbbb2222", "0.001", 1, tracking.StatusFinished, "", map[string]float64{"eval/loss": 0.25, "eval/accuracy": 0.9375, "step_ms": 41.5}},
		{"cccc3333dddd4444", "0.01", 1, tracking.StatusFailed, `attention plugin "hang": Forward layer 0: no answer within 2s`, nil},
		{"eeee5555ffff6666", "0.1", 2, tracking.StatusDiverged, "loss NaN at step 12", map[string]float64{"step_ms": 40}},
	} {
		if _, err := s.UpsertTrial(tracking.TrialSpec{ID: tr.id, ExperimentID: exp.ID, Seed: tr.seed, ConfigJSON: "{}",
			Params: map[string]string{"train.lr": tr.lr, "attention.plugin": "full", "seed": "1"}}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.StartTrial(tr.id); err != nil {
			t.Fatal(err)
		}
		if err := s.FinishTrial(tr.id, tr.status, tr.err, tr.sum); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestRunsListAndShow(t *testing.T) {
	db := store(t)
	out, errOut, code := run("runs", "list", "--db", db)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	golden(t, "runs_list.golden", out)
	out, _, code = run("runs", "show", "cccc", "--db", db)
	if code != ExitOK {
		t.Fatalf("exit %d", code)
	}
	golden(t, "runs_show.golden", out)
	out, _, _ = run("runs", "list", "zoo", "--db", db, "--json")
	golden(t, "runs_list_json.golden", out)
}

func TestBadInputExitCodes(t *testing.T) {
	db := store(t)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"runs", "show", "zzzz", "--db", db}, `no trial "zzzz"`},
		{[]string{"runs", "list", "nope", "--db", db}, `no experiment "nope"`},
		{[]string{"run", filepath.Join(t.TempDir(), "missing.yaml")}, "missing.yaml"},
		{[]string{"plugins", "list", "--plugins", filepath.Join(t.TempDir(), "none")}, "plugins directory"},
		{[]string{"run"}, "accepts 1 arg"},
		{[]string{"frobnicate"}, "unknown command"},
	} {
		_, errOut, code := run(c.args...)
		if code != ExitBadInput || !strings.Contains(errOut, c.want) {
			t.Errorf("attnlab %s: exit %d, stderr %q; want exit 2 mentioning %q", strings.Join(c.args, " "), code, errOut, c.want)
		}
	}
}
