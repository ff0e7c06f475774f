package nn

import (
	"errors"
	"testing"

	"github.com/attnlab/attnlab/kernels/rng"
	"github.com/attnlab/attnlab/kernels/tensor"
)

// shapeCase is a call with operands that do not fit together. The error
// must be a *tensor.ShapeError whose message contains every string in want
// (the shapes that disagree), and the outputs, filled with 9 beforehand,
// must be untouched.
type shapeCase struct {
	name string
	call func() error
	outs []*tensor.Tensor
	want []string
}

// nines returns a tensor of the given shape filled with 9, the value
// checkUntouched looks for.
func nines(shape ...int) *tensor.Tensor { return filled(9, shape...) }

func shapeCases() []shapeCase {
	x := func(shape ...int) *tensor.Tensor { return randT(1, 1, shape...) }
	var cs []shapeCase
	add := func(name string, call func(outs ...*tensor.Tensor) error, outs []*tensor.Tensor, want ...string) {
		cs = append(cs, shapeCase{name, func() error { return call(outs...) }, outs, want})
	}
	o := func(ts ...*tensor.Tensor) []*tensor.Tensor { return ts }

	// Linear: inp (4, 7), weight (5, 7).
	add("Linear/weight", func(t ...*tensor.Tensor) error { return LinearForward(t[0], x(4, 7), x(5, 8), nil) },
		o(nines(4, 5)), "inp (4, 7)", "weight (5, 8)")
	add("Linear/out", func(t ...*tensor.Tensor) error { return LinearForward(t[0], x(4, 7), x(5, 7), x(5)) },
		o(nines(4, 6)), "out (4, 6)", "inp (4, 7)", "weight (5, 7)")
	add("Linear/out-lead", func(t ...*tensor.Tensor) error { return LinearForward(t[0], x(4, 7), x(5, 7), nil) },
		o(nines(2, 2, 5)), "out (2, 2, 5)", "inp (4, 7)")
	add("Linear/bias", func(t ...*tensor.Tensor) error { return LinearForward(t[0], x(4, 7), x(5, 7), x(6)) },
		o(nines(4, 5)), "bias (6)", "weight (5, 7)")
	add("Linear/nil", func(t ...*tensor.Tensor) error { return LinearForward(t[0], nil, x(5, 7), nil) },
		o(nines(4, 5)), "inp (nil)", "inp is nil")
	add("Linear/data", func(t ...*tensor.Tensor) error {
		return LinearForward(t[0], &tensor.Tensor{Shape: []int{4, 7}, Data: make([]float32, 27)}, x(5, 7), nil)
	}, o(nines(4, 5)), "inp (4, 7)", "27 elements")
	add("LinearBackward/dinp", func(t ...*tensor.Tensor) error { return LinearBackward(t[0], t[1], t[2], x(4, 5), x(4, 7), x(5, 7)) },
		o(nines(4, 8), nines(5, 7), nines(5)), "dinp (4, 8)", "inp (4, 7)")
	add("LinearBackward/dweight", func(t ...*tensor.Tensor) error { return LinearBackward(t[0], t[1], nil, x(4, 5), x(4, 7), x(5, 7)) },
		o(nines(4, 7), nines(7, 5)), "dweight (7, 5)", "weight (5, 7)")
	add("LinearBackward/dout", func(t ...*tensor.Tensor) error { return LinearBackward(t[0], t[1], t[2], x(4, 6), x(4, 7), x(5, 7)) },
		o(nines(4, 7), nines(5, 7), nines(5)), "dout (4, 6)", "weight (5, 7)")

	// Embedding: table (10, 5), three ids.
	ids := []int32{1, 2, 3}
	add("Embedding/width", func(t ...*tensor.Tensor) error { return EmbeddingForward(t[0], ids, x(10, 5)) },
		o(nines(3, 4)), "out (3, 4)", "table (10, 5)")
	add("Embedding/rows", func(t ...*tensor.Tensor) error { return EmbeddingForward(t[0], ids, x(10, 5)) },
		o(nines(2, 2, 5)), "out (2, 2, 5)", "len(ids) = 3")
	add("EmbeddingBackward", func(t ...*tensor.Tensor) error { return EmbeddingBackward(t[0], x(3, 5), ids) },
		o(nines(10, 4)), "dtable (10, 4)", "dout (3, 5)")

	// Positions: inp (2, 3, 5).
	add("Position/short", func(t ...*tensor.Tensor) error { return PositionForward(t[0], x(2, 3, 5), x(2, 5)) },
		o(nines(2, 3, 5)), "inp (2, 3, 5)", "wpe (2, 5)")
	add("Position/out", func(t ...*tensor.Tensor) error { return PositionForward(t[0], x(2, 3, 5), x(4, 5)) },
		o(nines(2, 3, 4)), "out (2, 3, 4)", "inp (2, 3, 5)")
	add("Position/rank", func(t ...*tensor.Tensor) error { return PositionForward(t[0], x(6, 5), x(4, 5)) },
		o(nines(6, 5)), "inp (6, 5)", "three dimensions")
	add("PositionBackward/dwpe", func(t ...*tensor.Tensor) error { return PositionBackward(t[0], t[1], x(2, 3, 5)) },
		o(nines(2, 3, 5), nines(4, 6)), "dwpe (4, 6)", "dout (2, 3, 5)")
	add("PositionBackward/dinp", func(t ...*tensor.Tensor) error { return PositionBackward(t[0], nil, x(2, 3, 5)) },
		o(nines(2, 3, 4)), "dinp (2, 3, 4)", "dout (2, 3, 5)")

	// Norms: inp (4, 5).
	add("LayerNorm/weight", func(t ...*tensor.Tensor) error { return LayerNormForward(t[0], t[1], t[2], x(4, 5), x(6), x(5), 1e-5) },
		o(nines(4, 5), nines(4), nines(4)), "inp (4, 5)", "weight (6)")
	add("LayerNorm/mean", func(t ...*tensor.Tensor) error { return LayerNormForward(t[0], t[1], t[2], x(4, 5), x(5), nil, 1e-5) },
		o(nines(4, 5), nines(3), nines(4)), "mean (3)", "inp (4, 5)")
	add("LayerNorm/out", func(t ...*tensor.Tensor) error { return LayerNormForward(t[0], t[1], t[2], x(4, 5), x(5), nil, 1e-5) },
		o(nines(4, 6), nines(4), nines(4)), "out (4, 6)", "inp (4, 5)")
	add("LayerNormBackward/rstd", func(t ...*tensor.Tensor) error {
		return LayerNormBackward(t[0], t[1], t[2], x(4, 5), x(4, 5), x(5), x(4), x(2, 2))
	}, o(nines(4, 5), nines(5), nines(5)), "rstd (2, 2)", "inp (4, 5)")
	add("LayerNormBackward/dweight", func(t ...*tensor.Tensor) error {
		return LayerNormBackward(t[0], t[1], t[2], x(4, 5), x(4, 5), x(5), x(4), x(4))
	}, o(nines(4, 5), nines(4), nines(5)), "dweight (4)", "weight (5)")
	add("RMSNorm/rstd", func(t ...*tensor.Tensor) error { return RMSNormForward(t[0], t[1], x(2, 2, 5), x(5), 1e-5) },
		o(nines(2, 2, 5), nines(2, 3)), "rstd (2, 3)", "inp (2, 2, 5)")
	add("RMSNormBackward/dinp", func(t ...*tensor.Tensor) error { return RMSNormBackward(t[0], t[1], x(4, 5), x(4, 5), x(5), x(4)) },
		o(nines(5, 4), nines(5)), "dinp (5, 4)", "inp (4, 5)")

	// Element-wise and row-wise kernels: (4, 3) against (3, 4).
	fwd := map[string]func(out, inp *tensor.Tensor) error{
		"GELU":       func(out, inp *tensor.Tensor) error { return GELUForward(out, inp, GELUErf) },
		"ReLU":       ReLUForward,
		"SiLU":       SiLUForward,
		"Softplus":   SoftplusForward,
		"Softmax":    SoftmaxForward,
		"LogSoftmax": LogSoftmaxForward,
	}
	bwd := map[string]func(dinp, a, b *tensor.Tensor) error{
		"GELU":       func(dinp, inp, dout *tensor.Tensor) error { return GELUBackward(dinp, inp, dout, GELUTanh) },
		"ReLU":       ReLUBackward,
		"SiLU":       SiLUBackward,
		"Softplus":   SoftplusBackward,
		"Softmax":    SoftmaxBackward,
		"LogSoftmax": LogSoftmaxBackward,
	}
	for _, k := range []string{"GELU", "ReLU", "SiLU", "Softplus", "Softmax", "LogSoftmax"} {
		f, b := fwd[k], bwd[k]
		add(k, func(t ...*tensor.Tensor) error { return f(t[0], x(4, 3)) }, o(nines(3, 4)), "out (3, 4)", "(4, 3)")
		add(k+"Backward/dout", func(t ...*tensor.Tensor) error { return b(t[0], x(4, 3), x(3, 4)) }, o(nines(4, 3)), "(4, 3)", "dout (3, 4)")
		add(k+"Backward/dinp", func(t ...*tensor.Tensor) error { return b(t[0], x(4, 3), x(4, 3)) }, o(nines(4, 4)), "dinp (4, 4)", "(4, 3)")
	}

	// Cross-entropy: logits (3, 5).
	tg := []int32{0, 1, 2}
	add("CrossEntropy/probs", func(t ...*tensor.Tensor) error {
		_, _, err := CrossEntropyForward(t[0], t[1], x(3, 5), tg, -100)
		return err
	},
		o(nines(3), nines(3, 6)), "probs (3, 6)", "logits (3, 5)")
	add("CrossEntropy/losses", func(t ...*tensor.Tensor) error {
		_, _, err := CrossEntropyForward(t[0], t[1], x(3, 5), tg, -100)
		return err
	},
		o(nines(4), nines(3, 5)), "losses (4)", "logits (3, 5)")
	add("CrossEntropy/targets", func(t ...*tensor.Tensor) error {
		_, _, err := CrossEntropyForward(t[0], t[1], x(3, 5), []int32{0, 1, 2, 3}, -100)
		return err
	}, o(nines(3), nines(3, 5)), "logits (3, 5)", "len(targets) = 4")
	add("CrossEntropyBackward", func(t ...*tensor.Tensor) error { return CrossEntropyBackward(t[0], x(3, 5), tg, -100, 1) },
		o(nines(3, 6)), "dlogits (3, 6)", "probs (3, 5)")

	// Dropout and residual: (2, 3) against (2, 4).
	add("Dropout", func(t ...*tensor.Tensor) error { return DropoutForward(t[0], t[1], x(2, 3), 0.5, rng.New(1)) },
		o(nines(2, 3), nines(2, 4)), "mask (2, 4)", "inp (2, 3)")
	add("DropoutBackward", func(t ...*tensor.Tensor) error { return DropoutBackward(t[0], x(2, 3), x(2, 3)) },
		o(nines(2, 4)), "dinp (2, 4)", "mask (2, 3)")
	add("Residual", func(t ...*tensor.Tensor) error { return ResidualForward(t[0], x(2, 3), x(2, 4)) },
		o(nines(2, 3)), "a (2, 3)", "b (2, 4)")
	add("ResidualBackward", func(t ...*tensor.Tensor) error { return ResidualBackward(t[0], t[1], x(2, 3)) },
		o(nines(2, 3), nines(2, 4)), "db (2, 4)", "dout (2, 3)")
	return cs
}

func TestShapeErrors(t *testing.T) {
	for _, c := range shapeCases() {
		t.Run(c.name, func(t *testing.T) {
			err := c.call()
			var se *tensor.ShapeError
			if !errors.As(err, &se) {
				t.Fatalf("got error %v (%T), want a *tensor.ShapeError", err, err)
			}
			if !containsAll(err.Error(), c.want...) {
				t.Errorf("error %q does not name all of %q", err, c.want)
			}
			for i, out := range c.outs {
				checkUntouched(t, "output "+string(rune('0'+i)), out, 9)
			}
		})
	}
}
