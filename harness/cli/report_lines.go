package cli

import (
	"fmt"
	"io"
	"sync"

	"github.com/attnlab/attnlab/experiments"
	"github.com/attnlab/attnlab/harness"
)

// lineReporter prints plain progress lines: one per trial start and end,
// and the training metrics every few steps. It is what `attnlab run`
// prints when its output is not a terminal (a log file, CI, a pipe).
type lineReporter struct {
	mu    sync.Mutex
	w     io.Writer
	every int
	loss  map[string]float64
}

func newLineReporter(w io.Writer) *lineReporter {
	return &lineReporter{w: w, every: 50, loss: map[string]float64{}}
}

func short(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}

// startedLine, skippedLine and finishedLine are the lines both reporters
// print when a trial starts, is skipped and ends.
func startedLine(t experiments.Trial, attempt, total int) string {
	return fmt.Sprintf("trial %d/%d %s seed %d attention %s: started (attempt %d)%s\n", t.Index+1, total, short(t.ID), t.Seed, t.Attention.Plugin, attempt, sweptSuffix(t))
}

func skippedLine(t experiments.Trial, why string) string {
	return fmt.Sprintf("trial %d %s: skipped, %s\n", t.Index+1, short(t.ID), why)
}

func finishedLine(t experiments.Trial, res harness.Result) string {
	if res.Err != nil {
		return fmt.Sprintf("trial %d %s: %s after %d steps: %v\n", t.Index+1, short(t.ID), res.Status, res.Steps, res.Err)
	}
	return fmt.Sprintf("trial %d %s: %s, %d steps, eval loss %.4f, eval accuracy %.4f, %.1f ms/step, peak RSS %.0f MiB\n",
		t.Index+1, short(t.ID), res.Status, res.Steps, res.Summaries["eval/loss"], res.Summaries["eval/accuracy"],
		res.Summaries["step_ms"], res.Summaries["peak_rss_mb"])
}

func sweptSuffix(t experiments.Trial) string {
	if len(t.Params) == 0 {
		return ""
	}
	return fmt.Sprintf(" %v", t.Params)
}

func (r *lineReporter) TrialStarted(t experiments.Trial, attempt, total int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	io.WriteString(r.w, startedLine(t, attempt, total))
}

func (r *lineReporter) TrialSkipped(t experiments.Trial, why string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	io.WriteString(r.w, skippedLine(t, why))
}

func (r *lineReporter) Metric(t experiments.Trial, step int, key string, v float64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch key {
	case "train/loss":
		r.loss[t.ID] = v
	case "train/accuracy":
		if (step+1)%r.every == 0 || step == 0 {
			fmt.Fprintf(r.w, "trial %d %s step %d: loss %.4f accuracy %.4f\n", t.Index+1, short(t.ID), step+1, r.loss[t.ID], v)
		}
	case "eval/loss", "eval/accuracy":
		fmt.Fprintf(r.w, "trial %d %s step %d: %s %.4f\n", t.Index+1, short(t.ID), step+1, key, v)
	}
}

func (r *lineReporter) TrialFinished(t experiments.Trial, res harness.Result) {
	r.mu.Lock()
	defer r.mu.Unlock()
	io.WriteString(r.w, finishedLine(t, res))
}

// Close implements sweepReporter; plain lines need no cleanup.
func (r *lineReporter) Close() {}
