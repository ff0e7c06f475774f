package harness

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/attnlab/attnlab/experiments"
)

// A sweep with one configuration that no component accepts stops before
// anything runs, naming that configuration and the component's reason;
// the valid ones pass, each initialised once whatever the seeds.
func TestPreflight(t *testing.T) {
	const yaml = `name: preflight
seed: 1
repeats: 3
trial:
  objective:    {plugin: causal-lm, dataset: copy, seq_len: 32, copy_vocab: 16}
  architecture: {plugin: transformer, layers: 1, d_model: 32, heads: 4}
  attention:    {plugin: full}
  train: {steps: 1, batch: 4, lr: 1.0e-3}
sweep:
  method: grid
  parameters:
    architecture.heads: [4, 3]
`
	path := filepath.Join(t.TempDir(), "preflight.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	l := inProcess()
	exp, err := experiments.Load(path, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	trials, err := exp.Resolve(DescribeFunc(l))
	if err != nil {
		t.Fatal(err)
	}
	err = Preflight(context.Background(), l, trials)
	if err == nil {
		t.Fatal("Preflight accepted heads = 3 with d_model = 32")
	}
	msg := err.Error()
	if !strings.Contains(msg, "nothing was started") || !strings.Contains(msg, "architecture.heads:3") || strings.Contains(msg, "architecture.heads:4") {
		t.Errorf("error names the wrong configurations:\n%s", msg)
	}
	if n := strings.Count(msg, "\n  "); n != 1 {
		t.Errorf("%d configurations reported, want 1 (seeds share one check):\n%s", n, msg)
	}
	var good []experiments.Trial
	for _, tr := range trials {
		if tr.Params["architecture.heads"] == int64(4) || tr.Params["architecture.heads"] == 4 {
			good = append(good, tr)
		}
	}
	if len(good) != 3 {
		t.Fatalf("found %d trials with 4 heads, want 3 (params %v)", len(good), trials[0].Params)
	}
	if err := Preflight(context.Background(), l, good); err != nil {
		t.Errorf("valid configurations: %v", err)
	}
}
