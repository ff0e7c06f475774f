package harness

import (
	"context"
	"fmt"
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
				for b.Loop() {
					if _, _, _, err := t.step(step); err != nil {
						b.Fatal(err)
					}
					step++
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/1e6/float64(b.N), "ms/op")
			})
		}
	}
}
