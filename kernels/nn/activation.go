package nn

import (
	"math"

	"github.com/attnlab/attnlab/kernels/tensor"
	"github.com/attnlab/attnlab/kernels/vmath"
)

// Element-wise activations other than GELU. Each forward takes out and inp
// of the same (any) shape and caches nothing; each backward accumulates
// dinp += f'(inp)·dout and accepts a nil dinp.

// ReLUForward sets out = max(inp, 0).
func ReLUForward(out, inp *tensor.Tensor) error {
	if err := checkPointwiseForward("nn.ReLUForward", out, inp); err != nil {
		return err
	}
	y := out.Data[:len(inp.Data)]
	for i, v := range inp.Data {
		y[i] = max(v, 0)
	}
	return nil
}

// ReLUBackward accumulates dinp += dout where inp > 0. The derivative at 0
// is taken as 0, as in PyTorch.
func ReLUBackward(dinp, inp, dout *tensor.Tensor) error {
	if err := checkPointwiseBackward("nn.ReLUBackward", dinp, inp, dout); err != nil || dinp == nil {
		return err
	}
	dx, dy := dinp.Data[:len(inp.Data)], dout.Data[:len(inp.Data)]
	for i, v := range inp.Data {
		if v > 0 {
			dx[i] += dy[i]
		}
	}
	return nil
}

// SiLUForward sets out = inp·σ(inp), the sigmoid-weighted linear unit
// (Elfwing, Uchibe and Doya 2018; "swish" with β = 1 in Ramachandran et al.
// 2017), computed as x / (1 + exp(-x)) with vmath.Exp.
func SiLUForward(out, inp *tensor.Tensor) error {
	if err := checkPointwiseForward("nn.SiLUForward", out, inp); err != nil {
		return err
	}
	x, y := inp.Data, out.Data[:len(inp.Data)]
	var e [chunk]float32
	for c0 := 0; c0 < len(x); c0 += chunk {
		xs := x[c0:min(c0+chunk, len(x))]
		es := e[:len(xs)]
		for i, v := range xs {
			es[i] = -v
		}
		vmath.Exp(es, es)
		ys := y[c0 : c0+len(xs)]
		for i, v := range xs {
			ys[i] = v / (1 + es[i])
		}
	}
	return nil
}

// SiLUBackward accumulates dinp += σ(x)·(1 + x·(1 - σ(x)))·dout.
func SiLUBackward(dinp, inp, dout *tensor.Tensor) error {
	if err := checkPointwiseBackward("nn.SiLUBackward", dinp, inp, dout); err != nil || dinp == nil {
		return err
	}
	x, dx, dy := inp.Data, dinp.Data[:len(inp.Data)], dout.Data[:len(inp.Data)]
	var e [chunk]float32
	for c0 := 0; c0 < len(x); c0 += chunk {
		xs := x[c0:min(c0+chunk, len(x))]
		es := e[:len(xs)]
		for i, v := range xs {
			es[i] = -v
		}
		vmath.Exp(es, es)
		dxs, dys := dx[c0:c0+len(xs)], dy[c0:c0+len(xs)]
		for i, v := range xs {
			s := 1 / (1 + es[i])
			oneMinus := es[i] * s // 1-s, exact for small e; see GELUBackward
			if es[i] >= 1 {
				oneMinus = 1 - s
			}
			dxs[i] += s * (1 + v*oneMinus) * dys[i]
		}
	}
	return nil
}

// softplusThreshold is PyTorch's default: above it softplus returns x,
// which equals log(1 + eˣ) to within float32 rounding.
const softplusThreshold = 20

// SoftplusForward sets out = log(1 + exp(inp)) as PyTorch's F.softplus with
// beta = 1 and threshold = 20: x itself above 20, otherwise the stable form
// log1p(exp(-|x|)) + max(x, 0), in float64, which neither overflows for
// large x nor loses the result to rounding for very negative x.
func SoftplusForward(out, inp *tensor.Tensor) error {
	if err := checkPointwiseForward("nn.SoftplusForward", out, inp); err != nil {
		return err
	}
	y := out.Data[:len(inp.Data)]
	for i, v := range inp.Data {
		if v > softplusThreshold {
			y[i] = v
			continue
		}
		x := float64(v)
		y[i] = float32(math.Log1p(math.Exp(-math.Abs(x))) + max(x, 0))
	}
	return nil
}

// SoftplusBackward accumulates dinp += σ(x)·dout (1·dout above the
// threshold, matching the forward).
func SoftplusBackward(dinp, inp, dout *tensor.Tensor) error {
	if err := checkPointwiseBackward("nn.SoftplusBackward", dinp, inp, dout); err != nil || dinp == nil {
		return err
	}
	dx, dy := dinp.Data[:len(inp.Data)], dout.Data[:len(inp.Data)]
	for i, v := range inp.Data {
		if v > softplusThreshold {
			dx[i] += dy[i]
			continue
		}
		dx[i] += float32(1/(1+math.Exp(-float64(v)))) * dy[i]
	}
	return nil
}

// checkPointwiseForward requires out and inp to have the same shape.
func checkPointwiseForward(op string, out, inp *tensor.Tensor) error {
	chk := tensor.Check(op).Add("out", out).Add("inp", inp)
	same(chk, "out", out, "inp", inp)
	return chk.Err()
}

// checkPointwiseBackward requires inp, dout and a non-nil dinp to have the
// same shape.
func checkPointwiseBackward(op string, dinp, inp, dout *tensor.Tensor) error {
	chk := tensor.Check(op)
	opt(chk, "dinp", dinp)
	chk.Add("inp", inp).Add("dout", dout)
	same(chk, "dout", dout, "inp", inp)
	same(chk, "dinp", dinp, "inp", inp)
	return chk.Err()
}

// siluNaive and siluGradNaive are the float64 references for SiLU.
func siluNaive(x float64) float64 { return x / (1 + math.Exp(-x)) }

func siluGradNaive(x float64) float64 {
	s := 1 / (1 + math.Exp(-x))
	return s + x*s*(1-s)
}

// softplusNaive and softplusGradNaive are the float64 references for
// Softplus: the definition log(1 + eˣ), with PyTorch's threshold.
func softplusNaive(x float64) float64 {
	if x > softplusThreshold {
		return x
	}
	return math.Log(1 + math.Exp(x))
}

func softplusGradNaive(x float64) float64 {
	if x > softplusThreshold {
		return 1
	}
	return math.Exp(x) / (1 + math.Exp(x))
}
