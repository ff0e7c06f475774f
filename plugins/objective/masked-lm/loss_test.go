package maskedlm

import (
	"slices"
	"strings"
	"testing"

	"github.com/attnlab/attnlab/kernels/rng"
	"github.com/attnlab/attnlab/kernels/tensor"
	"github.com/attnlab/attnlab/plugins/objective/internal/objectivetest"
	"github.com/attnlab/attnlab/plugins/sdk"
)

// randomLogits returns a (b, t, Vocab) tensor of normal values with
// standard deviation std.
func randomLogits(b, t int, std float32, seed uint64) *tensor.Tensor {
	x := tensor.New(b, t, Vocab)
	rng.New(seed).FillNormal(x.Data, 0, std)
	return x
}

// Loss's gradient matches central finite differences of Loss itself, on
// every logit of the scored positions and of one ignored position (whose
// gradient must be exactly zero). Three scored positions make the
// gradients large (up to 1/3) beside float32 rounding of the loss.
func TestLossGradientFiniteDifferences(t *testing.T) {
	const B, T = 2, 4
	o := mustInit(t, sdk.Config{"seq_len": T}, B, 1)
	tg := &sdk.Ints{Shape: []int{B, T}, Data: []int32{ign, 'a', ign, ign, Pad - 1, ign, ign, 0}}
	batch := &sdk.Batch{Targets: tg}
	out := randomLogits(B, T, 3, 2)
	_, dout, _, err := o.Loss(out, batch)
	if err != nil {
		t.Fatal(err)
	}
	grad := slices.Clone(dout.Data)
	for _, g := range grad[2*Vocab : 3*Vocab] {
		if g != 0 {
			t.Fatalf("ignored position 2 has gradient %v", g)
		}
	}
	loss := func() float32 { l, _, _, _ := o.Loss(out, batch); return l }
	// Three scored rows and one ignored.
	worst := objectivetest.MaxFDError(loss, out.Data, grad, objectivetest.Rows(Vocab, 1, 4, 7, 2), 1e-2)
	// float32 loss rounding (about 3e-7 of a loss near 3) over 2h = 0.02.
	if worst > 1e-4 {
		t.Errorf("gradient differs from finite differences by up to %g", worst)
	}
	t.Logf("largest |analytic - finite difference| = %.2g", worst)
}

// The loss of a batch of examples with different numbers of real and
// masked tokens is the token-weighted mean of their losses alone, and its
// gradient the matching weighted rows: padding carries no loss or gradient.
func TestMixedLengthsMatchOneByOne(t *testing.T) {
	const B, T = 6, 20
	cfg := sdk.Config{"dataset": "repeat", "seq_len": T, "repeat_vocab": 8, "mask_prob": 0.3}
	o, one := mustInit(t, cfg, B, 3), mustInit(t, cfg, 1, 3)
	batch, err := o.Batch(sdk.Train, 4)
	if err != nil {
		t.Fatal(err)
	}
	lengths := map[int32]bool{}
	for e := range B {
		n := int32(0)
		for _, v := range batch.KeyMask.Data[e*T : (e+1)*T] {
			n += v
		}
		lengths[n] = true
	}
	if len(lengths) < 2 {
		t.Fatalf("batch has one length only: %v", lengths)
	}
	out := randomLogits(B, T, 2, 5)
	loss, dout, m, err := o.Loss(out, batch)
	if err != nil {
		t.Fatal(err)
	}
	var sum, count float64
	for e := range B {
		row := &tensor.Tensor{Shape: []int{1, T, Vocab}, Data: out.Data[e*T*Vocab : (e+1)*T*Vocab]}
		tg := &sdk.Ints{Shape: []int{1, T}, Data: batch.Targets.Data[e*T : (e+1)*T]}
		l, d, me, err := one.Loss(row, &sdk.Batch{Targets: tg})
		if err != nil {
			t.Fatal(err)
		}
		n := me["tokens"]
		sum += float64(l) * n
		count += n
		for i, g := range d.Data {
			want := float64(g) * n / m["tokens"]
			if got := float64(dout.Data[e*T*Vocab+i]); !objectivetest.Within(got, want, 1e-7, 1e-4) {
				t.Fatalf("example %d: gradient [%d] = %v alone scales to %v, batch gives %v", e, i, g, want, got)
			}
		}
	}
	if count != m["tokens"] || !objectivetest.Within(float64(loss), sum/count, 1e-6, 1e-5) {
		t.Errorf("batch loss %v over %v tokens, one by one %v over %v tokens", loss, m["tokens"], sum/count, count)
	}
}

// Hand-made logits: accuracy counts argmax == target over scored positions.
func TestAccuracyHandMade(t *testing.T) {
	o := mustInit(t, sdk.Config{"seq_len": 5}, 1, 1)
	b := &sdk.Batch{Targets: &sdk.Ints{Shape: []int{1, 5}, Data: []int32{ign, 3, 7, 7, 200}}}
	out := tensor.New(1, 5, Vocab)
	row := func(p int) []float32 { return out.Data[p*Vocab : (p+1)*Vocab] }
	row(0)[0] = 9                 // ignored
	row(1)[3] = 1                 // right
	row(2)[7], row(2)[2] = 1, 1   // tie: the first (2) wins, wrong
	row(3)[7], row(3)[8] = 2, 1.5 // right
	row(4)[Mask] = 5              // wrong
	_, _, m, err := o.Loss(out, b)
	if err != nil {
		t.Fatal(err)
	}
	if m["tokens"] != 4 || m["accuracy"] != 0.5 || len(m) != 2 {
		t.Errorf("metrics %v, want only tokens 4 and accuracy 0.5", m)
	}
}

func TestLossNothingScored(t *testing.T) {
	o := mustInit(t, sdk.Config{"seq_len": 3, "dataset": "text", "path": objectivetest.WriteFile(t, "a.txt", asciiText(100, 1))}, 2, 1)
	tg := sdk.NewInts(2, 3)
	for i := range tg.Data {
		tg.Data[i] = ign
	}
	loss, dout, m, err := o.Loss(randomLogits(2, 3, 1, 1), &sdk.Batch{Targets: tg})
	if err != nil {
		t.Fatal(err)
	}
	if loss != 0 || m["tokens"] != 0 || m["accuracy"] != 0 || slices.ContainsFunc(dout.Data, func(g float32) bool { return g != 0 }) {
		t.Errorf("no scored position: loss %v, metrics %v", loss, m)
	}
}

func TestLossRejects(t *testing.T) {
	if _, _, _, err := New().Loss(tensor.New(1, 2, Vocab), &sdk.Batch{}); err == nil || !strings.Contains(err.Error(), "before a successful Init") {
		t.Errorf("Loss before Init: %v", err)
	}
	o := mustInit(t, sdk.Config{"seq_len": 4}, 2, 1)
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
		{"nil out", nil, b, "out is nil, want logits (2, 4, 258)"},
		{"vocab", tensor.New(2, 4, 256), b, "out has shape (2, 4, 256) and 2048 elements, want logits (batch 2, seq_len 4, vocab 258)"},
		{"short data", &tensor.Tensor{Shape: []int{2, 4, Vocab}, Data: make([]float32, 10)}, b, "and 10 elements"},
		{"nil batch", good, nil, "batch has no targets"},
		{"targets shape", good, &sdk.Batch{Targets: sdk.NewInts(2, 5)}, "targets have shape (2, 5) and 10 elements, want (batch 2, seq_len 4)"},
		{"target range", good, &sdk.Batch{Targets: bad}, "targets[5] = 258 is outside the classes [0, 258)"},
	}
	for _, c := range cases {
		_, _, _, err := o.Loss(c.out, c.batch)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: Loss = %v, want an error containing %q", c.name, err, c.want)
		}
	}
}
