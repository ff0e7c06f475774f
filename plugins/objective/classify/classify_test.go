package classify

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/attnlab/attnlab/kernels/tensor"
	"github.com/attnlab/attnlab/plugins/objective/internal/objectives"
	"github.com/attnlab/attnlab/plugins/objective/internal/objectivetest"
	"github.com/attnlab/attnlab/plugins/sdk"
)

func TestDescribe(t *testing.T) {
	d := New().Describe()
	want := sdk.Config{"dataset": "listops", "path": "", "seq_len": int64(512), "cls": true, "min_len": int64(0), "max_len": int64(0),
		"max_depth": int64(10), "max_args": int64(10), "eval_fraction": 0.1, "eval_batches": int64(4)}
	objectivetest.CheckDescribe(t, d, "classify", want)
	o := mustInit(t, nil, 2, 1)
	if g := o.listops; o.vocab != 17 || o.classes != 10 || g.minLen != 127 || g.maxLen != 511 {
		t.Errorf("defaults: vocab %d, classes %d, window [%d, %d]; want 17, 10, [127, 511]", o.vocab, o.classes, g.minLen, g.maxLen)
	}
	if g := mustInit(t, sdk.Config{"seq_len": 100, "cls": false}, 1, 1).listops; g.minLen != 25 || g.maxLen != 100 {
		t.Errorf("cls false, seq_len 100: window [%d, %d], want [25, 100]", g.minLen, g.maxLen)
	}
}

func TestInitRejects(t *testing.T) {
	cases := []struct {
		name string
		raw  sdk.Config
		want string
	}{
		{"unknown parameter", sdk.Config{"classes": 3}, `has no parameter "classes"`},
		{"bad dataset", sdk.Config{"dataset": "imdb"}, `got "imdb", want one of listops, text`},
		{"max_len too long", sdk.Config{"seq_len": 64, "max_len": 64}, "max_len 64 does not fit seq_len 64 (63 tokens after [CLS] with cls: true)"},
		{"window", sdk.Config{"seq_len": 64, "min_len": 50, "max_len": 40}, "min_len 50 must be at most max_len 40"},
		{"impossible window", sdk.Config{"seq_len": 64, "min_len": 20, "max_len": 30, "max_depth": 1}, "no tree of the train split with 20 to 30 tokens in 1000000 draws"},
		{"no path", sdk.Config{"dataset": "text"}, `needs parameter "path"`},
	}
	for _, c := range cases {
		o := New()
		_, err := o.Init(c.raw, 2, 1)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: Init = %v, want an error containing %q", c.name, err, c.want)
		}
		if _, err := o.Batch(sdk.Train, 0); err == nil {
			t.Errorf("%s: Batch after a failed Init succeeded", c.name)
		}
	}
	if _, err := New().Init(nil, 0, 1); err == nil || !strings.Contains(err.Error(), "batch size 0") {
		t.Errorf("batch 0: %v", err)
	}
}

func TestBatchRejects(t *testing.T) {
	objectivetest.CheckBatchRejects(t, New(), mustInit(t, configs()["listops"], 1, 1))
}

// [CLS] first (when cls), then the tokens, then Pad; the key mask is 1
// exactly on [CLS] and the tokens; labels lie in [0, classes).
func TestPaddingAndKeyMask(t *testing.T) {
	for name, cfg := range configs() {
		for _, cls := range []bool{true, false} {
			raw := sdk.Config{"cls": cls}
			for k, v := range cfg {
				raw[k] = v
			}
			o := mustInit(t, raw, 8, 2)
			lengths := map[int]bool{}
			for _, split := range []sdk.Split{sdk.Train, sdk.Eval} {
				for i := range 4 {
					for _, x := range mustBatch(t, o, split, i) {
						n := 0
						for n < len(x.km) && x.km[n] == 1 {
							n++
						}
						lengths[n] = true
						switch {
						case slices.ContainsFunc(x.km[n:], func(v int32) bool { return v != 0 }):
							t.Fatalf("%s cls=%v: key mask %v is not ones then zeros", name, cls, x.km)
						case slices.ContainsFunc(x.in[n:], func(v int32) bool { return v != o.pad }):
							t.Fatalf("%s cls=%v: inputs %v are not padded with %d", name, cls, x.in, o.pad)
						case cls && x.in[0] != o.clsToken, !cls && x.in[0] == o.clsToken:
							t.Fatalf("%s cls=%v: first input %d", name, cls, x.in[0])
						case slices.ContainsFunc(x.tokens(cls), func(v int32) bool { return v == o.pad || v == o.clsToken }):
							t.Fatalf("%s cls=%v: tokens %v hold a special", name, cls, x.tokens(cls))
						case x.label < 0 || int(x.label) >= o.classes:
							t.Fatalf("%s cls=%v: label %d outside [0, %d)", name, cls, x.label, o.classes)
						}
					}
				}
			}
			if len(lengths) < 3 {
				t.Errorf("%s cls=%v: lengths %v, want variety", name, cls, lengths)
			}
		}
	}
}

// The same (split, index) gives the same batch whatever was asked before;
// other indices, splits and seeds give other batches; eval wraps.
func TestDeterminism(t *testing.T) {
	for name, cfg := range configs() {
		a, b := mustInit(t, cfg, 3, 7), mustInit(t, cfg, 3, 7)
		for _, i := range []int{5, 0, 2} {
			b.Batch(sdk.Eval, i)
			b.Batch(sdk.Train, i)
		}
		for _, split := range []sdk.Split{sdk.Train, sdk.Eval} {
			for i := range 3 {
				if x, y := mustBatch(t, a, split, i), mustBatch(t, b, split, i); !slices.EqualFunc(x, y, equalExample) {
					t.Errorf("%s: Batch(%s, %d) differs between two objectives of the same seed", name, split, i)
				}
			}
		}
		if slices.EqualFunc(mustBatch(t, a, sdk.Train, 0), mustBatch(t, a, sdk.Train, 1), equalExample) {
			t.Errorf("%s: train batches 0 and 1 are equal", name)
		}
		if slices.EqualFunc(mustBatch(t, a, sdk.Train, 0), mustBatch(t, mustInit(t, cfg, 3, 8), sdk.Train, 0), equalExample) {
			t.Errorf("%s: seeds 7 and 8 give the same train batch", name)
		}
		if !slices.EqualFunc(mustBatch(t, a, sdk.Eval, 1), mustBatch(t, a, sdk.Eval, 5), equalExample) {
			t.Errorf("%s: eval batch 5 is not eval batch 1 (eval_batches 4)", name)
		}
	}
}

// Train and eval sequences lie on their sides of the hash partition, and
// a sample of each split never shares a sequence with the other.
func TestSplitsDisjoint(t *testing.T) {
	for name, cfg := range configs() {
		o := mustInit(t, cfg, 16, 11)
		seen := map[sdk.Split]map[string]bool{sdk.Train: {}, sdk.Eval: {}}
		for _, split := range []sdk.Split{sdk.Train, sdk.Eval} {
			for i := range 10 {
				for _, x := range mustBatch(t, o, split, i) {
					toks := x.tokens(true)
					if objectives.HeldOut(toks, 0.1) != (split == sdk.Eval) {
						t.Fatalf("%s: %s sequence %v is on the wrong side of the hash partition", name, split, toks)
					}
					var key strings.Builder
					for _, v := range toks {
						key.WriteString(strconv.Itoa(int(v)) + ",")
					}
					seen[split][key.String()] = true
				}
			}
		}
		for k := range seen[sdk.Eval] {
			if seen[sdk.Train][k] {
				t.Errorf("%s: sequence %s is in both splits", name, k)
			}
		}
		t.Logf("%s: %d distinct train and %d distinct eval sequences sampled, none shared", name, len(seen[sdk.Train]), len(seen[sdk.Eval]))
	}
}

// After Init, Batch and Loss allocate nothing.
func TestNoAllocations(t *testing.T) {
	for name, cfg := range configs() {
		o := mustInit(t, cfg, 2, 1)
		out := tensor.New(2, o.classes)
		i := 0
		run := func() {
			i++
			for _, split := range []sdk.Split{sdk.Train, sdk.Eval} {
				b, err := o.Batch(split, i)
				if err != nil {
					t.Fatal(err)
				}
				if _, _, _, err := o.Loss(out, b); err != nil {
					t.Fatal(err)
				}
			}
		}
		run()
		if n := testing.AllocsPerRun(20, run); n != 0 {
			t.Errorf("%s: Batch+Loss allocate %v times per call, want 0", name, n)
		}
	}
}
