package harness

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/attnlab/attnlab/experiments"
)

// Preflight initialises every distinct configuration of a sweep once,
// before any trial runs, so that settings only a component can judge (an
// attention window longer than the objective's sequences, Linformer's k
// larger than n, kv_heads that do not divide heads, Linformer under a
// causal mask, an architecture shape the objective cannot use, a data file
// that does not parse) stop the whole sweep as bad input instead of
// failing its trials one by one.
//
// A configuration is the trial's three components with their parameters;
// seeds and training settings do not change what Init accepts and are
// left out. Each configuration's components are launched and Init-ed with
// a batch of one, the smallest that exercises every check, then closed.
// The error lists every configuration that failed, with the index of its
// first trial and the components' own messages.
func Preflight(ctx context.Context, l Launcher, trials []experiments.Trial) error {
	seen := map[string]bool{}
	var problems []string
	for _, t := range trials {
		key := preflightKey(t)
		if seen[key] {
			continue
		}
		seen[key] = true
		spec, err := SpecFromTrial(t)
		if err != nil {
			problems = append(problems, fmt.Sprintf("trial %d: %v", t.Index+1, err))
			continue
		}
		spec.Train.Batch = 1
		if err := preflightOne(ctx, l, spec); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			problems = append(problems, fmt.Sprintf("trial %d (%s): %v", t.Index+1, describeTrial(t), err))
		}
	}
	if len(problems) > 0 {
		return errors.New("these configurations cannot run (nothing was started):\n  " + strings.Join(problems, "\n  "))
	}
	return nil
}

func preflightKey(t experiments.Trial) string {
	b, _ := json.Marshal([]experiments.Component{t.Objective, t.Architecture, t.Attention})
	return string(b)
}

func describeTrial(t experiments.Trial) string {
	s := fmt.Sprintf("objective %s, architecture %s, attention %s", t.Objective.Plugin, t.Architecture.Plugin, t.Attention.Plugin)
	if len(t.Params) > 0 {
		s += fmt.Sprintf(", %v", t.Params)
	}
	return s
}

func preflightOne(ctx context.Context, l Launcher, spec TrialSpec) error {
	comps, err := l.Launch(ctx, spec)
	if err != nil {
		return err
	}
	defer comps.Close()
	t := &trial{spec: spec, c: comps, ctx: ctx, res: &Result{}}
	return t.init()
}
