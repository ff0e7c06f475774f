package experiments

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Trial is one point of the sweep: a configuration and a seed.
type Trial struct {
	Index  int   // position in the expanded sweep, which is the run order
	Config int   // configuration index; the repeats of a configuration share it
	Repeat int   // 0 .. Repeats-1
	Seed   int64 // the experiment's seed + Repeat

	Objective    Component
	Architecture Component
	Attention    Component // Plugin "" when the trial has no attention
	Train        Train

	// Params are the swept values by parameter path ("train.lr": 3e-4,
	// "attention.plugin": "flash"), for tracking and reports; empty
	// without a sweep.
	Params map[string]any

	// ID identifies the trial: a hash of its configuration and seed (see
	// the package doc). ConfigID is the same hash without the seed, shared
	// by a configuration's repeats. Both are provisional until
	// ValidateTrials resolves the components and sets Resolved.
	ID       string
	ConfigID string
	Resolved bool
}

// Trials expands the sweep: every configuration (grid: the cartesian
// product; random: Samples draws), each run Repeats times. Trials are
// ordered repeat-major, configuration-minor (index = repeat *
// configurations + config), so a partial sweep has run every
// configuration at the first seed before any at the second. Trials are
// checked (plugin names present, train keys in range and consistent)
// but not validated against plugin schemas: see ValidateTrials.
func (e *Experiment) Trials() ([]Trial, error) {
	ps := e.problems()
	assigns, err := e.assignments()
	if err != nil {
		return nil, err
	}
	configs := make([]Trial, 0, len(assigns))
	for _, a := range assigns {
		configs = append(configs, e.configure(ps, a))
	}
	if err := ps.err(); err != nil {
		return nil, err
	}
	if len(configs)*e.Repeats > maxTrials {
		return nil, &ConfigError{File: e.File, Path: "repeats", Got: fmt.Sprintf("%d configurations x %d repeats", len(configs), e.Repeats),
			Want: "at most " + strconv.Itoa(maxTrials) + " trials"}
	}
	trials := make([]Trial, 0, len(configs)*e.Repeats)
	for r := 0; r < e.Repeats; r++ {
		for c, cfg := range configs {
			t := cfg
			t.Objective, t.Architecture, t.Attention = cfg.Objective.clone(), cfg.Architecture.clone(), cfg.Attention.clone()
			t.Params = make(map[string]any, len(cfg.Params))
			for k, v := range cfg.Params {
				t.Params[k] = v
			}
			t.Index, t.Config, t.Repeat, t.Seed = len(trials), c, r, e.Seed+int64(r)
			t.identify()
			trials = append(trials, t)
		}
	}
	return trials, nil
}

// problems returns a collector for errors about this experiment's file.
func (e *Experiment) problems() *problems {
	ps := newProblems(e.File)
	if e.ps != nil {
		ps.root, ps.sources = e.ps.root, e.ps.sources
	}
	return ps
}

// assignments returns the swept values of each configuration, keyed by
// parameter path.
func (e *Experiment) assignments() ([]map[string]any, error) {
	if e.Sweep == nil {
		return []map[string]any{{}}, nil
	}
	params := e.Sweep.Params
	if e.Sweep.Method == MethodRandom {
		return e.draws(), nil
	}
	// Grid: an odometer over the parameters in path order, the last
	// parameter changing fastest (as nested loops, or itertools.product).
	total := 1
	for _, sp := range params {
		total *= len(sp.Values)
		if total*e.Repeats > maxTrials {
			return nil, &ConfigError{File: e.File, Path: "sweep.parameters", Got: "a grid of more than " + strconv.Itoa(maxTrials) + " trials",
				Want: "a smaller grid (or method: random with samples: N)"}
		}
	}
	out := make([]map[string]any, 0, total)
	idx := make([]int, len(params))
	for n := 0; n < total; n++ {
		a := make(map[string]any, len(params))
		for j, sp := range params {
			a[sp.Path] = sp.Values[idx[j]]
		}
		out = append(out, a)
		for j := len(params) - 1; j >= 0; j-- {
			if idx[j]++; idx[j] < len(params[j].Values) {
				break
			}
			idx[j] = 0
		}
	}
	return out, nil
}

// draws returns the random sweep's configurations: sample i takes each
// parameter's value from a uniform number in [0, 1) hashed from (seed, i,
// parameter path), so draws are the same on every machine and adding a
// parameter leaves the others' draws alone. A configuration drawn twice
// is kept once.
func (e *Experiment) draws() []map[string]any {
	var out []map[string]any
	seen := map[string]bool{}
	for i := 0; i < e.Sweep.Samples; i++ {
		a := map[string]any{}
		for _, sp := range e.Sweep.Params {
			a[sp.Path] = sp.draw(uniform01(e.Seed, i, sp.Path))
		}
		if k := canonicalJSON(a); !seen[k] {
			seen[k] = true
			out = append(out, a)
		}
	}
	return out
}

// uniform01 is the top 53 bits of sha256("attnlab.sweep.v1", seed, sample,
// path) scaled to [0, 1).
func uniform01(seed int64, sample int, path string) float64 {
	sum := sha256.Sum256([]byte(fmt.Sprintf("attnlab.sweep.v1\x00%d\x00%d\x00%s", seed, sample, path)))
	return float64(binary.BigEndian.Uint64(sum[:8])>>11) / (1 << 53)
}

// draw maps u in [0, 1) to a value of the parameter. Continuous draws
// are rounded to 6 significant digits: they print as written and do not
// depend on the last bit of math.Exp on a given CPU.
func (sp SweepParam) draw(u float64) any {
	switch sp.Distribution {
	case DistUniform:
		return round6(sp.Min+u*(sp.Max-sp.Min), sp.Min, sp.Max)
	case DistLogUniform:
		lo, hi := math.Log(sp.Min), math.Log(sp.Max)
		return round6(math.Exp(lo+u*(hi-lo)), sp.Min, sp.Max)
	case DistInt:
		lo, n := int64(sp.Min), int64(sp.Max)-int64(sp.Min)+1
		return lo + min(int64(u*float64(n)), n-1)
	}
	return sp.Values[min(int(u*float64(len(sp.Values))), len(sp.Values)-1)]
}

func round6(x, lo, hi float64) float64 {
	r, _ := strconv.ParseFloat(strconv.FormatFloat(x, 'g', 6, 64), 64)
	return math.Min(math.Max(r, lo), hi)
}

// configure applies one configuration's swept values to the base trial
// and checks the result.
func (e *Experiment) configure(ps *problems, a map[string]any) Trial {
	t := Trial{
		Objective: e.Objective.clone(), Architecture: e.Architecture.clone(), Attention: e.Attention.clone(),
		Train: e.Train, Params: a,
	}
	for _, k := range sortedKeys(a) {
		seg := splitParam(k)
		sec, key := seg[0], seg[1]
		if sec == "train" {
			tk, _ := trainKey(key)
			if want := tk.set(&t.Train, a[k]); want != "" { // decodeParam checked lists and bounds
				ps.add(path("sweep", "parameters", k), show(a[k]), want)
			}
			continue
		}
		c := t.component(sec)
		if key == "plugin" {
			c.Plugin, _ = a[k].(string)
		} else {
			c.Params[key] = a[k]
		}
	}
	for _, sec := range []string{"objective", "architecture"} {
		if t.component(sec).Plugin == "" {
			ps.add(path("trial", sec, "plugin"), "nothing", "the name of the "+sec+" plugin")
		}
	}
	if t.Attention.Plugin == "" && len(t.Attention.Params) > 0 {
		ps.add(path("trial", "attention", "plugin"), "nothing", "the attention plugin's name (the section has parameters)")
	}
	if key, got, want := t.Train.crossCheck(); key != "" {
		if len(a) > 0 {
			got += " in configuration " + showParams(a)
		}
		ps.add(path("trial", "train", key), got, want)
	}
	return t
}

// component returns the trial's component for a section name.
func (t *Trial) component(section string) *Component {
	switch section {
	case "objective":
		return &t.Objective
	case "architecture":
		return &t.Architecture
	}
	return &t.Attention
}

// showParams renders swept values as {path: value, ...} in path order.
func showParams(a map[string]any) string {
	parts := make([]string, 0, len(a))
	for _, k := range sortedKeys(a) {
		parts = append(parts, k+": "+show(a[k]))
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// identify computes the trial's ID and ConfigID from its configuration.
func (t *Trial) identify() {
	comp := func(c Component) any {
		if c.Plugin == "" {
			return nil
		}
		return map[string]any{"plugin": c.Plugin, "params": c.Params}
	}
	doc := map[string]any{
		"format":       "attnlab.trial.v1",
		"objective":    comp(t.Objective),
		"architecture": comp(t.Architecture),
		"attention":    comp(t.Attention),
		"train":        t.Train.identity(),
	}
	t.ConfigID = hashJSON(doc)
	doc["seed"] = t.Seed
	t.ID = hashJSON(doc)
}

// canonicalJSON encodes v with encoding/json, which sorts map keys and
// prints each number the shortest way that reads back exactly.
func canonicalJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil { // only finite scalars, strings and maps get here
		panic("experiments: canonical JSON: " + err.Error())
	}
	return string(b)
}

// hashJSON is the hex of the first 16 bytes of sha256(canonical JSON).
func hashJSON(v any) string {
	sum := sha256.Sum256([]byte(canonicalJSON(v)))
	return hex.EncodeToString(sum[:16])
}

// ConfigHash identifies the effective experiment config (file, env and
// --set merged), for the tracking store's experiments table.
func (e *Experiment) ConfigHash() string { return hashJSON(e.settings) }
