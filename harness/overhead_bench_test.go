package harness

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/attnlab/attnlab/tracking"
)

// BenchmarkTrialOverhead times what the harness adds to a trial: starting
// the three plugin processes and their handshakes, Describe and Init,
// the shared-memory session, stopping the processes, and the store's
// writes (UpsertTrial, StartTrial, a heartbeat, the metrics, FinishTrial
// with the summaries), for a one-step trial of the reference model (see
// referenceSpec) on one thread. The model's own compute, the training
// step and the evaluation that ends every trial, is measured inside the
// trial and subtracted:
//
//	ms/op           the whole trial, as a sweep runs it
//	compute_ms/op   the training step plus the final evaluation
//	overhead_ms/op  ms/op - compute_ms/op: the harness's cost per trial
func BenchmarkTrialOverhead(b *testing.B) {
	l := pluginLauncher(b)
	spec := referenceSpec(b, l, 1)
	spec.Train.Steps, spec.Train.Warmup, spec.Train.EvalEvery, spec.Train.EvalBatches = 1, 0, 0, 1
	store, err := tracking.Open(filepath.Join(b.TempDir(), "runs.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	exp, _, err := store.EnsureExperiment("overhead", "", "overhead")
	if err != nil {
		b.Fatal(err)
	}
	var compute time.Duration
	i := 0
	b.ResetTimer()
	for b.Loop() {
		id := fmt.Sprintf("overhead-%d", i)
		i++
		spec.ID = id
		if _, err := store.UpsertTrial(tracking.TrialSpec{ID: id, ExperimentID: exp.ID, Seed: int64(spec.Seed), ConfigJSON: "{}",
			Params: map[string]string{"attention.plugin": "full"}}); err != nil {
			b.Fatal(err)
		}
		if _, err := store.StartTrial(id); err != nil {
			b.Fatal(err)
		}
		if err := store.Heartbeat(id); err != nil {
			b.Fatal(err)
		}
		// The step's own time is step_ms; the evaluation runs from the
		// last metric of the step (peak_rss_mb) to the first eval metric.
		var evalStart, evalEnd time.Time
		var stepMS float64
		obs := ObserverFunc(func(step int, key string, v float64) {
			store.Log(id, key, step, v)
			switch {
			case key == "step_ms":
				stepMS = v
			case key == "peak_rss_mb":
				evalStart = time.Now()
			case strings.HasPrefix(key, "eval/") && evalEnd.IsZero():
				evalEnd = time.Now()
			}
		})
		res := Run(context.Background(), l, spec, obs, nil)
		if res.Status != StatusFinished {
			b.Fatalf("trial %s: %s %v", id, res.Status, res.Err)
		}
		if err := store.FinishTrial(id, tracking.Status(res.Status), "", res.Summaries); err != nil {
			b.Fatal(err)
		}
		compute += time.Duration(stepMS*float64(time.Millisecond)) + evalEnd.Sub(evalStart)
	}
	total := float64(b.Elapsed().Nanoseconds()) / 1e6 / float64(b.N)
	comp := float64(compute.Nanoseconds()) / 1e6 / float64(b.N)
	b.ReportMetric(total, "ms/op")
	b.ReportMetric(comp, "compute_ms/op")
	b.ReportMetric(total-comp, "overhead_ms/op")
}
