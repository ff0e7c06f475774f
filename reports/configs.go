package reports

import (
	"cmp"
	"encoding/json"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/attnlab/attnlab/tracking"
)

// seqLenParam is the param path of the sequence length.
const seqLenParam = "objective.seq_len"

// Config is one configuration: the trials that share every param but the
// seed.
type Config struct {
	Name   string            // C1, C2, ... in sorted order
	Label  string            // the params that differ between configurations ("" when none do)
	Params map[string]string // every param but the seed
	SeqLen int               // objective.seq_len; 0 when unknown
	Trials []tracking.Trial  // sorted by seed, then id

	Finished int                     // trials with status finished
	Counts   map[tracking.Status]int // trials in each status

	// Over the finished trials' summaries.
	EvalLoss, EvalAccuracy, StepMS, TokensPerS, PeakRSS Stat

	idx   int    // position in the sorted list: picks the colour
	other string // Label without the sequence length: the line of a scaling plot
	key   string // every param, canonical: identifies the configuration
}

// Param is one key and value.
type Param struct{ Key, Value string }

// groupConfigs groups trials into sorted, named configurations, and
// returns the params every configuration shares.
func groupConfigs(trials []tracking.Trial) ([]*Config, []Param) {
	byKey := map[string]*Config{}
	var configs []*Config
	for _, t := range trials {
		params := map[string]string{}
		for k, v := range t.Params {
			if k != "seed" {
				params[k] = v
			}
		}
		key := paramString(params, slices.Sorted(maps.Keys(params)), "\x00")
		c := byKey[key]
		if c == nil {
			c = &Config{Params: params, Counts: map[tracking.Status]int{}, key: key}
			byKey[key] = c
			configs = append(configs, c)
		}
		c.Trials = append(c.Trials, t)
	}
	if len(configs) == 0 {
		return nil, nil
	}
	keys := map[string]bool{}
	for _, c := range configs {
		for k := range c.Params {
			keys[k] = true
		}
	}
	all := slices.Sorted(maps.Keys(keys))
	slices.SortFunc(configs, func(a, b *Config) int {
		for _, k := range all {
			if c := compareValues(a.Params[k], b.Params[k]); c != 0 {
				return c
			}
		}
		return strings.Compare(a.key, b.key) // a missing param and an empty one
	})
	var varying []string
	var fixed []Param
	for _, k := range all {
		v, ok := configs[0].Params[k]
		same := true
		for _, c := range configs[1:] {
			if w, ok2 := c.Params[k]; ok2 != ok || w != v {
				same = false
				break
			}
		}
		if same {
			fixed = append(fixed, Param{k, v})
		} else {
			varying = append(varying, k)
		}
	}
	for i, c := range configs {
		c.Name, c.idx = "C"+strconv.Itoa(i+1), i
		c.Label = paramString(c.Params, varying, " ")
		c.other = paramString(c.Params, slices.DeleteFunc(slices.Clone(varying), func(k string) bool { return k == seqLenParam }), " ")
		slices.SortFunc(c.Trials, func(a, b tracking.Trial) int {
			return cmp.Or(cmp.Compare(a.Seed, b.Seed), strings.Compare(a.ID, b.ID))
		})
		c.SeqLen = seqLen(c.Trials[0])
		summariseConfig(c)
	}
	return configs, fixed
}

// paramString joins key=value for keys (a missing value shows as "-").
func paramString(p map[string]string, keys []string, sep string) string {
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		v, ok := p[k]
		if !ok {
			v = "-"
		}
		parts = append(parts, k+"="+v)
	}
	return strings.Join(parts, sep)
}

// compareValues orders numbers numerically, before other text, and text
// lexically.
func compareValues(a, b string) int {
	fa, ea := strconv.ParseFloat(a, 64)
	fb, eb := strconv.ParseFloat(b, 64)
	switch {
	case ea == nil && eb == nil && fa != fb && finite(fa) && finite(fb):
		return cmp.Compare(fa, fb)
	case ea == nil && eb != nil:
		return -1
	case ea != nil && eb == nil:
		return 1
	}
	return strings.Compare(a, b)
}

func summariseConfig(c *Config) {
	var loss, acc, ms, tps, rss []float64
	for _, t := range c.Trials {
		c.Counts[t.Status]++
		if t.Status != tracking.StatusFinished {
			continue
		}
		c.Finished++
		loss = append(loss, summary(t, "eval/loss"))
		acc = append(acc, summary(t, "eval/accuracy"))
		ms = append(ms, summary(t, "step_ms"))
		tps = append(tps, summary(t, "tokens_per_s"))
		rss = append(rss, summary(t, "peak_rss_mb"))
	}
	c.EvalLoss, c.EvalAccuracy, c.StepMS = summarise(loss), summarise(acc), summarise(ms)
	c.TokensPerS, c.PeakRSS = summarise(tps), summarise(rss)
}

func summary(t tracking.Trial, key string) float64 {
	if v, ok := t.Summaries[key]; ok {
		return v
	}
	return nan
}

// seqLen reads the sequence length from the params, else from the
// resolved config ({"objective": {"Params": {"seq_len": 128}}}); 0 when
// neither has it.
func seqLen(t tracking.Trial) int {
	if v, ok := t.Params[seqLenParam]; ok {
		if n, err := strconv.ParseFloat(v, 64); err == nil && n >= 1 && n < 1<<31 {
			return int(n)
		}
	}
	var cfg map[string]any
	if json.Unmarshal([]byte(t.ConfigJSON), &cfg) != nil {
		return 0
	}
	obj, _ := lookupFold(cfg, "objective").(map[string]any)
	v := lookupFold(obj, "seq_len")
	if v == nil {
		p, _ := lookupFold(obj, "params").(map[string]any)
		v = lookupFold(p, "seq_len")
	}
	if n, ok := v.(float64); ok && n >= 1 && n < 1<<31 {
		return int(n)
	}
	return 0
}

// lookupFold finds a key case-insensitively (the resolved config's
// component fields are "Plugin" and "Params").
func lookupFold(m map[string]any, key string) any {
	if v, ok := m[key]; ok {
		return v
	}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if strings.EqualFold(k, key) {
			return m[k]
		}
	}
	return nil
}

// legendName is a configuration's name and, when short enough, its label.
func (c *Config) legendName() string {
	switch {
	case c.Label == "":
		return c.Name
	case len([]rune(c.Label)) > 48:
		return c.Name + ": " + string([]rune(c.Label)[:45]) + "..."
	}
	return c.Name + ": " + c.Label
}
