package nn

import (
	"fmt"
	"math"

	"github.com/attnlab/attnlab/kernels/tensor"
)

// GELUApprox selects how GELUForward computes the Gaussian error linear
// unit GELU(x) = x·Φ(x) (Hendrycks and Gimpel 2016, "Gaussian error linear
// units (GELUs)").
type GELUApprox int

const (
	// GELUTanh is the tanh approximation of Hendrycks and Gimpel, section 2:
	// 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))). GPT-2 uses it; it is
	// PyTorch's F.gelu(x, approximate='tanh').
	GELUTanh GELUApprox = iota
	// GELUErf is the exact form 0.5·x·(1 + erf(x/√2)), PyTorch's default
	// F.gelu(x) (BERT, ViT).
	GELUErf
)

func (a GELUApprox) String() string {
	switch a {
	case GELUTanh:
		return "tanh"
	case GELUErf:
		return "erf"
	}
	return fmt.Sprintf("GELUApprox(%d)", int(a))
}

const (
	geluK = 0.7978845608028654 // √(2/π)
	geluA = 0.044715
)

// chunk is the length of the stack buffers that element-wise kernels pass
// to vmath.Exp, so exponentials are vectorised without a workspace.
const chunk = 256

// GELUForward sets out = GELU(inp) element-wise; inp and out have the same
// shape (any). Nothing is cached: the backward recomputes from inp.
//
// The tanh form is vmath.GELUTanh: x·σ(2u) with u = √(2/π)·(x + 0.044715·x³),
// which equals 0.5·x·(1 + tanh u) without its cancellation for negative x.
// The erf form is vmath.GELUErf: x·Φ(x) with the normal tail Φ(-|x|) from
// a Chebyshev fit of erfc, within 2.4e-7 of the float64 formula for
// |x| <= 12 (the rounding of the result), and its derivative within
// 1.5e-7. Both are one vectorised loop around the exponentials, with no
// branch on the data; vmath's gelu_test.go gives their accuracy in full.
func GELUForward(out, inp *tensor.Tensor, approx GELUApprox) error {
	if err := checkPointwiseForward("nn.GELUForward", out, inp); err != nil {
		return err
	}
	if err := checkApprox("nn.GELUForward", approx); err != nil {
		return err
	}
	j := elemJobs.Get()
	*j = elemJob{kind: geluTanhFwd, x: inp.Data, out: out.Data[:len(inp.Data)]}
	if approx == GELUErf {
		j.kind = geluErfFwd
	}
	runElem(j)
	return nil
}

// GELUBackward accumulates dinp += GELU'(inp)·dout; all three have the same
// shape. dinp may be nil (nothing to do). For the tanh form
// (vmath.GELUTanhGrad), with s = σ(2u): GELU'(x) = s + 2x·s·(1-s)·u'(x),
// u' = √(2/π)·(1 + 3·0.044715·x²), with x clamped to [-9, 9], beyond which
// GELU' is 1 or below 3e-27 in magnitude. For the erf form
// (vmath.GELUErfGrad): GELU'(x) = Φ(x) + x·φ(x).
func GELUBackward(dinp, inp, dout *tensor.Tensor, approx GELUApprox) error {
	return geluBackward("nn.GELUBackward", false, dinp, inp, dout, approx)
}

// GELUBackwardTo is GELUBackward with dinp overwritten, dinp =
// GELU'(inp)·dout, for a caller that is dinp's first writer (see
// LinearBackwardTo): each part of the work clears its range just before
// accumulating into it, while it is in cache, instead of the caller
// zeroing the whole tensor beforehand. The same bits.
func GELUBackwardTo(dinp, inp, dout *tensor.Tensor, approx GELUApprox) error {
	return geluBackward("nn.GELUBackwardTo", true, dinp, inp, dout, approx)
}

func geluBackward(op string, set bool, dinp, inp, dout *tensor.Tensor, approx GELUApprox) error {
	if err := checkPointwiseBackward(op, dinp, inp, dout); err != nil {
		return err
	}
	if err := checkApprox(op, approx); err != nil {
		return err
	}
	if dinp == nil {
		return nil
	}
	j := elemJobs.Get()
	*j = elemJob{kind: geluTanhBwd, x: inp.Data, y: dout.Data[:len(inp.Data)], d: dinp.Data[:len(inp.Data)], set: set}
	if approx == GELUErf {
		j.kind = geluErfBwd
	}
	runElem(j)
	return nil
}

func checkApprox(op string, approx GELUApprox) error {
	if approx != GELUTanh && approx != GELUErf {
		return fmt.Errorf("%s: unknown approximation %v (use nn.GELUTanh or nn.GELUErf)", op, approx)
	}
	return nil
}

// geluNaive is the reference GELU: the textbook formulas in float64.
func geluNaive(x float64, approx GELUApprox) float64 {
	if approx == GELUErf {
		return 0.5 * x * (1 + math.Erf(x/math.Sqrt2))
	}
	return 0.5 * x * (1 + math.Tanh(geluK*(x+geluA*x*x*x)))
}

// geluGradNaive is the reference derivative of geluNaive, in float64, from
// the tanh form's textbook derivative
// 0.5·(1 + tanh u) + 0.5·x·(1 - tanh² u)·u'.
func geluGradNaive(x float64, approx GELUApprox) float64 {
	if approx == GELUErf {
		return 0.5*(1+math.Erf(x/math.Sqrt2)) + x*math.Exp(-0.5*x*x)/math.Sqrt(2*math.Pi)
	}
	t := math.Tanh(geluK * (x + geluA*x*x*x))
	return 0.5*(1+t) + 0.5*x*(1-t*t)*geluK*(1+3*geluA*x*x)
}
