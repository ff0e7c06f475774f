package harness

import (
	"fmt"
	"time"

	"github.com/attnlab/attnlab/plugins/sdk"
)

// ComponentSpec names a component and its resolved configuration.
type ComponentSpec struct {
	Plugin string
	Config sdk.Config // every parameter of the plugin's Description, defaults filled in
}

// Train is the training configuration of a trial.
type Train struct {
	Steps       int           // optimiser steps
	Batch       int           // examples per batch
	LR          float64       // peak learning rate
	MinLR       float64       // final learning rate of the decay
	Warmup      int           // linear warmup steps
	Schedule    string        // "cosine", "linear" or "constant"
	Optimizer   sdk.Optimizer // applied by each component to its own parameters
	Clip        float64       // global gradient-norm clip; 0 disables
	EvalEvery   int           // steps between evaluations; 0: only at the end
	EvalBatches int           // eval batches per evaluation
	Threads     int           // kernel threads per component process
	Timeout     time.Duration // whole trial; 0: none
	CallTimeout time.Duration // one plugin call; 0: default 5 minutes
}

// TrialSpec is one fully resolved trial: the unit the runner executes.
type TrialSpec struct {
	ID           string
	Seed         uint64
	Objective    ComponentSpec
	Architecture ComponentSpec
	Attention    ComponentSpec
	Train        Train
}

// Validate checks the parts of a spec the runner relies on.
func (s TrialSpec) Validate() error {
	t := s.Train
	switch {
	case t.Steps <= 0:
		return fmt.Errorf("train.steps = %d: want a positive number of steps", t.Steps)
	case t.Batch <= 0:
		return fmt.Errorf("train.batch = %d: want a positive batch size", t.Batch)
	case t.LR <= 0:
		return fmt.Errorf("train.lr = %g: want a positive learning rate", t.LR)
	case t.Schedule != "cosine" && t.Schedule != "linear" && t.Schedule != "constant":
		return fmt.Errorf("train.schedule = %q: want cosine, linear or constant", t.Schedule)
	case t.Threads < 0:
		return fmt.Errorf("train.threads = %d: want 0 (all cores) or more", t.Threads)
	}
	for _, c := range []struct {
		key string
		c   ComponentSpec
	}{{"objective", s.Objective}, {"architecture", s.Architecture}, {"attention", s.Attention}} {
		if c.c.Plugin == "" {
			return fmt.Errorf("trial.%s.plugin is empty", c.key)
		}
	}
	return nil
}
