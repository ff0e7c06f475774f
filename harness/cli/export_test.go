package cli

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/attnlab/attnlab/tracking"
)

// metricStore builds a store with two trials of a swept experiment and a
// few metrics, NaN and infinity among them.
func metricStore(t *testing.T) string {
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
		id, lr, scale string
		status        tracking.Status
		err           string
		loss          []float64
		eval          float64
		sum           map[string]float64
	}{
		{"aaaa1111bbbb2222", "0.001", "0", tracking.StatusFinished, "", []float64{2.5, 1.25, math.Nextafter(0.3, 1)}, 0.75,
			map[string]float64{"eval/loss": 0.75, "step_ms": 41.5}},
		{"cccc3333dddd4444", "0.1", "0.5", tracking.StatusDiverged, "loss NaN at step 2, \"exploded\"", []float64{2.5, 1e30, math.NaN()}, math.Inf(1),
			map[string]float64{"eval/loss": math.Inf(1), "train/loss": math.NaN()}},
	} {
		if _, err := s.UpsertTrial(tracking.TrialSpec{ID: tr.id, ExperimentID: exp.ID, Seed: 7, ConfigJSON: "{}",
			Params: map[string]string{"train.lr": tr.lr, "attention.scale": tr.scale, "attention.plugin": "full", "seed": "7"}}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.StartTrial(tr.id); err != nil {
			t.Fatal(err)
		}
		for step, v := range tr.loss {
			s.Log(tr.id, "train/loss", step, v)
		}
		s.Log(tr.id, "eval/loss", len(tr.loss)-1, tr.eval)
		if err := s.FinishTrial(tr.id, tr.status, tr.err, tr.sum); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestExportCSV(t *testing.T) {
	db := metricStore(t)
	out, errOut, code := run("export", "zoo", "--db", db, "--format", "csv")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	golden(t, "export_metrics.golden", out)
	out, errOut, code = run("export", "zoo", "--db", db, "--what", "trials")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	golden(t, "export_trials.golden", out)

	file := filepath.Join(t.TempDir(), "zoo.csv")
	if stdout, errOut, code := run("export", "zoo", "--db", db, "--out", file); code != ExitOK || stdout != "" {
		t.Fatalf("--out: exit %d, stdout %q, stderr %s", code, stdout, errOut)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := os.ReadFile(filepath.Join("testdata", "export_metrics.golden"))
	if string(b) != string(want) {
		t.Errorf("--out file differs from standard output:\n%s", b)
	}
}

func TestExportBadInput(t *testing.T) {
	db := metricStore(t)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"export", "zoo", "--db", db, "--format", "parquet"}, `--format "parquet" is not supported: use one of csv`},
		{[]string{"export", "zoo", "--db", db, "--what", "everything"}, `--what "everything": want metrics or trials`},
		{[]string{"export", "nope", "--db", db}, `no experiment "nope" in ` + db + ` (it has: zoo)`},
		{[]string{"export", "zoo", "--db", filepath.Join(t.TempDir(), "none.db")}, "none.db"},
		{[]string{"export", "zoo", "--db", db, "--out", filepath.Join(t.TempDir(), "no", "such", "dir.csv")}, "--out: "},
		{[]string{"export"}, "accepts 1 arg"},
	} {
		_, errOut, code := run(c.args...)
		if code != ExitBadInput || !strings.Contains(errOut, c.want) {
			t.Errorf("attnlab %s: exit %d, stderr %q; want exit 2 mentioning %q", strings.Join(c.args, " "), code, errOut, c.want)
		}
	}
}
