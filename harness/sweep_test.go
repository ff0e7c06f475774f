package harness

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/attnlab/attnlab/experiments"
	"github.com/attnlab/attnlab/tracking"
)

const sweepYAML = `name: tiny-sweep
seed: 3
repeats: 2
parallel: 2
trial:
  objective:    {plugin: causal-lm, dataset: copy, seq_len: 16, copy_vocab: 8}
  architecture: {plugin: transformer, layers: 1, d_model: 16, heads: 2}
  attention:    {plugin: full}
  train:        {steps: 4, batch: 2, lr: 1.0e-3, eval_every: 2, eval_batches: 1}
sweep:
  method: grid
  parameters:
    attention.scale: [0.0, 0.5]
`

// A sweep runs every trial once, records it, and a second run of the same
// config skips them all.
func TestSweepRunsAndResumes(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "sweep.yaml")
	if err := os.WriteFile(cfg, []byte(sweepYAML), 0o644); err != nil {
		t.Fatal(err)
	}
	store, err := tracking.Open(filepath.Join(dir, "runs.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	l := inProcess()
	run := func() SweepResult {
		exp, err := experiments.Load(cfg, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		trials, err := exp.Resolve(DescribeFunc(l))
		if err != nil {
			t.Fatal(err)
		}
		s := &Sweep{Experiment: exp, Trials: trials, Launcher: l, Store: store}
		res, err := s.Run(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	first := run()
	if first.Counts[StatusFinished] != 4 || first.Skipped != 0 || first.Failed() {
		t.Fatalf("first run: %+v", first)
	}
	ts, err := store.Trials(first.ExperimentID)
	if err != nil || len(ts) != 4 {
		t.Fatalf("trials in the store: %d, %v", len(ts), err)
	}
	for _, tr := range ts {
		pts, err := store.Metrics(tr.ID, "train/loss")
		if err != nil || len(pts) != 4 || tr.Attempt != 1 {
			t.Fatalf("trial %s: %d loss points, attempt %d, %v", tr.ID, len(pts), tr.Attempt, err)
		}
	}
	second := run()
	if second.Skipped != 4 || second.Counts[StatusFinished] != 4 {
		t.Fatalf("second run did not skip finished trials: %+v", second)
	}
}
