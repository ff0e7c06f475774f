package experiments

import (
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
)

func bound(x float64) *float64 { return &x }

// fakePlugins is a plugin catalog for tests, as a harness would build it
// from the plugins' Describe answers.
var fakePlugins = map[string]map[string]Schema{
	KindObjective: {
		"causal-lm": {Params: []Param{
			{Name: "dataset", Type: ParamString, Default: "copy", Doc: "data set", Choices: []string{"copy", "text", "mqar"}},
			{Name: "seq_len", Type: ParamInt, Default: int64(256), Doc: "tokens per example", Min: bound(1)},
		}},
		"needy": {Params: []Param{
			{Name: "path", Type: ParamString, Doc: "data file"},
		}},
	},
	KindArchitecture: {
		"transformer": {Params: []Param{
			{Name: "layers", Type: ParamInt, Default: int64(2), Doc: "blocks", Min: bound(1)},
			{Name: "d_model", Type: ParamInt, Default: int64(128), Doc: "width", Min: bound(1)},
			{Name: "heads", Type: ParamInt, Default: int64(4), Doc: "attention heads", Min: bound(1)},
			{Name: "dropout", Type: ParamFloat, Default: 0.0, Doc: "dropout probability", Min: bound(0), Max: bound(1)},
			{Name: "tie", Type: ParamBool, Default: true, Doc: "tie embeddings"},
		}},
	},
	KindAttention: {
		"full":   {},
		"flash":  {Params: []Param{{Name: "block", Type: ParamInt, Default: int64(64), Doc: "tile size", Min: bound(16)}}},
		"crashy": {},
	},
}

// fakeDescribe answers from fakePlugins and counts the calls.
func fakeDescribe(calls map[string]int) DescribeFunc {
	return func(kind, plugin string) (Schema, error) {
		calls[kind+"/"+plugin]++
		if plugin == "crashy" {
			return Schema{}, errors.New("plugin exited before the handshake: signal: killed")
		}
		s, ok := fakePlugins[kind][plugin]
		if !ok {
			var names []string
			for n := range fakePlugins[kind] {
				names = append(names, n)
			}
			sort.Strings(names)
			return Schema{}, &UnknownPluginError{Kind: kind, Plugin: plugin, Available: names}
		}
		return s, nil
	}
}

func TestValidateTrials(t *testing.T) {
	calls := map[string]int{}
	e := mustLoad(t, "grid.yaml", nil, nil)
	ts := mustTrials(t, e)
	provisional, _ := ids(ts)
	if err := e.ValidateTrials(ts, fakeDescribe(calls)); err != nil {
		t.Fatal(err)
	}
	golden(t, "validate.golden", dumpTrials(ts))
	// Describe runs once per plugin, not once per trial.
	want := map[string]int{"objective/causal-lm": 1, "arch/transformer": 1, "attention/full": 1, "attention/flash": 1}
	if !reflect.DeepEqual(calls, want) {
		t.Errorf("describe calls %v, want %v", calls, want)
	}
	// Resolution filled in defaults, so the IDs changed.
	resolved, _ := ids(ts)
	if resolved[0] == provisional[0] {
		t.Error("IDs were not recomputed after resolution")
	}

	// Writing a default out gives the same resolved trials.
	e2 := mustLoad(t, "grid.yaml", []string{"architecture.dropout=0", "architecture.tie=true", "objective.dataset=copy"}, nil)
	ts2, err := e2.Resolve(fakeDescribe(map[string]int{}))
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := ids(ts2); !reflect.DeepEqual(got, resolved) {
		t.Errorf("defaults written out: IDs %v, want %v", got, resolved)
	}

	// Random sweeps resolve too (architecture.dropout is swept there).
	if _, err := mustLoad(t, "random.yaml", nil, nil).Resolve(fakeDescribe(map[string]int{})); err != nil {
		t.Errorf("random.yaml: %v", err)
	}
}

func TestValidateErrors(t *testing.T) {
	cases := []struct {
		file      string
		overrides []string
	}{
		{"minimal.yaml", []string{"attention.plugin=flsh"}},
		{"validate/unknown_swept.yaml", nil},
		{"validate/conditional.yaml", nil},
		{"minimal.yaml", []string{"attention.window=64", "architecture.depth=2"}},
		{"minimal.yaml", []string{"architecture.layers=two", "objective.seq_len=1.5", "architecture.dropout=1.5", "objective.dataset=wiki", "architecture.tie=1"}},
		{"validate/needy.yaml", nil},
	}
	var b strings.Builder
	for _, c := range cases {
		e := mustLoad(t, c.file, c.overrides, nil)
		ts := mustTrials(t, e)
		before := dumpTrials(ts)
		err := e.ValidateTrials(ts, fakeDescribe(map[string]int{}))
		if err == nil {
			t.Errorf("%s %q: no error", c.file, c.overrides)
		}
		if dumpTrials(ts) != before {
			t.Errorf("%s %q: trials changed although validation failed", c.file, c.overrides)
		}
		fmt.Fprintf(&b, "== %s --set %q\n%s\n", c.file, c.overrides, err)
	}

	// No plugins of a kind at all.
	e := mustLoad(t, "minimal.yaml", nil, nil)
	err := e.ValidateTrials(mustTrials(t, e), func(kind, plugin string) (Schema, error) {
		return Schema{}, &UnknownPluginError{Kind: kind, Plugin: plugin}
	})
	fmt.Fprintf(&b, "== no plugins installed\n%s", dumpError(t, err))

	// Two trials that are the same once resolved.
	grid := mustLoad(t, "grid.yaml", nil, nil)
	ts := mustTrials(t, grid)
	dup := append(ts[:2:2], ts[0])
	dup[2].Index = 2
	err = grid.ValidateTrials(dup, fakeDescribe(map[string]int{}))
	fmt.Fprintf(&b, "== duplicate trials\n%s", dumpError(t, err))

	golden(t, "validate_errors.golden", b.String())

	// A plugin that fails to describe itself is not a config error.
	needy := mustLoad(t, "validate/needy.yaml", nil, nil)
	err = needy.ValidateTrials(mustTrials(t, needy), fakeDescribe(map[string]int{}))
	if !strings.Contains(err.Error(), "signal: killed") {
		t.Errorf("describe failure lost: %v", err)
	}
}

func TestUnknownPluginError(t *testing.T) {
	err := error(&UnknownPluginError{Kind: "attention", Plugin: "flsh", Available: []string{"flash", "full"}})
	if got, want := err.Error(), `no attention plugin "flsh" (available: flash, full)`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func TestLoadPathInErrors(t *testing.T) {
	_, err := Load(filepath.Join("testdata", "bad", "range.yaml"), nil, nil)
	var ce *ConfigError
	if !errors.As(err, &ce) || ce.File != filepath.Join("testdata", "bad", "range.yaml") || ce.Line == 0 || ce.Path == "" {
		t.Errorf("first problem %+v: want file, line and path set", ce)
	}
}
