package experiments

import (
	"math"
	"sort"
	"strconv"
)

// Experiment is a loaded, checked experiment spec: the base trial, the
// sweep over it and the run settings.
type Experiment struct {
	File     string // the YAML file, as given to Load
	Name     string
	Seed     int64 // base seed: repeat r of every configuration uses Seed + r
	Repeats  int   // seeds per configuration
	Parallel int   // trials run at once

	// The base trial, before the sweep. Component params are as written
	// (ints as int64); Attention.Plugin is "" when there is no attention
	// section (an architecture that never calls attention).
	Objective    Component
	Architecture Component
	Attention    Component
	Train        Train

	Sweep     *Sweep     // nil: one configuration
	EarlyStop *EarlyStop // nil: no early stopping

	YAML      []byte   // the file as read, for the record
	Overrides []string // applied in order: "env ATTNLAB_TRAIN_LR=3e-4", "--set train.steps=10"

	settings map[string]any // the effective config (file, env, --set merged)
	ps       *problems      // the file's node tree and the overrides' sources
}

// Component is one plugin of a trial and its parameters.
type Component struct {
	Plugin string
	// Params are the section's keys other than plugin: as written until
	// ValidateTrials resolves them (defaults filled in, int64, float64,
	// string or bool).
	Params map[string]any
}

func (c Component) clone() Component {
	p := make(map[string]any, len(c.Params))
	for k, v := range c.Params {
		p[k] = v
	}
	return Component{Plugin: c.Plugin, Params: p}
}

// EarlyStop configures median stopping: at each evaluation after
// MinSteps, a trial whose best Metric so far is worse than the median of
// the other trials' values at the same step is pruned.
type EarlyStop struct {
	Metric   string // an evaluation metric, e.g. "loss"
	Mode     string // "min" or "max": the better direction
	MinSteps int    // never prune before this step
}

// topKeys are the keys of an experiment file.
var topKeys = []string{"name", "seed", "repeats", "parallel", "trial", "sweep", "early_stop"}

const (
	maxTrials = 100000 // more trials than any CPU sweep can run: a typo
	maxSeed   = 1<<53 - 1
)

// decode turns the merged settings into an Experiment, recording every
// problem in ps.
func decode(ps *problems, s map[string]any) *Experiment {
	e := &Experiment{}
	unknownKeys(ps, nil, s, topKeys)
	if v, ok := s["name"]; !ok {
		ps.add(path("name"), "nothing", "the experiment's name")
	} else if name, ok := v.(string); !ok || name == "" {
		ps.add(path("name"), show(v), "a non-empty string, the experiment's name")
	} else {
		e.Name = name
	}
	e.Seed = intKey(ps, s, path("seed"), 1, 0, maxSeed)
	e.Repeats = int(intKey(ps, s, path("repeats"), 1, 1, maxTrials))
	e.Parallel = int(intKey(ps, s, path("parallel"), 1, 1, 1024))
	if e.Seed+int64(e.Repeats)-1 > maxSeed {
		ps.add(path("seed"), strconv.FormatInt(e.Seed, 10), "a seed such that seed + repeats - 1 <= 2^53 - 1")
	}

	t, _ := s["trial"].(map[string]any)
	switch {
	case s["trial"] == nil:
		ps.add(path("trial"), "nothing", "a trial section with objective, architecture, attention and train")
	case t == nil:
		ps.add(path("trial"), show(s["trial"]), "a mapping with objective, architecture, attention and train")
	default:
		unknownKeys(ps, path("trial"), t, sections)
	}
	e.Objective = decodeComponent(ps, t, "objective")
	e.Architecture = decodeComponent(ps, t, "architecture")
	e.Attention = decodeComponent(ps, t, "attention")
	e.Train = decodeTrain(ps, t["train"])

	if v, ok := s["sweep"]; ok {
		e.Sweep = decodeSweep(ps, v)
	}
	if e.Sweep != nil {
		for _, sp := range e.Sweep.Params {
			p := path("trial").with(splitParam(sp.Path)...)
			if _, ok := ps.sources[p.String()]; ok {
				ps.add(p, "a value for a swept parameter", "no override: sweep.parameters["+sp.Path+"] sets it in every trial")
			}
		}
	}
	if v, ok := s["early_stop"]; ok {
		e.EarlyStop = decodeEarlyStop(ps, v)
	}
	return e
}

// intKey reads an optional integer in [lo, hi] at m[last of p].
func intKey(ps *problems, m map[string]any, p keyPath, def, lo, hi int64) int64 {
	v, ok := m[p[len(p)-1]]
	if !ok {
		return def
	}
	i, ok := asInt(v)
	if !ok || i < lo || i > hi {
		ps.add(p, show(v), "an integer in ["+strconv.FormatInt(lo, 10)+", "+strconv.FormatInt(hi, 10)+"]")
		return def
	}
	return i
}

// decodeComponent reads trial.<section>: a plugin name and scalar params.
// Whether the plugin is set is checked per trial, after the sweep.
func decodeComponent(ps *problems, trial map[string]any, section string) Component {
	c := Component{Params: map[string]any{}}
	v, ok := trial[section]
	if !ok {
		return c
	}
	p := path("trial", section)
	m, ok := v.(map[string]any)
	if !ok {
		ps.add(p, show(v), "a mapping like {plugin: NAME, PARAM: VALUE, ...}")
		return c
	}
	for _, k := range sortedKeys(m) {
		if k == "plugin" {
			if name, ok := m[k].(string); ok && name != "" {
				c.Plugin = name
			} else {
				ps.add(p.with(k), show(m[k]), "a plugin name")
			}
			continue
		}
		if x, ok := scalar(m[k]); ok {
			c.Params[k] = x
		} else {
			ps.add(p.with(k), show(m[k]), "a scalar: a finite number, a string or true/false")
		}
	}
	return c
}

// decodeTrain reads trial.train over the defaults; the constraints
// between keys are checked per trial, after the sweep.
func decodeTrain(ps *problems, v any) Train {
	t := DefaultTrain()
	if v == nil {
		return t
	}
	p := path("trial", "train")
	m, ok := v.(map[string]any)
	if !ok {
		ps.add(p, show(v), "a mapping of train keys like {steps: 500, lr: 1e-3}")
		return t
	}
	for _, k := range sortedKeys(m) {
		def, ok := trainKey(k)
		if !ok {
			ps.add(p.with(k), "an unknown key", oneOf(trainKeyNames()))
			continue
		}
		if want := def.set(&t, m[k]); want != "" {
			ps.add(p.with(k), show(m[k]), want)
		}
	}
	return t
}

func decodeEarlyStop(ps *problems, v any) *EarlyStop {
	p := path("early_stop")
	m, ok := v.(map[string]any)
	if !ok {
		ps.add(p, show(v), "a mapping like {metric: loss, mode: min, min_steps: 100}")
		return nil
	}
	unknownKeys(ps, p, m, []string{"metric", "mode", "min_steps"})
	es := &EarlyStop{Mode: "min"}
	if metric, ok := m["metric"].(string); ok && metric != "" {
		es.Metric = metric
	} else if m["metric"] == nil {
		ps.add(p.with("metric"), "nothing", "the evaluation metric to compare, like loss")
	} else {
		ps.add(p.with("metric"), show(m["metric"]), "a metric name, like loss")
	}
	if v, ok := m["mode"]; ok {
		if mode, _ := v.(string); mode == "min" || mode == "max" {
			es.Mode = mode
		} else {
			ps.add(p.with("mode"), show(v), "min or max")
		}
	}
	es.MinSteps = int(intKey(ps, m, p.with("min_steps"), 0, 0, math.MaxInt32))
	return es
}

// scalar checks that v is a YAML scalar and normalises integers to int64.
func scalar(v any) (any, bool) {
	switch x := v.(type) {
	case int, int64, uint64:
		i, ok := asInt(x)
		return i, ok
	case float64:
		return x, !math.IsNaN(x) && !math.IsInf(x, 0)
	case string, bool:
		return x, true
	}
	return nil, false
}

func unknownKeys(ps *problems, p keyPath, m map[string]any, known []string) {
	for _, k := range sortedKeys(m) {
		if !contains(known, k) {
			ps.add(p.with(k), "an unknown key", oneOf(known))
		}
	}
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
