package causallm

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/attnlab/attnlab/kernels/rng"
	"github.com/attnlab/attnlab/kernels/tensor"
	"github.com/attnlab/attnlab/plugins/objective/internal/objectivetest"
	"github.com/attnlab/attnlab/plugins/sdk"
)

// mustInit returns an initialised objective for raw parameters.
func mustInit(t testing.TB, raw sdk.Config, batch int, seed uint64) *objective {
	t.Helper()
	o := New().(*objective)
	spec, err := o.Init(raw, batch, seed)
	if err != nil {
		t.Fatalf("Init(%v, %d, %d): %v", raw, batch, seed, err)
	}
	want := sdk.InputSpec{Vocab: Vocab, SeqLen: o.seqLen, Batch: batch, Output: "tokens", Task: sdk.TaskCausalLM}
	if spec != want {
		t.Fatalf("Init(%v) spec = %+v, want %+v", raw, spec, want)
	}
	return o
}

// mustBatch returns a copy of batch index of split, so later calls cannot
// overwrite it.
func mustBatch(t testing.TB, o *objective, split sdk.Split, index int) (in, tg []int32) {
	t.Helper()
	b, err := o.Batch(split, index)
	if err != nil {
		t.Fatalf("Batch(%s, %d): %v", split, index, err)
	}
	return slices.Clone(b.Inputs.Data), slices.Clone(b.Targets.Data)
}

// randomBytes returns n bytes uniform in [lo, hi).
func randomBytes(n int, lo, hi int, seed uint64) []byte {
	r := rng.New(seed)
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(lo + r.Intn(hi-lo))
	}
	return b
}

func TestDescribe(t *testing.T) {
	d := New().Describe()
	want := sdk.Config{"dataset": "copy", "path": "", "seq_len": int64(256), "eval_batches": int64(4),
		"copy_vocab": int64(64), "copy_distinct": false, "mqar_pairs": int64(16), "mqar_keys": int64(64), "mqar_values": int64(64)}
	objectivetest.CheckDescribe(t, d, "causal-lm", want)
	if !d.Has("causal") {
		t.Errorf("capabilities %v lack \"causal\"", d.Capabilities)
	}
}

func TestResolveRejects(t *testing.T) {
	d := New().Describe()
	cases := []struct {
		raw  map[string]any
		want string // in the error
	}{
		{map[string]any{"dataset": "wikitext"}, `"dataset": got "wikitext", want one of text, copy, mqar`},
		{map[string]any{"seq_len": 1}, `"seq_len": got 1, want at least 2`},
		{map[string]any{"seq_len": "long"}, `"seq_len": got long (string), want an integer`},
		{map[string]any{"copy_vocab": 255}, `"copy_vocab": got 255, want at most 254`},
		{map[string]any{"eval_batches": 0}, `"eval_batches": got 0, want at least 1`},
		{map[string]any{"vocab": 3}, `has no parameter "vocab"`},
	}
	for _, c := range cases {
		_, err := d.Resolve(c.raw)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Resolve(%v) = %v, want an error containing %q", c.raw, err, c.want)
		}
		// Init resolves its config the same way.
		if _, err := New().Init(sdk.Config(c.raw), 1, 1); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Init(%v) = %v, want an error containing %q", c.raw, err, c.want)
		}
	}
}

func TestInitRejects(t *testing.T) {
	dir := t.TempDir()
	short := objectivetest.WriteFile(t, "corpus.txt", make([]byte, minTextBytes(9)-1))
	cases := []struct {
		name  string
		raw   sdk.Config
		batch int
		want  []string // all in the error
	}{
		{"batch 0", sdk.Config{}, 0, []string{"batch size 0"}},
		{"text without path", sdk.Config{"dataset": "text"}, 1, []string{`needs parameter "path"`}},
		{"missing file", sdk.Config{"dataset": "text", "path": filepath.Join(dir, "nope.txt")}, 1,
			[]string{"cannot read path", "nope.txt", "no such file"}},
		{"directory", sdk.Config{"dataset": "text", "path": dir}, 1, []string{"cannot read path", dir}},
		{"too short", sdk.Config{"dataset": "text", "path": short, "seq_len": 8}, 1,
			[]string{short, "needs at least seq_len+1 = 9 bytes", "at least 81 bytes"}},
		{"keys+values", sdk.Config{"dataset": "mqar", "mqar_keys": 200, "mqar_values": 60}, 1,
			[]string{"mqar_keys 200 + mqar_values 60 = 260 must be at most 254"}},
		{"pairs > keys", sdk.Config{"dataset": "mqar", "mqar_pairs": 20, "mqar_keys": 10}, 1,
			[]string{"mqar_pairs 20", "mqar_keys is 10"}},
		{"pairs > values", sdk.Config{"dataset": "mqar", "mqar_pairs": 20, "mqar_values": 10}, 1,
			[]string{"mqar_pairs 20", "mqar_values is 10"}},
		{"seq_len < 2N+1", sdk.Config{"dataset": "mqar", "mqar_pairs": 4, "seq_len": 8}, 1,
			[]string{"seq_len 8 is too short for mqar_pairs 4", "at least 9"}},
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
	objectivetest.CheckBatchRejects(t, New(), mustInit(t, sdk.Config{"seq_len": 4}, 1, 1))
}

// configs returns one small configuration per dataset.
func configs(t testing.TB) map[string]sdk.Config {
	return map[string]sdk.Config{
		"copy": {"dataset": "copy", "seq_len": 33, "copy_vocab": 16},
		"mqar": {"dataset": "mqar", "seq_len": 40, "mqar_pairs": 6, "mqar_keys": 20, "mqar_values": 30},
		"text": {"dataset": "text", "seq_len": 16, "path": objectivetest.WriteFile(t, "corpus.txt", randomBytes(5000, 0, 256, 3))},
	}
}

func TestDeterminism(t *testing.T) {
	for name, cfg := range configs(t) {
		a, b := mustInit(t, cfg, 3, 7), mustInit(t, cfg, 3, 7)
		// b generates in another order: any batch is regenerated alone.
		for _, split := range []sdk.Split{sdk.Eval, sdk.Train} {
			for _, i := range []int{5, 0, 2} {
				b.Batch(split, i)
			}
		}
		for _, split := range []sdk.Split{sdk.Train, sdk.Eval} {
			for i := range 3 {
				ai, at := mustBatch(t, a, split, i)
				bi, bt := mustBatch(t, b, split, i)
				if !slices.Equal(ai, bi) || !slices.Equal(at, bt) {
					t.Errorf("%s: Batch(%s, %d) differs between two objectives with the same seed", name, split, i)
				}
				if i > 0 {
					pi, _ := mustBatch(t, a, split, i-1)
					if slices.Equal(ai, pi) {
						t.Errorf("%s: Batch(%s, %d) equals batch %d", name, split, i, i-1)
					}
				}
			}
		}
		// Eval cycles through eval_batches (4) batches.
		e1, _ := mustBatch(t, a, sdk.Eval, 1)
		e5, _ := mustBatch(t, a, sdk.Eval, 5)
		t1, _ := mustBatch(t, a, sdk.Train, 1)
		t5, _ := mustBatch(t, a, sdk.Train, 5)
		if !slices.Equal(e1, e5) {
			t.Errorf("%s: Batch(eval, 5) is not Batch(eval, 1) with eval_batches 4", name)
		}
		if slices.Equal(t1, t5) {
			t.Errorf("%s: Batch(train, 5) equals Batch(train, 1)", name)
		}
		// Another seed gives other data.
		c := mustInit(t, cfg, 3, 8)
		a0, _ := mustBatch(t, a, sdk.Train, 0)
		if c0, _ := mustBatch(t, c, sdk.Train, 0); slices.Equal(a0, c0) {
			t.Errorf("%s: seeds 7 and 8 give the same first batch", name)
		}
	}
}

// Synthetic eval examples come from another stream than train examples:
// none of them equals any example of the first train batches.
func TestTrainEvalDiffer(t *testing.T) {
	for _, name := range []string{"copy", "mqar"} {
		cfg := configs(t)[name]
		o := mustInit(t, cfg, 4, 1)
		T := o.seqLen
		train := map[string]bool{}
		for i := range 50 {
			in, _ := mustBatch(t, o, sdk.Train, i)
			for e := range 4 {
				train[key(in[e*T:(e+1)*T])] = true
			}
		}
		for i := range 4 {
			in, _ := mustBatch(t, o, sdk.Eval, i)
			for e := range 4 {
				if train[key(in[e*T:(e+1)*T])] {
					t.Errorf("%s: eval batch %d example %d is also a train example", name, i, e)
				}
			}
		}
	}
}

func key(x []int32) string {
	var b strings.Builder
	for _, v := range x {
		b.WriteRune(rune(v) + 1)
	}
	return b.String()
}

// After warm-up, a training step's Batch and Loss allocate nothing.
func TestBatchAndLossAllocateNothing(t *testing.T) {
	for name, cfg := range configs(t) {
		o := mustInit(t, cfg, 2, 1)
		out := tensor.New(2, o.seqLen, Vocab)
		copy(out.Data, randomLogits(len(out.Data), 1))
		step := 0
		run := func() {
			split := sdk.Train
			if step%2 == 1 {
				split = sdk.Eval
			}
			b, err := o.Batch(split, step)
			if err != nil {
				t.Fatal(err)
			}
			if _, _, _, err := o.Loss(out, b); err != nil {
				t.Fatal(err)
			}
			step++
		}
		run()
		run()
		if n := testing.AllocsPerRun(20, run); n != 0 {
			t.Errorf("%s: Batch+Loss allocate %v times per call, want 0", name, n)
		}
	}
}

func TestCopyDistinct(t *testing.T) {
	o := New()
	if _, err := o.Init(sdk.Config{"dataset": "copy", "seq_len": 64, "copy_vocab": 40, "copy_distinct": true}, 2, 1); err == nil || !strings.Contains(err.Error(), "copy_distinct needs copy_vocab >= seq_len/2 = 32") {
		// 40 >= 32: this one is fine
		if err != nil {
			t.Fatalf("Init: %v", err)
		}
	}
	if _, err := New().Init(sdk.Config{"dataset": "copy", "seq_len": 64, "copy_vocab": 20, "copy_distinct": true}, 2, 1); err == nil || !strings.Contains(err.Error(), "copy_distinct needs copy_vocab >= seq_len/2 = 32 distinct tokens, got copy_vocab = 20") {
		t.Fatalf("too small a vocabulary: %v", err)
	}
	for i := range 5 {
		b, err := o.Batch(sdk.Train, i)
		if err != nil {
			t.Fatal(err)
		}
		for e := range 2 {
			seen := map[int32]bool{}
			for _, x := range b.Inputs.Data[e*64 : e*64+32] {
				if seen[x] || x < 0 || x >= 40 {
					t.Fatalf("batch %d example %d: token %d repeated or out of range", i, e, x)
				}
				seen[x] = true
			}
			for j := range 31 {
				if b.Inputs.Data[e*64+33+j] != b.Inputs.Data[e*64+j] {
					t.Fatal("not a copy")
				}
			}
		}
	}
}
