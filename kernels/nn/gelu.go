package nn

import (
	"fmt"
	"math"

	"github.com/attnlab/attnlab/kernels/tensor"
	"github.com/attnlab/attnlab/kernels/vmath"
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
// which equals 0.5·x·(1 + tanh u) without its cancellation for negative x,
// in one vectorised loop around the exponential. The erf form is x·Φ(x)
// with the normal tail Φ(-|x|) from a Chebyshev fit of erfc
// (geluErfChunk), through vmath.Exp a chunk at a time; it is within 2.4e-7
// of the float64 formula for |x| <= 10 (the rounding of the result), and
// its derivative within 1.4e-7.
//
// Neither form branches on the data: both are straight-line float32
// arithmetic with the exponentials vectorised.
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
// GELU' is 1 or below 3e-27 in magnitude. For the erf form:
// GELU'(x) = Φ(x) + x·φ(x).
func GELUBackward(dinp, inp, dout *tensor.Tensor, approx GELUApprox) error {
	if err := checkPointwiseBackward("nn.GELUBackward", dinp, inp, dout); err != nil {
		return err
	}
	if err := checkApprox("nn.GELUBackward", approx); err != nil {
		return err
	}
	if dinp == nil {
		return nil
	}
	j := elemJobs.Get()
	*j = elemJob{kind: geluTanhBwd, x: inp.Data, y: dout.Data[:len(inp.Data)], d: dinp.Data[:len(inp.Data)]}
	if approx == GELUErf {
		j.kind = geluErfBwd
	}
	runElem(j)
	return nil
}

// Chebyshev fit of erfc (Numerical Recipes, "erfcc"): for z >= 0,
// erfc(z) = t·exp(-z² + P(t)), t = 1/(1 + z/2), with a fractional error
// below 1.2e-7 for every z. Here z = |x|/√2, so the tail probability is
// Φ(-|x|) = erfc(z)/2 = t/2·exp(-x²/2)·exp(P(t)); the two exponentials are
// taken separately so that rounding -x²/2 + P(t) to float32 does not cost
// the tail its relative accuracy (about 1e-6 up to |x| = 8, against 6e-6
// for one combined exponential).
const (
	erfcP0 = -1.26551223
	erfcP1 = 1.00002368
	erfcP2 = 0.37409196
	erfcP3 = 0.09678418
	erfcP4 = -0.18628806
	erfcP5 = 0.27886807
	erfcP6 = -1.13520398
	erfcP7 = 1.48851587
	erfcP8 = -0.82215223
	erfcP9 = 0.17087277

	invSqrt2   = 0.7071067811865476 // 1/√2
	invSqrt2Pi = 0.3989422804014327 // 1/√(2π)
)

// geluErfChunk evaluates the erf form on at most chunk elements: with y
// non-nil it sets y = x·Φ(x); with dx non-nil it accumulates
// dx += (Φ(x) + x·φ(x))·dy. Φ(x) is the tail q = Φ(-|x|) for x < 0 and
// 1 - q otherwise, selected by multiplying with 0 or 1 from the sign bit
// (exact), so the negative tail keeps its relative accuracy and no branch
// depends on the data.
func geluErfChunk(y, dx, x, dy []float32) {
	var g, p, tt [chunk]float32
	gs, ps, ts := g[:len(x)], p[:len(x)], tt[:len(x)]
	for i, v := range x {
		// t and P(t) in float64: Horner's nine steps would otherwise add
		// up to 5e-7 of rounding to the exponent.
		a := float64(math.Float32frombits(math.Float32bits(v) &^ (1 << 31))) // |v|
		t := 1 / (1 + (0.5*invSqrt2)*a)
		q := erfcP9*t + erfcP8
		q = q*t + erfcP7
		q = q*t + erfcP6
		q = q*t + erfcP5
		q = q*t + erfcP4
		q = q*t + erfcP3
		q = q*t + erfcP2
		q = q*t + erfcP1
		q = q*t + erfcP0
		gs[i] = -0.5 * v * v
		ps[i] = float32(q)
		ts[i] = float32(t)
	}
	vmath.Exp(gs, gs) // exp(-x²/2)
	vmath.Exp(ps, ps) // exp(P(t))
	if y != nil {
		y = y[:len(x)]
		for i, v := range x {
			q := 0.5 * ts[i] * gs[i] * ps[i]           // Φ(-|x|)
			pos := float32(^math.Float32bits(v) >> 31) // 1 for x >= +0, else 0
			// x·q for x < 0, x - x·q otherwise: one rounding either way.
			y[i] = pos*v + (1-2*pos)*(v*q)
		}
		return
	}
	dx, dy = dx[:len(x)], dy[:len(x)]
	for i, v := range x {
		q := 0.5 * ts[i] * gs[i] * ps[i]
		pos := float32(^math.Float32bits(v) >> 31)
		dx[i] += (pos + (1-2*pos)*q + v*gs[i]*invSqrt2Pi) * dy[i]
	}
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
