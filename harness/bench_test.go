package harness

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
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
// slowed by another tenant of the machine do not move; cpu-ms/op the CPU
// time of a step summed over every thread of the harness and its plugin
// processes (the work the boundary adds, where ms/op also counts waiting).
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
				cpu0 := cpuNanos()
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
				b.ReportMetric(float64(cpuNanos()-cpu0)/1e6/float64(b.N), "cpu-ms/op")
				slices.Sort(times)
				b.ReportMetric(times[len(times)/2], "p50-ms")
			})
		}
	}
}

// cpuNanos returns the CPU time, in nanoseconds, that this process and
// every process it started have run so far, summed over their threads
// (/proc/PID/task/TID/schedstat), or 0 where /proc does not tell.
func cpuNanos() int64 {
	var total int64
	pids := []int{os.Getpid()}
	for len(pids) > 0 {
		pid := pids[0]
		pids = pids[1:]
		tasks, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
		for _, t := range tasks {
			dir := fmt.Sprintf("/proc/%d/task/%s/", pid, t.Name())
			if b, err := os.ReadFile(dir + "schedstat"); err == nil {
				if f := strings.Fields(string(b)); len(f) > 0 {
					n, _ := strconv.ParseInt(f[0], 10, 64)
					total += n
				}
			}
			if b, err := os.ReadFile(dir + "children"); err == nil {
				for _, c := range strings.Fields(string(b)) {
					if n, err := strconv.Atoi(c); err == nil {
						pids = append(pids, n)
					}
				}
			}
		}
	}
	return total
}
