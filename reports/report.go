package reports

import (
	"fmt"
	"strings"
	"time"

	"github.com/attnlab/attnlab/tracking"
)

// Options tune a report; the zero value is the default.
type Options struct {
	// MaxPoints is the most points drawn per line of a curve plot (default
	// 500); longer lines are downsampled (see the package doc).
	MaxPoints int
}

func (o Options) maxPoints() int {
	if o.MaxPoints <= 0 {
		return 500
	}
	return o.MaxPoints
}

// Figures builds the report's plots, in report order, and draws them.
func (d *Data) Figures(opt Options) []*Figure {
	var figs []*Figure
	for _, m := range []struct{ key, name, title string }{
		{"train/loss", "train_loss", "Training loss"},
		{"eval/loss", "eval_loss", "Eval loss"},
		{"eval/accuracy", "eval_accuracy", "Eval accuracy"},
	} {
		cs, skipped := curves(d.Configs, d.series[m.key], opt.maxPoints())
		figs = append(figs, curveFigure(m.name, m.key, m.title, cs, skipped))
	}
	figs = append(figs,
		scalingFigure("throughput_vs_seq_len", "Throughput against sequence length", "tokens/s", d.Configs,
			func(c *Config) Stat { return c.TokensPerS }),
		scalingFigure("memory_vs_seq_len", "Peak memory against sequence length", "peak RSS (MiB)", d.Configs,
			func(c *Config) Stat { return c.PeakRSS }),
		scatterFigure(d.Configs))
	for _, f := range figs {
		render(f)
	}
	return figs
}

// The header's facts, shared by the Markdown and HTML writers.

type fact struct{ Key, Value string }

func (d *Data) facts() []fact {
	e := d.Experiment
	env := func(k string) string {
		if v := strings.TrimSpace(d.Env[k]); v != "" {
			return v
		}
		return "unknown"
	}
	commit := env(tracking.EnvGitCommit)
	if d.Env[tracking.EnvGitDirty] == "true" {
		commit += " (uncommitted changes)"
	}
	goVersion := env(tracking.EnvGoVersion)
	if v := d.Env[tracking.EnvOSArch]; v != "" {
		goVersion += " on " + v
	}
	hash := e.ConfigHash
	if len(hash) > 12 {
		hash = hash[:12]
	}
	fixed := make([]string, len(d.Fixed))
	for i, p := range d.Fixed {
		fixed[i] = p.Key + "=" + p.Value
	}
	fs := []fact{
		{"Experiment", fmt.Sprintf("%s (id %d, config hash %s)", e.Name, e.ID, orDash(hash))},
		{"Created", e.CreatedAt.UTC().Format(time.DateTime) + " UTC"},
		{"attnlab", env(tracking.EnvAttnlabVersion)},
		{"Git commit", commit},
		{"Go", goVersion},
		{"CPU", env(tracking.EnvCPUModel)},
		{"Trials", fmt.Sprintf("%d in %d configurations: %s", d.Trials, len(d.Configs), statusCounts(d.Counts))},
	}
	if len(fixed) > 0 {
		fs = append(fs, fact{"Fixed parameters", strings.Join(fixed, ", ")})
	}
	return fs
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// The results table, shared by the Markdown and HTML writers.

var tableHeader = []string{"Config", "Parameters", "Finished", "Eval loss", "Eval accuracy", "ms/step", "tokens/s", "Peak RSS (MiB)", "Trials"}

const tableNote = "Eval loss and accuracy: mean ± sample standard deviation over the finished seeds (the mean alone for one seed, - for none). " +
	"ms/step (each trial's median step time), tokens/s and peak RSS: means over the finished seeds. Trials: every seed's status."

func (c *Config) row() []string {
	return []string{c.Name, orDash(c.Label), fmt.Sprintf("%d/%d", c.Finished, len(c.Trials)),
		c.EvalLoss.meanStd(4), c.EvalAccuracy.meanStd(4), c.StepMS.mean(1), c.TokensPerS.mean(0), c.PeakRSS.mean(0),
		statusCounts(c.Counts)}
}

var unfinishedHeader = []string{"Trial", "Config", "Seed", "Status", "Attempts", "Reason"}

func (u Unfinished) row() []string {
	id := u.Trial.ID
	if len(id) > 8 {
		id = id[:8]
	}
	return []string{id, u.Config.Name, fmt.Sprint(u.Trial.Seed), string(u.Trial.Status), fmt.Sprint(u.Trial.Attempt), reason(u.Trial)}
}

// reason is a trial's error on one line, shortened to 400 characters.
func reason(t tracking.Trial) string {
	r := strings.Join(strings.Fields(t.Error), " ")
	if r == "" {
		switch t.Status {
		case tracking.StatusQueued:
			return "not started yet"
		case tracking.StatusRunning:
			return "still running, or its process died"
		}
		return "-"
	}
	if rs := []rune(r); len(rs) > 400 {
		r = string(rs[:399]) + "…"
	}
	return r
}

func (d *Data) unfinishedIntro() string {
	switch {
	case d.Trials == 0:
		return "The experiment has no trials."
	case len(d.Unfinished) == 0:
		return "Every trial finished."
	}
	return fmt.Sprintf("%d of %d trials did not finish; the reason is the error the harness recorded (see `attnlab runs show TRIAL`).", len(d.Unfinished), d.Trials)
}
