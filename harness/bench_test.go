package harness

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/attnlab/attnlab/plugins/sdk"
)

// referenceSpec is the reference model of the performance figures: a
// decoder-only GPT with 2 layers, d_model 128, 4 heads, causal full
// attention, GELU MLP 4x and a tied head, on byte-level copy sequences of
// 256 tokens, batch 8.
func referenceSpec(b testing.TB, l Launcher, threads int) TrialSpec {
	spec := tinySpec(b, l, "full", 1<<30)
	spec.Train.Threads = threads
	spec.Train.Batch = 8
	spec.Train.CallTimeout = time.Minute
	var err error
	d, _ := l.Describe(sdk.KindObjective, "causal-lm")
	if spec.Objective.Config, err = d.Resolve(map[string]any{"dataset": "copy", "seq_len": 256}); err != nil {
		b.Fatal(err)
	}
	d, _ = l.Describe(sdk.KindArchitecture, "transformer")
	if spec.Architecture.Config, err = d.Resolve(map[string]any{"layers": 2, "d_model": 128, "heads": 4, "tie_embeddings": true}); err != nil {
		b.Fatal(err)
	}
	return spec
}

// BenchmarkTrialStep times one training step (batch, forward, loss,
// backward, gradient norm, AdamW) of the reference model with every
// component in the harness's process and with every component in a plugin
// process of its own: the ratio is the cost of the process boundary.
// ms/op is the mean step; p50-ms the run's median step, which a few steps
// slowed by another tenant of the machine do not move.
func BenchmarkTrialStep(b *testing.B) {
	for _, mode := range []string{"inprocess", "plugins"} {
		for _, th := range []int{1, 2} {
			b.Run(fmt.Sprintf("mode=%s/threads=%d", mode, th), func(b *testing.B) {
				var l Launcher = inProcess()
				if mode == "plugins" {
					l = pluginLauncher(b)
				}
				spec := referenceSpec(b, l, th)
				comps, err := l.Launch(context.Background(), spec)
				if err != nil {
					b.Fatal(err)
				}
				defer comps.Close()
				t := &trial{spec: spec, c: comps, ctx: context.Background(), res: &Result{}}
				if err := t.init(); err != nil {
					b.Fatal(err)
				}
				for i := range 3 { // warm up: buffers allocated, pages touched
					if _, _, _, err := t.step(i); err != nil {
						b.Fatal(err)
					}
				}
				b.ResetTimer()
				step := 3
				var times []float64
				for b.Loop() {
					t0 := time.Now()
					if _, _, _, err := t.step(step); err != nil {
						b.Fatal(err)
					}
					times = append(times, float64(time.Since(t0).Nanoseconds())/1e6)
					step++
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/1e6/float64(b.N), "ms/op")
				slices.Sort(times)
				b.ReportMetric(times[len(times)/2], "p50-ms")
			})
		}
	}
}
