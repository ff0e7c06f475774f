package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"github.com/attnlab/attnlab/experiments"
	"github.com/attnlab/attnlab/harness"
	"github.com/attnlab/attnlab/tracking"
)

// rerun runs a recorded trial again from its stored configuration and
// checks that every loss comes out bit for bit the same: DESIGN's promise
// that the same config and seed give the same numbers, checked on demand.

// lossKeys are the metrics rerun compares, in report order.
var lossKeys = []string{"train/loss", "eval/loss"}

type rerunFlags struct {
	db        string
	inprocess bool
	logFile   string
}

func rerunCmd(g *globals) *cobra.Command {
	f := &rerunFlags{}
	cmd := &cobra.Command{
		Use:   "rerun TRIAL",
		Short: "Run a recorded trial again and check that its losses are bit-identical (TRIAL: id or unique prefix)",
		Long: `Rerun rebuilds a trial from the resolved configuration and seed recorded in
the store, runs it again (through the plugins, or in this process with
--inprocess), and compares every train/loss and eval/loss value with the
recorded one, bit for bit. The store is only read: the rerun's metrics are
kept in memory. A trial that stopped early (pruned, failed, killed) is
compared up to its last recorded step.

Exit codes: 0 bit-identical, 1 a value differs (or the rerun failed), 2 bad
input.`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error { return rerunTrial(c.Context(), g, f, args[0]) },
	}
	cmd.Flags().StringVar(&f.db, "db", "runs.db", "SQLite store holding the trial (read only)")
	cmd.Flags().BoolVar(&f.inprocess, "inprocess", false, "run the built-in components inside this process instead of as plugins")
	cmd.Flags().StringVar(&f.logFile, "log", "", "write the harness and plugin log to this file (default: stderr, warnings only)")
	return cmd
}

func rerunTrial(ctx context.Context, g *globals, f *rerunFlags, prefix string) error {
	s, err := openRead(f.db)
	if err != nil {
		return err
	}
	defer s.Close()
	tr, err := findTrial(s, f.db, prefix)
	if err != nil {
		return err
	}
	switch tr.Status {
	case tracking.StatusQueued:
		return badInput(fmt.Errorf("trial %s never ran (queued): there is nothing to compare with", tr.ID))
	case tracking.StatusRunning:
		return badInput(fmt.Errorf("trial %s is running (or was left running by a killed sweep; run the sweep again to finish it)", tr.ID))
	}
	cfg, err := parseStored(tr)
	if err != nil {
		return err
	}
	stored := map[string]map[int]float64{}
	for _, k := range lossKeys {
		pts, err := s.Metrics(tr.ID, k)
		if err != nil {
			return err
		}
		stored[k] = map[int]float64{}
		for _, p := range pts {
			stored[k][p.Step] = p.Value
		}
	}
	if len(stored["train/loss"]) == 0 {
		return badInput(fmt.Errorf("trial %s (%s) has no train/loss recorded: there is nothing to compare with", tr.ID, tr.Status))
	}

	logger, closeLog, err := harnessLogger(g, f.logFile)
	if err != nil {
		return badInput(err)
	}
	defer closeLog()
	l, _, err := newLauncher(g, f.inprocess, logger)
	if err != nil {
		return err
	}
	trial, err := trialFromStore(tr, cfg, l)
	if err != nil {
		return err
	}
	if trial.ID != tr.ID {
		fmt.Fprintf(g.stderr, "attnlab: warning: the stored configuration now resolves to trial %s, not %s: a plugin's parameters changed since it ran\n", short(trial.ID), short(tr.ID))
	}
	spec, err := harness.SpecFromTrial(trial)
	if err != nil {
		return badInput(fmt.Errorf("trial %s: %w", tr.ID, err))
	}
	where := "through the plugins in " + g.plugins
	if f.inprocess {
		where = "in-process"
	}
	fmt.Fprintf(g.stdout, "rerunning trial %s (seed %d, %d steps, recorded %s) %s\n", short(tr.ID), tr.Seed, spec.Train.Steps, tr.Status, where)

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	rerun := map[string]map[int]float64{}
	for _, k := range lossKeys {
		rerun[k] = map[int]float64{}
	}
	obs := harness.ObserverFunc(func(step int, key string, v float64) {
		if m, ok := rerun[key]; ok {
			m[step] = v
		}
	})
	res := harness.Run(ctx, l, spec, obs, nil)
	if ctx.Err() != nil {
		return &exitError{ExitFailed, errors.New("interrupted")}
	}
	if res.Status != string(tr.Status) && res.Err != nil {
		fmt.Fprintf(g.stdout, "rerun %s after %d steps: %v\n", res.Status, res.Steps, res.Err)
	}
	// A trial that stopped early is compared up to its last recorded step.
	upTo := math.MaxInt
	if tr.Status != tracking.StatusFinished {
		upTo = slices.Max(slices.Collect(maps.Keys(stored["train/loss"])))
	}
	n, diff := compareLosses(stored, rerun, upTo)
	if diff != nil {
		fmt.Fprintln(g.stdout, diff)
		return &exitError{ExitFailed, fmt.Errorf("trial %s is not reproduced: %d losses identical before the first difference", tr.ID, n)}
	}
	fmt.Fprintf(g.stdout, "bit-identical: %d losses compared\n", n)
	return nil
}

// findTrial returns the one trial whose id starts with prefix.
func findTrial(s *tracking.Store, db, prefix string) (tracking.Trial, error) {
	if prefix == "" {
		return tracking.Trial{}, badInput(errors.New("empty trial id: give the id or a unique prefix (see `attnlab runs list`)"))
	}
	exps, err := s.Experiments()
	if err != nil {
		return tracking.Trial{}, err
	}
	seen := map[string]tracking.Trial{}
	for _, e := range exps {
		ts, err := s.Trials(e.ID)
		if err != nil {
			return tracking.Trial{}, err
		}
		for _, t := range ts {
			if strings.HasPrefix(t.ID, prefix) {
				seen[t.ID] = t
			}
		}
	}
	switch len(seen) {
	case 0:
		return tracking.Trial{}, badInput(fmt.Errorf("no trial %q in %s", prefix, db))
	case 1:
		for _, t := range seen {
			return t, nil
		}
	}
	return tracking.Trial{}, badInput(fmt.Errorf("%q matches %d trials in %s: give more of the id", prefix, len(seen), db))
}

// storedConfig is the record harness.ConfigJSON keeps with every trial.
type storedConfig struct {
	Seed         int64                 `json:"seed"`
	Objective    experiments.Component `json:"objective"`
	Architecture experiments.Component `json:"architecture"`
	Attention    experiments.Component `json:"attention"`
	Train        map[string]any        `json:"train"`
}

// parseStored reads a trial's stored configuration.
func parseStored(tr tracking.Trial) (storedConfig, error) {
	var c storedConfig
	err := json.Unmarshal([]byte(tr.ConfigJSON), &c)
	if err != nil || c.Objective.Plugin == "" || c.Architecture.Plugin == "" || len(c.Train) == 0 {
		why := "it names no objective, architecture or train settings"
		if err != nil {
			why = err.Error()
		}
		return c, badInput(fmt.Errorf("trial %s: its stored configuration cannot be rerun (%s); want the JSON `attnlab run` records", tr.ID, why))
	}
	return c, nil
}

// trialFromStore rebuilds a trial from its stored configuration. It goes
// through the same path as `attnlab run` (an experiment file, loaded and
// validated against the launcher's plugins), so the rebuilt trial is what
// run would build and its identity can be checked against the stored one.
func trialFromStore(tr tracking.Trial, c storedConfig, l harness.Launcher) (experiments.Trial, error) {
	section := func(comp experiments.Component) map[string]any {
		m := map[string]any{"plugin": comp.Plugin}
		for k, v := range comp.Params {
			m[k] = v
		}
		return m
	}
	trial := map[string]any{"objective": section(c.Objective), "architecture": section(c.Architecture), "train": c.Train}
	if c.Attention.Plugin != "" {
		trial["attention"] = section(c.Attention)
	}
	doc, err := yaml.Marshal(map[string]any{"name": "rerun", "seed": c.Seed, "trial": trial})
	if err != nil {
		return experiments.Trial{}, badInput(fmt.Errorf("trial %s: stored configuration: %w", tr.ID, err))
	}
	dir, err := os.MkdirTemp("", "attnlab-rerun-")
	if err != nil {
		return experiments.Trial{}, err
	}
	defer os.RemoveAll(dir)
	file := filepath.Join(dir, "trial-"+short(tr.ID)+".yaml")
	if err := os.WriteFile(file, doc, 0o644); err != nil {
		return experiments.Trial{}, err
	}
	exp, err := experiments.Load(file, nil, nil)
	if err != nil {
		return experiments.Trial{}, badInput(fmt.Errorf("trial %s: its stored configuration no longer loads: %w", tr.ID, err))
	}
	trials, err := exp.Resolve(harness.DescribeFunc(l))
	if err != nil {
		return experiments.Trial{}, badInput(fmt.Errorf("trial %s: its stored configuration no longer validates against the plugins: %w", tr.ID, err))
	}
	if len(trials) != 1 {
		return experiments.Trial{}, fmt.Errorf("trial %s: its stored configuration expands to %d trials, want 1", tr.ID, len(trials))
	}
	return trials[0], nil
}

// lossDiff is the first loss that differs between the store and the rerun.
type lossDiff struct {
	key               string
	step              int
	stored, rerun     float64
	inStored, inRerun bool
}

func (d *lossDiff) String() string {
	show := func(v float64, ok bool) string {
		if !ok {
			return "nothing"
		}
		return fmt.Sprintf("%.9g (bits %#016x)", v, math.Float64bits(v))
	}
	return fmt.Sprintf("different: %s at step %d: stored %s, rerun %s", d.key, d.step, show(d.stored, d.inStored), show(d.rerun, d.inRerun))
}

// sameBits reports whether a and b are the same float64, bit for bit; two
// NaNs are the same, since the store keeps NaN as NULL, not its bits.
func sameBits(a, b float64) bool {
	return math.Float64bits(a) == math.Float64bits(b) || math.IsNaN(a) && math.IsNaN(b)
}

// compareLosses compares the loss series step by step up to step upTo. It
// returns the first difference (lowest step; train/loss before eval/loss
// at the same step), or nil, and how many values were identical before
// it. A value present on one side only is a difference.
func compareLosses(stored, rerun map[string]map[int]float64, upTo int) (int, *lossDiff) {
	var first *lossDiff
	for _, k := range lossKeys {
		steps := slices.Sorted(maps.Keys(stored[k]))
		for s := range rerun[k] {
			if _, ok := stored[k][s]; !ok {
				steps = append(steps, s)
			}
		}
		slices.Sort(steps)
		for _, s := range steps {
			if s > upTo {
				break
			}
			a, inA := stored[k][s]
			b, inB := rerun[k][s]
			if inA && inB && sameBits(a, b) {
				continue
			}
			if first == nil || s < first.step {
				first = &lossDiff{key: k, step: s, stored: a, rerun: b, inStored: inA, inRerun: inB}
			}
			break
		}
	}
	n := 0
	for _, k := range lossKeys {
		for s, a := range stored[k] {
			if s > upTo || first != nil && s >= first.step {
				continue
			}
			if b, ok := rerun[k][s]; ok && sameBits(a, b) {
				n++
			}
		}
	}
	return n, first
}
