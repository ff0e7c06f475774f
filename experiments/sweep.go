package experiments

import (
	"strconv"
	"strings"
)

// Sweep methods.
const (
	MethodGrid   = "grid"
	MethodRandom = "random"
)

// Distributions of random sweep parameters.
const (
	DistChoice     = "choice"
	DistUniform    = "uniform"
	DistLogUniform = "log_uniform"
	DistInt        = "int"
)

var distributions = []string{DistChoice, DistUniform, DistLogUniform, DistInt}

// Sweep is the sweep section: which trial keys vary, and how.
type Sweep struct {
	Method  string       // MethodGrid or MethodRandom
	Samples int          // random: configurations drawn
	Params  []SweepParam // sorted by Path
}

// SweepParam is one swept key.
type SweepParam struct {
	Path         string  // SECTION.KEY, e.g. "train.lr", "attention.plugin"
	Distribution string  // "" for a list of values, else one of choice, uniform, log_uniform, int
	Values       []any   // a list's or choice's values (ints as int64)
	Min, Max     float64 // uniform, log_uniform, int (both inclusive)
}

// splitParam splits a parameter path into section and key.
func splitParam(p string) []string {
	sec, key, _ := strings.Cut(p, ".")
	return []string{sec, key}
}

func decodeSweep(ps *problems, v any) *Sweep {
	p := path("sweep")
	m, ok := v.(map[string]any)
	if !ok {
		ps.add(p, show(v), "a mapping with method, samples and parameters")
		return nil
	}
	unknownKeys(ps, p, m, []string{"method", "samples", "parameters"})
	sw := &Sweep{Method: MethodGrid}
	if mv, ok := m["method"]; ok {
		if s, _ := mv.(string); s == MethodGrid || s == MethodRandom {
			sw.Method = s
		} else {
			ps.add(p.with("method"), show(mv), "grid or random")
		}
	}
	if sv, ok := m["samples"]; ok {
		n, isInt := asInt(sv)
		switch {
		case sw.Method == MethodGrid:
			ps.add(p.with("samples"), show(sv), "no samples with method grid (a grid runs every combination; use method: random to draw samples)")
		case !isInt || n < 1 || n > maxTrials:
			ps.add(p.with("samples"), show(sv), "an integer in [1, "+strconv.Itoa(maxTrials)+"]")
		default:
			sw.Samples = int(n)
		}
	} else if sw.Method == MethodRandom {
		ps.add(p.with("samples"), "nothing", "the number of configurations to draw (method random needs samples: N)")
	}
	pm, isMap := m["parameters"].(map[string]any)
	switch {
	case len(pm) == 0 && (m["parameters"] == nil || isMap):
		ps.add(p.with("parameters"), "an empty sweep", "at least one parameter, like attention.plugin: [full, flash] (or no sweep section)")
	case !isMap:
		ps.add(p.with("parameters"), show(m["parameters"]), "a mapping of SECTION.KEY to a list of values or a distribution")
	}
	for _, k := range sortedKeys(pm) {
		if sp, ok := decodeParam(ps, sw.Method, k, pm[k]); ok {
			sw.Params = append(sw.Params, sp)
		}
	}
	return sw
}

// decodeParam reads one sweep parameter and checks its values against
// the key's type where it is known (train keys; plugin names).
func decodeParam(ps *problems, method, name string, v any) (SweepParam, bool) {
	pp := path("sweep", "parameters", name)
	sec, key, _ := strings.Cut(name, ".")
	if !contains(sections, sec) || key == "" || strings.Contains(key, ".") {
		ps.add(pp, "a parameter "+strconv.Quote(name),
			"a path SECTION.KEY with SECTION one of objective, architecture, attention, train (like train.lr or attention.plugin)")
		return SweepParam{}, false
	}
	tk, isTrain := trainKey(key)
	if sec == "train" && !isTrain {
		ps.add(pp, "an unknown train key "+strconv.Quote(key), oneOf(trainKeyNames()))
		return SweepParam{}, false
	}
	if sec == "train" && tk.Runtime {
		ps.add(pp, "a sweep over a runtime setting",
			"a key that changes results: trials that differ only in "+name+" are the same trial (set it with --set "+name+"=VALUE)")
		return SweepParam{}, false
	}
	// check tells whether a value fits the key, as far as it is known here.
	check := func(x any) string {
		switch {
		case sec == "train":
			var t Train
			return tk.set(&t, x)
		case key == "plugin":
			if s, ok := x.(string); !ok || s == "" {
				return "a plugin name"
			}
		}
		return ""
	}
	categorical := key == "plugin" || sec == "train" && (tk.Type == TypeString || tk.Type == TypeDuration)

	sp := SweepParam{Path: name}
	ok := true
	switch x := v.(type) {
	case []any:
		sp.Values, ok = decodeValues(ps, pp, x, check)
	case map[string]any:
		ok = decodeDistribution(ps, pp, method, x, &sp, check, categorical, sec == "train" && tk.Type == TypeInt)
	default:
		ps.add(pp, show(v), "a list of values like [1, 2] or a distribution like {distribution: uniform, min: 0, max: 1}")
		ok = false
	}
	return sp, ok
}

// decodeValues checks a list of values: not empty, scalars, distinct.
func decodeValues(ps *problems, p keyPath, xs []any, check func(any) string) ([]any, bool) {
	if len(xs) == 0 {
		ps.add(p, "an empty list", "at least one value")
		return nil, false
	}
	ok := true
	seen := map[string]int{}
	out := make([]any, len(xs))
	for i, x := range xs {
		ip := p.with("[" + strconv.Itoa(i) + "]")
		v, isScalar := scalar(x)
		if !isScalar {
			ps.add(ip, show(x), "a scalar: a finite number, a string or true/false")
			ok = false
			continue
		}
		if want := check(v); want != "" {
			ps.add(ip, show(x), want)
			ok = false
			continue
		}
		if j, dup := seen[show(v)]; dup {
			ps.add(ip, show(x)+" again (it is item "+strconv.Itoa(j)+")", "distinct values")
			ok = false
		}
		seen[show(v)] = i
		out[i] = v
	}
	return out, ok
}

func decodeDistribution(ps *problems, p keyPath, method string, m map[string]any, sp *SweepParam,
	check func(any) string, categorical, integer bool) bool {
	d, _ := m["distribution"].(string)
	switch {
	case m["distribution"] == nil:
		ps.add(p.with("distribution"), "nothing", oneOf(distributions))
		return false
	case !contains(distributions, d):
		ps.add(p.with("distribution"), show(m["distribution"]), oneOf(distributions))
		return false
	case method == MethodGrid:
		ps.add(p, "a "+d+" distribution", "a list of values: method grid takes lists (use method: random to sample distributions)")
		return false
	case categorical && d != DistChoice:
		ps.add(p.with("distribution"), strconv.Quote(d), "choice (or a list): "+sp.Path+" takes names, not numbers")
		return false
	case integer && (d == DistUniform || d == DistLogUniform):
		ps.add(p.with("distribution"), strconv.Quote(d), "int or choice (or a list): "+sp.Path+" is an integer")
		return false
	}
	sp.Distribution = d
	if d == DistChoice {
		unknownKeys(ps, p, m, []string{"distribution", "values"})
		xs, isList := m["values"].([]any)
		if !isList {
			ps.add(p.with("values"), show(m["values"]), "a list of values to choose from")
			return false
		}
		var ok bool
		sp.Values, ok = decodeValues(ps, p.with("values"), xs, check)
		return ok
	}
	unknownKeys(ps, p, m, []string{"distribution", "min", "max"})
	ok := true
	bound := func(name string) float64 {
		v, present := m[name]
		f, isNum := asFloat(v)
		switch {
		case !present:
			ps.add(p.with(name), "nothing", "a number: "+d+" draws between min and max")
		case d == DistInt && !isInt(v):
			ps.add(p.with(name), show(v), "an integer: int draws integers between min and max, both included")
		case !isNum:
			ps.add(p.with(name), show(v), "a number")
		case d == DistLogUniform && f <= 0:
			ps.add(p.with(name), show(v), "a number > 0 (log_uniform draws on a log scale)")
		default:
			if want := check(v); want != "" {
				ps.add(p.with(name), show(v), want)
			} else {
				return f
			}
		}
		ok = false
		return 0
	}
	sp.Min, sp.Max = bound("min"), bound("max")
	if ok && sp.Min >= sp.Max {
		ps.add(p.with("max"), show(m["max"]), "a number > min ("+show(m["min"])+")")
		ok = false
	}
	return ok
}

func isInt(v any) bool {
	_, ok := asInt(v)
	return ok
}
