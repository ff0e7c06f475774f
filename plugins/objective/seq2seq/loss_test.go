package seq2seq

import (
	"slices"
	"strings"
	"testing"

	"github.com/attnlab/attnlab/kernels/rng"
	"github.com/attnlab/attnlab/kernels/tensor"
	"github.com/attnlab/attnlab/plugins/objective/internal/objectivetest"
	"github.com/attnlab/attnlab/plugins/sdk"
)

// randomLogits returns a (b, u, Vocab) tensor of normal values.
func randomLogits(b, u int, std float32, seed uint64) *tensor.Tensor {
	x := tensor.New(b, u, Vocab)
	rng.New(seed).FillNormal(x.Data, 0, std)
	return x
}

// Loss's gradient matches central finite differences of Loss itself on
// every logit of three scored positions and one ignored one.
func TestLossGradientFiniteDifferences(t *testing.T) {
	o := mustInit(t, sdk.Config{"seq_len": 3}, 2, 1) // U = 4
	tg := &sdk.Ints{Shape: []int{2, 4}, Data: []int32{5, EOS, ign, ign, EOS, ign, ign, ign}}
	batch := &sdk.Batch{Targets: tg}
	out := randomLogits(2, 4, 3, 2)
	_, dout, _, err := o.Loss(out, batch)
	if err != nil {
		t.Fatal(err)
	}
	grad := slices.Clone(dout.Data)
	for _, g := range grad[6*Vocab : 7*Vocab] {
		if g != 0 {
			t.Fatalf("ignored position has gradient %v", g)
		}
	}
	loss := func() float32 { l, _, _, _ := o.Loss(out, batch); return l }
	worst := objectivetest.MaxFDError(loss, out.Data, grad, objectivetest.Rows(Vocab, 0, 1, 4, 6), 1e-2)
	if worst > 1e-4 {
		t.Errorf("gradient differs from finite differences by up to %g", worst)
	}
	t.Logf("largest |analytic - finite difference| = %.2g", worst)
}

// Hand-made logits: token accuracy over scored positions, and exact match
// only for examples with every scored position right (EOS included).
func TestMetricsHandMade(t *testing.T) {
	o := mustInit(t, sdk.Config{"seq_len": 3}, 3, 1) // U = 4
	tg := &sdk.Ints{Shape: []int{3, 4}, Data: []int32{
		1, 2, EOS, ign, // all right: exact
		1, 2, EOS, ign, // EOS wrong
		7, EOS, ign, ign, // all right, junk after EOS ignored
	}}
	out := tensor.New(3, 4, Vocab)
	set := func(e, t, v int) { out.Data[(e*4+t)*Vocab+v] = 1 }
	set(0, 0, 1)
	set(0, 1, 2)
	set(0, 2, EOS)
	set(0, 3, 9)
	set(1, 0, 1)
	set(1, 1, 2)
	set(1, 2, Pad)
	set(2, 0, 7)
	set(2, 1, EOS)
	set(2, 2, 3)
	_, _, m, err := o.Loss(out, &sdk.Batch{Targets: tg})
	if err != nil {
		t.Fatal(err)
	}
	want := sdk.Metrics{"accuracy": 7.0 / 8, "exact_match": 2.0 / 3, "tokens": 8}
	for k, v := range want {
		if !objectivetest.Within(m[k], v, 1e-12, 0) {
			t.Errorf("%s = %v, want %v", k, m[k], v)
		}
	}
	if len(m) != len(want) {
		t.Errorf("metrics %v, want exactly %v", m, want)
	}
}

// The loss of a batch of sources and targets of different lengths is the
// token-weighted mean of their losses alone, and its gradient the matching
// weighted rows: padding carries no loss or gradient.
func TestMixedLengthsMatchOneByOne(t *testing.T) {
	const B = 6
	cfg := sdk.Config{"dataset": "reverse", "seq_len": 10, "min_len": 1}
	o, one := mustInit(t, cfg, B, 3), mustInit(t, cfg, 1, 3)
	U := o.targetLen
	batch, err := o.Batch(sdk.Train, 1)
	if err != nil {
		t.Fatal(err)
	}
	out := randomLogits(B, U, 2, 5)
	loss, dout, m, err := o.Loss(out, batch)
	if err != nil {
		t.Fatal(err)
	}
	var sum, count float64
	lengths := map[float64]bool{}
	for e := range B {
		row := &tensor.Tensor{Shape: []int{1, U, Vocab}, Data: out.Data[e*U*Vocab : (e+1)*U*Vocab]}
		tg := &sdk.Ints{Shape: []int{1, U}, Data: batch.Targets.Data[e*U : (e+1)*U]}
		l, d, me, err := one.Loss(row, &sdk.Batch{Targets: tg})
		if err != nil {
			t.Fatal(err)
		}
		n := me["tokens"]
		lengths[n] = true
		sum += float64(l) * n
		count += n
		for i, g := range d.Data {
			want := float64(g) * n / m["tokens"]
			if got := float64(dout.Data[e*U*Vocab+i]); !objectivetest.Within(got, want, 1e-7, 1e-4) {
				t.Fatalf("example %d: gradient [%d] = %v alone scales to %v, batch gives %v", e, i, g, want, got)
			}
		}
	}
	if len(lengths) < 2 {
		t.Fatalf("the batch has one target length only: %v", lengths)
	}
	if count != m["tokens"] || !objectivetest.Within(float64(loss), sum/count, 1e-6, 1e-5) {
		t.Errorf("batch loss %v over %v tokens, one by one %v over %v tokens", loss, m["tokens"], sum/count, count)
	}
}

// Loss reads only the targets: a batch with other decoder inputs (as the
// harness's greedy decoding passes) scores the same output identically.
func TestLossIgnoresDecoderInputs(t *testing.T) {
	o := mustInit(t, nil, 2, 1)
	b, _ := o.Batch(sdk.Eval, 0)
	out := randomLogits(2, o.targetLen, 1, 4)
	l1, _, m1, _ := o.Loss(out, b)
	acc, em := m1["accuracy"], m1["exact_match"]
	g := &sdk.Batch{Inputs: b.Inputs, KeyMask: b.KeyMask, Targets: b.Targets, DecoderInputs: sdk.NewInts(2, o.targetLen)}
	l2, _, m2, err := o.Loss(out, g)
	if err != nil || l1 != l2 || m2["accuracy"] != acc || m2["exact_match"] != em {
		t.Errorf("loss %v vs %v, metrics %v/%v vs %v (err %v)", l1, l2, acc, em, m2, err)
	}
}

func TestLossRejects(t *testing.T) {
	if _, _, _, err := New().Loss(tensor.New(1, 2, Vocab), &sdk.Batch{}); err == nil || !strings.Contains(err.Error(), "before a successful Init") {
		t.Errorf("Loss before Init: %v", err)
	}
	o := mustInit(t, sdk.Config{"seq_len": 3}, 2, 1) // U = 4
	b, _ := o.Batch(sdk.Train, 0)
	good := tensor.New(2, 4, Vocab)
	bad := &sdk.Ints{Shape: []int{2, 4}, Data: make([]int32, 8)}
	bad.Data[5] = Vocab
	cases := []struct {
		name  string
		out   *tensor.Tensor
		batch *sdk.Batch
		want  string
	}{
		{"nil out", nil, b, "out is nil, want decoder logits (2, 4, 259)"},
		{"encoder length", tensor.New(2, 3, Vocab), b, "out has shape (2, 3, 259) and 1554 elements, want decoder logits (batch 2, target_len 4, vocab 259)"},
		{"nil batch", good, nil, "batch has no targets"},
		{"targets shape", good, &sdk.Batch{Targets: sdk.NewInts(2, 3)}, "targets have shape (2, 3) and 6 elements, want (batch 2, target_len 4)"},
		{"target range", good, &sdk.Batch{Targets: bad}, "targets[5] = 259 is outside the classes [0, 259)"},
	}
	for _, c := range cases {
		_, _, _, err := o.Loss(c.out, c.batch)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: Loss = %v, want an error containing %q", c.name, err, c.want)
		}
	}
}
