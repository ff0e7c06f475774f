package nn

import (
	"math"

	"github.com/attnlab/attnlab/kernels/tensor"
	"github.com/attnlab/attnlab/kernels/vmath"
)

// SoftmaxForward sets each row of out to the softmax of the same row of inp,
// over the last dimension:
//
//	out[r, i] = exp(inp[r, i] - m) / sum_j exp(inp[r, j] - m),  m = max_j inp[r, j]
//
//	inp, out  (N.., C)
//
// Subtracting the row maximum keeps every exponential in (0, 1]; the
// exponentials and their sum come from vmath.ExpSubSum. out may alias inp,
// since the backward needs only out. A row that is all -Inf (fully masked)
// gives NaN, as in PyTorch.
func SoftmaxForward(out, inp *tensor.Tensor) error {
	if err := checkRowwiseForward("nn.SoftmaxForward", out, inp); err != nil {
		return err
	}
	n, c := inp.Rows(), inp.Cols()
	for r := range n {
		x, y := inp.Data[r*c:(r+1)*c], out.Data[r*c:(r+1)*c]
		s := vmath.ExpSubSum(y, x, vmath.Max(x))
		vmath.Scale(y, 1/s)
	}
	return nil
}

// SoftmaxBackward accumulates the gradient of SoftmaxForward from its
// output: dinp[r] += out[r] ⊙ (dout[r] - <out[r], dout[r]>). dinp, out and
// dout are (N.., C); dinp may be nil.
func SoftmaxBackward(dinp, out, dout *tensor.Tensor) error {
	if err := checkRowwiseBackward("nn.SoftmaxBackward", dinp, out, dout); err != nil || dinp == nil {
		return err
	}
	n, c := out.Rows(), out.Cols()
	for r := range n {
		y, dy, dx := out.Data[r*c:(r+1)*c], dout.Data[r*c:(r+1)*c], dinp.Data[r*c:(r+1)*c]
		d := vmath.Dot(y, dy)
		for i := range dx {
			dx[i] += y[i] * (dy[i] - d)
		}
	}
	return nil
}

// LogSoftmaxForward sets each row of out to the log-softmax of inp over
// the last dimension: out = (inp - m) - log(sum_j exp(inp[j] - m)), with m
// the row maximum. inp and out are (N.., C); out may alias inp. The sum of
// exponentials comes from vmath.ExpSubSum, a stack chunk at a time.
func LogSoftmaxForward(out, inp *tensor.Tensor) error {
	if err := checkRowwiseForward("nn.LogSoftmaxForward", out, inp); err != nil {
		return err
	}
	n, c := inp.Rows(), inp.Cols()
	var e [chunk]float32
	for r := range n {
		x, y := inp.Data[r*c:(r+1)*c], out.Data[r*c:(r+1)*c]
		m := vmath.Max(x)
		var s float32
		for c0 := 0; c0 < c; c0 += chunk {
			xs := x[c0:min(c0+chunk, c)]
			s += vmath.ExpSubSum(e[:len(xs)], xs, m)
		}
		ls := float32(math.Log(float64(s)))
		for i, v := range x {
			y[i] = (v - m) - ls
		}
	}
	return nil
}

// LogSoftmaxBackward accumulates the gradient of LogSoftmaxForward from its
// output out (the log-probabilities): dinp[r] += dout[r] - exp(out[r])·sum(dout[r]).
// dinp, out and dout are (N.., C); dinp may be nil.
func LogSoftmaxBackward(dinp, out, dout *tensor.Tensor) error {
	if err := checkRowwiseBackward("nn.LogSoftmaxBackward", dinp, out, dout); err != nil || dinp == nil {
		return err
	}
	n, c := out.Rows(), out.Cols()
	var p [chunk]float32
	for r := range n {
		y, dy, dx := out.Data[r*c:(r+1)*c], dout.Data[r*c:(r+1)*c], dinp.Data[r*c:(r+1)*c]
		sdy := sum(dy)
		for c0 := 0; c0 < c; c0 += chunk {
			ys := y[c0:min(c0+chunk, c)]
			ps := p[:len(ys)]
			vmath.ExpSubSum(ps, ys, 0) // probabilities; their sum is not needed
			dys, dxs := dy[c0:c0+len(ys)], dx[c0:c0+len(ys)]
			for i := range dxs {
				dxs[i] += dys[i] - ps[i]*sdy
			}
		}
	}
	return nil
}

// checkRowwiseForward requires out and inp to have the same shape, with at
// least one dimension (the one reduced over).
func checkRowwiseForward(op string, out, inp *tensor.Tensor) error {
	chk := tensor.Check(op).Add("out", out).Add("inp", inp)
	atLeast1D(chk, "inp", inp)
	same(chk, "out", out, "inp", inp)
	return chk.Err()
}

// checkRowwiseBackward requires out, dout and a non-nil dinp to have the
// same shape, with at least one dimension.
func checkRowwiseBackward(op string, dinp, out, dout *tensor.Tensor) error {
	chk := tensor.Check(op)
	opt(chk, "dinp", dinp)
	chk.Add("out", out).Add("dout", dout)
	atLeast1D(chk, "out", out)
	same(chk, "dout", dout, "out", out)
	same(chk, "dinp", dinp, "out", out)
	return chk.Err()
}

// softmaxForwardNaive is the reference for SoftmaxForward (log = false) and
// LogSoftmaxForward (log = true): the definitions in float64.
func softmaxForwardNaive(out, inp []float32, n, c int, log bool) {
	for r := range n {
		x := inp[r*c : (r+1)*c]
		m := math.Inf(-1)
		for _, v := range x {
			m = math.Max(m, float64(v))
		}
		var s float64
		for _, v := range x {
			s += math.Exp(float64(v) - m)
		}
		for i, v := range x {
			if log {
				out[r*c+i] = float32(float64(v) - m - math.Log(s))
			} else {
				out[r*c+i] = float32(math.Exp(float64(v)-m) / s)
			}
		}
	}
}

// softmaxBackwardNaive is the reference for SoftmaxBackward (log = false,
// out the probabilities) and LogSoftmaxBackward (log = true, out the
// log-probabilities), in float64 from the Jacobian's definition:
// ∂p_i/∂x_j = p_i(δ_ij - p_j), ∂log p_i/∂x_j = δ_ij - p_j.
func softmaxBackwardNaive(dinp, out, dout []float32, n, c int, log bool) {
	for r := range n {
		p := func(i int) float64 {
			if log {
				return math.Exp(float64(out[r*c+i]))
			}
			return float64(out[r*c+i])
		}
		for j := range c {
			var g float64
			for i := range c {
				var jac float64
				delta := 0.0
				if i == j {
					delta = 1
				}
				if log {
					jac = delta - p(j)
				} else {
					jac = p(i) * (delta - p(j))
				}
				g += float64(dout[r*c+i]) * jac
			}
			dinp[r*c+j] += float32(g)
		}
	}
}
