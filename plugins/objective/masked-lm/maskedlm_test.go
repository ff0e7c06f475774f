package maskedlm

import (
	"bytes"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/attnlab/attnlab/kernels/tensor"
	"github.com/attnlab/attnlab/plugins/objective/internal/objectives"
	"github.com/attnlab/attnlab/plugins/objective/internal/objectivetest"
	"github.com/attnlab/attnlab/plugins/sdk"
)

func TestDescribe(t *testing.T) {
	d := New().Describe()
	want := sdk.Config{"dataset": "repeat", "path": "", "seq_len": int64(128), "mask_prob": 0.15, "replace_mask": 0.8,
		"replace_random": 0.1, "repeat_vocab": int64(16), "eval_fraction": 0.1, "eval_batches": int64(4)}
	objectivetest.CheckDescribe(t, d, "masked-lm", want)
	// The defaults work as they are.
	mustInit(t, nil, 2, 1)
}

func TestInitRejects(t *testing.T) {
	dir := t.TempDir()
	badUTF8 := objectivetest.WriteFile(t, "latin1.txt", []byte("first line\nsecond \xe9t\xe9\nthird\n"))
	empty := objectivetest.WriteFile(t, "empty.txt", nil)
	short := objectivetest.WriteFile(t, "short.txt", asciiText(100, 1))
	cases := []struct {
		name  string
		raw   sdk.Config
		batch int
		want  []string // all in the error
	}{
		{"batch 0", sdk.Config{}, 0, []string{"batch size 0"}},
		{"unknown parameter", sdk.Config{"vocab": 3}, 1, []string{`has no parameter "vocab"`}},
		{"bad dataset", sdk.Config{"dataset": "wiki"}, 1, []string{`got "wiki", want one of text, repeat`}},
		{"mask_prob", sdk.Config{"mask_prob": 1.5}, 1, []string{`"mask_prob": got 1.5, want at most 1`}},
		{"replacements", sdk.Config{"replace_mask": 0.8, "replace_random": 0.3}, 1, []string{"replace_mask 0.8 + replace_random 0.3", "at most 1"}},
		{"text without path", sdk.Config{"dataset": "text"}, 1, []string{`needs parameter "path"`}},
		{"missing file", sdk.Config{"dataset": "text", "path": filepath.Join(dir, "nope.txt")}, 1,
			[]string{"cannot read path", "nope.txt", "no such file"}},
		{"directory", sdk.Config{"dataset": "text", "path": dir}, 1, []string{"cannot read path", dir}},
		{"empty file", sdk.Config{"dataset": "text", "path": empty}, 1, []string{empty + " is empty"}},
		{"not UTF-8", sdk.Config{"dataset": "text", "path": badUTF8}, 1,
			[]string{badUTF8 + ":2:8: not UTF-8", "byte 0xe9 at offset 18"}},
		{"too short", sdk.Config{"dataset": "text", "path": short, "seq_len": 16}, 1,
			[]string{short, "100 bytes", "90 train and 10 eval", "at least seq_len = 16"}},
		{"tiny repeat space", sdk.Config{"dataset": "repeat", "seq_len": 2, "repeat_vocab": 2, "eval_fraction": 0.001}, 1,
			[]string{"no string of the eval split", "too few distinct strings"}},
	}
	for _, c := range cases {
		o := New()
		_, err := o.Init(c.raw, c.batch, 1)
		if err == nil {
			t.Errorf("%s: Init(%v) succeeded", c.name, c.raw)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not contain %q", c.name, err, w)
			}
		}
		if _, err := o.Batch(sdk.Train, 0); err == nil {
			t.Errorf("%s: Batch after a failed Init succeeded", c.name)
		}
	}
}

func TestBatchRejects(t *testing.T) {
	objectivetest.CheckBatchRejects(t, New(), mustInit(t, sdk.Config{"seq_len": 8}, 1, 1))
}

// The same (split, index) gives the same batch whatever was asked before,
// in another objective with the same seed; other indices, splits and seeds
// give other batches; eval wraps at eval_batches.
func TestDeterminism(t *testing.T) {
	for name, cfg := range configs(t) {
		a, b := mustInit(t, cfg, 3, 7), mustInit(t, cfg, 3, 7)
		for _, i := range []int{5, 0, 2} {
			b.Batch(sdk.Eval, i)
			b.Batch(sdk.Train, i)
		}
		for _, split := range []sdk.Split{sdk.Train, sdk.Eval} {
			for i := range 3 {
				x, y := mustBatch(t, a, split, i), mustBatch(t, b, split, i)
				if !slices.Equal(x.in, y.in) || !slices.Equal(x.tg, y.tg) || !slices.Equal(x.km, y.km) {
					t.Errorf("%s: Batch(%s, %d) differs between two objectives of the same seed", name, split, i)
				}
			}
		}
		if slices.Equal(mustBatch(t, a, sdk.Train, 0).in, mustBatch(t, a, sdk.Train, 1).in) {
			t.Errorf("%s: train batches 0 and 1 are equal", name)
		}
		if slices.Equal(mustBatch(t, a, sdk.Train, 0).in, mustBatch(t, a, sdk.Eval, 0).in) {
			t.Errorf("%s: train and eval batch 0 are equal", name)
		}
		if slices.Equal(mustBatch(t, a, sdk.Train, 0).in, mustBatch(t, mustInit(t, cfg, 3, 8), sdk.Train, 0).in) {
			t.Errorf("%s: seeds 7 and 8 give the same batch", name)
		}
		if !slices.Equal(mustBatch(t, a, sdk.Eval, 1).in, mustBatch(t, a, sdk.Eval, 5).in) {
			t.Errorf("%s: eval batch 5 is not eval batch 1 (eval_batches 4)", name)
		}
		// The first examples of a batch do not depend on the batch size.
		c := mustInit(t, cfg, 1, 7)
		if x, y := mustBatch(t, a, sdk.Train, 2), mustBatch(t, c, sdk.Train, 2); !slices.Equal(x.in[:len(y.in)], y.in) {
			t.Errorf("%s: example 0 of batch 2 depends on the batch size", name)
		}
	}
}

// Text: train windows lie in the head of the file and eval windows in its
// last eval_fraction, so the splits never share a byte.
func TestTextSplitsDisjoint(t *testing.T) {
	data := asciiText(3000, 5)
	path := objectivetest.WriteFile(t, "corpus.txt", data)
	const T = 24
	o := mustInit(t, sdk.Config{"dataset": "text", "path": path, "seq_len": T, "mask_prob": 0.0, "eval_fraction": 0.2}, 4, 1)
	cut := 3000 - 600
	for _, split := range []sdk.Split{sdk.Train, sdk.Eval} {
		for i := range 25 {
			ex := mustBatch(t, o, split, i)
			for e := range 4 {
				w := make([]byte, T)
				for j, v := range ex.in[e*T : (e+1)*T] {
					w[j] = byte(v)
				}
				at := bytes.Index(data, w)
				switch {
				case at < 0:
					t.Fatalf("%s batch %d example %d is not a window of the file", split, i, e)
				case split == sdk.Train && at+T > cut, split == sdk.Eval && at < cut:
					t.Errorf("%s window at byte %d crosses the train/eval cut at %d", split, at, cut)
				}
			}
			if ex.km != nil {
				t.Fatalf("text batches have a KeyMask")
			}
		}
	}
}

// Repeat: every example is x x Pad.. with the KeyMask on x x; the strings
// of the two splits lie on their sides of the hash partition, and a sample
// of them never meets.
func TestRepeatLayoutAndSplits(t *testing.T) {
	const T, B = 21, 8
	o := mustInit(t, sdk.Config{"dataset": "repeat", "seq_len": T, "repeat_vocab": 4, "mask_prob": 0.0, "eval_fraction": 0.3}, B, 2)
	seen := map[sdk.Split]map[string]bool{sdk.Train: {}, sdk.Eval: {}}
	lengths := map[int]int{}
	for _, split := range []sdk.Split{sdk.Train, sdk.Eval} {
		for i := range 4 {
			ex := mustBatch(t, o, split, i)
			for e := range B {
				in, tg, km := ex.in[e*T:(e+1)*T], ex.tg[e*T:(e+1)*T], ex.km[e*T:(e+1)*T]
				n := 0
				for n < T && km[n] == 1 {
					n++
				}
				L := n / 2
				lengths[L]++
				if n%2 != 0 || L < T/4 || L > T/2 || slices.ContainsFunc(km[n:], func(v int32) bool { return v != 0 }) {
					t.Fatalf("key mask %v: want 2L ones then zeros, L in [%d, %d]", km, T/4, T/2)
				}
				if !slices.Equal(in[:L], in[L:n]) || slices.ContainsFunc(in[n:], func(v int32) bool { return v != Pad }) ||
					slices.ContainsFunc(in[:n], func(v int32) bool { return v < 0 || v >= 4 }) {
					t.Fatalf("inputs %v are not x x Pad.. over 4 data tokens", in)
				}
				if slices.ContainsFunc(tg, func(v int32) bool { return v != ign }) {
					t.Fatalf("mask_prob 0 but targets %v", tg)
				}
				if objectives.HeldOut(in[:L], 0.3) != (split == sdk.Eval) {
					t.Errorf("%s string %v is on the wrong side of the hash partition", split, in[:L])
				}
				seen[split][string(slices.Clone(in[:L]))] = true
			}
		}
	}
	for x := range seen[sdk.Eval] {
		if seen[sdk.Train][x] {
			t.Errorf("string %v is in both splits", []byte(x))
		}
	}
	if len(lengths) < 3 {
		t.Errorf("string lengths %v: want variety in [%d, %d]", lengths, T/4, T/2)
	}
}

// After Init, Batch and Loss allocate nothing.
func TestNoAllocations(t *testing.T) {
	for name, cfg := range configs(t) {
		o := mustInit(t, cfg, 2, 1)
		out := tensor.New(2, o.seqLen, Vocab)
		i := 0
		run := func() {
			i++
			b, err := o.Batch(sdk.Train, i)
			if err != nil {
				t.Fatal(err)
			}
			if _, _, _, err := o.Loss(out, b); err != nil {
				t.Fatal(err)
			}
		}
		run()
		if n := testing.AllocsPerRun(20, run); n != 0 {
			t.Errorf("%s: Batch+Loss allocate %v times per call, want 0", name, n)
		}
	}
}
