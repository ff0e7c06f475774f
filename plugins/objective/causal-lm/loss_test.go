package causallm

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/attnlab/attnlab/kernels/nn"
	"github.com/attnlab/attnlab/kernels/rng"
	"github.com/attnlab/attnlab/kernels/tensor"
	"github.com/attnlab/attnlab/plugins/objective/internal/objectivetest"
	"github.com/attnlab/attnlab/plugins/sdk"
)

// randomLogits returns n normal values with standard deviation 2.
func randomLogits(n int, seed uint64) []float32 {
	x := make([]float32, n)
	rng.New(seed).FillNormal(x, 0, 2)
	return x
}

// referenceLoss is the definition in float64: the mean over scored rows
// of logsumexp(x) - x[t], and its gradient (softmax(x) - onehot(t))/count.
func referenceLoss(logits []float32, targets []int32) (float64, []float64) {
	grad := make([]float64, len(logits))
	count := 0
	for _, t := range targets {
		if t != sdk.IgnoreIndex {
			count++
		}
	}
	var total float64
	for r, t := range targets {
		if t == sdk.IgnoreIndex {
			continue
		}
		x := logits[r*Vocab : (r+1)*Vocab]
		m := math.Inf(-1)
		for _, v := range x {
			m = math.Max(m, float64(v))
		}
		var s float64
		for _, v := range x {
			s += math.Exp(float64(v) - m)
		}
		total += math.Log(s) + m - float64(x[t])
		for i, v := range x {
			g := math.Exp(float64(v)-m) / s
			if i == int(t) {
				g--
			}
			grad[r*Vocab+i] = g / float64(count)
		}
	}
	return total / float64(count), grad
}

func TestLossMatchesCrossEntropy(t *testing.T) {
	for name, cfg := range configs(t) {
		const B = 2
		o := mustInit(t, cfg, B, 5)
		T := o.seqLen
		b, err := o.Batch(sdk.Train, 4)
		if err != nil {
			t.Fatal(err)
		}
		out := tensor.New(B, T, Vocab)
		copy(out.Data, randomLogits(len(out.Data), 2))
		before := slices.Clone(out.Data)
		loss, dout, m, err := o.Loss(out, b)
		if err != nil {
			t.Fatalf("%s: Loss: %v", name, err)
		}
		if !slices.Equal(out.Data, before) {
			t.Errorf("%s: Loss modified its input", name)
		}
		if !tensor.SameShape(dout.Shape, []int{B, T, Vocab}) {
			t.Fatalf("%s: dout shape %v", name, dout.Shape)
		}

		// The same computation through the kernels directly: identical.
		probs, losses, grad := tensor.New(B, T, Vocab), tensor.New(B*T), tensor.New(B, T, Vocab)
		wantLoss, count, err := nn.CrossEntropyForward(losses, probs, out, b.Targets.Data, sdk.IgnoreIndex)
		if err != nil {
			t.Fatal(err)
		}
		if err := nn.CrossEntropyBackward(grad, probs, b.Targets.Data, sdk.IgnoreIndex, 1); err != nil {
			t.Fatal(err)
		}
		if loss != wantLoss || !slices.Equal(dout.Data, grad.Data) || m["tokens"] != float64(count) {
			t.Errorf("%s: Loss = %v (%v tokens), kernels give %v (%d tokens), or the gradients differ", name, loss, m["tokens"], wantLoss, count)
		}

		// And against the definition in float64.
		refLoss, refGrad := referenceLoss(out.Data, b.Targets.Data)
		if !objectivetest.Within(float64(loss), refLoss, 1e-5, 1e-5) {
			t.Errorf("%s: loss %v, reference %v", name, loss, refLoss)
		}
		worst := 0.0
		for i, g := range dout.Data {
			worst = max(worst, math.Abs(float64(g)-refGrad[i]))
		}
		if worst > 1e-7 {
			t.Errorf("%s: gradient differs from the reference by up to %g", name, worst)
		}
		for r, tg := range b.Targets.Data {
			if tg == sdk.IgnoreIndex && slices.ContainsFunc(dout.Data[r*Vocab:(r+1)*Vocab], func(g float32) bool { return g != 0 }) {
				t.Fatalf("%s: ignored position %d has a nonzero gradient", name, r)
			}
		}

		// A second call overwrites the gradient rather than accumulating.
		loss2, dout2, _, _ := o.Loss(out, b)
		if loss2 != loss || !slices.Equal(dout2.Data, grad.Data) {
			t.Errorf("%s: a second Loss on the same input gives another result", name)
		}
	}
}

// One row of hand-made logits per position: the metric counts argmax ==
// target over scored positions only.
func TestAccuracyHandMade(t *testing.T) {
	o := mustInit(t, sdk.Config{"dataset": "copy", "seq_len": 5}, 1, 1)
	b := &sdk.Batch{Inputs: sdk.NewInts(1, 5), Targets: &sdk.Ints{Shape: []int{1, 5}, Data: []int32{ign, 3, 7, 7, 200}}}
	out := tensor.New(1, 5, Vocab)
	row := func(p int) []float32 { return out.Data[p*Vocab : (p+1)*Vocab] }
	row(0)[0] = 9                 // ignored: not counted either way
	row(1)[3] = 1                 // right
	row(2)[7], row(2)[2] = 1, 1   // tie between 2 and 7: the first (2) wins, wrong
	row(3)[7], row(3)[8] = 2, 1.5 // right
	row(4)[201] = 5               // wrong
	_, _, m, err := o.Loss(out, b)
	if err != nil {
		t.Fatal(err)
	}
	if m["tokens"] != 4 || m["accuracy"] != 0.5 {
		t.Errorf("metrics %v, want tokens 4 and accuracy 0.5", m)
	}
	if len(m) != 2 {
		t.Errorf("metrics %v, want only accuracy and tokens", m)
	}
}

// A model whose logits are one-hot on every target gets accuracy 1 and a
// loss near zero on the recall tasks.
func TestPerfectPredictor(t *testing.T) {
	for _, name := range []string{"copy", "mqar"} {
		o := mustInit(t, configs(t)[name], 3, 2)
		b, err := o.Batch(sdk.Eval, 2)
		if err != nil {
			t.Fatal(err)
		}
		out := tensor.New(3, o.seqLen, Vocab)
		scored := 0
		for r, tg := range b.Targets.Data {
			if tg != sdk.IgnoreIndex {
				out.Data[r*Vocab+int(tg)] = 25
				scored++
			}
		}
		loss, _, m, err := o.Loss(out, b)
		if err != nil {
			t.Fatal(err)
		}
		if m["accuracy"] != 1 || m["tokens"] != float64(scored) || loss > 1e-6 {
			t.Errorf("%s: perfect logits give loss %v and metrics %v, want ~0, accuracy 1 and tokens %d", name, loss, m, scored)
		}
		// The uniform model's loss is log(Vocab), with accuracy 1/Vocab at best.
		out.Zero()
		loss, _, _, _ = o.Loss(out, b)
		if !objectivetest.Within(float64(loss), math.Log(Vocab), 1e-5, 0) {
			t.Errorf("%s: zero logits give loss %v, want log(256) = %v", name, loss, math.Log(Vocab))
		}
	}
}

func TestLossNothingScored(t *testing.T) {
	o := mustInit(t, sdk.Config{"seq_len": 3}, 2, 1)
	tg := sdk.NewInts(2, 3)
	for i := range tg.Data {
		tg.Data[i] = ign
	}
	out := tensor.New(2, 3, Vocab)
	copy(out.Data, randomLogits(len(out.Data), 1))
	loss, dout, m, err := o.Loss(out, &sdk.Batch{Targets: tg})
	if err != nil {
		t.Fatal(err)
	}
	if loss != 0 || m["tokens"] != 0 || m["accuracy"] != 0 || slices.ContainsFunc(dout.Data, func(g float32) bool { return g != 0 }) {
		t.Errorf("no scored position: loss %v, metrics %v, nonzero gradient %v", loss, m, slices.Max(dout.Data))
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
	bad.Data[5] = 256
	cases := []struct {
		name  string
		out   *tensor.Tensor
		batch *sdk.Batch
		want  string
	}{
		{"nil out", nil, b, "out is nil, want logits (2, 4, 256)"},
		{"vocab", tensor.New(2, 4, 255), b, "out has shape (2, 4, 255) and 2040 elements, want logits (batch 2, seq_len 4, vocab 256)"},
		{"flat", tensor.New(8, Vocab), b, "out has shape (8, 256)"},
		{"batch", tensor.New(3, 4, Vocab), b, "out has shape (3, 4, 256)"},
		{"short data", &tensor.Tensor{Shape: []int{2, 4, Vocab}, Data: make([]float32, 10)}, b, "and 10 elements"},
		{"nil batch", good, nil, "batch has no targets"},
		{"no targets", good, &sdk.Batch{Inputs: b.Inputs}, "batch has no targets"},
		{"targets shape", good, &sdk.Batch{Targets: sdk.NewInts(2, 5)}, "targets have shape (2, 5) and 10 elements, want (batch 2, seq_len 4)"},
		{"targets data", good, &sdk.Batch{Targets: &sdk.Ints{Shape: []int{2, 4}, Data: make([]int32, 7)}}, "and 7 elements"},
		{"target range", good, &sdk.Batch{Targets: bad}, "targets[5] = 256 is outside the classes [0, 256)"},
	}
	for _, c := range cases {
		_, _, _, err := o.Loss(c.out, c.batch)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: Loss = %v, want an error containing %q", c.name, err, c.want)
		}
	}
}
