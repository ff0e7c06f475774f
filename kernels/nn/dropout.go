package nn

import (
	"fmt"

	"github.com/attnlab/attnlab/kernels/rng"
	"github.com/attnlab/attnlab/kernels/tensor"
)

// DropoutForward zeroes each element of inp with probability p and scales
// the survivors by 1/(1-p), so the expectation is unchanged ("inverted
// dropout", Srivastava et al. 2014, as PyTorch's F.dropout in training):
//
//	inp, out, mask  same shape (any)
//	mask            the per-element scale, 0 or 1/(1-p), cached for the backward
//
// Element i is kept when the i-th r.Float32() is at least p, so the mask
// depends only on r's state and the element count: the same seed gives the
// same mask. p must be in [0, 1); p = 0 copies inp, sets mask to 1 and draws
// nothing from r (which may then be nil). out may alias inp.
func DropoutForward(out, mask, inp *tensor.Tensor, p float32, r *rng.RNG) error {
	chk := tensor.Check("nn.DropoutForward").Add("out", out).Add("mask", mask).Add("inp", inp)
	same(chk, "out", out, "inp", inp)
	same(chk, "mask", mask, "inp", inp)
	if err := chk.Err(); err != nil {
		return err
	}
	if !(p >= 0 && p < 1) {
		return fmt.Errorf("nn.DropoutForward: p = %g must be in [0, 1)", p)
	}
	x, y, m := inp.Data, out.Data[:len(inp.Data)], mask.Data[:len(inp.Data)]
	if p == 0 {
		copy(y, x)
		for i := range m {
			m[i] = 1
		}
		return nil
	}
	if r == nil {
		return fmt.Errorf("nn.DropoutForward: p = %g needs a random stream, got a nil *rng.RNG", p)
	}
	keep := 1 / (1 - p)
	for i, v := range x {
		s := keep
		if r.Float32() < p {
			s = 0
		}
		m[i] = s
		y[i] = v * s
	}
	return nil
}

// DropoutBackward accumulates dinp += dout ⊙ mask, with mask as cached by
// DropoutForward. All three have the same shape; dinp may be nil.
func DropoutBackward(dinp, mask, dout *tensor.Tensor) error {
	chk := tensor.Check("nn.DropoutBackward")
	opt(chk, "dinp", dinp)
	chk.Add("mask", mask).Add("dout", dout)
	same(chk, "dout", dout, "mask", mask)
	same(chk, "dinp", dinp, "mask", mask)
	if err := chk.Err(); err != nil || dinp == nil {
		return err
	}
	dx, dy := dinp.Data[:len(mask.Data)], dout.Data[:len(mask.Data)]
	for i, s := range mask.Data {
		dx[i] += dy[i] * s
	}
	return nil
}
