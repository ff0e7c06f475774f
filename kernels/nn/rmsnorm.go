package nn

import (
	"math"

	"github.com/attnlab/attnlab/kernels/tensor"
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
	n, c := inp.Rows(), inp.Cols()
	w := weight.Data // (C)
	for r := range n {
		x, y := inp.Data[r*c:(r+1)*c], out.Data[r*c:(r+1)*c]
		ms := sumSqDev(x, 0) / float32(c)
		s := float32(1 / math.Sqrt(float64(ms+eps)))
		for i := range y {
			y[i] = x[i] * s * w[i]
		}
		rstd.Data[r] = s
	}
	return nil
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
	n, c := inp.Rows(), inp.Cols()
	w := weight.Data // (C)
	for r := range n {
		x, dy := inp.Data[r*c:(r+1)*c], dout.Data[r*c:(r+1)*c]
		s := rstd.Data[r]
		if dweight != nil {
			dw := dweight.Data[:c]
			for i := range dw {
				dw[i] += x[i] * s * dy[i]
			}
		}
		if dinp == nil {
			continue
		}
		var gn [8]float32 // partial sums of g·n, as in reduce.go
		i := 0
		for ; i+8 <= c; i += 8 {
			for k := range 8 {
				gn[k] += w[i+k] * dy[i+k] * x[i+k] * s
			}
		}
		for ; i < c; i++ {
			gn[0] += w[i] * dy[i] * x[i] * s
		}
		gnMean := (((gn[0] + gn[1]) + (gn[2] + gn[3])) + ((gn[4] + gn[5]) + (gn[6] + gn[7]))) / float32(c)
		dx := dinp.Data[r*c : (r+1)*c]
		for i := range dx {
			dx[i] += (w[i]*dy[i] - x[i]*s*gnMean) * s
		}
	}
	return nil
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
