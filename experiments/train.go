package experiments

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Train is the typed train section of a trial: the harness's training
// loop settings. Every field is one row of TrainKeys.
type Train struct {
	Steps       int           // optimiser steps
	Batch       int           // examples per batch
	LR          float64       // peak learning rate
	MinLR       float64       // learning rate at the end of the schedule
	Warmup      int           // linear warm-up steps
	Schedule    string        // cosine, linear or constant
	Optimizer   string        // adamw or sgd
	WeightDecay float64       // decoupled (AdamW) or L2 (SGD)
	Beta1       float64       // AdamW
	Beta2       float64       // AdamW
	Eps         float64       // AdamW
	Momentum    float64       // SGD
	Clip        float64       // global gradient-norm clip; 0 = off
	EvalEvery   int           // steps between evaluations; 0 = only at the end
	EvalBatches int           // batches per evaluation
	Threads     int           // kernel threads per trial
	Timeout     time.Duration // wall-clock limit per trial; 0 = none
	Retries     int           // re-runs of a crashed trial
}

// Value types of train keys.
const (
	TypeInt      = "int"
	TypeFloat    = "float"
	TypeString   = "string"
	TypeDuration = "duration"
)

// TrainKey defines one key of the train section: its type, default,
// allowed range and documentation. TrainKeys drives decoding, validation,
// trial identity and the documentation table in doc.go (a test keeps them
// equal).
type TrainKey struct {
	Name    string
	Type    string   // TypeInt, TypeFloat, TypeString or TypeDuration
	Default any      // int, float64, string or time.Duration
	Range   Range    // for numbers and durations
	Choices []string // for strings
	Doc     string   // one line
	// Runtime keys change how a trial is run, not what it computes
	// (DESIGN: results are identical whatever the thread count), so
	// they are left out of the trial ID: raising a timeout does not
	// invalidate finished trials.
	Runtime bool
	field   func(*Train) any // pointer to the field
}

// Range is an interval of allowed values; a missing bound is open-ended.
type Range struct {
	Min, Max       float64
	HasMin, HasMax bool
	MinOpen        bool // Min itself is excluded
	MaxOpen        bool
}

func atLeast(x float64) Range { return Range{Min: x, HasMin: true} }
func above(x float64) Range   { return Range{Min: x, HasMin: true, MinOpen: true} }
func unitInterval() Range     { return Range{Min: 0, Max: 1, HasMin: true, HasMax: true, MaxOpen: true} }
func (r Range) contains(x float64) bool {
	return !(r.HasMin && (x < r.Min || r.MinOpen && x == r.Min)) &&
		!(r.HasMax && (x > r.Max || r.MaxOpen && x == r.Max))
}

// String renders the range as in the docs: "> 0", ">= 1", "in [0, 1)".
func (r Range) String() string {
	switch {
	case r.HasMin && r.HasMax:
		lo, hi := "[", "]"
		if r.MinOpen {
			lo = "("
		}
		if r.MaxOpen {
			hi = ")"
		}
		return fmt.Sprintf("in %s%s, %s%s", lo, formatFloat(r.Min), formatFloat(r.Max), hi)
	case r.HasMin && r.MinOpen:
		return "> " + formatFloat(r.Min)
	case r.HasMin:
		return ">= " + formatFloat(r.Min)
	case r.HasMax:
		return "<= " + formatFloat(r.Max)
	}
	return ""
}

// TrainKeys is every key of the train section, in documentation order.
var TrainKeys = []TrainKey{
	{Name: "steps", Type: TypeInt, Default: 1000, Range: above(0), Doc: "optimiser steps", field: func(t *Train) any { return &t.Steps }},
	{Name: "batch", Type: TypeInt, Default: 8, Range: above(0), Doc: "examples per batch", field: func(t *Train) any { return &t.Batch }},
	{Name: "lr", Type: TypeFloat, Default: 1e-3, Range: above(0), Doc: "peak learning rate (after warm-up)", field: func(t *Train) any { return &t.LR }},
	{Name: "min_lr", Type: TypeFloat, Default: 0.0, Range: atLeast(0), Doc: "learning rate at the last step; at most lr", field: func(t *Train) any { return &t.MinLR }},
	{Name: "warmup", Type: TypeInt, Default: 0, Range: atLeast(0), Doc: "linear warm-up steps from 0 to lr; at most steps", field: func(t *Train) any { return &t.Warmup }},
	{Name: "schedule", Type: TypeString, Default: "cosine", Choices: []string{"cosine", "linear", "constant"}, Doc: "decay from lr to min_lr after warm-up", field: func(t *Train) any { return &t.Schedule }},
	{Name: "optimizer", Type: TypeString, Default: "adamw", Choices: []string{"adamw", "sgd"}, Doc: "optimiser", field: func(t *Train) any { return &t.Optimizer }},
	{Name: "weight_decay", Type: TypeFloat, Default: 0.1, Range: atLeast(0), Doc: "decoupled (adamw) or L2 (sgd) weight decay", field: func(t *Train) any { return &t.WeightDecay }},
	{Name: "beta1", Type: TypeFloat, Default: 0.9, Range: unitInterval(), Doc: "adamw first-moment decay", field: func(t *Train) any { return &t.Beta1 }},
	{Name: "beta2", Type: TypeFloat, Default: 0.999, Range: unitInterval(), Doc: "adamw second-moment decay", field: func(t *Train) any { return &t.Beta2 }},
	{Name: "eps", Type: TypeFloat, Default: 1e-8, Range: above(0), Doc: "adamw denominator epsilon", field: func(t *Train) any { return &t.Eps }},
	{Name: "momentum", Type: TypeFloat, Default: 0.0, Range: unitInterval(), Doc: "sgd momentum; 0 = none", field: func(t *Train) any { return &t.Momentum }},
	{Name: "clip", Type: TypeFloat, Default: 1.0, Range: atLeast(0), Doc: "global gradient-norm clip; 0 = off", field: func(t *Train) any { return &t.Clip }},
	{Name: "eval_every", Type: TypeInt, Default: 100, Range: atLeast(0), Doc: "steps between evaluations; 0 = only after the last step", field: func(t *Train) any { return &t.EvalEvery }},
	{Name: "eval_batches", Type: TypeInt, Default: 4, Range: above(0), Doc: "eval batches per evaluation", field: func(t *Train) any { return &t.EvalBatches }},
	{Name: "threads", Type: TypeInt, Default: 1, Range: above(0), Doc: "kernel threads per trial (not in the trial ID)", Runtime: true, field: func(t *Train) any { return &t.Threads }},
	{Name: "timeout", Type: TypeDuration, Default: time.Duration(0), Range: atLeast(0), Doc: "wall-clock limit per attempt, e.g. 10m; 0 = none (not in the trial ID)", Runtime: true, field: func(t *Train) any { return &t.Timeout }},
	{Name: "retries", Type: TypeInt, Default: 0, Range: atLeast(0), Doc: "re-runs of a crashed or timed-out trial (not in the trial ID)", Runtime: true, field: func(t *Train) any { return &t.Retries }},
}

// trainKey returns the definition of a train key.
func trainKey(name string) (TrainKey, bool) {
	for _, k := range TrainKeys {
		if k.Name == name {
			return k, true
		}
	}
	return TrainKey{}, false
}

func trainKeyNames() []string {
	names := make([]string, len(TrainKeys))
	for i, k := range TrainKeys {
		names[i] = k.Name
	}
	return names
}

// DefaultTrain returns the train section with every default.
func DefaultTrain() Train {
	var t Train
	for _, k := range TrainKeys {
		if err := k.set(&t, k.Default); err != "" {
			panic("experiments: bad default for train." + k.Name + ": " + err)
		}
	}
	return t
}

// set checks v (as decoded from YAML) against the key's type and range
// and stores it; it returns what was wanted if v does not fit.
func (k TrainKey) set(t *Train, v any) (want string) {
	switch p := k.field(t).(type) {
	case *int:
		i, ok := asInt(v)
		if !ok {
			return "an integer " + k.Range.String()
		}
		if !k.Range.contains(float64(i)) {
			return "an integer " + k.Range.String()
		}
		*p = int(i)
	case *float64:
		f, ok := asFloat(v)
		if !ok || !k.Range.contains(f) {
			return "a number " + k.Range.String()
		}
		*p = f
	case *string:
		s, ok := v.(string)
		if !ok || !contains(k.Choices, s) {
			return oneOf(k.Choices)
		}
		*p = s
	case *time.Duration:
		d, ok := asDuration(v)
		if !ok || !k.Range.contains(float64(d)) {
			return "a duration like 90s, 10m or 1h30m (0 = none)"
		}
		*p = d
	}
	return ""
}

// get returns the key's value in t: int64, float64, string or, for
// durations, the duration's string ("10m0s").
func (k TrainKey) get(t *Train) any {
	switch p := k.field(t).(type) {
	case *int:
		return int64(*p)
	case *float64:
		return *p
	case *string:
		return *p
	case *time.Duration:
		return p.String()
	}
	return nil
}

// Values returns every train key with its value (int64, float64, string;
// durations as strings like "10m0s"), for tracking and reports.
func (t Train) Values() map[string]any {
	m := make(map[string]any, len(TrainKeys))
	for _, k := range TrainKeys {
		m[k.Name] = k.get(&t)
	}
	return m
}

// identity returns the keys that define what a trial computes.
func (t Train) identity() map[string]any {
	m := map[string]any{}
	for _, k := range TrainKeys {
		if !k.Runtime {
			m[k.Name] = k.get(&t)
		}
	}
	return m
}

// crossCheck checks the constraints between keys; it returns the key at
// fault, what was given and what was wanted.
func (t Train) crossCheck() (key, got, want string) {
	if t.MinLR > t.LR {
		return "min_lr", fmt.Sprintf("%s with lr %s", formatFloat(t.MinLR), formatFloat(t.LR)), "min_lr <= lr"
	}
	if t.Warmup > t.Steps {
		return "warmup", fmt.Sprintf("%d with steps %d", t.Warmup, t.Steps), "warmup <= steps"
	}
	return "", "", ""
}

// TrainKeysTable renders TrainKeys as the table in the package
// documentation: one line per key with type, default, range and doc.
func TrainKeysTable() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-13s %-9s %-8s %-23s %s\n", "key", "type", "default", "allowed", "doc")
	for _, k := range TrainKeys {
		def := ""
		switch d := k.Default.(type) {
		case float64:
			def = formatFloat(d)
		case time.Duration:
			def = strconv.Itoa(int(d))
		default:
			def = fmt.Sprint(d)
		}
		allowed := k.Range.String()
		if len(k.Choices) > 0 {
			allowed = strings.Join(k.Choices, "|")
		}
		fmt.Fprintf(&b, "%-13s %-9s %-8s %-23s %s\n", k.Name, k.Type, def, allowed, k.Doc)
	}
	return b.String()
}

// asInt returns v as an integer if it is one: a YAML int, or a float with
// no fractional part (1e3).
func asInt(v any) (int64, bool) {
	switch x := v.(type) {
	case int:
		return int64(x), true
	case int64:
		return x, true
	case uint64:
		return int64(x), x <= math.MaxInt64
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<63 {
			return int64(x), true
		}
	}
	return 0, false
}

// asFloat returns v as a finite number.
func asFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case uint64:
		return float64(x), true
	case float64:
		return x, !math.IsNaN(x) && !math.IsInf(x, 0)
	}
	return 0, false
}

// asDuration reads a Go duration string ("10m") or the number 0.
func asDuration(v any) (time.Duration, bool) {
	if d, ok := v.(time.Duration); ok {
		return d, true
	}
	if s, ok := v.(string); ok {
		d, err := time.ParseDuration(s)
		return d, err == nil
	}
	if i, ok := asInt(v); ok && i == 0 {
		return 0, true
	}
	return 0, false
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}
