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
// The tanh form is computed as x·σ(2u) with u = √(2/π)·(x + 0.044715·x³),
// which equals 0.5·x·(1 + tanh u) and needs one exponential, done by
// vmath.Exp a chunk at a time. The erf form uses math.Erf in float64.
func GELUForward(out, inp *tensor.Tensor, approx GELUApprox) error {
	if err := checkPointwiseForward("nn.GELUForward", out, inp); err != nil {
		return err
	}
	if err := checkApprox("nn.GELUForward", approx); err != nil {
		return err
	}
	x, y := inp.Data, out.Data[:len(inp.Data)]
	if approx == GELUErf {
		for i, v := range x {
			y[i] = float32(0.5 * float64(v) * (1 + math.Erf(float64(v)*math.Sqrt2/2)))
		}
		return nil
	}
	var e [chunk]float32
	for c0 := 0; c0 < len(x); c0 += chunk {
		xs := x[c0:min(c0+chunk, len(x))]
		es := e[:len(xs)]
		for i, v := range xs {
			es[i] = -2 * geluK * (v + geluA*v*v*v)
		}
		vmath.Exp(es, es)
		ys := y[c0 : c0+len(xs)]
		for i, v := range xs {
			ys[i] = v / (1 + es[i])
		}
	}
	return nil
}

// GELUBackward accumulates dinp += GELU'(inp)·dout; all three have the same
// shape. dinp may be nil (nothing to do). For the tanh form, with
// s = σ(2u): GELU'(x) = s + 2x·s·(1-s)·u'(x), u' = √(2/π)·(1 + 3·0.044715·x²).
// For the erf form: GELU'(x) = Φ(x) + x·φ(x).
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
	x, dy, dx := inp.Data, dout.Data[:len(inp.Data)], dinp.Data[:len(inp.Data)]
	if approx == GELUErf {
		for i, v := range x {
			xf := float64(v)
			cdf := 0.5 * (1 + math.Erf(xf*math.Sqrt2/2))
			pdf := math.Exp(-0.5*xf*xf) / math.Sqrt(2*math.Pi)
			dx[i] += float32(cdf+xf*pdf) * dy[i]
		}
		return nil
	}
	var e [chunk]float32
	for c0 := 0; c0 < len(x); c0 += chunk {
		xs := x[c0:min(c0+chunk, len(x))]
		es := e[:len(xs)]
		for i, v := range xs {
			es[i] = -2 * geluK * (v + geluA*v*v*v)
		}
		vmath.Exp(es, es)
		dys, dxs := dy[c0:c0+len(xs)], dx[c0:c0+len(xs)]
		for i, v := range xs {
			s := 1 / (1 + es[i])
			// 1-s = e·s, exact for small e; 1-s directly when e is large
			// (possibly +Inf, where e·s would be Inf·0).
			oneMinus := es[i] * s
			if es[i] >= 1 {
				oneMinus = 1 - s
			}
			du := geluK * (1 + 3*geluA*v*v)
			dxs[i] += (s + 2*v*s*oneMinus*du) * dys[i]
		}
	}
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
