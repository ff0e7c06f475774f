package cli

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/attnlab/attnlab/harness"
	"github.com/attnlab/attnlab/tracking"
)

// killYAML is four trials, one at a time, each long enough (about a
// second through the plugins) to be caught mid-run.
const killYAML = `name: kill
seed: 2
trial:
  objective:    {plugin: causal-lm, dataset: copy, seq_len: 32, copy_vocab: 16}
  architecture: {plugin: transformer, layers: 1, d_model: 32, heads: 2}
  attention:    {plugin: full}
  train:        {steps: %d, batch: 4, lr: 3.0e-3, eval_every: 50, eval_batches: 1, threads: 1}
sweep:
  method: grid
  parameters:
    attention.scale: [0.0, 0.25, 0.5, 0.75]
`

const killSteps = 150

// waitFor polls cond every 20 ms until it holds or the time is up.
func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %v for %s", within, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// trialsOf reads the trials of the experiment in db, read-only; nil while
// the store or the experiment does not exist yet.
func trialsOf(db string) []tracking.Trial {
	s, err := tracking.OpenReadOnly(db)
	if err != nil {
		return nil
	}
	defer s.Close()
	e, err := s.LatestExperiment("kill")
	if err != nil {
		return nil
	}
	ts, _ := s.Trials(e.ID)
	for i := range ts {
		// Points logged so far, to see that a running trial is training.
		pts, _ := s.Metrics(ts[i].ID, "train/loss")
		ts[i].Summaries["points"] = float64(len(pts))
	}
	return ts
}

// Killing `attnlab run` with SIGKILL mid-sweep loses nothing: its plugins
// die with it, and running the same command again runs every trial that
// had not finished, skips the ones that had, and leaves each trial's
// losses complete and logged once.
func TestKilledRunResumes(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs attnlab through its plugins")
	}
	bin, plugins := builtBinaries(t)
	dir := t.TempDir()
	cfg, db := filepath.Join(dir, "kill.yaml"), filepath.Join(dir, "runs.db")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(killYAML, killSteps)), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"run", cfg, "--db", db, "--plugins", plugins, "--no-progress"}

	var out1 bytes.Buffer
	first := exec.Command(bin, args...)
	first.Stdout, first.Stderr = &out1, &out1
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	var before []tracking.Trial
	waitFor(t, 90*time.Second, "one trial finished and one training", func() bool {
		before = trialsOf(db)
		var finished, training int
		for _, tr := range before {
			switch {
			case tr.Status == tracking.StatusFinished:
				finished++
			case tr.Status == tracking.StatusRunning && tr.Summaries["points"] > 0:
				training++
			}
		}
		return finished >= 1 && training == 1
	})
	if err := first.Process.Kill(); err != nil { // SIGKILL: no chance to clean up
		t.Fatal(err)
	}
	first.Wait()
	waitFor(t, 5*time.Second, "the plugins to exit after the harness was killed", func() bool { return len(processesIn(plugins)) == 0 })

	// The killed run's trial is still recorded as running; its process is
	// gone from this host, so the second run takes it over at once,
	// without waiting for its heartbeat to go stale.
	var killed tracking.Trial
	finishedBefore := map[string]tracking.Trial{}
	for _, tr := range trialsOf(db) {
		switch tr.Status {
		case tracking.StatusFinished:
			finishedBefore[tr.ID] = tr
		case tracking.StatusRunning:
			killed = tr
		}
	}
	if killed.ID == "" || len(finishedBefore) == 0 {
		t.Fatalf("after the kill: %d finished, running %q\n%s", len(finishedBefore), killed.ID, out1.String())
	}
	if time.Since(killed.HeartbeatAt) > harness.StaleAfter/2 {
		t.Fatalf("the killed trial's heartbeat is %v old already: the test no longer shows an immediate take-over", time.Since(killed.HeartbeatAt))
	}

	second := exec.Command(bin, args...)
	out2, err := second.CombinedOutput()
	if err != nil {
		t.Fatalf("second run: %v\n%s", err, out2)
	}
	after := trialsOf(db)
	if len(after) != 4 {
		t.Fatalf("%d trials after the second run, want 4", len(after))
	}
	for _, tr := range after {
		if tr.Status != tracking.StatusFinished {
			t.Errorf("trial %s: %s %s", short(tr.ID), tr.Status, tr.Error)
		}
		wantAttempt := 1
		if tr.ID == killed.ID {
			wantAttempt = 2
		}
		if old, ok := finishedBefore[tr.ID]; ok {
			if !tr.FinishedAt.Equal(old.FinishedAt) {
				t.Errorf("trial %s finished in the first run but was run again (finished %v, then %v)", short(tr.ID), old.FinishedAt, tr.FinishedAt)
			}
			if !strings.Contains(string(out2), short(tr.ID)+": skipped, finished in an earlier run") {
				t.Errorf("the second run did not say it skipped trial %s:\n%s", short(tr.ID), out2)
			}
		}
		if tr.Attempt != wantAttempt {
			t.Errorf("trial %s: attempt %d, want %d", short(tr.ID), tr.Attempt, wantAttempt)
		}
	}
	s, err := tracking.OpenReadOnly(db)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, tr := range after {
		pts, err := s.Metrics(tr.ID, "train/loss")
		if err != nil {
			t.Fatal(err)
		}
		if len(pts) != killSteps {
			t.Errorf("trial %s: %d train/loss rows, want %d", short(tr.ID), len(pts), killSteps)
		}
		for i, p := range pts {
			if p.Step != i {
				t.Errorf("trial %s: row %d is step %d, want steps 0..%d each once", short(tr.ID), i, p.Step, killSteps-1)
				break
			}
		}
	}
	if left := processesIn(plugins); len(left) > 0 {
		t.Errorf("plugin processes left after the second run: %v", left)
	}
}
