package cli

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/attnlab/attnlab/tracking"
)

// tinyYAML is a two-trial sweep that runs in well under a second
// in-process.
const tinyYAML = `name: tiny
seed: 5
trial:
  objective:    {plugin: causal-lm, dataset: copy, seq_len: 16, copy_vocab: 8}
  architecture: {plugin: transformer, layers: 1, d_model: 16, heads: 2}
  attention:    {plugin: full}
  train:        {steps: 6, batch: 2, lr: 3.0e-3, warmup: 1, eval_every: 3, eval_batches: 1}
sweep:
  method: grid
  parameters:
    attention.scale: [0.0, 0.5]
`

// tinyStore runs tinyYAML in-process into a fresh store and returns the
// store's path and the first trial's id.
func tinyStore(t *testing.T) (db, id string) {
	t.Helper()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "tiny.yaml")
	if err := os.WriteFile(cfg, []byte(tinyYAML), 0o644); err != nil {
		t.Fatal(err)
	}
	db = filepath.Join(dir, "runs.db")
	if _, errOut, code := run("run", cfg, "--db", db, "--inprocess", "--no-progress"); code != ExitOK {
		t.Fatalf("run: exit %d: %s", code, errOut)
	}
	s, err := tracking.OpenReadOnly(db)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	e, err := s.LatestExperiment("tiny")
	if err != nil {
		t.Fatal(err)
	}
	ts, err := s.Trials(e.ID)
	if err != nil || len(ts) != 2 {
		t.Fatalf("%d trials, %v", len(ts), err)
	}
	return db, ts[0].ID
}

// tamper overwrites one stored loss with the next float64 up.
func tamper(t *testing.T, db, id, key string, step int) {
	t.Helper()
	s, err := tracking.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	pts, err := s.Metrics(id, key)
	if err != nil || len(pts) <= step {
		t.Fatalf("%s: %d points, %v", key, len(pts), err)
	}
	s.Log(id, key, pts[step].Step, math.Nextafter(pts[step].Value, math.Inf(1)))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestRerunInProcess(t *testing.T) {
	db, id := tinyStore(t)
	out, errOut, code := run("rerun", id[:6], "--db", db, "--inprocess")
	if code != ExitOK || !strings.Contains(out, "bit-identical: 8 losses compared") {
		t.Fatalf("rerun: exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	if errOut != "" {
		t.Errorf("stderr: %s", errOut)
	}

	// The store is unchanged by a rerun: the trial ran once.
	s, err := tracking.OpenReadOnly(db)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := s.Trial(id)
	s.Close()
	if err != nil || tr.Attempt != 1 || tr.Status != tracking.StatusFinished {
		t.Fatalf("after rerun: attempt %d, status %s, %v", tr.Attempt, tr.Status, err)
	}

	tamper(t, db, id, "train/loss", 4)
	out, _, code = run("rerun", id, "--db", db, "--inprocess")
	if code != ExitFailed || !strings.Contains(out, "different: train/loss at step 4: stored ") || !strings.Contains(out, "(bits 0x") {
		t.Fatalf("tampered train/loss: exit %d\n%s", code, out)
	}
	tamper(t, db, id, "eval/loss", 0)
	out, _, code = run("rerun", id, "--db", db, "--inprocess")
	if code != ExitFailed || !strings.Contains(out, "different: eval/loss at step 2: ") {
		t.Fatalf("tampered eval/loss: exit %d\n%s", code, out)
	}
}

func TestRerunBadInput(t *testing.T) {
	db := store(t) // trials with no stored configuration
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"rerun", "zzzz", "--db", db}, `no trial "zzzz"`},
		{[]string{"rerun", "aaaa", "--db", db, "--inprocess"}, "its stored configuration cannot be rerun"},
		{[]string{"rerun", "", "--db", db}, "empty trial id"},
		{[]string{"rerun", "aaaa", "--db", filepath.Join(t.TempDir(), "none.db")}, "none.db"},
		{[]string{"rerun"}, "accepts 1 arg"},
	} {
		_, errOut, code := run(c.args...)
		if code != ExitBadInput || !strings.Contains(errOut, c.want) {
			t.Errorf("attnlab %s: exit %d, stderr %q; want exit 2 mentioning %q", strings.Join(c.args, " "), code, errOut, c.want)
		}
	}
}

func TestCompareLosses(t *testing.T) {
	nan := math.NaN()
	series := func(train, eval map[int]float64) map[string]map[int]float64 {
		return map[string]map[int]float64{"train/loss": train, "eval/loss": eval}
	}
	stored := series(map[int]float64{0: 3, 1: 2, 2: nan}, map[int]float64{1: 2.5})
	for _, c := range []struct {
		name  string
		rerun map[string]map[int]float64
		upTo  int
		n     int
		want  string
	}{
		{"same", series(map[int]float64{0: 3, 1: 2, 2: nan}, map[int]float64{1: 2.5}), math.MaxInt, 4, ""},
		{"train differs", series(map[int]float64{0: 3, 1: math.Nextafter(2, 3), 2: nan}, map[int]float64{1: 2.5}), math.MaxInt, 1,
			"different: train/loss at step 1: stored 2 (bits 0x4000000000000000), rerun 2 (bits 0x4000000000000001)"},
		{"eval first", series(map[int]float64{0: 3, 1: 2, 2: 1}, map[int]float64{1: 2.25}), math.MaxInt, 1, "different: eval/loss at step 1"},
		{"missing", series(map[int]float64{0: 3, 1: 2}, map[int]float64{1: 2.5}), math.MaxInt, 3, "train/loss at step 2: stored NaN (bits 0x7ff8000000000001), rerun nothing"},
		{"extra", series(map[int]float64{0: 3, 1: 2, 2: nan, 3: 1}, map[int]float64{1: 2.5}), math.MaxInt, 4, "step 3: stored nothing, rerun 1"},
		{"extra beyond upTo", series(map[int]float64{0: 3, 1: 2, 2: nan, 3: 1}, map[int]float64{1: 2.5, 3: 1}), 2, 4, ""},
	} {
		n, d := compareLosses(stored, c.rerun, c.upTo)
		got := ""
		if d != nil {
			got = d.String()
		}
		if n != c.n || !strings.Contains(got, c.want) || (c.want == "") != (d == nil) {
			t.Errorf("%s: %d identical, %q; want %d, %q", c.name, n, got, c.n, c.want)
		}
	}
}

// A trial recorded in-process reruns bit for bit through real plugin
// processes (the default launcher).
func TestRerunThroughPlugins(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the plugins")
	}
	_, plugins := builtBinaries(t)
	db, id := tinyStore(t)
	out, errOut, code := run("rerun", id, "--db", db, "--plugins", plugins)
	if code != ExitOK || !strings.Contains(out, "through the plugins in "+plugins) || !strings.Contains(out, "bit-identical: 8 losses compared") {
		t.Fatalf("rerun through plugins: exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
}
