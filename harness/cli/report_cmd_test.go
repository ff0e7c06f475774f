package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/attnlab/attnlab/tracking"
)

// reportStore builds a store whose experiment "zoo" has two attention
// scales × two seeds: three finished trials with loss curves and one
// diverged.
func reportStore(t *testing.T) string {
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
	for i, tr := range []struct {
		id, scale string
		seed      int64
		status    tracking.Status
		err       string
	}{
		{"aaaa1111bbbb2222", "0", 1, tracking.StatusFinished, ""},
		{"cccc3333dddd4444", "0", 2, tracking.StatusFinished, ""},
		{"eeee5555ffff6666", "0.5", 1, tracking.StatusFinished, ""},
		{"9999000011112222", "0.5", 2, tracking.StatusDiverged, "loss NaN at step 12"},
	} {
		if _, err := s.UpsertTrial(tracking.TrialSpec{ID: tr.id, ExperimentID: exp.ID, Seed: tr.seed, ConfigJSON: "{}",
			Params: map[string]string{"attention.scale": tr.scale, "attention.plugin": "full", "seed": "1"}}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.StartTrial(tr.id); err != nil {
			t.Fatal(err)
		}
		for step := range 20 {
			s.Log(tr.id, "train/loss", step, 3/float64(step+1)+float64(i)/10)
		}
		sum := map[string]float64{"eval/loss": 0.25 + float64(i)/100, "eval/accuracy": 0.9 - float64(i)/100, "tokens_per_s": 1000 + float64(i)}
		if err := s.FinishTrial(tr.id, tr.status, tr.err, sum); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestReport(t *testing.T) {
	db := reportStore(t)
	dir := filepath.Join(t.TempDir(), "r")
	out, errOut, code := run("report", "zoo", "--db", db, "--out", dir)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	golden(t, "report.golden", strings.ReplaceAll(out, dir, "OUT"))
	for _, line := range strings.Split(strings.TrimSpace(out), "\n")[1:] {
		path := strings.TrimPrefix(line, "wrote ")
		if fi, err := os.Stat(path); err != nil || fi.Size() == 0 {
			t.Errorf("%s: missing or empty (%v)", path, err)
		}
	}
}

// TestReportDefaultDir writes under out/report/EXPERIMENT in the working
// directory.
func TestReportDefaultDir(t *testing.T) {
	db := reportStore(t)
	t.Chdir(t.TempDir())
	if _, errOut, code := run("report", "zoo", "--db", db); code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if _, err := os.Stat(filepath.Join("out", "report", "zoo", "report.html")); err != nil {
		t.Error(err)
	}
	if got := defaultReportDir("../a b/c"); got != filepath.Join("out", "report", ".._a_b_c") {
		t.Errorf("defaultReportDir = %q", got)
	}
}

func TestReportBadInput(t *testing.T) {
	db := reportStore(t)
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"report", "zoo", "--db", filepath.Join(t.TempDir(), "missing.db")}, "no store there"},
		{[]string{"report", "nope", "--db", db, "--out", t.TempDir()}, `no experiment "nope"`},
		{[]string{"report", "zoo", "--db", db, "--out", filepath.Join(file, "sub")}, "cannot write the report"},
		{[]string{"report", "--db", db}, "accepts 1 arg"},
	} {
		out, errOut, code := run(c.args...)
		if code != ExitBadInput || !strings.Contains(errOut, c.want) || out != "" {
			t.Errorf("attnlab %s: exit %d, stdout %q, stderr %q; want exit 2 mentioning %q", strings.Join(c.args, " "), code, out, errOut, c.want)
		}
	}
}
