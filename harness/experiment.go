package harness

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/attnlab/attnlab/experiments"
	"github.com/attnlab/attnlab/plugins/sdk"
)

// DescribeFunc adapts a Launcher to the schema lookup experiments uses to
// validate a whole sweep before anything runs.
func DescribeFunc(l Launcher) experiments.DescribeFunc {
	return func(kind, plugin string) (experiments.Schema, error) {
		d, err := l.Describe(sdk.Kind(kind), plugin)
		if err != nil {
			var u *UnknownPluginError
			if errors.As(err, &u) {
				return experiments.Schema{}, &experiments.UnknownPluginError{Kind: kind, Plugin: plugin, Available: u.Available}
			}
			return experiments.Schema{}, err
		}
		var s experiments.Schema
		for _, p := range d.Params {
			s.Params = append(s.Params, experiments.Param{Name: p.Name, Type: string(p.Type), Default: p.Default,
				Doc: p.Doc, Choices: p.Choices, Min: p.Min, Max: p.Max})
		}
		return s, nil
	}
}

// UnknownPluginError reports a plugin name that no launcher knows.
type UnknownPluginError struct {
	Kind      sdk.Kind
	Name      string
	Available []string
}

func (e *UnknownPluginError) Error() string {
	return fmt.Sprintf("no %s plugin %q (available: %s)", e.Kind, e.Name, strings.Join(e.Available, ", "))
}

// SpecFromTrial turns a validated experiments.Trial into the runner's
// TrialSpec.
func SpecFromTrial(t experiments.Trial) (TrialSpec, error) {
	if !t.Resolved {
		return TrialSpec{}, fmt.Errorf("trial %d was not validated against its plugins", t.Index)
	}
	tr := t.Train
	spec := TrialSpec{
		ID:           t.ID,
		Seed:         uint64(t.Seed),
		Objective:    ComponentSpec{Plugin: t.Objective.Plugin, Config: sdk.Config(t.Objective.Params)},
		Architecture: ComponentSpec{Plugin: t.Architecture.Plugin, Config: sdk.Config(t.Architecture.Params)},
		Attention:    ComponentSpec{Plugin: t.Attention.Plugin, Config: sdk.Config(t.Attention.Params)},
		Train: Train{
			Steps: tr.Steps, Batch: tr.Batch, LR: tr.LR, MinLR: tr.MinLR, Warmup: tr.Warmup, Schedule: tr.Schedule,
			Optimizer: sdk.Optimizer{Name: tr.Optimizer, Beta1: tr.Beta1, Beta2: tr.Beta2, Eps: tr.Eps,
				WeightDecay: tr.WeightDecay, Momentum: tr.Momentum},
			Clip: tr.Clip, EvalEvery: tr.EvalEvery, EvalBatches: tr.EvalBatches, Threads: tr.Threads, Timeout: tr.Timeout,
		},
	}
	return spec, spec.Validate()
}

// ConfigJSON is the canonical record of a trial's resolved configuration
// kept in the store.
func ConfigJSON(t experiments.Trial) string {
	b, _ := json.Marshal(struct {
		Seed         int64                 `json:"seed"`
		Objective    experiments.Component `json:"objective"`
		Architecture experiments.Component `json:"architecture"`
		Attention    experiments.Component `json:"attention"`
		Train        map[string]any        `json:"train"`
		Params       map[string]any        `json:"swept,omitempty"`
	}{t.Seed, t.Objective, t.Architecture, t.Attention, t.Train.Values(), t.Params})
	return string(b)
}
