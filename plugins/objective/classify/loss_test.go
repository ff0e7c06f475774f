package classify

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/attnlab/attnlab/kernels/rng"
	"github.com/attnlab/attnlab/kernels/tensor"
	"github.com/attnlab/attnlab/plugins/objective/internal/objectivetest"
	"github.com/attnlab/attnlab/plugins/sdk"
)

// Loss's gradient matches central finite differences of Loss itself on
// every logit, and the loss matches the definition in float64.
func TestLossGradientFiniteDifferences(t *testing.T) {
	const B, K = 3, 10
	o := mustInit(t, configs()["listops"], B, 1)
	tg := &sdk.Ints{Shape: []int{B}, Data: []int32{4, 0, 9}}
	batch := &sdk.Batch{Targets: tg}
	out := tensor.New(B, K)
	rng.New(2).FillNormal(out.Data, 0, 2)
	loss, dout, _, err := o.Loss(out, batch)
	if err != nil {
		t.Fatal(err)
	}
	ref := 0.0
	for e := range B {
		row := out.Data[e*K : (e+1)*K]
		s := 0.0
		for _, v := range row {
			s += math.Exp(float64(v))
		}
		ref += (math.Log(s) - float64(row[tg.Data[e]])) / B
	}
	if !objectivetest.Within(float64(loss), ref, 1e-6, 1e-6) {
		t.Errorf("loss %v, definition %v", loss, ref)
	}
	grad := slices.Clone(dout.Data)
	lossOf := func() float32 { l, _, _, _ := o.Loss(out, batch); return l }
	worst := objectivetest.MaxFDError(lossOf, out.Data, grad, objectivetest.Rows(len(out.Data), 0), 1e-2)
	if worst > 1e-4 {
		t.Errorf("gradient differs from finite differences by up to %g", worst)
	}
	t.Logf("largest |analytic - finite difference| = %.2g", worst)
}

// Hand-made logits: accuracy is argmax == label, the first on ties.
func TestAccuracyHandMade(t *testing.T) {
	o := mustInit(t, configs()["text"], 4, 1) // 3 classes
	out := &tensor.Tensor{Shape: []int{4, 3}, Data: []float32{
		0, 1, 0, // 1: right
		2, 2, 0, // tie: 0 wins, label 1: wrong
		0, 0, 5, // 2: right
		9, 0, 0, // 0, label 2: wrong
	}}
	_, _, m, err := o.Loss(out, &sdk.Batch{Targets: &sdk.Ints{Shape: []int{4}, Data: []int32{1, 1, 2, 2}}})
	if err != nil {
		t.Fatal(err)
	}
	if m["accuracy"] != 0.5 || len(m) != 1 {
		t.Errorf("metrics %v, want accuracy 0.5 only", m)
	}
}

func TestLossRejects(t *testing.T) {
	if _, _, _, err := New().Loss(tensor.New(1, 10), &sdk.Batch{}); err == nil || !strings.Contains(err.Error(), "before a successful Init") {
		t.Errorf("Loss before Init: %v", err)
	}
	o := mustInit(t, configs()["listops"], 2, 1)
	b, _ := o.Batch(sdk.Train, 0)
	good := tensor.New(2, 10)
	cases := []struct {
		name  string
		out   *tensor.Tensor
		batch *sdk.Batch
		want  string
	}{
		{"nil out", nil, b, "out is nil, want class logits (2, 10)"},
		{"token logits", tensor.New(2, 64, 17), b, "out has shape (2, 64, 17) and 2176 elements, want class logits (batch 2, classes 10)"},
		{"nil batch", good, nil, "batch has no targets"},
		{"targets shape", good, &sdk.Batch{Targets: sdk.NewInts(2, 1)}, "targets have shape (2, 1) and 2 elements, want (batch 2)"},
		{"target range", good, &sdk.Batch{Targets: &sdk.Ints{Shape: []int{2}, Data: []int32{0, 10}}}, "targets[1] = 10 is outside the classes [0, 10)"},
	}
	for _, c := range cases {
		_, _, _, err := o.Loss(c.out, c.batch)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: Loss = %v, want an error containing %q", c.name, err, c.want)
		}
	}
}
