package nn

import (
	"math"

	"github.com/attnlab/attnlab/kernels/tensor"
	"github.com/attnlab/attnlab/kernels/vmath"
)

// RMSNormForward scales each row of inp by the reciprocal of its root mean
// square (Zhang and Sennrich 2019, "Root mean square layer normalization",
// eq. 4; as in LLaMA, eps inside the square root and no bias):
//
//	out[r, i] = inp[r, i] * rstd[r] * weight[i]
//	rstd[r]   = 1 / sqrt(mean(inp[r]²) + eps)
//
//	inp, out  (N.., C)
//	rstd      (N..) or (N) flattened: cached for the backward
//	weight    (C)
func RMSNormForward(out, rstd, inp, weight *tensor.Tensor, eps float32) error {
	chk := tensor.Check("nn.RMSNormForward").Add("out", out).Add("rstd", rstd).Add("inp", inp).Add("weight", weight)
	checkNorm(chk, inp, "weight", weight, "", nil)
	same(chk, "out", out, "inp", inp)
	rowStats(chk, "rstd", rstd, "inp", inp)
	if err := chk.Err(); err != nil {
		return err
	}
	j := newNormJob(rmsNormFwd, inp.Rows(), inp.Cols(), maxParts)
	j.eps, j.inp, j.w, j.out, j.rstd = eps, inp.Data, weight.Data, out.Data, rstd.Data
	j.run(nil, nil)
	return nil
}

// rmsNormForward normalises rows [lo, hi).
func (j *normJob) rmsNormForward(lo, hi int) {
	c := j.c
	w := j.w[:c]
	for r := lo; r < hi; r++ {
		x, y := j.inp[r*c:(r+1)*c], j.out[r*c:(r+1)*c]
		y = y[:len(x)]
		ms := vmath.SumSqDev(x, 0) / float32(c)
		s := float32(1 / math.Sqrt(float64(ms+j.eps)))
		for i, v := range x {
			y[i] = v * s * w[i]
		}
		j.rstd[r] = s
	}
}

// RMSNormBackward accumulates the gradients of RMSNormForward. With
// n = x·rstd and g = weight·dout (per row, over C):
//
//	dinp    += rstd · (g - n·mean(g·n))
//	dweight += sum over rows of n·dout
//
// dinp, dout and inp are (N.., C); weight and dweight (C); rstd as cached
// by the forward. Either gradient may be nil.
func RMSNormBackward(dinp, dweight, dout, inp, weight, rstd *tensor.Tensor) error {
	chk := tensor.Check("nn.RMSNormBackward")
	opt(chk, "dinp", dinp)
	opt(chk, "dweight", dweight)
	chk.Add("dout", dout).Add("inp", inp).Add("weight", weight).Add("rstd", rstd)
	checkNorm(chk, inp, "weight", weight, "", nil)
	same(chk, "dout", dout, "inp", inp)
	same(chk, "dinp", dinp, "inp", inp)
	same(chk, "dweight", dweight, "weight", weight)
	rowStats(chk, "rstd", rstd, "inp", inp)
	if err := chk.Err(); err != nil {
		return err
	}
	j := newNormJob(rmsNormBwd, inp.Rows(), inp.Cols(), maxReduceParts)
	j.inp, j.w, j.dout, j.rstd = inp.Data, weight.Data, dout.Data, rstd.Data
	if dinp != nil {
		j.dinp = dinp.Data
	}
	var dw []float32
	if dweight != nil {
		dw = dweight.Data
	}
	j.run(dw, nil)
	return nil
}

// rmsNormBackward accumulates dinp over rows [lo, hi) and adds the rows'
// contributions to the weight gradient into pw (nil if not wanted).
func (j *normJob) rmsNormBackward(lo, hi int, pw []float32) {
	c := j.c
	w := j.w[:c]
	for r := lo; r < hi; r++ {
		x, dy := j.inp[r*c:(r+1)*c], j.dout[r*c:(r+1)*c]
		dy = dy[:len(x)]
		s := j.rstd[r]
		if pw != nil {
			pw := pw[:len(x)]
			for i, v := range x {
				pw[i] += v * s * dy[i]
			}
		}
		if j.dinp == nil {
			continue
		}
		gnMean := rmsNormRowSum(w, dy, x, s) / float32(c)
		dx := j.dinp[r*c : (r+1)*c]
		dx = dx[:len(x)]
		for i, v := range x {
			dx[i] += (w[i]*dy[i] - v*s*gnMean) * s
		}
	}
}

// rmsNormForwardNaive is the reference for RMSNormForward, in float64.
func rmsNormForwardNaive(out, rstd, inp, weight []float32, n, c int, eps float32) {
	for r := range n {
		var ms float64
		for i := range c {
			ms += float64(inp[r*c+i]) * float64(inp[r*c+i])
		}
		s := 1 / math.Sqrt(ms/float64(c)+float64(eps))
		for i := range c {
			out[r*c+i] = float32(float64(inp[r*c+i]) * s * float64(weight[i]))
		}
		rstd[r] = float32(s)
	}
}

// rmsNormBackwardNaive is the reference for RMSNormBackward, in float64
// from the cached rstd; nil gradients are skipped.
func rmsNormBackwardNaive(dinp, dweight, dout, inp, weight, rstd []float32, n, c int) {
	for r := range n {
		s := float64(rstd[r])
		var gnMean float64
		for i := range c {
			gnMean += float64(weight[i]) * float64(dout[r*c+i]) * float64(inp[r*c+i]) * s
		}
		gnMean /= float64(c)
		for i := range c {
			x, dy := float64(inp[r*c+i]), float64(dout[r*c+i])
			if dinp != nil {
				dinp[r*c+i] += float32((float64(weight[i])*dy - x*s*gnMean) * s)
			}
			if dweight != nil {
				dweight[i] += float32(x * s * dy)
			}
		}
	}
}
