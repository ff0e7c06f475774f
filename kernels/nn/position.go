package nn

import (
	"math"

	"github.com/attnlab/attnlab/kernels/tensor"
	"github.com/attnlab/attnlab/kernels/vmath"
)

// PositionForward adds absolute position embeddings to a batch of
// sequences: out[b, t] = inp[b, t] + wpe[t], the wpe half of GPT-2's
// encoder. wpe is learned (GPT-2) or fixed (SinusoidalPositions).
//
//	inp, out  (B, T, C)
//	wpe       (maxT, C) with maxT >= T; rows from T on are not read
//
// out may alias inp. The kernel is an addition, so it is its own reference.
func PositionForward(out, inp, wpe *tensor.Tensor) error {
	chk := tensor.Check("nn.PositionForward").Add("out", out).Add("inp", inp).Add("wpe", wpe)
	checkPosition(chk, "inp", inp, "wpe", wpe)
	same(chk, "out", out, "inp", inp)
	if err := chk.Err(); err != nil {
		return err
	}
	b, t, c := inp.Shape[0], inp.Shape[1], inp.Shape[2]
	for bi := range b {
		for ti := range t {
			o := (bi*t + ti) * c
			x, y, p := inp.Data[o:o+c], out.Data[o:o+c], wpe.Data[ti*c:(ti+1)*c]
			for i := range y {
				y[i] = x[i] + p[i]
			}
		}
	}
	return nil
}

// PositionBackward accumulates the gradients of PositionForward:
//
//	dinp  (B, T, C)  += dout
//	dwpe  (maxT, C)  row t += sum over b of dout[b, t], for t < T
//
// dout is (B, T, C). Either gradient may be nil (a fixed sinusoidal table
// needs no dwpe).
func PositionBackward(dinp, dwpe, dout *tensor.Tensor) error {
	chk := tensor.Check("nn.PositionBackward")
	opt(chk, "dinp", dinp)
	opt(chk, "dwpe", dwpe)
	chk.Add("dout", dout)
	if dwpe != nil {
		checkPosition(chk, "dout", dout, "dwpe", dwpe)
	} else if chk.Ok() && len(dout.Shape) != 3 {
		chk.Failf("dout must have three dimensions (B, T, C)")
	}
	same(chk, "dinp", dinp, "dout", dout)
	if err := chk.Err(); err != nil {
		return err
	}
	if dinp != nil {
		vmath.Axpy(1, dout.Data, dinp.Data)
	}
	if dwpe != nil {
		b, t, c := dout.Shape[0], dout.Shape[1], dout.Shape[2]
		for bi := range b {
			vmath.Axpy(1, dout.Data[bi*t*c:(bi+1)*t*c], dwpe.Data[:t*c])
		}
	}
	return nil
}

// checkPosition validates x (B, T, C) against a position table (maxT, C).
func checkPosition(chk *tensor.Checker, xName string, x *tensor.Tensor, tabName string, tab *tensor.Tensor) {
	if chk.Ok() && len(x.Shape) != 3 {
		chk.Failf("%s must have three dimensions (B, T, C)", xName)
	}
	if chk.Ok() && len(tab.Shape) != 2 {
		chk.Failf("%s must have two dimensions (maxT, C)", tabName)
	}
	if chk.Ok() && (tab.Shape[0] < x.Shape[1] || tab.Shape[1] != x.Shape[2]) {
		chk.Failf("%s must have at least T = %d rows of C = %d, %s's second and last dimensions", tabName, x.Shape[1], x.Shape[2], xName)
	}
}

// SinusoidalPositions fills dst (T, C) with the fixed position encodings of
// Vaswani et al. 2017, "Attention is all you need", section 3.5:
//
//	PE(pos, 2i)   = sin(pos / 10000^(2i/C))
//	PE(pos, 2i+1) = cos(pos / 10000^(2i/C))
//
// computed in float64 and rounded once. C must be even. Use the table as
// wpe in PositionForward, with a nil dwpe in the backward.
func SinusoidalPositions(dst *tensor.Tensor) error {
	chk := tensor.Check("nn.SinusoidalPositions").Add("dst", dst)
	if chk.Ok() && len(dst.Shape) != 2 {
		chk.Failf("dst must have two dimensions (T, C)")
	}
	if chk.Ok() && dst.Shape[1]%2 != 0 {
		chk.Failf("dst's last dimension C = %d must be even (sine and cosine pairs)", dst.Shape[1])
	}
	if err := chk.Err(); err != nil {
		return err
	}
	t, c := dst.Shape[0], dst.Shape[1]
	for i := 0; i < c; i += 2 {
		div := math.Pow(10000, float64(i)/float64(c)) // i is the 2i of the formula
		for pos := range t {
			s, co := math.Sincos(float64(pos) / div)
			dst.Data[pos*c+i] = float32(s)
			dst.Data[pos*c+i+1] = float32(co)
		}
	}
	return nil
}
