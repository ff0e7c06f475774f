package experiments

import (
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func mustLoad(t *testing.T, file string, overrides, env []string) *Experiment {
	t.Helper()
	e, err := Load(filepath.Join("testdata", file), overrides, env)
	if err != nil {
		t.Fatalf("Load(%s): %v", file, err)
	}
	return e
}

func mustTrials(t *testing.T, e *Experiment) []Trial {
	t.Helper()
	ts, err := e.Trials()
	if err != nil {
		t.Fatalf("Trials: %v", err)
	}
	return ts
}

func dumpExperiment(e *Experiment) string {
	var b strings.Builder
	fmt.Fprintf(&b, "name %s seed %d repeats %d parallel %d\n", e.Name, e.Seed, e.Repeats, e.Parallel)
	if e.Sweep != nil {
		fmt.Fprintf(&b, "sweep %s samples %d\n", e.Sweep.Method, e.Sweep.Samples)
		for _, sp := range e.Sweep.Params {
			if sp.Values != nil {
				fmt.Fprintf(&b, "  %s %q values %s\n", sp.Path, sp.Distribution, show(sp.Values))
			} else {
				fmt.Fprintf(&b, "  %s %q min %g max %g\n", sp.Path, sp.Distribution, sp.Min, sp.Max)
			}
		}
	}
	if e.EarlyStop != nil {
		fmt.Fprintf(&b, "early_stop %+v\n", *e.EarlyStop)
	}
	return b.String()
}

func TestGrid(t *testing.T) {
	e := mustLoad(t, "grid.yaml", nil, nil)
	ts := mustTrials(t, e)
	if len(ts) != 8 {
		t.Fatalf("got %d trials, want 2 plugins x 2 lengths x 2 repeats = 8", len(ts))
	}
	golden(t, "grid.golden", dumpExperiment(e)+dumpTrials(ts))
}

func TestRandom(t *testing.T) {
	e := mustLoad(t, "random.yaml", nil, nil)
	ts := mustTrials(t, e)
	golden(t, "random.golden", dumpExperiment(e)+dumpTrials(ts))
	// Deterministic: a second load and expansion give the same trials.
	again := mustTrials(t, mustLoad(t, "random.yaml", nil, nil))
	if !reflect.DeepEqual(ts, again) {
		t.Error("two expansions of random.yaml differ")
	}
	for _, tr := range ts {
		lr := tr.Train.LR
		if lr < 1e-4 || lr > 1e-2 {
			t.Errorf("trial %d: lr %g outside [1e-4, 1e-2]", tr.Index, lr)
		}
		if l := tr.Architecture.Params["layers"].(int64); l < 1 || l > 4 {
			t.Errorf("trial %d: layers %d outside [1, 4]", tr.Index, l)
		}
	}
}

func TestRandomKeepsDuplicatesOnce(t *testing.T) {
	ts := mustTrials(t, mustLoad(t, "choices.yaml", nil, nil))
	golden(t, "choices.golden", dumpTrials(ts))
	if len(ts) > 4 {
		t.Errorf("got %d trials from a space of 4 configurations", len(ts))
	}
}

func TestNoSweep(t *testing.T) {
	ts := mustTrials(t, mustLoad(t, "minimal.yaml", nil, nil))
	if len(ts) != 1 || ts[0].Seed != 1 || len(ts[0].Params) != 0 {
		t.Fatalf("minimal.yaml: got %d trials (%+v), want one with seed 1 and no params", len(ts), ts)
	}
	want := DefaultTrain()
	want.Steps = 100
	if ts[0].Train != want {
		t.Errorf("train = %+v, want the defaults with steps 100: %+v", ts[0].Train, want)
	}
}

func TestMergeKeys(t *testing.T) {
	ts := mustTrials(t, mustLoad(t, "merge.yaml", nil, nil))
	if got := ts[0].Attention; got.Plugin != "full" || got.Params["layers"] != int64(2) {
		t.Errorf("attention = %+v, want full with the merged layers: 2", got)
	}
}

// TestOverrides checks file < env < --set, both spellings of a path,
// and which ATTNLAB_* variables are config keys.
func TestOverrides(t *testing.T) {
	cases := []struct {
		name      string
		overrides []string
		env       []string
	}{
		{"file only", nil, nil},
		{"env over file", nil, []string{"ATTNLAB_TRAIN_LR=3e-4", "PATH=/bin"}},
		{"set over file", []string{"train.lr=5e-4"}, nil},
		{"set over env", []string{"train.lr=5e-4"}, []string{"ATTNLAB_TRAIN_LR=3e-4"}},
		{"last set wins", []string{"train.lr=5e-4", "trial.train.lr=7e-4"}, nil},
		{"env is sorted, not in environ order", nil, []string{"ATTNLAB_TRAIN_WEIGHT_DECAY=0", "ATTNLAB_SEED=5"}},
		{"components and top level", []string{"attention.plugin=flash", "architecture.d_model=256", "name=renamed", "repeats=2"},
			[]string{"ATTNLAB_OBJECTIVE_DATASET=text", "ATTNLAB_ARCHITECTURE_D_MODEL=64", "ATTNLAB_PARALLEL=4"}},
		{"a quoted string stays a string", []string{`objective.dataset="123"`, "train.schedule=constant"}, nil},
		{"early stop and sweep settings", []string{"early_stop.metric=acc", "early_stop.mode=max"},
			[]string{"ATTNLAB_EARLY_STOP_MIN_STEPS=7"}},
		{"non-config variables are the CLI's", nil, []string{"ATTNLAB_DB=runs.db", "ATTNLAB_PLUGINS=bin/plugins", "ATTNLAB_TRAIN="}},
	}
	var b strings.Builder
	for _, c := range cases {
		e := mustLoad(t, "minimal.yaml", c.overrides, c.env)
		ts := mustTrials(t, e)
		tr := ts[0]
		fmt.Fprintf(&b, "== %s\n--set %q\nenv %q\n", c.name, c.overrides, c.env)
		fmt.Fprintf(&b, "applied %q\n", e.Overrides)
		fmt.Fprintf(&b, "name %s seed %d repeats %d parallel %d early_stop %+v\n", e.Name, e.Seed, e.Repeats, e.Parallel, e.EarlyStop)
		fmt.Fprintf(&b, "lr %g weight_decay %g schedule %s\n", tr.Train.LR, tr.Train.WeightDecay, tr.Train.Schedule)
		fmt.Fprintf(&b, "objective %s %s\narchitecture %s %s\nattention %s %s\n", tr.Objective.Plugin, showTyped(tr.Objective.Params),
			tr.Architecture.Plugin, showTyped(tr.Architecture.Params), tr.Attention.Plugin, showTyped(tr.Attention.Params))
		fmt.Fprintf(&b, "config hash %s\n", e.ConfigHash())
	}
	golden(t, "overrides.golden", b.String())

	// sweep.samples from the environment, sweep.method from --set.
	e := mustLoad(t, "random.yaml", []string{"sweep.method=random"}, []string{"ATTNLAB_SWEEP_SAMPLES=3"})
	if got := len(mustTrials(t, e)); got != 3 {
		t.Errorf("ATTNLAB_SWEEP_SAMPLES=3: got %d trials", got)
	}
}

// TestBadInput loads every bad case and checks each message against
// testdata/bad/errors.golden.
func TestBadInput(t *testing.T) {
	cases := []struct {
		file      string
		overrides []string
		env       []string
	}{
		{file: "bad/missing.yaml"},
		{file: "bad/syntax.yaml"},
		{file: "bad/empty.yaml"},
		{file: "bad/list.yaml"},
		{file: "bad/unknown_top.yaml"},
		{file: "bad/unknown_train.yaml"},
		{file: "bad/wrong_type.yaml"},
		{file: "bad/range.yaml"},
		{file: "bad/cross.yaml"},
		{file: "bad/warmup_swept.yaml"},
		{file: "bad/null.yaml"},
		{file: "bad/duplicate.yaml"},
		{file: "bad/uppercase.yaml"},
		{file: "bad/component.yaml"},
		{file: "bad/no_plugin.yaml"},
		{file: "bad/no_name.yaml"},
		{file: "bad/no_trial.yaml"},
		{file: "bad/method.yaml"},
		{file: "bad/grid_distribution.yaml"},
		{file: "bad/random_no_samples.yaml"},
		{file: "bad/grid_samples.yaml"},
		{file: "bad/random_samples.yaml"},
		{file: "bad/empty_list.yaml"},
		{file: "bad/bad_path.yaml"},
		{file: "bad/sweep_runtime.yaml"},
		{file: "bad/empty_sweep.yaml"},
		{file: "bad/no_parameters.yaml"},
		{file: "bad/empty_parameters.yaml"},
		{file: "bad/parameters_list.yaml"},
		{file: "bad/scalar_parameter.yaml"},
		{file: "bad/distribution_unknown.yaml"},
		{file: "bad/distribution_bounds.yaml"},
		{file: "bad/distribution_type.yaml"},
		{file: "bad/list_values.yaml"},
		{file: "bad/early_stop.yaml"},
		{file: "bad/early_stop_empty.yaml"},
		{file: "bad/too_big.yaml"},
		{file: "bad/many.yaml"},
		{file: "bad/scalar_trial.yaml", overrides: []string{"train.lr=1"}},
		{file: "minimal.yaml", overrides: []string{"train.lr"}},
		{file: "minimal.yaml", overrides: []string{"model.lr=1", "Train.lr=1", "sweep.parameters=x", "train.=1"}},
		{file: "minimal.yaml", overrides: []string{"train.lr=[1, 2]", "train.steps=", "name={a: b}"}},
		{file: "minimal.yaml", overrides: []string{"train.lr=fast", "train.learning_rate=1", "seed=-3"}},
		{file: "minimal.yaml", env: []string{"ATTNLAB_TRAIN_STEPS=many", "ATTNLAB_ATTENTION_PLUGIN=[a]"}},
		{file: "minimal.yaml", overrides: []string{"train.min_lr=0.1"}},
		{file: "minimal.yaml", overrides: []string{"sweep.method=random"}},
		{file: "grid.yaml", overrides: []string{"attention.plugin=flash"}, env: []string{"ATTNLAB_OBJECTIVE_SEQ_LEN=64"}},
	}
	var b strings.Builder
	for _, c := range cases {
		_, err := Load(filepath.Join("testdata", c.file), c.overrides, c.env)
		if err == nil {
			t.Errorf("%s %q %q: no error", c.file, c.overrides, c.env)
		}
		fmt.Fprintf(&b, "== %s", c.file)
		if c.overrides != nil {
			fmt.Fprintf(&b, " --set %q", c.overrides)
		}
		if c.env != nil {
			fmt.Fprintf(&b, " env %q", c.env)
		}
		b.WriteString("\n" + dumpError(t, err))
	}
	golden(t, "bad/errors.golden", b.String())
}

func TestConfigErrorFormat(t *testing.T) {
	cases := []struct {
		e    ConfigError
		want string
	}{
		{ConfigError{File: "a.yaml", Line: 3, Path: "trial.train.lr", Got: `"x"`, Want: "a number > 0"}, `a.yaml:3: trial.train.lr: got "x", want a number > 0`},
		{ConfigError{File: "a.yaml", Path: "trial.train.lr", Source: "--set train.lr=x", Got: `"x"`, Want: "a number > 0"}, `a.yaml: trial.train.lr (from --set train.lr=x): got "x", want a number > 0`},
		{ConfigError{File: "a.yaml", Line: 2, Want: "valid YAML: did not find expected key"}, `a.yaml:2: valid YAML: did not find expected key`},
	}
	for _, c := range cases {
		if got := c.e.Error(); got != c.want {
			t.Errorf("got  %s\nwant %s", got, c.want)
		}
	}
}

func TestKeyPathString(t *testing.T) {
	p := path("sweep", "parameters", "train.lr", "values", "[2]")
	if got, want := p.String(), "sweep.parameters[train.lr].values[2]"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

// TestTrainKeysDoc keeps the table in doc.go equal to TrainKeys.
func TestTrainKeysDoc(t *testing.T) {
	doc := readFile(t, "doc.go")
	for _, line := range strings.Split(strings.TrimSpace(TrainKeysTable()), "\n") {
		if !strings.Contains(doc, "//\t"+strings.TrimRight(line, " ")+"\n") {
			t.Errorf("doc.go lacks the train key line (paste TrainKeysTable's output):\n//\t%s", line)
		}
	}
	want := DefaultTrain()
	var got Train
	for _, k := range TrainKeys {
		if k.field(&got) == nil || k.Doc == "" {
			t.Errorf("train key %s: no field or no doc", k.Name)
		}
	}
	if want.Schedule != "cosine" || want.Optimizer != "adamw" || want.Steps != 1000 {
		t.Errorf("DefaultTrain = %+v", want)
	}
}
